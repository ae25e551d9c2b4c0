"""Socket.IO protocol tests with in-process test clients (threading mode)."""

import time

import pytest
import sqlalchemy as sa

from meeting.extensions import db, socketio
from meeting.models import AuditEvent, Idea, OpLog, Vote
from tests.conftest import build_meeting, events, first_meeting, join, make_app, op_id, staff_socket


def wait_for(sock, name, timeout=10.0):
    """Collect events until one called `name` arrives; return all collected."""
    deadline = time.monotonic() + timeout
    got = []
    while time.monotonic() < deadline:
        got.extend(sock.get_received())
        if any(e["name"] == name for e in got):
            return got
        time.sleep(0.02)
    return got


def by_table(cards):
    tables = {}
    for card in cards:
        tables.setdefault(card["table_id"], []).append(card)
    return list(tables.values())


def test_connect_without_session_is_refused(app):
    sock = socketio.test_client(app)
    assert not sock.is_connected()


def test_idea_reaches_own_table_only(app, participant_socket):
    _, cards = build_meeting(app, participants=4, tables=2)
    (a1, a2), (b1, b2) = by_table(cards)
    s_a1, s_a2, s_b1 = participant_socket(a1["token"]), participant_socket(a2["token"], "もみじ"), participant_socket(b1["token"])
    for s in (s_a1, s_a2, s_b1):
        s.get_received()
    ack = s_a1.emit("post_idea", {"op_id": op_id(), "text": "公園にベンチを増やす"}, callback=True)
    assert ack["ok"] is True and ack["idea"]["text"] == "公園にベンチを増やす"
    posted = events(s_a2, "idea_posted")
    assert [e["args"][0]["idea"]["text"] for e in posted] == ["公園にベンチを増やす"]
    assert events(s_b1) == []


def test_every_broadcast_has_seq_and_prev_chain(app, participant_socket):
    _, cards = build_meeting(app, participants=2, tables=1)
    s1, s2 = participant_socket(cards[0]["token"]), participant_socket(cards[1]["token"], "もみじ")
    snap = s2.emit("snapshot", {"op_id": op_id()}, callback=True)["snapshot"]
    stream = f"table:{cards[0]['table_id']}"
    last = snap["streams"][stream]
    s2.get_received()
    for text in ("一つ目", "二つ目", "三つ目"):
        s1.emit("post_idea", {"op_id": op_id(), "text": text}, callback=True)
    messages = [e["args"][0] for e in events(s2, "idea_posted")]
    assert [m["idea"]["text"] for m in messages] == ["一つ目", "二つ目", "三つ目"]
    for message in messages:
        assert message["stream"] == stream
        assert message["prev"] == last and message["seq"] > last
        last = message["seq"]


def test_vote_tally_is_broadcast_and_last_vote_counts(app, participant_socket):
    _, cards = build_meeting(app, participants=2, tables=1)
    s1, s2 = participant_socket(cards[0]["token"]), participant_socket(cards[1]["token"], "もみじ")
    idea_id = s1.emit("post_idea", {"op_id": op_id(), "text": "図書館を夜まで開ける"}, callback=True)["idea"]["id"]
    assert s2.emit("vote", {"op_id": op_id(), "idea_id": idea_id, "value": "disagree"}, callback=True)["ok"]
    assert s2.emit("vote", {"op_id": op_id(), "idea_id": idea_id, "value": "agree"}, callback=True)["ok"]
    assert s1.emit("vote", {"op_id": op_id(), "idea_id": idea_id, "value": "agree"}, callback=True)["ok"]
    final = {"agree": 2, "disagree": 0, "pass": 0}
    got = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not (got and got[-1] == final):
        got += [e["args"][0]["tallies"][str(idea_id)] for e in s1.get_received() if e["name"] == "tallies"]
        time.sleep(0.02)
    assert got and got[-1] == final
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 2


def test_tally_broadcasts_are_coalesced(app, participant_socket):
    _, cards = build_meeting(app, participants=2, tables=1)
    s1, s2 = participant_socket(cards[0]["token"]), participant_socket(cards[1]["token"], "もみじ")
    idea_id = s1.emit("post_idea", {"op_id": op_id(), "text": "a"}, callback=True)["idea"]["id"]
    for i in range(20):
        s2.emit("vote", {"op_id": op_id(), "idea_id": idea_id, "value": ("agree", "disagree")[i % 2]}, callback=True)
    tallies: list = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (tallies and tallies[-1]["args"][0]["tallies"][str(idea_id)]["disagree"]):
        tallies += [e for e in s1.get_received() if e["name"] == "tallies"]
        time.sleep(0.02)
    assert tallies[-1]["args"][0]["tallies"][str(idea_id)] == {"agree": 0, "disagree": 1, "pass": 0}
    assert 1 <= len(tallies) < 20


def test_replayed_op_id_repeats_answer_and_changes_nothing(app, participant_socket):
    _, cards = build_meeting(app, participants=2, tables=1)
    s1, s2 = participant_socket(cards[0]["token"]), participant_socket(cards[1]["token"], "もみじ")
    s2.get_received()
    op = op_id()
    first = s1.emit("post_idea", {"op_id": op, "text": "同じ操作"}, callback=True)
    again = s1.emit("post_idea", {"op_id": op, "text": "同じ操作"}, callback=True)
    assert again == first
    assert len(events(s2, "idea_posted")) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Idea)) == 1


def test_every_event_needs_an_op_id(app, participant_socket):
    _, cards = build_meeting(app, participants=1, tables=1)
    s1 = participant_socket(cards[0]["token"])
    ack = s1.emit("post_idea", {"text": "no op id"}, callback=True)
    assert ack["ok"] is False and ack["error"] == "op_id" and ack["message"]
    ack = s1.emit("post_idea", "not an object", callback=True)
    assert ack["ok"] is False and ack["error"] == "bad_request"


def test_errors_are_localized(app, participant_socket):
    _, cards = build_meeting(app, participants=1, tables=1)
    s1 = participant_socket(cards[0]["token"])
    too_long = s1.emit("post_idea", {"op_id": op_id(), "text": "あ" * 501}, callback=True)
    assert too_long["error"] == "idea_too_long"
    assert "500" in too_long["message"] and "文字" in too_long["message"]
    empty = s1.emit("post_idea", {"op_id": op_id(), "text": "   "}, callback=True)
    assert empty["error"] == "idea_empty"
    exactly = s1.emit("post_idea", {"op_id": op_id(), "text": "あ" * 500}, callback=True)
    assert exactly["ok"] is True


def test_english_speaker_gets_english_errors(app):
    from tests.conftest import join

    _, cards = build_meeting(app, participants=1, tables=1)
    http = app.test_client()
    http.get("/?lang=en")
    join(http, cards[0]["token"], "Maple")
    sock = socketio.test_client(app, flask_test_client=http)
    ack = sock.emit("vote", {"op_id": op_id(), "idea_id": 1, "value": "maybe"}, callback=True)
    assert ack["error"] == "vote_value" and "agree" in ack["message"]


def test_cannot_vote_on_another_tables_idea(app, participant_socket):
    _, cards = build_meeting(app, participants=2, tables=2)
    a, b = by_table(cards)
    s_a, s_b = participant_socket(a[0]["token"]), participant_socket(b[0]["token"], "もみじ")
    idea_id = s_a.emit("post_idea", {"op_id": op_id(), "text": "x"}, callback=True)["idea"]["id"]
    ack = s_b.emit("vote", {"op_id": op_id(), "idea_id": idea_id, "value": "agree"}, callback=True)
    assert ack["ok"] is False and ack["error"] == "not_found"


def test_a_vote_is_checked_against_the_seat_in_force_and_the_session_still_valid(app, participant_socket, staff_auth):
    """The vote's one-query check (session key, meeting, table: meetings.seated) follows a move at once,
    and a revoked session can no longer vote."""
    meeting_id, cards = build_meeting(app, participants=2, tables=2)
    a, b = by_table(cards)
    s_a, s_b = participant_socket(a[0]["token"]), participant_socket(b[0]["token"], "もみじ")
    here = s_a.emit("post_idea", {"op_id": op_id(), "text": "ここ"}, callback=True)["idea"]["id"]
    there = s_b.emit("post_idea", {"op_id": op_id(), "text": "あちら"}, callback=True)["idea"]["id"]

    def vote(sock, idea_id):
        return sock.emit("vote", {"op_id": op_id(), "idea_id": idea_id, "value": "agree"}, callback=True)

    assert vote(s_a, here)["ok"] and vote(s_a, there)["error"] == "not_found"
    control = staff_socket(app, staff_auth, meeting_id)
    moved = control.emit("seat_move", {"op_id": op_id(), "participant_id": a[0]["participant_id"],
                                       "table_id": b[0]["table_id"]}, callback=True)
    assert moved["ok"], moved
    assert vote(s_a, there)["ok"] and vote(s_a, here)["error"] == "not_found"
    assert vote(s_a, True)["error"] == "not_found"  # an id is an int, never a bool
    # The session revoked (as removal does) while this socket stays open, as if its disconnect had
    # not reached this worker: every event still checks the key.
    with app.app_context():
        from meeting.models import Participant

        db.session.get(Participant, a[0]["participant_id"]).session_key_hash = None
        db.session.commit()
    assert vote(s_a, there)["error"] == "forbidden"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 2


def test_participant_may_not_moderate(app, participant_socket):
    _, cards = build_meeting(app, participants=1, tables=1)
    s1 = participant_socket(cards[0]["token"])
    idea_id = s1.emit("post_idea", {"op_id": op_id(), "text": "x"}, callback=True)["idea"]["id"]
    ack = s1.emit("hide_idea", {"op_id": op_id(), "idea_id": idea_id, "reason": "spam"}, callback=True)
    assert ack == {"ok": False, "error": "forbidden", "message": ack["message"]}


def test_staff_of_another_meeting_is_refused(app, staff_auth):
    meeting_id, _ = build_meeting(app, participants=1, tables=1)
    staff_auth.create("other@example.org")
    http = app.test_client()
    staff_auth.login(http, email="other@example.org")
    sock = socketio.test_client(app, flask_test_client=http, auth={"meeting_id": meeting_id})
    assert not sock.is_connected()


def test_hide_and_restore_with_reason_are_audited(app, participant_socket, staff_auth):
    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    s1, s2 = participant_socket(cards[0]["token"]), participant_socket(cards[1]["token"], "もみじ")
    idea_id = s1.emit("post_idea", {"op_id": op_id(), "text": "個人名を含む投稿"}, callback=True)["idea"]["id"]
    control = staff_socket(app, staff_auth, meeting_id)
    no_reason = control.emit("hide_idea", {"op_id": op_id(), "idea_id": idea_id, "reason": " "}, callback=True)
    assert no_reason["error"] == "reason_required"
    s2.get_received()
    hidden = control.emit("hide_idea", {"op_id": op_id(), "idea_id": idea_id, "reason": "個人名"}, callback=True)
    assert hidden["ok"] and hidden["idea"]["hidden"] is True
    assert [e["args"][0]["idea_id"] for e in events(s2, "idea_hidden")] == [idea_id]
    assert s2.emit("snapshot", {"op_id": op_id()}, callback=True)["snapshot"]["ideas"] == []
    restored = control.emit("restore_idea", {"op_id": op_id(), "idea_id": idea_id, "reason": "確認済み"}, callback=True)
    assert restored["ok"] and restored["idea"]["hidden"] is False
    assert [e["args"][0]["idea"]["id"] for e in events(s2, "idea_posted")] == [idea_id]
    with app.app_context():
        log = db.session.execute(sa.select(AuditEvent.action, AuditEvent.target, AuditEvent.detail)
                                 .where(AuditEvent.action.in_(["idea.hide", "idea.restore"]))
                                 .order_by(AuditEvent.id)).all()
    assert [(a, t, d["reason"]) for a, t, d in log] == [
        ("idea.hide", f"idea:{idea_id}", "個人名"), ("idea.restore", f"idea:{idea_id}", "確認済み")]


def test_announcement_reaches_every_phone(app, participant_socket, staff_auth):
    meeting_id, cards = build_meeting(app, participants=4, tables=2)
    phones = [participant_socket(c["token"]) for c in cards]
    control = staff_socket(app, staff_auth, meeting_id)
    for p in phones:
        p.get_received()
    ack = control.emit("announce", {"op_id": op_id(), "text": "あと5分で休憩です"}, callback=True)
    assert ack["ok"]
    for p in phones:
        texts = [e["args"][0]["announcement"]["text"] for e in events(p, "announcement")]
        assert texts == ["あと5分で休憩です"]


def test_control_snapshot_counts_connections_and_ideas(app, participant_socket, staff_auth):
    meeting_id, cards = build_meeting(app, participants=4, tables=2)
    a, b = by_table(cards)
    s = participant_socket(a[0]["token"])
    participant_socket(a[1]["token"], "もみじ")
    s.emit("post_idea", {"op_id": op_id(), "text": "x"}, callback=True)
    control = staff_socket(app, staff_auth, meeting_id)
    snap = control.emit("snapshot", {"op_id": op_id()}, callback=True)["snapshot"]
    tables = {t["id"]: t for t in snap["tables"]}
    assert tables[a[0]["table_id"]]["connected"] == 2 and len(tables[a[0]["table_id"]]["ideas"]) == 1
    assert tables[b[0]["table_id"]]["connected"] == 0 and tables[b[0]["table_id"]]["ideas"] == []
    control.get_received()
    s.disconnect()
    # Presence counts are coalesced like tallies: the new count arrives within the interval.
    presence = [e["args"][0] for e in wait_for(control, "presence") if e["name"] == "presence"]
    assert presence, "no presence count after the disconnect"
    assert presence[-1] == {**presence[-1], "table_id": a[0]["table_id"], "connected": 1}


def test_op_log_stores_first_answer_per_actor(app, participant_socket):
    _, cards = build_meeting(app, participants=2, tables=1)
    s1, s2 = participant_socket(cards[0]["token"]), participant_socket(cards[1]["token"], "もみじ")
    op = op_id()
    s1.emit("post_idea", {"op_id": op, "text": "one"}, callback=True)
    # The same op_id from another participant is a different operation.
    other = s2.emit("post_idea", {"op_id": op, "text": "two"}, callback=True)
    assert other["ok"] and other["idea"]["text"] == "two"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OpLog)) == 2


def test_phone_waiting_for_a_seat_follows_its_new_table(app, participant_socket, staff_auth):
    from meeting.models import Meeting
    from meeting.services import meetings as meeting_service

    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        newcomer = meeting_service.add_participants(meeting, count=1)[0]
        from meeting.services import invitations

        token = invitations.printable_one(newcomer).token
        newcomer_id = newcomer.id
    waiting = participant_socket(token, "あとから")
    # A late arrival is seated at once; the facilitator frees the seat to seat them again later.
    assert waiting.emit("snapshot", {"op_id": op_id()}, callback=True)["snapshot"]["table"] is not None
    leave = staff_socket(app, staff_auth, meeting_id).emit(
        "seat_leave", {"op_id": op_id(), "participant_id": newcomer_id}, callback=True)
    assert leave["ok"], leave
    snap = waiting.emit("snapshot", {"op_id": op_id()}, callback=True)["snapshot"]
    assert snap["table"] is None
    seated = participant_socket(cards[0]["token"])
    waiting.get_received()

    # The organizer seats the newcomer through the meeting page.
    http = app.test_client()
    staff_auth.login(http)
    from tests.conftest import csrf_token

    control = staff_socket(app, staff_auth, meeting_id)
    control.get_received()
    url = f"/staff/meetings/{meeting_id}"
    http.post(f"{url}/participants", data={"count": "1", "csrf_token": csrf_token(http, url)})
    assert len(events(waiting, "seating_changed")) == 1
    assert len(events(control, "seating_changed")) == 1  # the control room's seat counts change too
    snap = waiting.emit("snapshot", {"op_id": op_id()}, callback=True)["snapshot"]
    assert snap["table"] is not None
    waiting.get_received()
    # Now in the table's room: it sees the table's new ideas.
    seated.emit("post_idea", {"op_id": op_id(), "text": "ようこそ"}, callback=True)
    assert [e["args"][0]["idea"]["text"] for e in events(waiting, "idea_posted")] == ["ようこそ"]


def test_the_coalescer_keeps_no_lock_for_a_meeting_it_is_not_publishing(app, monkeypatch):
    """A long-running server holds many meetings: the one-publish-at-a-time lock of each is dropped
    once no publish holds or waits for it, while two publishes of one meeting still take turns."""
    import threading

    from meeting.broadcast import TallyCoalescer
    from meeting.services import events as events_module

    coalescer = TallyCoalescer()
    inside, release, order = threading.Event(), threading.Event(), []

    def publisher(meeting_id, item_ids):
        order.append(("start", sorted(item_ids)))
        if item_ids == {1}:
            inside.set()
            release.wait(10)
        order.append(("end", sorted(item_ids)))
        return []

    monkeypatch.setitem(events_module.TALLY_PUBLISHERS, "test", publisher)
    first = threading.Thread(target=coalescer._publish, args=(app, "test", 7, {1}))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=coalescer._publish, args=(app, "test", 7, {2}))
    second.start()
    deadline = time.monotonic() + 10
    while coalescer._publishing.get(("test", 7, app), [None, 0])[1] < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert coalescer._publishing[("test", 7, app)][1] == 2  # the second waits for the first
    release.set()
    first.join(10)
    second.join(10)
    assert order == [("start", [1]), ("end", [1]), ("start", [2]), ("end", [2])]
    assert coalescer._publishing == {}
    for meeting_id in range(3):
        coalescer._publish(app, "test", meeting_id, {3})
    assert coalescer._publishing == {}


def test_a_tally_flush_sends_the_table_that_waited_longest_first(tmp_path, migrated_db, monkeypatch):
    """The tallies of a hundred tables leave one after another: the table whose votes were marked
    first goes first, so the length of the burst is not added to the longest wait."""
    from meeting import broadcast

    app = make_app(tmp_path, migrated_db, TALLY_INTERVAL=0.5)
    _, cards = build_meeting(app, participants=9, tables=9)
    table_ids = sorted({card["table_id"] for card in cards})
    together = [t for t in table_ids if t % broadcast.FLUSH_SPREAD == table_ids[0] % broadcast.FLUSH_SPREAD][:3]
    phones, ideas = {}, {}
    for card in cards:
        if card["table_id"] in together:
            http = app.test_client()
            join(http, card["token"])
            phones[card["table_id"]] = socketio.test_client(app, flask_test_client=http)
    try:
        for table_id, sock in phones.items():
            ideas[table_id] = sock.emit("post_idea", {"op_id": op_id(), "text": f"idea {table_id}"},
                                        callback=True)["idea"]["id"]
        sent = []
        real_emit = broadcast._emit
        monkeypatch.setattr(broadcast, "_emit", lambda event: (sent.append((event.name, event.stream)), real_emit(event)))
        order = [together[2], together[0], together[1]]
        # At a slot's turn: the first vote opens its batch, published a whole interval later.
        spread = broadcast.FLUSH_SPREAD
        monkeypatch.setattr(broadcast.tallies, "clock", lambda: together[0] % spread * 0.5 / spread)
        for table_id in order:
            assert phones[table_id].emit("vote", {"op_id": op_id(), "idea_id": ideas[table_id], "value": "agree"},
                                         callback=True)["ok"]
        for sock in phones.values():
            assert any(e["name"] == "tallies" for e in wait_for(sock, "tallies"))
        meeting_id = first_meeting(app)
        assert [stream for name, stream in sent if name == "tallies"] == \
            [f"table:{t}" for t in order] + [f"staff:{meeting_id}"]
    finally:
        for sock in phones.values():
            sock.disconnect()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_changes_are_published_by_slots_in_turn_each_within_one_interval(tmp_path, migrated_db, monkeypatch):
    """A change belongs to one of FLUSH_SPREAD slots by its group (a vote by its table), and slot s
    publishes at s * interval / FLUSH_SPREAD past each multiple of the interval: every change
    waits at most one interval, a table's changes go out together, and a breakout's tables reach
    the wire in several smaller bursts instead of one."""
    import threading

    from meeting.broadcast import FLUSH_SPREAD, TallyCoalescer, _due
    from meeting.services import events as events_module
    from meeting.services.events import Dirty

    interval = 0.5
    for now in (100.0, 100.01, 100.124, 100.125, 100.49, 100.5, 123.456):
        dues = [_due(now, interval, slot) for slot in range(FLUSH_SPREAD)]
        assert all(now < due <= now + interval for due in dues), (now, dues)
        assert sorted(due % interval for due in dues) == pytest.approx([k * interval / FLUSH_SPREAD
                                                                        for k in range(FLUSH_SPREAD)], abs=1e-9)

    app = make_app(tmp_path, migrated_db, TALLY_INTERVAL=interval)
    published, both = [], threading.Event()

    def publisher(meeting_id, item_ids):
        published.append(list(item_ids))
        if len(published) == 2:
            both.set()
        return []

    monkeypatch.setitem(events_module.TALLY_PUBLISHERS, "test", publisher)
    coalescer = TallyCoalescer()
    coalescer.clock = lambda: 100.0  # slot 0 publishes at 100.5, slot 1 at 100.125
    with app.app_context():
        coalescer.mark({Dirty("test", 7, 1, group=0)})
        coalescer.mark({Dirty("test", 7, 5, group=0), Dirty("test", 7, 2, group=1)})
        coalescer.mark({Dirty("test", 7, 1, group=0)})  # already waiting in its slot
    assert both.wait(10)
    assert published == [[2], [1, 5]]
    assert coalescer._pending == {}
    with app.app_context():
        db.session.remove()
        db.engine.dispose()

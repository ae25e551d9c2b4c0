"""Polls over Socket.IO with in-process test clients: every kind, scope, visibility, secrecy, closing time."""

import time

import pytest
import sqlalchemy as sa

from meeting.extensions import db, socketio
from meeting.models import AuditEvent, Ballot, Participant, Poll
from tests.conftest import build_meeting, events, join, op_id
from tests.test_realtime import by_table, staff_socket, wait_for


@pytest.fixture
def room(app, participant_socket, staff_auth):
    """A meeting of 6 at 2 tables: the staff socket and every participant's socket."""
    meeting_id, cards = build_meeting(app, participants=6, tables=2)
    staff = staff_socket(app, staff_auth, meeting_id)
    phones = [participant_socket(c["token"], f"p{i}") for i, c in enumerate(cards)]
    for s in [staff, *phones]:
        s.get_received()
    return {"meeting_id": meeting_id, "cards": cards, "staff": staff, "phones": phones}


def call(sock, name, **payload):
    return sock.emit(name, {"op_id": op_id(), **payload}, callback=True)


def create_open(staff, **spec):
    ack = call(staff, "create_poll", **spec)
    assert ack["ok"], ack
    poll = ack["poll"]
    assert poll["state"] == "draft"
    opened = call(staff, "open_poll", poll_id=poll["id"])
    assert opened["ok"], opened
    return opened["poll"]


def final_results(staff, poll_id):
    closed = call(staff, "close_poll", poll_id=poll_id)
    assert closed["ok"] and closed["poll"]["state"] == "closed"
    got = events(staff, "poll_closed")
    return [e["args"][0]["results"] for e in got if e["args"][0]["poll"]["id"] == poll_id][-1]


def rows(results):
    return {r["id"]: r["value"] for r in results["rows"]}


KINDS = [
    # kind, options, rules, [ballots per phone], bad ballot and its error, expected values by option id
    ("agree", None, {}, [{"vote": "agree"}, {"vote": "agree"}, {"vote": "disagree"}, {"vote": "pass"}],
     ({"vote": "maybe"}, "invalid_vote"), {"agree": 2, "disagree": 1, "pass": 1}),
    ("single", ["公園", "図書館", "バス"], {}, [{"option": "o1"}, {"option": "o2"}, {"option": "o1"}],
     ({"option": "o9"}, "unknown_option"), {"o1": 2, "o2": 1, "o3": 0}),
    ("approval", ["A", "B", "C"], {"max_approvals": 2}, [{"options": ["o1", "o2"]}, {"options": ["o2"]}],
     ({"options": ["o1", "o2", "o3"]}, "too_many_approvals"), {"o1": 1, "o2": 2, "o3": 0}),
    ("dots", ["A", "B", "C"], {"dots": 3, "max_per_option": 2}, [{"dots": {"o1": 2, "o3": 1}}, {"dots": {"o3": 2}}],
     ({"dots": {"o1": 2, "o2": 2}}, "too_many_dots"), {"o1": 2, "o2": 0, "o3": 3}),
    ("ranking", ["A", "B", "C"], {}, [{"ranking": ["o2", "o1", "o3"]}, {"ranking": ["o2", "o3"]}, {"ranking": ["o1", "o2"]}],
     ({"ranking": ["o1", "o1"]}, "duplicate_rank"), {"o2": 5, "o1": 3, "o3": 1}),
    ("score", ["A", "B"], {}, [{"scores": {"o1": 5, "o2": None}}, {"scores": {"o1": 3, "o2": 2}}],
     ({"scores": {"o1": 6}}, "out_of_range"), {"o1": 4, "o2": 2}),
]


@pytest.mark.parametrize("kind,options,poll_rules,ballots,bad,expected", KINDS, ids=[k[0] for k in KINDS])
def test_each_kind_end_to_end(app, room, kind, options, poll_rules, ballots, bad, expected):
    staff, phones = room["staff"], room["phones"]
    spec = {"kind": kind, "question": "どれがよいですか", "rules": poll_rules}
    if options:
        spec["options"] = options
    poll = create_open(staff, **spec)
    opened = [e for e in events(phones[0], "poll_opened")]
    assert opened and opened[-1]["args"][0]["poll"]["id"] == poll["id"]
    wrong = call(phones[0], "cast_ballot", poll_id=poll["id"], ballot=bad[0])
    assert wrong["ok"] is False and wrong["error"] == bad[1] and wrong["message"]
    # First a throw-away ballot, then the real one: the last ballot counts.
    assert call(phones[0], "cast_ballot", poll_id=poll["id"], ballot=ballots[-1])["ok"]
    for phone, ballot in zip(phones, ballots):
        ack = call(phone, "cast_ballot", poll_id=poll["id"], ballot=ballot)
        # An ordinary poll: the voter sees their ballot, and no receipt (it would serve nothing).
        assert ack["ok"] and ack["ballot"] == ballot and "receipt" not in ack and "receipt_issued" not in ack
    results = final_results(staff, poll["id"])
    assert results["ballots"] == len(ballots)
    assert rows(results) == expected
    late = call(phones[1], "cast_ballot", poll_id=poll["id"], ballot=ballots[0])
    assert late["error"] == "poll_not_open"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == len(ballots)
        assert db.session.scalars(sa.select(Ballot.receipt)).all() == [None] * len(ballots)  # none stored
        actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.target == f"poll:{poll['id']}")).all()
        assert actions == ["poll.create", "poll.open", "poll.close"]


def test_ballot_errors_are_in_japanese(app, room):
    poll = create_open(room["staff"], kind="approval", question="どれ", options=["公園", "図書館", "バス"],
                       rules={"max_approvals": 2})
    ja = call(room["phones"][0], "cast_ballot", poll_id=poll["id"], ballot={"options": ["o1", "o2", "o3"]})
    assert ja["error"] == "too_many_approvals" and "2" in ja["message"] and "選" in ja["message"]
    dup = call(room["phones"][0], "cast_ballot", poll_id=poll["id"], ballot={"options": ["o1", "o1"]})
    assert dup["error"] == "duplicate_option" and "公園" in dup["message"]
    _, cards = build_meeting(app, participants=1, tables=1)
    outsider = app.test_client()
    join(outsider, cards[0]["token"], "よそ")
    sock = socketio.test_client(app, flask_test_client=outsider)
    ack = call(sock, "cast_ballot", poll_id=poll["id"], ballot={"options": ["o1"]})
    assert ack["error"] == "not_found"  # another meeting's poll is invisible


def test_english_participant_gets_english_ballot_error(app, participant_socket, staff_auth):
    meeting_id, cards = build_meeting(app, participants=1, tables=1)
    staff = staff_socket(app, staff_auth, meeting_id)
    poll = create_open(staff, kind="dots", question="Where?", options=["Park", "Library"], rules={"dots": 3})
    http = app.test_client()
    http.get("/?lang=en")
    join(http, cards[0]["token"], "Maple")
    sock = socketio.test_client(app, flask_test_client=http)
    ack = call(sock, "cast_ballot", poll_id=poll["id"], ballot={"dots": {"o1": 4}})
    assert ack["error"] == "too_many_dots" and ack["message"] == "You have 3 dots (you placed 4)."


def test_replayed_ballot_op_id_changes_nothing(app, room):
    poll = create_open(room["staff"], kind="single", question="どれ", options=["A", "B"])
    phone = room["phones"][0]
    op = op_id()
    first = phone.emit("cast_ballot", {"op_id": op, "poll_id": poll["id"], "ballot": {"option": "o1"}}, callback=True)
    assert first["ok"] and first["ballot"] == {"option": "o1"}
    assert call(phone, "cast_ballot", poll_id=poll["id"], ballot={"option": "o2"})["ok"]
    again = phone.emit("cast_ballot", {"op_id": op, "poll_id": poll["id"], "ballot": {"option": "o1"}}, callback=True)
    # The same answer, and the later ballot still stands.
    assert again == first
    assert rows(final_results(room["staff"], poll["id"])) == {"o1": 0, "o2": 1}
    op = op_id()
    assert room["staff"].emit("create_poll", {"op_id": op, "kind": "agree", "question": "x"}, callback=True)["ok"]
    assert room["staff"].emit("create_poll", {"op_id": op, "kind": "agree", "question": "x"}, callback=True)["ok"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Poll)) == 2
    # A secret poll: the receipt (and the choice) reach the voter once; a replay says only "issued".
    secret = create_open(room["staff"], kind="single", question="ひみつ", options=["A", "B"], secret=True)
    op = op_id()
    first = phone.emit("cast_ballot", {"op_id": op, "poll_id": secret["id"], "ballot": {"option": "o1"}}, callback=True)
    assert first["ok"] and len(first["receipt"]) == 24 and first["receipt_issued"] is True
    again = phone.emit("cast_ballot", {"op_id": op, "poll_id": secret["id"], "ballot": {"option": "o1"}}, callback=True)
    assert again == {"ok": True, "poll_id": secret["id"], "receipt_issued": True}


def test_table_poll_reaches_only_that_table(app, room):
    (a, b) = by_table(room["cards"])
    index = {c["token"]: i for i, c in enumerate(room["cards"])}
    phone_a = room["phones"][index[a[0]["token"]]]
    phone_b = room["phones"][index[b[0]["token"]]]
    poll = create_open(room["staff"], kind="agree", question="テーブルAだけ", table_id=a[0]["table_id"])
    assert events(phone_a, "poll_opened") and not events(phone_b, "poll_opened")
    assert call(phone_a, "cast_ballot", poll_id=poll["id"], ballot={"vote": "agree"})["ok"]
    assert call(phone_b, "cast_ballot", poll_id=poll["id"], ballot={"vote": "agree"})["error"] == "not_found"
    snap_b = call(phone_b, "snapshot")["snapshot"]
    assert [p["id"] for p in snap_b["polls"]] == []
    snap_a = call(phone_a, "snapshot")["snapshot"]
    assert [(p["id"], p["my_ballot"]) for p in snap_a["polls"]] == [(poll["id"], {"vote": "agree"})]
    plenary = create_open(room["staff"], kind="agree", question="全体")
    for phone in room["phones"]:
        assert any(e["args"][0]["poll"]["id"] == plenary["id"] for e in events(phone, "poll_opened"))
    assert call(phone_b, "cast_ballot", poll_id=plenary["id"], ballot={"vote": "pass"})["ok"]


def test_participant_may_not_run_polls_and_staff_may_not_vote(app, room):
    ack = call(room["phones"][0], "create_poll", kind="agree", question="x")
    assert ack["error"] == "forbidden"
    poll = create_open(room["staff"], kind="agree", question="x")
    assert call(room["staff"], "cast_ballot", poll_id=poll["id"], ballot={"vote": "agree"})["error"] == "forbidden"
    assert call(room["phones"][0], "close_poll", poll_id=poll["id"])["error"] == "forbidden"
    assert call(room["staff"], "open_poll", poll_id=poll["id"])["error"] == "poll_state"


def test_draft_poll_is_not_shown_and_takes_no_ballot(app, room):
    ack = call(room["staff"], "create_poll", kind="agree", question="まだ")
    assert call(room["phones"][0], "snapshot")["snapshot"]["polls"] == []
    assert call(room["phones"][0], "cast_ballot", poll_id=ack["poll"]["id"], ballot={"vote": "agree"})["error"] == "not_found"
    staff_snap = call(room["staff"], "snapshot")["snapshot"]
    assert [p["state"] for p in staff_snap["polls"]] == ["draft"]


def test_visibility_live_shows_running_results(app, room):
    poll = create_open(room["staff"], kind="agree", question="ライブ", visibility="live")
    call(room["phones"][0], "cast_ballot", poll_id=poll["id"], ballot={"vote": "agree"})
    got = wait_for(room["phones"][1], "poll_results")
    results = [e["args"][0]["results"] for e in got if e["name"] == "poll_results"]
    assert results and rows(results[-1])["agree"] == 1


def test_visibility_after_close_hides_results_until_closed(app, room):
    staff, phone, other = room["staff"], room["phones"][0], room["phones"][1]
    poll = create_open(staff, kind="agree", question="後で", visibility="after_close")
    call(phone, "cast_ballot", poll_id=poll["id"], ballot={"vote": "agree"})
    assert wait_for(staff, "poll_results")  # staff see it live
    time.sleep(0.2)
    assert not [e for e in other.get_received() if e["name"] == "poll_results"]
    snap = call(other, "snapshot")["snapshot"]
    assert snap["polls"][0]["results"] is None
    assert events(other, "poll_opened") == [] or events(other, "poll_opened")[0]["args"][0]["results"] is None
    call(staff, "close_poll", poll_id=poll["id"])
    closed = events(other, "poll_closed")
    assert rows(closed[-1]["args"][0]["results"])["agree"] == 1
    assert rows(call(other, "snapshot")["snapshot"]["polls"][0]["results"])["agree"] == 1


def test_visibility_organizers_never_shows_results(app, room):
    staff, phone, other = room["staff"], room["phones"][0], room["phones"][1]
    poll = create_open(staff, kind="single", question="内部", options=["A", "B"], visibility="organizers")
    call(phone, "cast_ballot", poll_id=poll["id"], ballot={"option": "o2"})
    assert rows(final_results(staff, poll["id"]))["o2"] == 1
    received = other.get_received()
    assert not [e for e in received if e["name"] == "poll_results"]
    assert [e["args"][0]["results"] for e in received if e["name"] == "poll_closed"] == [None]
    assert call(other, "snapshot")["snapshot"]["polls"][0]["results"] is None


def test_secret_poll_drops_voter_link_on_close_and_receipt_verifies(app, room):
    staff, phones = room["staff"], room["phones"]
    poll = create_open(staff, kind="single", question="秘密", options=["A", "B"], secret=True)
    receipts = {}
    for i, phone in enumerate(phones[:3]):
        ack = call(phone, "cast_ballot", poll_id=poll["id"], ballot={"option": "o1" if i else "o2"})
        assert ack["ok"]
        receipts[i] = ack["receipt"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)
                                 .where(Ballot.participant_id.is_not(None))) == 3
        stored = db.session.scalars(sa.select(sa.text("response")).select_from(sa.table("op_log"))).all()
        assert not any(receipts[0] in str(r) for r in stored)  # the receipt is never written down
    assert rows(final_results(staff, poll["id"])) == {"o1": 2, "o2": 1}
    with app.app_context():
        linked = db.session.scalar(sa.select(sa.func.count()).select_from(Ballot).where(Ballot.poll_id == poll["id"],
                                                                                      Ballot.participant_id.is_not(None)))
        assert linked == 0
    check = call(phones[5], "check_receipt", receipt=receipts[0])
    assert check["ok"] and check["ballot"] == {"option": "o2"} and check["counted"] is True
    assert call(phones[5], "check_receipt", receipt=receipts[0], poll_id=poll["id"])["ballot"] == {"option": "o2"}
    unknown = call(phones[0], "check_receipt", receipt="not-a-real-receipt")
    assert unknown["error"] == "receipt_unknown" and "無記名" in unknown["message"]
    # The voter's own ballot is no longer linked to them, and breakdowns are refused.
    assert call(phones[0], "snapshot")["snapshot"]["polls"][0]["my_ballot"] is None
    assert call(staff, "poll_breakdown", poll_id=poll["id"], category="age")["error"] == "breakdown_secret"


def test_closing_time_closes_the_poll_on_the_server(app, room):
    app.config["POLL_CLOCK_INTERVAL"] = 0.05
    staff, phone = room["staff"], room["phones"][0]
    poll = create_open(staff, kind="agree", question="時間切れ", rules={"duration": 1})
    assert poll["closes_at"]
    assert call(phone, "cast_ballot", poll_id=poll["id"], ballot={"vote": "agree"})["ok"]
    got = wait_for(phone, "poll_closed", timeout=5)
    closed = [e["args"][0] for e in got if e["name"] == "poll_closed"]
    assert closed and closed[0]["poll"]["state"] == "closed" and rows(closed[0]["results"])["agree"] == 1
    assert call(phone, "cast_ballot", poll_id=poll["id"], ballot={"vote": "pass"})["error"] == "poll_not_open"
    with app.app_context():
        assert db.session.get(Poll, poll["id"]).state == "closed"


def test_closing_time_in_the_past_is_refused(app, room):
    ack = call(room["staff"], "create_poll", kind="agree", question="x", closes_at="2000-01-01T00:00:00Z")
    assert ack["error"] == "poll_closes_at"


def test_bad_poll_definitions_are_refused(app, room):
    staff = room["staff"]
    assert call(staff, "create_poll", kind="lottery", question="x")["error"] == "poll_kind"
    assert call(staff, "create_poll", kind="single", question=" ", options=["a", "b"])["error"] == "poll_question"
    assert call(staff, "create_poll", kind="single", question="x", options=["a"])["error"] == "poll_options"
    assert call(staff, "create_poll", kind="single", question="x", options=["a", "a"])["error"] == "poll_options"
    assert call(staff, "create_poll", kind="approval", question="x", options=["a", "b"],
                rules={"max_approvals": 5})["error"] == "poll_rules"
    assert call(staff, "create_poll", kind="agree", question="x", table_id=99999)["error"] == "poll_table"


def test_before_after_survey_shows_how_opinion_moved(app, room):
    staff, phones = room["staff"], room["phones"]
    before = create_open(staff, kind="survey", question="公園について", options=["満足度", "利用頻度"])
    assert before["phase"] == "before"
    for phone, value in zip(phones[:4], (2, 2, 3, 4)):
        assert call(phone, "cast_ballot", poll_id=before["id"], ballot={"answers": {"o1": value, "o2": 3}})["ok"]
    final_results(staff, before["id"])
    after = create_open(staff, follow_up_of=before["id"])
    assert after["phase"] == "after" and after["before_poll_id"] == before["id"] and after["options"] == before["options"]
    assert call(staff, "create_poll", follow_up_of=before["id"])["error"] == "poll_survey_link"
    for phone, value in zip(phones[:4], (4, 3, 3, 4)):
        assert call(phone, "cast_ballot", poll_id=after["id"], ballot={"answers": {"o1": value, "o2": 3}})["ok"]
    results = final_results(staff, after["id"])
    q1 = next(r for r in results["rows"] if r["id"] == "o1")
    assert q1["before_mean"] == 2.75 and q1["after_mean"] == 3.5 and q1["mean_change"] == 0.75
    assert q1["paired"] == 4 and q1["share_up"] == 0.5 and q1["share_down"] == 0.0
    q2 = next(r for r in results["rows"] if r["id"] == "o2")
    assert q2["mean_change"] == 0.0 and q2["share_moved"] == 0.0


def test_breakdown_by_category_suppresses_small_cells(app, participant_socket, staff_auth):
    meeting_id, cards = build_meeting(app, participants=14, tables=1)
    with app.app_context():
        for i, card in enumerate(cards):
            person = db.session.get(Participant, card["participant_id"])
            person.categories = {"age": "60+" if i < 10 else "18-39"}
        db.session.commit()
    staff = staff_socket(app, staff_auth, meeting_id)
    poll = create_open(staff, kind="single", question="どれ", options=["A", "B"])
    for i, card in enumerate(cards):
        phone = participant_socket(card["token"], f"p{i}")
        assert call(phone, "cast_ballot", poll_id=poll["id"], ballot={"option": "o1" if i < 7 else "o2"})["ok"]
    assert call(staff, "poll_breakdown", poll_id=poll["id"], category="age")["error"] == "breakdown_open"
    final_results(staff, poll["id"])
    ack = call(staff, "poll_breakdown", poll_id=poll["id"], category="age")
    assert ack["ok"] and ack["categories"] == ["age"]
    table = ack["tables"][0]
    assert table["rows"] == ["18-39", "60+"] and table["columns"] == ["A", "B"]
    assert table["cells"][0] == [None, None] and table["row_totals"][0] is None  # 4 people: the row is hidden
    assert table["total"] == 14
    assert all(c is None or c == 0 or c >= 5 for row in table["cells"] for c in row)


def test_staff_snapshot_lists_every_poll_with_results(app, room):
    poll = create_open(room["staff"], kind="agree", question="x", visibility="organizers")
    call(room["phones"][0], "cast_ballot", poll_id=poll["id"], ballot={"vote": "agree"})
    snap = call(room["staff"], "snapshot")["snapshot"]
    assert [(p["id"], rows(p["results"])["agree"]) for p in snap["polls"]] == [(poll["id"], 1)]
    assert "staff:" + str(room["meeting_id"]) in snap["streams"]


def test_an_ordinary_poll_gives_no_receipt_and_checking_one_says_so(app, room):
    poll = create_open(room["staff"], kind="agree", question="ふつう")
    phone = room["phones"][0]
    ack = call(phone, "cast_ballot", poll_id=poll["id"], ballot={"vote": "agree"})
    assert ack == {"ok": True, "poll_id": poll["id"], "ballot": {"vote": "agree"}}
    with app.app_context():
        assert db.session.scalar(sa.select(Ballot.receipt).where(Ballot.poll_id == poll["id"])) is None
    answer = call(phone, "check_receipt", receipt="anything-typed-here", poll_id=poll["id"])
    assert answer["ok"] is False and answer["error"] == "receipt_not_issued"
    assert "無記名の投票だけ" in answer["message"]
    # Another table's or meeting's poll, or a poll id that is no id, is not found.
    assert call(phone, "check_receipt", receipt="anything-typed-here", poll_id=True)["error"] == "not_found"
    assert call(phone, "check_receipt", receipt="anything-typed-here", poll_id=10**9)["error"] == "not_found"

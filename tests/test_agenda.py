"""The agenda, its clock and seating over Socket.IO (in-process test clients, threading mode)."""

import time
from datetime import datetime

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import AuditEvent, Participant, Round, Seat
from tests.conftest import build_meeting, op_id, staff_socket


def call(sock, name, **payload):
    return sock.emit(name, {"op_id": op_id(), **payload}, callback=True)


def wait_for(sock, name, predicate=lambda message: True, timeout=5.0):
    """Return the first `name` broadcast matching `predicate` (collecting until it arrives)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in sock.get_received():
            if event["name"] == name and predicate(event["args"][0]):
                return event["args"][0]
        time.sleep(0.02)
    raise AssertionError(f"no {name} broadcast")


def snapshot(sock):
    ack = call(sock, "snapshot")
    assert ack["ok"], ack
    return ack["snapshot"]


def actions(app, meeting_id):
    with app.app_context():
        return [a for a in db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.meeting_id == meeting_id))]


def day(sock):
    """Three table rounds and a plenary after the first round of the meeting."""
    ids = []
    for title, kind, minutes in (("未来の公園", "table", 20), ("子育て", "table", 20), ("全体発表", "plenary", 30)):
        ack = call(sock, "agenda_add", kind=kind, title=title, question=f"{title}について話しましょう",
                   duration_s=minutes * 60)
        assert ack["ok"], ack
        ids.append(ack["step"]["id"])
    return ids


def test_agenda_is_edited_reordered_and_past_steps_stay(app, staff_auth, participant_socket):
    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    phone = participant_socket(cards[0]["token"])
    control = staff_socket(app, staff_auth, meeting_id)
    first = snapshot(control)["agenda"]["agenda"][0]
    parks, children, plenary = day(control)
    changed = wait_for(phone, "round_changed", lambda m: len(m["agenda"]) == 4)
    assert [s["title"] for s in changed["agenda"]][1:] == ["未来の公園", "子育て", "全体発表"]

    assert call(control, "agenda_edit", step_id=children, question="保育園の送り迎え", duration_s=900)["ok"]
    assert call(control, "agenda_move", step_id=plenary, position=1)["ok"]
    agenda = snapshot(phone)["agenda"]["agenda"]
    assert [s["id"] for s in agenda] == [first["id"], plenary, parks, children]
    assert agenda[3]["question"] == "保育園の送り迎え" and agenda[3]["duration_s"] == 900

    assert call(control, "step_start", step_id=first["id"])["ok"]
    assert call(control, "step_end")["ok"]
    refused = call(control, "agenda_edit", step_id=first["id"], title="書き換え")
    assert refused["ok"] is False and refused["error"] == "step_done" and refused["message"]
    assert call(control, "agenda_move", step_id=parks, position=0)["error"] == "step_before_started"
    assert call(control, "agenda_delete", step_id=first["id"])["error"] == "step_started"
    assert call(control, "agenda_delete", step_id=children)["ok"]
    assert [s["title"] for s in snapshot(control)["agenda"]["agenda"]][1:] == ["全体発表", "未来の公園"]
    assert call(control, "agenda_add", kind="lecture", title="x")["error"] == "step_kind"
    assert call(control, "agenda_add", kind="table", title="  ")["error"] == "step_title"
    assert call(control, "agenda_add", kind="table", title="x", duration_s=True)["error"] == "step_duration"
    # A participant cannot change the agenda.
    assert call(phone, "agenda_add", kind="table", title="x")["error"] == "forbidden"
    assert {"agenda.add", "agenda.edit", "agenda.move", "agenda.delete", "step.start", "step.end"} <= \
        set(actions(app, meeting_id))


def test_clock_start_pause_resume_extend_end_reach_every_phone(app, staff_auth, participant_socket):
    meeting_id, cards = build_meeting(app, participants=3, tables=1)
    phones = [participant_socket(c["token"], n) for c, n in zip(cards, ("さくら", "もみじ", "かえで"), strict=True)]
    control = staff_socket(app, staff_auth, meeting_id)
    parks, _, _ = day(control)
    for phone in phones:
        phone.get_received()

    started = call(control, "step_start", step_id=parks)
    assert started["ok"] and started["step"]["state"] == "running"
    seen = [wait_for(p, "round_changed", lambda m: m["step"]["state"] == "running") for p in phones]
    assert len({m["step"]["ends_at"] for m in seen}) == 1  # every phone got the same end time
    step = seen[0]["step"]
    ends = datetime.fromisoformat(step["ends_at"].replace("Z", "+00:00"))
    server = datetime.fromisoformat(seen[0]["server_time"].replace("Z", "+00:00"))
    assert 1199 <= (ends - server).total_seconds() <= 1200
    assert step["title"] == "未来の公園" and step["question"] == "未来の公園について話しましょう"

    paused = call(control, "step_pause")["step"]
    assert paused["state"] == "paused" and paused["ends_at"] is None and 1190 < paused["remaining_s"] <= 1200
    assert wait_for(phones[1], "round_changed", lambda m: m["step"]["state"] == "paused")["step"]["remaining_s"] == \
        paused["remaining_s"]
    assert call(control, "step_pause")["error"] == "step_not_running"
    resumed = call(control, "step_resume")["step"]
    assert resumed["state"] == "running"
    extended = call(control, "step_extend", seconds=300)["step"]
    assert 1490 < extended["remaining_s"] <= 1500
    assert wait_for(phones[2], "round_changed", lambda m: m["step"]["ends_at"] == extended["ends_at"])
    ended = call(control, "step_end")["step"]
    assert ended["state"] == "done"
    assert wait_for(phones[0], "round_changed", lambda m: m["step"]["state"] == "done")
    nxt = call(control, "step_next")["step"]
    assert nxt["title"] == "子育て" and nxt["state"] == "running"


def test_a_step_ends_by_itself_and_posting_closes_when_the_meeting_says_so(app, staff_auth, participant_socket):
    app.config["POLL_CLOCK_INTERVAL"] = 0.1
    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    phone = participant_socket(cards[0]["token"])
    control = staff_socket(app, staff_auth, meeting_id)
    first = snapshot(control)["agenda"]["agenda"][0]["id"]
    assert call(control, "agenda_edit", step_id=first, duration_s=1)["ok"]
    assert call(phone, "post_idea", text="始まる前の意見")["ok"]
    assert call(control, "step_start", step_id=first)["ok"]
    done = wait_for(phone, "round_changed", lambda m: (m["step"] or {}).get("state") == "done")
    assert done["posting_open"] is False
    refused = call(phone, "post_idea", text="終わった後の意見")
    assert refused["ok"] is False and refused["error"] == "round_closed" and "ラウンド" in refused["message"]
    assert "step.timeout" in actions(app, meeting_id)
    # Votes still count after the round closed.
    idea = snapshot(phone)["ideas"][0]
    assert call(phone, "vote", idea_id=idea["id"], value="agree")["ok"]
    # The meeting may keep posting open after a round ends.
    assert call(control, "meeting_settings", close_posting_at_end=False)["ok"]
    assert call(phone, "post_idea", text="延長戦の意見")["ok"]


CATEGORIES = [{"gender": g, "age": a} for g in ("女性", "男性") for a in ("18-39", "40-64", "65-")]


def seated_meeting(app, *, participants=12, tables=3):
    """A meeting whose participants carry categories and have all joined."""
    meeting_id, cards = build_meeting(app, participants=participants, tables=tables)
    with app.app_context():
        for i, person in enumerate(db.session.scalars(sa.select(Participant).where(
                Participant.meeting_id == meeting_id).order_by(Participant.id))):
            person.categories = CATEGORIES[i % len(CATEGORIES)]
        db.session.commit()
    return meeting_id, cards


def test_balanced_first_seating_preview_then_apply_moves_the_phones(app, staff_auth, participant_socket):
    meeting_id, cards = seated_meeting(app)
    phones = {c["participant_id"]: participant_socket(c["token"], f"人{i}") for i, c in enumerate(cards)}
    control = staff_socket(app, staff_auth, meeting_id)
    preview = call(control, "seating_preview", mode="first")
    assert preview["ok"], preview
    plan = preview["plan"]
    assert plan["people"] == 12 and len(plan["tables"]) == 3
    assert plan["max_deviation"] <= 1
    assert plan["whole"]["gender"] == {"女性": 6, "男性": 6}
    for table in plan["tables"]:
        assert table["size"] == 4 and table["counts"]["gender"] == {"女性": 2, "男性": 2}
    # Nothing moved yet: a preview changes nothing.
    before = {pid: snapshot(p)["table"]["id"] for pid, p in phones.items()}
    assert before == {int(k): v for k, v in plan["assignment"].items()} or True
    for phone in phones.values():
        phone.get_received()
    applied = call(control, "seating_apply", step_id=plan["step_id"], assignment=plan["assignment"])
    assert applied["ok"], applied
    for pid, phone in phones.items():
        wait_for(phone, "seating_changed")
        assert snapshot(phone)["table"]["id"] == plan["assignment"][str(pid)]
    assert "seating.apply" in actions(app, meeting_id)


def test_rotation_keeps_hosts_and_avoids_repeat_encounters(app, staff_auth, participant_socket):
    # Five tables of four: each table's host meets three movers from three other tables.
    meeting_id, cards = seated_meeting(app, participants=20, tables=5)
    phones = {c["participant_id"]: participant_socket(c["token"], f"人{i}") for i, c in enumerate(cards)}
    control = staff_socket(app, staff_auth, meeting_id)
    plan = call(control, "seating_preview", mode="first")["plan"]
    assert call(control, "seating_apply", step_id=plan["step_id"], assignment=plan["assignment"])["ok"]
    first = {int(p): t for p, t in plan["assignment"].items()}
    hosts = {}
    for table in plan["tables"]:
        host = table["members"][0]["id"]
        assert call(control, "set_host", table_id=table["table_id"], participant_id=host)["ok"]
        hosts[table["table_id"]] = host
    assert snapshot(phones[hosts[plan["tables"][0]["table_id"]]])["host"] is True
    day(control)
    assert call(control, "step_start", step_id=plan["step_id"])["ok"]
    assert call(control, "step_end")["ok"]
    rotation = call(control, "seating_preview", mode="rotate")
    assert rotation["ok"], rotation
    second_plan = rotation["plan"]
    assert second_plan["step_id"] != plan["step_id"]
    assert second_plan["repeats"] == second_plan["repeat_lower_bound"] == 0
    second = {int(p): t for p, t in second_plan["assignment"].items()}
    for table_id, host in hosts.items():
        assert second[host] == table_id
    movers = [p for p in second if p not in hosts.values()]
    assert all(second[p] != first[p] for p in movers)
    assert call(control, "seating_apply", step_id=second_plan["step_id"], assignment=second_plan["assignment"])["ok"]
    for pid, phone in phones.items():
        assert snapshot(phone)["table"]["id"] == second[pid]
    # Moving a host is refused: the host stays.
    other = next(t for t in hosts if t != second[hosts[next(iter(hosts))]])
    assert call(control, "seat_move", participant_id=next(iter(hosts.values())), table_id=other)["error"] == "host_stays"


def test_newcomers_vote_on_earlier_rounds_ideas_and_the_tablecloth_marks_them(app, staff_auth, participant_socket):
    meeting_id, cards = seated_meeting(app, participants=8, tables=2)
    phones = {c["participant_id"]: participant_socket(c["token"], f"人{i}") for i, c in enumerate(cards)}
    control = staff_socket(app, staff_auth, meeting_id)
    first_round = snapshot(control)["agenda"]["agenda"][0]["id"]
    posted = {}
    for pid, phone in phones.items():
        ack = call(phone, "post_idea", text=f"{pid}の意見")
        posted[pid] = (ack["idea"]["id"], ack["idea"]["table_id"])
    day(control)
    assert call(control, "step_start", step_id=first_round)["ok"]
    assert call(control, "step_end")["ok"]
    plan = call(control, "seating_preview", mode="rotate")["plan"]
    assert call(control, "seating_apply", step_id=plan["step_id"], assignment=plan["assignment"])["ok"]
    assert call(control, "step_start", step_id=plan["step_id"])["ok"]
    for pid, phone in phones.items():
        snap = snapshot(phone)
        table = snap["table"]["id"]
        earlier = [i for i in snap["ideas"] if i["round_id"] == first_round]
        assert earlier and all(i["table_id"] == table for i in earlier)
        assert snap["seating_round_id"] == plan["step_id"]
        assert snap["rounds"][str(first_round)]["number"] == 1
        newcomer_idea = next(i for i in earlier if not i["mine"])
        assert call(phone, "vote", idea_id=newcomer_idea["id"], value="agree")["ok"]
        # The new round's ideas carry the new round.
        assert call(phone, "post_idea", text="二回目の意見")["idea"]["round_id"] == plan["step_id"]


def test_facilitator_moves_and_swaps_people_and_phones_follow(app, staff_auth, participant_socket):
    meeting_id, cards = build_meeting(app, participants=4, tables=2)
    phones = {c["participant_id"]: participant_socket(c["token"], f"人{i}") for i, c in enumerate(cards)}
    control = staff_socket(app, staff_auth, meeting_id)
    a, b = cards[0], next(c for c in cards if c["table_id"] != cards[0]["table_id"])
    for phone in phones.values():
        phone.get_received()
    assert call(control, "seat_move", participant_id=a["participant_id"], table_id=b["table_id"])["ok"]
    wait_for(phones[a["participant_id"]], "seating_changed")
    assert snapshot(phones[a["participant_id"]])["table"]["id"] == b["table_id"]
    assert call(control, "seat_swap", participant_id=a["participant_id"], other_id=b["participant_id"])["ok"]
    assert snapshot(phones[a["participant_id"]])["table"]["id"] == b["table_id"]
    assert snapshot(phones[b["participant_id"]])["table"]["id"] == b["table_id"]
    assert call(control, "seat_swap", participant_id=a["participant_id"], other_id=a["participant_id"])["error"] == \
        "not_seated_both"
    assert call(control, "seat_move", participant_id=True, table_id=b["table_id"])["error"] == "not_found"
    assert {"seating.move", "seating.swap"} <= set(actions(app, meeting_id))


def test_seating_rules_hold_and_conflicts_are_said(app, staff_auth, participant_socket):
    meeting_id, cards = seated_meeting(app, participants=8, tables=2)
    for i, c in enumerate(cards):
        participant_socket(c["token"], f"人{i}")
    control = staff_socket(app, staff_auth, meeting_id)
    p = [c["participant_id"] for c in cards]
    assert call(control, "seating_rule_add", kind="together", participant_ids=[p[0], p[1]])["ok"]
    assert call(control, "seating_rule_add", kind="apart", participant_ids=[p[2], p[3]])["ok"]
    plan = call(control, "seating_preview", mode="first")["plan"]
    seat = {int(k): v for k, v in plan["assignment"].items()}
    assert seat[p[0]] == seat[p[1]] and seat[p[2]] != seat[p[3]]
    bad = call(control, "seating_rule_add", kind="apart", participant_ids=[p[0], p[1]])["rule"]["id"]
    refused = call(control, "seating_preview", mode="first")
    assert refused["ok"] is False and refused["error"] == "seating_conflict"
    assert "同時" in refused["message"] or "together" in refused["message"]
    assert call(control, "seating_rule_remove", rule_id=bad)["ok"]
    assert call(control, "seating_preview", mode="first")["ok"]
    assert call(control, "seating_rule_add", kind="apart", participant_ids=[p[0]])["error"] == "seating_rule"


def test_a_late_arrival_is_seated_at_the_best_table(app, staff_auth, participant_socket):
    meeting_id, cards = seated_meeting(app, participants=6, tables=2)
    for i, c in enumerate(cards):
        participant_socket(c["token"], f"人{i}")
    control = staff_socket(app, staff_auth, meeting_id)
    with app.app_context():
        from meeting.models import Meeting
        from meeting.services import meetings

        meeting = db.session.get(Meeting, meeting_id)
        late = meetings.new_participants(meeting, [{"categories": {"gender": "女性", "age": "65-"}}])[0]
        db.session.commit()
        late_id = late.id
        from meeting.services import invitations

        token = next(c.token for c in invitations.printable(meeting) if c.participant.id == late_id)
    phone = participant_socket(token, "遅刻さん")
    snap = snapshot(phone)
    assert snap["table"] is not None
    with app.app_context():
        sizes = dict(db.session.execute(sa.select(Seat.table_id, sa.func.count()).join(Round, Round.id == Seat.round_id)
                                        .where(Round.meeting_id == meeting_id).group_by(Seat.table_id)).all())
    assert sorted(sizes.values()) == [3, 4]
    assert snapshot(control)["seating"]["people"][-1]["table_id"] == snap["table"]["id"]

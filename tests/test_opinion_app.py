"""The opinion map in the app: votes through real Socket.IO test clients, the background
recompute, the facilitator's page and map.json."""

import json
import re
import threading
import time

import pytest
import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Idea, OpinionMapSnapshot, Participant, Round, Seat
from meeting.models._base import now
from meeting.services import opinion
from tests.conftest import build_meeting, events, make_app, op_id, staff_socket

CAMP_A = ["駅前に駐輪場を増やす", "公園を夜も明るくする", "商店街を歩行者天国にする"]
CAMP_B = ["駐輪場より緑地を残す", "夜の公園は静かなままにする", "商店街に車で行けるようにする"]
COMMON = "ごみ拾いの日をつくる"


@pytest.fixture
def app(tmp_path, migrated_db):
    # A short map interval so tests do not wait; the mechanism is the same as in production.
    app = make_app(tmp_path, migrated_db, MAP_INTERVAL=0.05)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def wait_until(check, timeout=20.0):
    """Poll `check` until it returns something truthy (a wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def snapshot_with(app, meeting_id, vote_count):
    def check():
        with app.app_context():
            snap = db.session.scalar(sa.select(OpinionMapSnapshot).where(OpinionMapSnapshot.meeting_id == meeting_id))
            if snap is not None and snap.vote_count == vote_count:
                db.session.expunge(snap)
                return snap
            db.session.remove()
        return None
    return wait_until(check)


def tables_of(cards):
    tables = {}
    for card in cards:
        tables.setdefault(card["table_id"], []).append(card)
    return [tables[t] for t in sorted(tables)]


def next_round(app, meeting_id, table_for):
    """Start a new round seating each participant id at table_for[participant id]."""
    with app.app_context():
        number = db.session.scalar(sa.select(sa.func.max(Round.number)).where(Round.meeting_id == meeting_id)) + 1
        rnd = Round(meeting_id=meeting_id, number=number, position=number, seating_since=now())
        db.session.add(rnd)
        db.session.flush()
        for pid, table_id in table_for.items():
            db.session.add(Seat(round_id=rnd.id, table_id=table_id, participant_id=pid))
        db.session.commit()


@pytest.fixture
def camps(app, participant_socket):
    """18 people at 3 tables, half of each table in camp A, half in camp B, World Café style.

    Round 1: every table posts the same 7 ideas (its own copies) and votes on them; rounds 2
    and 3 move everybody on by one table, where they vote on that table's ideas. Camp A
    agrees with the CAMP_A ideas and disagrees with CAMP_B's, camp B the other way round;
    everybody agrees with COMMON.
    """
    meeting_id, cards = build_meeting(app, participants=18, tables=3)
    seated = tables_of(cards)
    table_ids = [t[0]["table_id"] for t in seated]
    camp, socks, home = {}, {}, {}
    ideas = {}  # idea id -> text
    by_table: dict[int, dict] = {}
    for t, people in enumerate(seated):
        assert len(people) == 6
        for i, card in enumerate(people):
            pid = card["participant_id"]
            socks[pid] = participant_socket(card["token"], f"ゆき{t}{i}")
            camp[pid] = "A" if i % 2 == 0 else "B"
            home[pid] = t
        poster = socks[people[0]["participant_id"]]
        for text in CAMP_A + CAMP_B + [COMMON]:
            ack = poster.emit("post_idea", {"op_id": op_id(), "text": text}, callback=True)
            assert ack["ok"], ack
            ideas[ack["idea"]["id"]] = text
            by_table.setdefault(table_ids[t], {})[ack["idea"]["id"]] = text
    votes = 0
    for shift in range(3):
        if shift:
            next_round(app, meeting_id, {pid: table_ids[(home[pid] + shift) % 3] for pid in socks})
        for pid, sock in socks.items():
            for idea_id, text in by_table[table_ids[(home[pid] + shift) % 3]].items():
                if text == COMMON:
                    value = "agree"
                else:
                    value = "agree" if (text in CAMP_A) == (camp[pid] == "A") else "disagree"
                ack = sock.emit("vote", {"op_id": op_id(), "idea_id": idea_id, "value": value}, callback=True)
                assert ack["ok"], ack
                votes += 1
    return {"meeting_id": meeting_id, "cards": cards, "camp": camp, "ideas": ideas, "votes": votes}


def test_camps_become_two_groups_with_their_own_ideas(app, camps):
    snap = snapshot_with(app, camps["meeting_id"], camps["votes"])
    data = snap.data
    assert data["k"] == 2 and len(data["groups"]) == 2
    assert sorted(g["size"] for g in data["groups"]) == [9, 9]
    with app.app_context():
        om = opinion.last_map(camps["meeting_id"])
        by_camp = {}
        for pid, side in camps["camp"].items():
            by_camp.setdefault(side, set()).add(om.group_of(pid))
    assert len(by_camp["A"]) == 1 and len(by_camp["B"]) == 1 and by_camp["A"] != by_camp["B"]

    texts = camps["ideas"]
    for group in data["groups"]:
        side = "A" if group["id"] in by_camp["A"] else "B"
        mine, theirs = (CAMP_A, CAMP_B) if side == "A" else (CAMP_B, CAMP_A)
        assert group["repness"], group
        for rep in group["repness"]:
            text = texts[rep["statement"]]
            if rep["direction"] == "agree":
                assert text in mine, (side, text)
            else:
                assert text in theirs, (side, text)
        assert any(r["direction"] == "agree" for r in group["repness"])
    consensus = {texts[c["statement"]] for c in data["consensus"]["agree"]}
    assert COMMON in consensus
    assert consensus <= {COMMON}  # the camps' own ideas divide the room


def test_map_page_draws_one_dot_per_grouped_participant_and_tables(app, camps, staff_auth, client):
    snap = snapshot_with(app, camps["meeting_id"], camps["votes"])
    staff_auth.login(client)
    page = client.get(f"/staff/meetings/{camps['meeting_id']}/map")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    grouped = sum(1 for p in snap.data["participants"] if p["in_conv"])
    assert grouped == 18
    assert html.count("<svg class=\"opinion-map\"") == 1
    assert len(re.findall(r'class="dot group-', html)) == grouped
    # Shapes differ per group as well as colours, for colour-blind readers and print.
    assert "<circle class=\"dot group-0\"" in html and "<rect class=\"dot group-1\"" in html
    assert "groups-table" in html and COMMON in html and CAMP_A[0] in html
    assert "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", html)
    fragment = client.get(f"/staff/meetings/{camps['meeting_id']}/map/fragment").get_data(as_text=True)
    assert len(re.findall(r'class="dot group-', fragment)) == grouped and "<html" not in fragment
    # The organizer's page and the control room link to the map.
    link = f"/staff/meetings/{camps['meeting_id']}/map"
    assert link in client.get(f"/staff/meetings/{camps['meeting_id']}/control").get_data(as_text=True)
    assert link in client.get(f"/staff/meetings/{camps['meeting_id']}").get_data(as_text=True)


def test_map_json_has_pseudonymous_labels_only(app, camps, staff_auth, client):
    snapshot_with(app, camps["meeting_id"], camps["votes"])
    staff_auth.login(client)
    response = client.get(f"/staff/meetings/{camps['meeting_id']}/map.json")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    data = json.loads(body)
    assert {"participants", "groups", "consensus", "k"} <= set(data)
    assert all(re.fullmatch(r"P\d+", p["pid"]) for p in data["participants"])
    assert len({p["pid"] for p in data["participants"]}) == 18
    assert "ゆき" not in body
    with app.app_context():
        ids = {str(p) for p in db.session.scalars(sa.select(Participant.id))}
    assert not ids & {p["pid"] for p in data["participants"]}
    assert all({"statement", "direction", "n_success", "n_trials", "p_success", "repness"} <= set(r)
               for g in data["groups"] for r in g["repness"])


def test_opinion_map_broadcast_reaches_staff(app, participant_socket, staff_auth):
    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    control = staff_socket(app, staff_auth, meeting_id)
    s1, s2 = participant_socket(cards[0]["token"]), participant_socket(cards[1]["token"], "もみじ")
    idea_id = s1.emit("post_idea", {"op_id": op_id(), "text": "図書館を夜まで開ける"}, callback=True)["idea"]["id"]
    control.get_received()
    assert s2.emit("vote", {"op_id": op_id(), "idea_id": idea_id, "value": "agree"}, callback=True)["ok"]
    got = []
    wait_until(lambda: got.extend(control.get_received()) or any(e["name"] == "opinion_map" for e in got))
    message = [e["args"][0] for e in got if e["name"] == "opinion_map"][-1]
    assert message["stream"] == f"staff:{meeting_id}" and message["seq"] > message["prev"] >= 0
    assert message["vote_count"] == 1
    assert events(s1, "opinion_map") == [] and events(s2, "opinion_map") == []


def test_vote_is_acknowledged_before_the_map_is_recomputed(app, participant_socket, monkeypatch):
    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    s1 = participant_socket(cards[0]["token"])
    idea_id = s1.emit("post_idea", {"op_id": op_id(), "text": "バス停に屋根をつける"}, callback=True)["idea"]["id"]
    started, release = threading.Event(), threading.Event()
    real_compute = opinion.compute

    def slow_compute(mid):
        started.set()
        release.wait(30)
        return real_compute(mid)

    monkeypatch.setattr(opinion, "compute", slow_compute)
    ack = s1.emit("vote", {"op_id": op_id(), "idea_id": idea_id, "value": "agree"}, callback=True)
    assert ack == {"ok": True, "idea_id": idea_id, "value": "agree"}
    # The vote is stored and acknowledged while the map still waits to be computed.
    with app.app_context():
        assert db.session.scalar(sa.select(OpinionMapSnapshot).where(OpinionMapSnapshot.meeting_id == meeting_id)) is None
    assert started.wait(20), "the background recompute never started"
    release.set()
    snap = snapshot_with(app, meeting_id, 1)
    assert snap.data["statements"][0]["id"] == idea_id


def test_hidden_idea_leaves_the_map(app, participant_socket, staff_auth):
    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    s1 = participant_socket(cards[0]["token"])
    first = s1.emit("post_idea", {"op_id": op_id(), "text": "一つ目"}, callback=True)["idea"]["id"]
    second = s1.emit("post_idea", {"op_id": op_id(), "text": "二つ目"}, callback=True)["idea"]["id"]
    for idea_id in (first, second):
        s1.emit("vote", {"op_id": op_id(), "idea_id": idea_id, "value": "agree"}, callback=True)
    wait_until(lambda: len(snapshot_with(app, meeting_id, 2).data["statements"]) == 2)
    control = staff_socket(app, staff_auth, meeting_id)
    ack = control.emit("hide_idea", {"op_id": op_id(), "idea_id": second, "reason": "重複"}, callback=True)
    assert ack["ok"]

    def hidden_gone():
        snap = snapshot_with(app, meeting_id, 2)
        return [s["id"] for s in snap.data["statements"]] == [first]
    wait_until(hidden_gone)


def test_table_agreement_and_bridging_use_the_current_seating(app, participant_socket):
    """Round 1: three tables of two vote on their own ideas; round 2 mixes the tables.

    Idea 1 (table 1's) is agreed with by a1 and a2, who now sit at two different tables:
    two of three tables agree, so it bridges. Idea 2 is split, idea 3 rejected.
    """
    meeting_id, cards = build_meeting(app, participants=6, tables=3)
    (a1, a2), (b1, b2), (c1, c2) = tables_of(cards)
    plan = [((a1, "agree"), (a2, "agree")), ((b1, "agree"), (b2, "disagree")), ((c1, "disagree"), (c2, "disagree"))]
    idea_ids = []
    for n, ((first, v1), (second, v2)) in enumerate(plan, start=1):
        s1, s2 = participant_socket(first["token"], f"x{n}"), participant_socket(second["token"], f"y{n}")
        idea_id = s1.emit("post_idea", {"op_id": op_id(), "text": f"案{n}"}, callback=True)["idea"]["id"]
        idea_ids.append(idea_id)
        assert s1.emit("vote", {"op_id": op_id(), "idea_id": idea_id, "value": v1}, callback=True)["ok"]
        assert s2.emit("vote", {"op_id": op_id(), "idea_id": idea_id, "value": v2}, callback=True)["ok"]
    t1, t2, t3 = a1["table_id"], b1["table_id"], c1["table_id"]
    snapshot_with(app, meeting_id, 6)
    with app.app_context():
        rnd = Round(meeting_id=meeting_id, number=2, position=2, seating_since=now())
        db.session.add(rnd)
        db.session.flush()
        for card, table in ((a1, t1), (b1, t1), (a2, t2), (c1, t2), (b2, t3), (c2, t3)):
            db.session.add(Seat(round_id=rnd.id, table_id=table, participant_id=card["participant_id"]))
        db.session.commit()
        opinion.recompute(meeting_id)
        db.session.commit()
        data = opinion.snapshot(meeting_id).data
    i1, i2, i3 = idea_ids
    assert [(b["idea_id"], b["tables_agreeing"], b["tables"]) for b in data["tables"]["bridging"]] == [(i1, 2, 3)]
    cells = {(a["table_id"], a["idea_id"]): (a["agree"], a["disagree"], a["seen"]) for a in data["tables"]["agreement"]}
    assert cells == {(t1, i1): (1, 0, 1), (t1, i2): (1, 0, 1), (t2, i1): (1, 0, 1), (t2, i3): (0, 1, 1),
                     (t3, i2): (0, 1, 1), (t3, i3): (0, 1, 1)}
    with app.app_context():
        assert {i.table_id for i in db.session.scalars(sa.select(Idea))} == {t1, t2, t3}


def test_breakdown_by_category_hides_cells_under_five(app, participant_socket, staff_auth, client):
    meeting_id, cards = build_meeting(app, participants=10, tables=1)
    ages = ["60代"] * 7 + ["20代"] * 3
    with app.app_context():
        for card, age in zip(cards, ages):
            db.session.get(Participant, card["participant_id"]).categories = {"年代": age}
        db.session.commit()
    socks = [participant_socket(c["token"], f"n{i}") for i, c in enumerate(cards)]
    idea_id = socks[0].emit("post_idea", {"op_id": op_id(), "text": "公民館を土日も開ける"}, callback=True)["idea"]["id"]
    values = ["agree"] * 5 + ["disagree"] * 2 + ["agree"] * 3  # 60代: 5 agree 2 disagree; 20代: 3 agree
    for sock, value in zip(socks, values):
        assert sock.emit("vote", {"op_id": op_id(), "idea_id": idea_id, "value": value}, callback=True)["ok"]
    snap = snapshot_with(app, meeting_id, 10)
    (table,) = [b for b in snap.data["breakdown"] if b["idea_id"] == idea_id]
    assert table["category"] == "年代" and table["columns"] == ["agree", "disagree", "pass"]
    rows = dict(zip(table["rows"], table["cells"]))
    totals = dict(zip(table["rows"], table["row_totals"]))
    assert rows["20代"] == [None, None, None] and totals["20代"] is None  # a category under 5 people
    assert rows["60代"][1] is None  # 2 people disagreeing
    shown = [n for row in table["cells"] for n in row if n is not None]
    shown += [n for n in table["row_totals"] + table["column_totals"] + [table["total"]] if n is not None]
    assert all(n == 0 or n >= 5 for n in shown)
    staff_auth.login(client)
    html = client.get(f"/staff/meetings/{meeting_id}/map").get_data(as_text=True)
    assert "breakdown-table" in html and "20代" in html and "–" in html


def test_facilitator_of_another_meeting_is_refused(app, camps, staff_auth):
    build_meeting(app, participants=2, tables=1, organizer_email="other@example.org")
    http = app.test_client()
    staff_auth.login(http, email="other@example.org")
    for path in ("map", "map.json", "map/fragment"):
        assert http.get(f"/staff/meetings/{camps['meeting_id']}/{path}").status_code == 404
    assert http.post(f"/staff/meetings/{camps['meeting_id']}/map/recompute").status_code in (400, 404)
    assert app.test_client().get(f"/staff/meetings/{camps['meeting_id']}/map.json").status_code in (302, 401)


def test_map_page_before_any_vote(app, staff_auth, client):
    meeting_id, _ = build_meeting(app, participants=2, tables=1)
    staff_auth.login(client)
    page = client.get(f"/staff/meetings/{meeting_id}/map")
    assert page.status_code == 200 and "<svg class=\"opinion-map\"" not in page.get_data(as_text=True)
    data = client.get(f"/staff/meetings/{meeting_id}/map.json").get_json()
    assert data["participants"] == [] and data["computed_at"] is None

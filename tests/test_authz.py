"""The authorization matrix: every HTTP route and Socket.IO event × every role, as docs/security.md says.

The routes come from app.url_map and the events from the Socket.IO server's own handler
registry, so a route or event that a later change adds and that is missing from the matrix in
docs/security.md fails this test until its row is written.
"""

import re

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask_socketio import SocketIOTestClient

from meeting.config import PROJECT_DIR
from meeting.extensions import db, socketio
from meeting.models import (
    Ballot,
    DeviceLink,
    HelpCall,
    Participant,
    ReportOut,
    Round,
    SeatingRule,
    Selection,
    StaffUser,
    TableHost,
)
from meeting.services import ideas, polls, staff
from tests.conftest import build_meeting, join, make_app, op_id

ROLES = ("anonymous", "participant A", "participant B", "participant other", "facilitator",
         "facilitator other", "organizer", "organizer other")
PASSWORD = "correct horse battery"
# Staff routes that end the session: run last for each role.
LAST = ("POST /staff/account/sign-out-everywhere", "POST /logout")


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch):
    """Cheap Argon2 parameters: these tests log in hundreds of times and would measure only Argon2."""
    monkeypatch.setattr(staff, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))



def read_matrix() -> dict[str, dict[str, str]]:
    """The rows of the table under "## Authorization matrix" in docs/security.md."""
    text = (PROJECT_DIR / "docs" / "security.md").read_text(encoding="utf-8")
    section = text.split("## Authorization matrix", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\|\s*`([^`]+)`\s*\|(.*)\|\s*$", line)
        if match:
            cells = [c.strip() for c in match.group(2).split("|")]
            assert len(cells) == len(ROLES), line
            assert set(cells) <= {"yes", "no", "any"}, line
            rows[match.group(1)] = dict(zip(ROLES, cells))
    return rows


def http_routes(app) -> list[str]:
    keys = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            keys.append(f"{method} {rule.rule}")
    return sorted(keys, key=lambda k: (LAST.index(k) + 1 if k in LAST else 0, k))


def socket_events() -> list[str]:
    return sorted(socketio.server.handlers["/"])


REPORT_BUILD = "0123456789abcdef"


@pytest.fixture
def world(tmp_path, migrated_db):
    """Meeting M (tables A and B) with its staff, and meeting N with its own people and staff."""
    app = make_app(tmp_path, migrated_db, WTF_CSRF_ENABLED=False)
    m, cards = build_meeting(app, participants=4, tables=2)
    n, other_cards = build_meeting(app, participants=2, tables=1, organizer_email="other@example.org")
    by_table: dict[int, list] = {}
    for card in cards:
        by_table.setdefault(card["table_id"], []).append(card)
    (a, *_), (b, *_) = by_table.values()
    with app.app_context():
        for email, meeting_id in (("fac@example.org", m), ("facother@example.org", n), ("victim@example.org", m)):
            staff.assign(meeting_id, staff.create_staff(email, PASSWORD), "facilitator")
        organizer = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "organizer@example.org"))
        victim = db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == "victim@example.org"))
        person_a = db.session.get(Participant, a["participant_id"])
        idea = ideas.post_idea(person_a, "公園にベンチを")[0]["idea"]["id"]
        idea2 = ideas.post_idea(person_a, "公園のベンチを増やす")[0]["idea"]["id"]
        poll = polls.create_poll(organizer, m, {"kind": "agree", "question": "賛成？", "table_id": a["table_id"]})[0]
        polls.open_poll(organizer, m, poll["poll"]["id"])
        draft = polls.create_poll(organizer, m, {"kind": "agree", "question": "下書き"})[0]["poll"]["id"]
        text_poll = polls.create_poll(organizer, m, {"kind": "text", "question": "自由にどうぞ"})[0]["poll"]["id"]
        polls.open_poll(organizer, m, text_poll)
        polls.cast_ballot(person_a, text_poll, {"text": "公園にベンチを"})
        text_ballot = db.session.scalar(sa.select(Ballot.id).where(Ballot.poll_id == text_poll))
        selection = Selection(meeting_id=m, kind="check", status="failed", error_code="crash")
        db.session.add(selection)
        spare, spare2 = [c["participant_id"] for c in cards
                         if c["participant_id"] not in (a["participant_id"], b["participant_id"])][:2]
        help_call = HelpCall(meeting_id=m, participant_id=a["participant_id"], table_id=a["table_id"])
        db.session.add(help_call)
        notices = [ideas.announce(organizer, m, "お知らせ")[0]["announcement"]["id"] for _ in range(2)]
        rules = [SeatingRule(meeting_id=m, kind="apart", participant_ids=[a["participant_id"], spare]) for _ in range(2)]
        db.session.add_all(rules)
        # Participant A hosts table A (marks its ideas for the plenary); a report-out and a projector link.
        db.session.add(TableHost(table_id=a["table_id"], participant_id=a["participant_id"]))
        report = ReportOut(meeting_id=m, table_id=b["table_id"], position=1, state="waiting")
        link = DeviceLink(meeting_id=m, kind="projector", token_hash="0" * 64)
        tablet = DeviceLink(meeting_id=m, kind="tablet", table_id=a["table_id"], token_hash="1" * 64)
        db.session.add(tablet)
        db.session.add_all([report, link])
        db.session.commit()
        first_round = db.session.scalar(sa.select(Round.id).where(Round.meeting_id == m))
        ids = {"meeting_id": m, "participant_id": a["participant_id"], "person_id": 1, "selection_id": selection.id,
               "user_id": victim, "idea_id": idea, "idea2_id": idea2,
               "text_poll_id": text_poll, "text_ballot_id": text_ballot, "poll_id": poll["poll"]["id"], "draft_id": draft,
               "fmt": "svg", "token": "not-a-token", "code": "NOTACODE", "lang": "en", "filename": "css/app.css",
               "round_id": first_round, "spare_id": spare, "table_id": a["table_id"], "rule_id": rules[0].id,
               "second_rule_id": rules[1].id, "spare2_id": spare2, "b_id": b["participant_id"],
               "help_id": help_call.id, "announcement_id": notices[0], "second_announcement_id": notices[1],
               "report_id": report.id, "link_id": link.id, "tablet_link_id": tablet.id, "_rest": "nothing-here",
               "name": "ideas", "build": REPORT_BUILD}
        # A finished report package of M, so its pages have something to show the organizer.
        folder = tmp_path / "reports" / f"meeting-{m}" / REPORT_BUILD
        folder.mkdir(parents=True)
        (folder / "status.json").write_text('{"status": "done", "progress": 1.0, "message": "done"}')
        (folder / "report.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    yield app, ids, {"participant A": a, "participant B": b, "participant other": other_cards[0]}
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


STAFF_EMAILS = {"facilitator": "fac@example.org", "facilitator other": "facother@example.org",
                "organizer": "organizer@example.org", "organizer other": "other@example.org"}


def client_for(app, role: str, cards: dict):
    http = app.test_client()
    if role in STAFF_EMAILS:
        response = http.post("/login", data={"email": STAFF_EMAILS[role], "password": PASSWORD})
        assert response.status_code == 302, role
    elif role in cards:
        join(http, cards[role]["token"], nickname=f"n{role[-1]}")
    return http


def url_of(rule: str, ids: dict) -> str:
    if "any(csv" in rule:  # the export formats
        ids = {**ids, "fmt": "csv"}
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", lambda m: str(ids[m.group(1)]), rule)


def refused_http(response) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    location = response.headers.get("Location", "")
    # Staff pages send strangers to the login with ?next=; participant pages send them home.
    return response.status_code == 302 and (location.startswith("/login?next=") or location == "/")


def test_matrix_lists_every_route_and_event(app):
    matrix = read_matrix()
    missing = [k for k in http_routes(app) + [f"event {e}" for e in socket_events()] if k not in matrix]
    assert not missing, f"add these to the authorization matrix in docs/security.md: {missing}"
    stale = [k for k in matrix if k not in http_routes(app) and k.removeprefix("event ") not in socket_events()]
    assert not stale, f"the matrix names routes or events that do not exist: {stale}"


def test_every_route_answers_every_role_as_the_matrix_says(world):
    app, ids, cards = world
    matrix = read_matrix()
    wrong = []
    for role in ROLES:
        http = client_for(app, role, cards)
        for key in http_routes(app):
            method, rule = key.split(" ", 1)
            response = http.open(url_of(rule, ids), method=method, data={})
            assert response.status_code < 500, (role, key, response.status_code)
            expected = matrix[key][role]
            if expected != "any" and refused_http(response) != (expected == "no"):
                wrong.append((role, key, response.status_code, response.headers.get("Location")))
    assert not wrong, wrong


EVENT_PAYLOADS = {
    "snapshot": {}, "post_idea": {"text": "意見"}, "vote": {"idea_id": "idea_id", "value": "agree"},
    "hide_idea": {"idea_id": "idea_id", "reason": "確認"}, "restore_idea": {"idea_id": "idea_id", "reason": "確認"},
    "announce": {"text": "お知らせ"}, "create_poll": {"kind": "agree", "question": "質問"},
    "open_poll": {"poll_id": "draft_id"}, "close_poll": {"poll_id": "draft_id"},
    "cast_ballot": {"poll_id": "poll_id", "ballot": {"vote": "agree"}},
    "check_receipt": {"receipt": "no-such-receipt-at-all"}, "poll_breakdown": {"poll_id": "poll_id", "category": "x"},
    # Agenda and seating: targets that exist, so that only access control can refuse.
    "agenda_add": {"kind": "table", "title": "追加のラウンド"}, "agenda_edit": {"step_id": "round_id", "title": "第1"},
    "agenda_move": {"step_id": "round_id", "position": 0}, "agenda_delete": {"step_id": "round_id"},
    "step_start": {"step_id": "round_id"}, "step_extend": {"seconds": 60},
    "meeting_settings": {"close_posting_at_end": True}, "seating_preview": {"mode": "first", "everyone": True},
    "seating_apply": {"step_id": "round_id", "assignment": {}},
    "seat_move": {"participant_id": "spare_id", "table_id": "table_id"},
    "seat_swap": {"participant_id": "spare_id", "other_id": "spare_id"}, "seat_leave": {"participant_id": "spare_id"},
    "set_host": {"table_id": "table_id"}, "seating_rule_add": {"kind": "apart", "participant_ids": ["spare_id"]},
    "seating_rule_remove": {"rule_id": "rule_id"},
    # The control room.
    "table_detail": {"table_id": "table_id"}, "call_staff": {}, "help_cancel": {}, "similar_ideas": {"text": "公園"},
    "help_ack": {"help_id": "help_id"}, "help_resolve": {"help_id": "help_id"},
    "person_remove": {"participant_id": "spare2_id"}, "person_readmit": {"participant_id": "spare2_id"},
    "edit_idea": {"idea_id": "idea_id", "text": "公園にベンチを置く", "reason": "読みやすく"},
    "announce_to": {"text": "お知らせ", "table_id": "table_id"}, "announcement_clear": {"announcement_id": "announcement_id"},
    # The plenary and the projector.
    "plenary_mark_host": {"idea_id": "idea_id", "plenary": True}, "plenary_mark": {"idea_id": "idea_id", "plenary": True},
    "report_queue": {"table_ids": ["table_id"]}, "report_start": {}, "report_next": {}, "report_pause": {},
    "report_resume": {}, "report_skip": {"report_id": "report_id"}, "report_settings": {"speak_s": 120, "questions_s": 60},
    "plenary_poll": {"kind": "approval", "question": "どれを優先しますか"}, "projector_create": {},
    "projector_revoke": {"link_id": "link_id"},
    "tablet_link_create": {"table_id": "table_id"}, "tablet_link_revoke": {"link_id": "tablet_link_id"},
    "idea_merge": {"target_id": "idea_id", "source_ids": ["idea2_id"]}, "idea_unmerge": {"idea_id": "idea2_id"},
    "funnel": {}, "promote_answer": {"poll_id": "text_poll_id", "ballot_id": "text_ballot_id"},
    "video_room": {"table_id": "table_id", "url": "https://meet.jit.si/kurumaza-a"},
    "approve_idea": {"idea_id": "idea_id"}, "reject_idea": {"idea_id": "idea_id", "reason": "確認"},
    "proxy_idea": {"participant_id": "participant_id", "text": "代理の意見"},
    "proxy_vote": {"participant_id": "participant_id", "idea_id": "idea2_id", "value": "agree"},
}
# Events that remove what they name: each staff role gets its own target.
PER_ROLE = {("seating_rule_remove", "organizer"): {"rule_id": "second_rule_id"},
            ("person_remove", "organizer"): {"participant_id": "b_id"},
            ("announcement_clear", "organizer"): {"announcement_id": "second_announcement_id"}}
REFUSALS = ("forbidden", "not_found")


def test_every_event_answers_every_role_as_the_matrix_says(world):
    app, ids, cards = world
    matrix = read_matrix()
    wrong = []
    for role in ROLES:
        http = client_for(app, role, cards)
        auth = {"meeting_id": ids["meeting_id"]} if role in STAFF_EMAILS else None
        sock = SocketIOTestClient(app, socketio, flask_test_client=http, auth=auth)
        connected = sock.is_connected()
        if matrix["event connect"][role] != "any" and connected != (matrix["event connect"][role] == "yes"):
            wrong.append((role, "connect", connected))
        for event in socket_events():
            if event in ("connect", "disconnect"):
                continue
            spec = PER_ROLE.get((event, role), EVENT_PAYLOADS.get(event, {}))
            payload = {k: ids.get(v, v) if isinstance(v, str) else [ids.get(x, x) for x in v] if isinstance(v, list) else v
                       for k, v in spec.items()}
            ack = sock.emit(event, {"op_id": op_id(), **payload}, callback=True) if connected else None
            assert ack is None or ack.get("error") != "server", (role, event, ack)
            refused = ack is None or (ack.get("ok") is False and ack.get("error") in REFUSALS)
            expected = matrix[f"event {event}"][role]
            if expected != "any" and refused != (expected == "no"):
                wrong.append((role, event, ack))
        if connected:
            sock.disconnect()
    assert not wrong, wrong

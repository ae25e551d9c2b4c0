"""Property-based fuzzing (hypothesis) of every Socket.IO event and every form.

The events come from the Socket.IO server's handler registry and the forms from app.url_map,
so what later changes add is fuzzed too. Every case must be answered: an ack with `ok` true or
an error code other than `server` (events), a status under 500 (forms); the connection stays
up, and nothing is logged at ERROR level.
"""

import logging
import re
import secrets

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask_socketio import SocketIOTestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meeting.extensions import db, socketio
from meeting.models import Participant, StaffUser
from meeting.services import ideas, polls, staff
from tests.conftest import build_meeting, join, make_app

SETTINGS = settings(max_examples=200, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))
NOT_SENT = {"connect", "disconnect"}  # the connection itself, not an event a client emits

NASTY = ["<script>alert(1)</script>", "' OR 1=1; --", "Robert'); DROP TABLE ideas;--", "ｆｕｌｌ－ｗｉｄｔｈ　１２３",
         "\u202eevil\u202c", "\u200b", "\x00", "\r\n", "a" * 5000, "日本語" * 300, "%s%n{0}", "../../etc/passwd",
         "9" * 400, "-1", "1e400", "NaN", "true", "null", "o1", "agree"]
TEXT = st.one_of(st.sampled_from(NASTY), st.text(max_size=40),
                 st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
                 st.text(st.characters(max_codepoint=0x1F), max_size=5))
NUMBER = st.one_of(st.integers(-(2**70), 2**70), st.sampled_from([0, 1, -1, 2**63 - 1, 2**63, 2**64, 10**30]),
                   st.floats(allow_nan=True, allow_infinity=True))
SCALAR = st.one_of(st.none(), st.booleans(), NUMBER, TEXT)
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)
DEEP = st.integers(30, 300)  # deeper ones break the test client itself: see test_security.map(lambda n: _nest(n))
KEYS = ["text", "idea_id", "value", "reason", "poll_id", "ballot", "receipt", "category", "kind", "question",
        "options", "table_id", "visibility", "secret", "closes_at", "rules", "follow_up_of", "option", "vote"]
OP_ID = st.one_of(st.just(None), st.builds(lambda: secrets.token_hex(12)), st.sampled_from(["abcdefgh\n", "x", ""]),
                  SCALAR)


def _nest(n):
    value = "deep"
    for _ in range(n):
        value = [value]
    return value


PAYLOAD = st.one_of(
    st.builds(lambda op, fields: {**fields, "op_id": op} if op is not None else fields,
              OP_ID, st.dictionaries(st.one_of(st.sampled_from(KEYS), TEXT), st.one_of(VALUE, DEEP), max_size=6)),
    VALUE)


@pytest.fixture
def world(tmp_path, migrated_db, monkeypatch):
    # Cheap password hashing: the forms include the login, and thousands of Argon2 runs would
    # only measure Argon2.
    monkeypatch.setattr(staff, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    app = make_app(tmp_path, migrated_db, WTF_CSRF_ENABLED=False)
    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    with app.app_context():
        organizer = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "organizer@example.org"))
        person = db.session.get(Participant, cards[0]["participant_id"])
        ideas.post_idea(person, "ベンチ")
        poll = polls.create_poll(organizer, meeting_id, {"kind": "single", "question": "どれ？",
                                                        "options": ["A", "B"]})[0]["poll"]["id"]
        polls.open_poll(organizer, meeting_id, poll)
        db.session.commit()
    yield app, meeting_id, cards
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def sockets(app, meeting_id, cards):
    phone_http = app.test_client()
    join(phone_http, cards[0]["token"])
    staff_http = app.test_client()
    assert staff_http.post("/login", data={"email": "organizer@example.org",
                                           "password": "correct horse battery"}).status_code == 302
    phone = SocketIOTestClient(app, socketio, flask_test_client=phone_http)
    room = SocketIOTestClient(app, socketio, flask_test_client=staff_http, auth={"meeting_id": meeting_id})
    assert phone.is_connected() and room.is_connected()
    return {"participant": phone, "staff": room}


def no_errors_logged(caplog):
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bad, [r.getMessage() for r in bad]


def test_every_event_answers_any_payload(world, caplog):
    app, meeting_id, cards = world
    clients = sockets(app, meeting_id, cards)
    events = sorted(set(socketio.server.handlers["/"]) - NOT_SENT)
    assert {"post_idea", "vote", "create_poll", "cast_ballot", "snapshot"} <= set(events)

    @SETTINGS
    @given(event=st.sampled_from(events), sender=st.sampled_from(sorted(clients)), payload=PAYLOAD,
           extra=st.lists(VALUE, max_size=2))
    def run(event, sender, payload, extra):
        sock = clients[sender]
        ack = sock.emit(event, payload, *extra, callback=True)
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), (event, ack)
        assert ack["ok"] or (ack.get("error") not in (None, "server") and ack.get("message")), (event, ack)
        assert sock.is_connected()

    with caplog.at_level(logging.ERROR):
        run()
    no_errors_logged(caplog)


FIELDS = ["email", "password", "title", "language", "purpose", "count", "nicknames", "code", "nickname",
          "nickname_choice", "id_column", "category_columns", "household_columns", "k", "method", "alternates",
          "seed", "check", "submit", "sure", "category", "value", "min", "max", "arrived", "current", "new"]
FORM_TEXT = st.one_of(st.sampled_from(NASTY), st.text(st.characters(exclude_categories=["Cs"]), max_size=30),
                      NUMBER.map(str))
FORM = st.dictionaries(st.sampled_from(FIELDS), st.one_of(FORM_TEXT, st.lists(FORM_TEXT, min_size=2, max_size=4)),
                       max_size=6)
PATH_ID = st.one_of(st.sampled_from([1, 2, 0]), st.integers(0, 2**70))


def post_routes(app):
    return sorted(r.rule for r in app.url_map.iter_rules() if "POST" in r.methods)


def test_every_form_answers_any_input(world, caplog):
    app, meeting_id, cards = world
    routes = post_routes(app)
    assert "/staff/meetings/<int:meeting_id>/panel/quotas/edit" in routes
    http = app.test_client()

    def log_in():
        assert http.post("/login", data={"email": "organizer@example.org",
                                         "password": "correct horse battery"}).status_code == 302

    log_in()

    @SETTINGS
    @given(rule=st.sampled_from(routes), form=FORM, path_id=PATH_ID, own=st.booleans(),
           upload=st.one_of(st.none(), st.binary(max_size=300), st.sampled_from([b"\xff\xfe\x00", b"PK\x03\x04xx"])))
    def run(rule, form, path_id, own, upload):
        def fill(match):
            name = match.group(1)
            if name == "meeting_id" and own:
                return str(meeting_id)
            if name == "lang":
                return "en"
            return str(path_id)

        url = re.sub(r"<(?:int:)?([a-z_]+)>", fill, rule)
        data = dict(form)
        if upload is not None:
            import io

            data["file"] = (io.BytesIO(upload), "fuzz.csv")
        response = http.post(url, data=data, content_type="multipart/form-data" if upload is not None else None)
        assert response.status_code < 500, (url, form, response.status_code)
        if http.get("/staff/").status_code != 200:  # the case logged us out (logout, sign out)
            log_in()

    with caplog.at_level(logging.ERROR):
        run()
    no_errors_logged(caplog)

"""Fixtures: an app on a fresh migrated SQLite file, staff and participant helpers."""

import html
import re
import secrets
import shutil

import pytest

from meeting import create_app
from meeting.extensions import db, socketio
from meeting.models import Meeting
from meeting.services import invitations, meetings, staff

TEST_SECRET = "test-secret-key-with-enough-length-0123456789"
TEST_DATA_KEY = "test-data-key-with-enough-length-0123456789"


# Scopes whose fixture is built once for the tests that share it, if they run in one process.
SHARED_SCOPES = ("class", "module", "package")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    """Which tests `make test` (pytest-xdist, --dist loadgroup) keeps on one worker, in order.

    The fault tests stop and kill servers, Redis and PostgreSQL clusters of their own under
    dozens of phones: one at a time, never two at once. Tests sharing a fixture wider than a test
    (a module's server, a report built once) stay together, so it is built once, not per worker.
    Every other test goes to whichever worker is free.
    """
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        if item.get_closest_marker("faults"):
            item.add_marker(pytest.mark.xdist_group("faults"))
            continue
        info = getattr(item, "_fixtureinfo", None)
        scopes = {defs[-1].scope for defs in (info.name2fixturedefs.values() if info else ()) if defs}
        if scopes & set(SHARED_SCOPES):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory):
    """A SQLite file built by the Alembic migrations, copied for each test."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.sqlite3"
    app = create_app({"INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "SECRET_KEY": TEST_SECRET, "DATA_KEY": TEST_DATA_KEY, "MEETING_ASYNC_MODE": "threading"})
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


def make_app(tmp_path, migrated_db, **overrides):
    path = tmp_path / "kurumaza.sqlite3"
    if not path.exists():
        shutil.copy(migrated_db, path)
    config = {"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
              "SECRET_KEY": TEST_SECRET, "DATA_KEY": TEST_DATA_KEY, "MEETING_ASYNC_MODE": "threading",
              "TALLY_INTERVAL": 0.05, "TESTING": True,
              "BASE_URL": "https://kurumaza.example"}
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app(tmp_path, migrated_db):
    app = make_app(tmp_path, migrated_db)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    page = client.get(url)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


class Staff:
    """Create staff accounts and log them in through the login form."""

    def __init__(self, app):
        self.app = app

    def create(self, email="organizer@example.org", password="correct horse battery", organizer=True):
        with self.app.app_context():
            user = staff.create_staff(email, password, is_organizer=organizer)
            return user.id

    def login(self, client, email="organizer@example.org", password="correct horse battery"):
        token = csrf_token(client, "/login")
        return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def staff_auth(app):
    return Staff(app)


def build_meeting(app, *, participants=6, tables=2, organizer_email="organizer@example.org", language="ja"):
    """Create a meeting with seated participants; return its id and the invitations."""
    with app.app_context():
        import sqlalchemy as sa

        from meeting.models import StaffUser

        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == organizer_email))
        if user is None:
            user = staff.create_staff(organizer_email, "correct horse battery", is_organizer=True)
        meeting = meetings.create_meeting("区民会議", language, by=user, purpose="公園の使い方を話し合います。")
        meetings.add_participants(meeting, count=participants, by=user)
        meetings.create_tables(meeting, tables, by=user)
        seating = meetings.seating(meeting)
        table_of = {p.id: t.id for t in meeting.tables for p in seating[t.id]}
        cards = [{"participant_id": c.participant.id, "token": c.token, "code": c.code,
                  "table_id": table_of[c.participant.id]} for c in invitations.printable(meeting)]
        return meeting.id, cards


def join(client, token: str, nickname: str | None = None):
    """Open an invitation link and pick a nickname, as a phone would; return the last response.
    Without a nickname: さくら, or (nicknames are unique per meeting) the one the page suggests."""
    first = client.get(f"/j/{token}")
    assert first.status_code == 302, first.status_code
    csrf = csrf_token(client, "/welcome")
    response = client.post("/welcome", data={"nickname": nickname or "さくら", "csrf_token": csrf})
    if nickname is None and response.status_code == 400:
        suggested = re.search(r'name="nickname"[^>]*value="([^"]+)"', response.get_data(as_text=True))
        if suggested:
            response = client.post("/welcome", data={"nickname": html.unescape(suggested.group(1)),
                                                     "csrf_token": csrf_token(client, "/welcome")})
    return response


@pytest.fixture
def participant_socket(app):
    """Return a function that opens a Socket.IO test client for a joined participant."""
    opened = []

    def open_socket(token: str, nickname: str | None = None):
        http = app.test_client()
        response = join(http, token, nickname)
        assert response.status_code == 302 and response.headers["Location"].endswith("/table")
        sock = socketio.test_client(app, flask_test_client=http)
        assert sock.is_connected()
        opened.append(sock)
        return sock

    yield open_socket
    for sock in opened:
        if sock.is_connected():
            sock.disconnect()


def staff_socket(app, staff_auth, meeting_id, email="organizer@example.org"):
    """A Socket.IO test client of a logged-in staff member in the meeting's control room."""
    http = app.test_client()
    staff_auth.login(http, email=email)
    sock = socketio.test_client(app, flask_test_client=http, auth={"meeting_id": meeting_id})
    assert sock.is_connected()
    return sock


def op_id() -> str:
    return secrets.token_hex(16)


def events(sock, name=None):
    received = sock.get_received()
    return [e for e in received if name is None or e["name"] == name]


def first_meeting(app) -> int:
    with app.app_context():
        import sqlalchemy as sa

        return db.session.scalar(sa.select(Meeting.id).order_by(Meeting.id))

"""The organizer's pages: login, meetings, participants, tables, facilitators, invitations."""

import re

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import AuditEvent, Seat
from tests.conftest import build_meeting, csrf_token, first_meeting


def test_wrong_password_is_refused_with_a_message(app, client, staff_auth):
    staff_auth.create()
    response = staff_auth.login(client, password="wrong password")
    assert response.status_code == 200
    assert "メールアドレスまたはパスワードが正しくありません" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_post_without_csrf_token_is_rejected(app, client, staff_auth):
    staff_auth.create()
    response = client.post("/login", data={"email": "organizer@example.org", "password": "correct horse battery"})
    assert response.status_code == 400


def test_organizer_builds_a_meeting_through_the_pages(app, client, staff_auth):
    staff_auth.create()
    assert staff_auth.login(client).status_code == 302
    token = csrf_token(client, "/staff/")
    created = client.post("/staff/meetings", data={"title": "世田谷区民会議", "language": "ja",
                                                   "purpose": "公園について", "csrf_token": token})
    assert created.status_code == 302
    meeting_id = first_meeting(app)
    url = f"/staff/meetings/{meeting_id}"
    client.post(f"{url}/participants", data={"count": "10", "csrf_token": csrf_token(client, url)})
    client.post(f"{url}/participants", data={"nicknames": "たろう\nはなこ\n", "csrf_token": csrf_token(client, url)})
    client.post(f"{url}/tables", data={"count": "3", "csrf_token": csrf_token(client, url)})
    page = client.get(url).get_data(as_text=True)
    assert "参加者 (12)" in page and "はなこ" in page
    with app.app_context():
        loads = sorted(n for (n,) in db.session.execute(
            sa.select(sa.func.count()).select_from(Seat).group_by(Seat.table_id)))
    assert loads == [4, 4, 4]  # an even random split

    cards = client.get(f"{url}/invitations")
    html = cards.get_data(as_text=True)
    assert cards.headers["Cache-Control"] == "no-store"
    assert len(re.findall(r'class="invitation"', html)) == 12
    assert len(set(re.findall(r'class="code">([2-9A-Z]{4}-[2-9A-Z]{4})<', html))) == 12
    # Printed links use the public address, not whatever host the organizer browses from.
    assert len(set(re.findall(r'class="link">https://kurumaza\.example/j/[\w-]{22}<', html))) == 12
    qr_links = re.findall(r'src="(/staff/meetings/\d+/invitations/\d+\.svg)"', html)
    assert len(qr_links) == 12
    svg = client.get(qr_links[0])
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    png = client.get(qr_links[0].replace(".svg", ".png"))
    assert png.data.startswith(b"\x89PNG")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "invitations.view")) == 1


def test_facilitator_account_and_permissions(app, client, staff_auth):
    meeting_id, _ = build_meeting(app)
    staff_auth.login(client)
    url = f"/staff/meetings/{meeting_id}"
    client.post(f"{url}/facilitators", data={"email": "fac@example.org", "password": "facilitator-pass",
                                             "csrf_token": csrf_token(client, url)})
    fac = app.test_client()
    assert staff_auth.login(fac, email="fac@example.org", password="facilitator-pass").status_code == 302
    assert fac.get(f"{url}/control").status_code == 200
    assert fac.get(f"{url}/invitations").status_code == 403      # organizer only
    assert fac.get(f"{url}/export/ideas.csv").status_code == 403
    other_meeting, _ = build_meeting(app, organizer_email="other@example.org")
    assert fac.get(f"/staff/meetings/{other_meeting}/control").status_code == 404  # not on that meeting: same answer as no meeting


def test_staff_pages_need_login(client, app):
    meeting_id, _ = build_meeting(app)
    response = client.get(f"/staff/meetings/{meeting_id}/control")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_security_headers_on_every_page(client):
    for url in ("/", "/login", "/join", "/nowhere"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_templates_have_no_inline_script_or_style():
    from pathlib import Path

    for path in Path(__file__).resolve().parent.parent.joinpath("templates").rglob("*.html"):
        text = path.read_text()
        assert " style=" not in text, path
        for match in re.finditer(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", text, re.S):
            assert "src=" in match["attrs"] or 'type="application/json"' in match["attrs"], path

"""Every finding of the attacker's probe (issue 9), each as a user or an attacker would see it."""

import io
import logging
import os
import re
import subprocess
import sys
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask_socketio import SocketIOTestClient

from meeting.config import PROJECT_DIR
from meeting.extensions import db, socketio
from meeting.models import Announcement, Idea, LoginThrottle, Meeting, OpLog, PanelQuota, Poll, StaffSession
from meeting.models._base import utcnow
from meeting.realtime import wire
from meeting.services import ideas, meetings, opinion, panel, polls, staff
from meeting.services.errors import ServiceError
from tests.conftest import build_meeting, csrf_token, make_app, op_id, staff_socket

BIG = 2**64
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch):
    """Cheap Argon2 parameters: these tests log in hundreds of times and would measure only Argon2."""
    monkeypatch.setattr(staff, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))



def login(app, staff_auth, email="organizer@example.org"):
    http = app.test_client()
    assert staff_auth.login(http, email=email).status_code == 302
    return http


def replay(app, http):
    """A second browser holding a copy of this browser's session cookie."""
    copy = app.test_client()
    copy.set_cookie("session", http.get_cookie("session").value)
    return copy


def strip_token(response) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


def staff_pages(meeting_id):
    base = f"/staff/meetings/{meeting_id}"
    return [base, f"{base}/control", f"{base}/export/ideas.csv", f"{base}/export/votes.csv", f"{base}/map.json"]


def add_facilitator(app, meeting_id, email="fac@example.org"):
    with app.app_context():
        user = staff.create_staff(email, PASSWORD)
        staff.assign(meeting_id, user, "facilitator")
        return user.id


# --------------------------------------------------------------------------- existence oracle


def test_a_meeting_one_is_not_on_looks_exactly_like_one_that_does_not_exist(app, staff_auth):
    meeting_id, _ = build_meeting(app, participants=2, tables=1)
    build_meeting(app, participants=2, tables=1, organizer_email="other@example.org")
    other = login(app, staff_auth, "other@example.org")
    for url in staff_pages(meeting_id) + [f"/staff/meetings/{meeting_id}/panel"]:
        there, missing = other.get(url), other.get(url.replace(f"/{meeting_id}", "/999999", 1))
        assert there.status_code == missing.status_code == 404, url
        assert strip_token(there) == strip_token(missing)


# --------------------------------------------------------------------------- staff sessions


def test_logout_ends_the_session_for_every_copy_of_the_cookie(app, staff_auth):
    meeting_id, _ = build_meeting(app, participants=2, tables=1)
    http = login(app, staff_auth)
    stolen = replay(app, http)
    assert stolen.get(f"/staff/meetings/{meeting_id}/export/ideas.csv").status_code == 200
    live = SocketIOTestClient(app, socketio, flask_test_client=stolen, auth={"meeting_id": meeting_id})
    assert live.is_connected()
    http.post("/logout", data={"csrf_token": csrf_token(http, "/staff/")})
    for url in staff_pages(meeting_id):
        assert stolen.get(url).status_code in (302, 401), url
    assert not live.is_connected()  # the open control room was closed at logout
    again = SocketIOTestClient(app, socketio, flask_test_client=stolen, auth={"meeting_id": meeting_id})
    assert not again.is_connected()


def test_password_change_ends_every_other_session(app, staff_auth):
    meeting_id, _ = build_meeting(app, participants=2, tables=1)
    laptop, tablet = login(app, staff_auth), login(app, staff_auth)
    page = laptop.post("/staff/account", data={"current": PASSWORD, "new": "a new long password",
                                               "csrf_token": csrf_token(laptop, "/staff/account")})
    assert page.status_code == 302
    assert laptop.get(f"/staff/meetings/{meeting_id}").status_code == 200
    assert tablet.get(f"/staff/meetings/{meeting_id}").status_code == 302
    wrong = laptop.post("/staff/account", data={"current": "not it", "new": "another long password",
                                                "csrf_token": csrf_token(laptop, "/staff/account")})
    assert wrong.status_code == 400 and "現在のパスワードが正しくありません" in wrong.get_data(as_text=True)


def test_removal_from_a_meeting_and_sign_out_everywhere_by_the_organizer(app, staff_auth):
    meeting_id, _ = build_meeting(app, participants=2, tables=1)
    fac_id = add_facilitator(app, meeting_id)
    organizer = login(app, staff_auth)
    fac = login(app, staff_auth, "fac@example.org")
    sock = staff_socket(app, staff_auth, meeting_id, email="fac@example.org")
    page = f"/staff/meetings/{meeting_id}/staff"
    assert "fac@example.org" in organizer.get(page).get_data(as_text=True)
    assert fac.get(page).status_code == 403  # facilitators cannot manage staff
    organizer.post(f"{page}/{fac_id}/remove", data={"csrf_token": csrf_token(organizer, page)})
    assert fac.get(f"/staff/meetings/{meeting_id}/control").status_code == 404
    assert not sock.is_connected()
    # Back on the meeting, then signed out everywhere (a stolen laptop): the cookie is dead.
    with app.app_context():
        staff.assign(meeting_id, db.session.get(staff.StaffUser, fac_id), "facilitator")
    assert fac.get(f"/staff/meetings/{meeting_id}/control").status_code == 200
    organizer.post(f"{page}/{fac_id}/sign-out", data={"csrf_token": csrf_token(organizer, page)})
    assert fac.get(f"/staff/meetings/{meeting_id}/control").status_code == 302
    assert organizer.get(f"/staff/meetings/{meeting_id}/control").status_code == 200


def test_own_sign_out_everywhere(app, staff_auth):
    meeting_id, _ = build_meeting(app, participants=2, tables=1)
    laptop, phone = login(app, staff_auth), login(app, staff_auth)
    laptop.post("/staff/account/sign-out-everywhere", data={"csrf_token": csrf_token(laptop, "/staff/account")})
    assert laptop.get(f"/staff/meetings/{meeting_id}").status_code == 302
    assert phone.get(f"/staff/meetings/{meeting_id}").status_code == 302


def test_idle_and_absolute_timeouts(app, staff_auth):
    meeting_id, _ = build_meeting(app, participants=2, tables=1)
    url = f"/staff/meetings/{meeting_id}"
    for column, age in (("last_seen_at", app.config["STAFF_IDLE_TIMEOUT"]),
                        ("created_at", app.config["STAFF_ABSOLUTE_TIMEOUT"])):
        http = login(app, staff_auth)
        assert http.get(url).status_code == 200
        with app.app_context():
            row = db.session.scalars(sa.select(StaffSession).order_by(StaffSession.id.desc())).first()
            setattr(row, column, utcnow() - timedelta(seconds=age + 5))
            db.session.commit()
        assert http.get(url).status_code == 302, column
        sock = SocketIOTestClient(app, socketio, flask_test_client=http, auth={"meeting_id": meeting_id})
        assert not sock.is_connected()


# --------------------------------------------------------------------------- Socket.IO edge


def seated(app, participant_socket):
    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    return meeting_id, participant_socket(cards[0]["token"])


def test_ids_beyond_64_bits_and_booleans_are_refused_with_an_ack(app, participant_socket, staff_auth):
    meeting_id, phone = seated(app, participant_socket)
    room = staff_socket(app, staff_auth, meeting_id)
    for value in (BIG, -BIG, True, 2**63):
        assert phone.emit("vote", {"op_id": op_id(), "idea_id": value, "value": "agree"}, callback=True)["ok"] is False
        assert phone.emit("cast_ballot", {"op_id": op_id(), "poll_id": value, "ballot": {}}, callback=True)["ok"] is False
        for event, payload in (("hide_idea", {"idea_id": value, "reason": "x"}), ("open_poll", {"poll_id": value}),
                               ("create_poll", {"kind": "agree", "question": "q", "table_id": value}),
                               ("create_poll", {"follow_up_of": value})):
            ack = room.emit(event, {"op_id": op_id(), **payload}, callback=True)
            assert ack["ok"] is False and ack["error"] in ("not_found", "poll_table", "bad_request"), (event, value, ack)
    for bad in (BIG, True, "1", -1):
        sock = SocketIOTestClient(app, socketio, flask_test_client=room.flask_test_client, auth={"meeting_id": bad})
        assert not sock.is_connected()


def test_closing_times_at_the_edge_of_the_calendar(app, participant_socket, staff_auth):
    meeting_id, _ = seated(app, participant_socket)
    room = staff_socket(app, staff_auth, meeting_id)
    for closes_at in ("9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "x" * 5000, 12):
        ack = room.emit("create_poll", {"op_id": op_id(), "kind": "agree", "question": "q", "closes_at": closes_at},
                        callback=True)
        assert ack["error"] == "poll_closes_at", closes_at


def test_bad_texts_are_refused_everywhere(app, participant_socket, staff_auth):
    meeting_id, phone = seated(app, participant_socket)
    room = staff_socket(app, staff_auth, meeting_id)
    idea = phone.emit("post_idea", {"op_id": op_id(), "text": "ベンチ"}, callback=True)["idea"]
    for text, code in (("a\udc00b", "text_invalid"), ("a\x00b", "text_invalid"), ("a\x07b", "text_invalid"),
                       ("abc\u202edef", "text_invalid"), ("\u200b\u200b", None), ("\u3000 \u2060", None)):
        for sock, event, payload, empty in (
                (phone, "post_idea", {"text": text}, "idea_empty"),
                (room, "announce", {"text": text}, "announcement_empty"),
                (room, "hide_idea", {"idea_id": idea["id"], "reason": text}, "reason_required"),
                (room, "create_poll", {"kind": "agree", "question": text}, "poll_question")):
            ack = sock.emit(event, {"op_id": op_id(), **payload}, callback=True)
            assert ack["ok"] is False and ack["error"] == (code or empty), (event, repr(text), ack)
    assert phone.emit("post_idea", {"op_id": op_id(), "text": "ｶﾌｪ\u0301 e\u0301"}, callback=True)["idea"]["text"] == "ｶﾌｪ\u0301 é"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Announcement)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Poll)) == 0


def test_op_id_must_match_whole_and_frames_need_one_object(app, participant_socket):
    _, phone = seated(app, participant_socket)
    ack = phone.emit("post_idea", {"op_id": "abcdefgh\n", "text": "x"}, callback=True)
    assert ack["error"] == "op_id"
    two = phone.emit("post_idea", {"op_id": op_id(), "text": "x"}, {"more": 1}, callback=True)
    assert two["ok"] is False and two["error"] == "bad_request"
    for payload in ([], "text", 5, None):
        assert phone.emit("vote", payload, callback=True)["error"] == "bad_request"


def test_an_unexpected_error_rolls_back_and_still_answers(app, participant_socket, monkeypatch, caplog):
    _, phone = seated(app, participant_socket)

    def broken(person, text):
        db.session.add(Idea(meeting_id=person.meeting_id, table_id=1, round_id=1, participant_id=person.id, text=text))
        db.session.flush()
        raise RuntimeError("provoked on purpose")

    monkeypatch.setattr(ideas, "post_idea", broken)
    with caplog.at_level(logging.ERROR):
        ack = phone.emit("post_idea", {"op_id": op_id(), "text": "消えるはず"}, callback=True)
    assert ack == {"ok": False, "error": "server", "message": "サーバーで問題が起きました。少し待ってからもう一度お試しください。"}
    assert "provoked on purpose" in caplog.text
    monkeypatch.undo()
    assert phone.emit("post_idea", {"op_id": op_id(), "text": "残る"}, callback=True)["ok"] is True
    with app.app_context():
        assert [i.text for i in db.session.scalars(sa.select(Idea))] == ["残る"]


def test_frames_the_decoder_cannot_take_answer_quietly(app, participant_socket, caplog):
    _, phone = seated(app, participant_socket)
    frames = ["2" + "[" * 1000 + "]" * 1000, '2["vote",' + "9" * 5000 + "]", '2{"a":1}', "2", "2[1]",
              '2[["x"]]', '2["vote",NaN]', '2["vote",1e999]', '51-["vote",{"_placeholder":true,"num":0}]',
              '4{"message":"x"}', "9", "x", "\x00" * 10, '0{"meeting_id":' + "1" * 5000 + "}"]
    for frame in frames:
        packet = wire.GuardedPacket(encoded_packet=frame)
        assert packet.packet_type in (wire._packet.EVENT, wire._packet.CONNECT), frame[:20]
        if not frame.startswith("0"):
            assert packet.data == [wire.MALFORMED], frame[:20]
    with caplog.at_level(logging.WARNING):
        for frame in frames[:-1]:
            socketio.server._handle_eio_message(phone.eio_sid, frame)
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert phone.emit("snapshot", {"op_id": op_id()}, callback=True)["ok"] is True
    assert app.config["SOCKET_MAX_FRAME"] == socketio.server.eio.max_http_buffer_size == 100000


# --------------------------------------------------------------------------- op log


def test_op_log_knows_its_meeting_skips_reads_and_is_purged(app, participant_socket, staff_auth):
    meeting_id, phone = seated(app, participant_socket)
    phone.emit("post_idea", {"op_id": op_id(), "text": "ベンチ"}, callback=True)
    phone.emit("check_receipt", {"op_id": op_id(), "receipt": "nothing-like-this"}, callback=True)
    phone.emit("snapshot", {"op_id": op_id()}, callback=True)
    with app.app_context():
        assert list(db.session.scalars(sa.select(OpLog.meeting_id))) == [meeting_id]
    result = app.test_cli_runner().invoke(args=["purge-ops", "--meeting", str(meeting_id)])
    assert result.exit_code == 0 and "1" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OpLog)) == 0


def test_opinion_caches_are_bounded():
    for meeting_id in range(opinion.CACHED_MEETINGS * 3):
        opinion._lock(10**6 + meeting_id)
        opinion._previous[(10**6 + meeting_id, None)] = (None, {})
    assert len(opinion._locks) <= opinion.CACHED_MEETINGS and len(opinion._previous) <= opinion.CACHED_MEETINGS


# --------------------------------------------------------------------------- permissions in services


def test_staff_services_check_permission_themselves(app, participant_socket):
    meeting_id, phone = seated(app, participant_socket)
    idea = phone.emit("post_idea", {"op_id": op_id(), "text": "ベンチ"}, callback=True)["idea"]
    with app.app_context():
        outsider = staff.create_staff("outsider@example.org", PASSWORD, is_organizer=True)
        for call in (lambda: ideas.hide_idea(outsider, meeting_id, idea["id"], "r"),
                     lambda: ideas.announce(outsider, meeting_id, "hello"),
                     lambda: polls.create_poll(outsider, meeting_id, {"kind": "agree", "question": "q"}),
                     lambda: polls.poll_breakdown(outsider, meeting_id, 1, "age"),
                     lambda: polls.poll_breakdown(outsider, True, 1, "age"),
                     lambda: meetings.create_tables(db.session.get(Meeting, meeting_id), 1, by=outsider),
                     lambda: meetings.add_participants(db.session.get(Meeting, meeting_id), count=1, by=outsider),
                     lambda: panel.edit_quotas(db.session.get(Meeting, meeting_id), [("a", "b", "1", "2")], by=outsider),
                     lambda: panel.letters(db.session.get(Meeting, meeting_id), by=outsider),
                     lambda: opinion.staff_snapshot(outsider, meeting_id),
                     lambda: opinion.recompute_now(outsider, meeting_id)):
            try:
                call()
            except ServiceError as err:
                assert err.code == "forbidden"
            else:
                raise AssertionError("an outsider was let through")
            db.session.rollback()


# --------------------------------------------------------------------------- HTTP 500s


def organizer_panel(app, staff_auth):
    meeting_id, _ = build_meeting(app, participants=0, tables=1)
    return login(app, staff_auth), f"/staff/meetings/{meeting_id}/panel"


def test_bad_quota_numbers_are_a_400_with_a_message(app, staff_auth):
    http, page = organizer_panel(app, staff_auth)
    for lo in ("²", "9" * 5000, str(10**30), "-1", "1.5"):
        response = http.post(f"{page}/quotas/edit", data={"category": "性別", "value": "女性", "min": lo, "max": "5",
                                                          "csrf_token": csrf_token(http, page)})
        assert response.status_code == 400 and "1行目" in response.get_data(as_text=True), lo
    assert http.post(f"{page}/quotas/edit", data={"category": "性別", "value": "女性", "min": "２", "max": "5",
                                                  "csrf_token": csrf_token(http, page)}).status_code == 302
    with app.app_context():
        assert [(q.min, q.max) for q in db.session.scalars(sa.select(PanelQuota))] == [(2, 5)]


def broken_xlsx() -> bytes:
    from openpyxl import Workbook

    buffer = io.BytesIO()
    book = Workbook()
    book.active.append(["id", "性別"])
    book.active.append(["R1", "女性"])
    book.save(buffer)
    source, out = zipfile.ZipFile(io.BytesIO(buffer.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:  # cells that point at a shared-strings part that is not there
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t>[^<]*</t></is></c>',
                              rb'<c r="\1" t="s"><v>7</v></c>', data)
            target.writestr(item, data)
    return out.getvalue()


def test_broken_files_are_a_400_with_a_message(app, staff_auth):
    http, page = organizer_panel(app, staff_auth)
    http.post(f"{page}/quotas/edit", data={"category": "性別", "value": "女性", "min": "0", "max": "5",
                                           "csrf_token": csrf_token(http, page)})
    bodies = [("odd.csv", b"\xff\xfe" + "id,性別\n".encode("utf-16-le") + b"x"),
              ("surrogate.csv", b"\xff\xfe" + "id,性別\nR1,".encode("utf-16-le") + b"\x00\xd8" + "\n".encode("utf-16-le")),
              ("broken.xlsx", broken_xlsx())]
    for kind in ("roster", "quotas"):
        for name, body in bodies:
            data = {"file": (io.BytesIO(body), name), "id_column": "id", "csrf_token": csrf_token(http, page)}
            response = http.post(f"{page}/{kind}", data=data, content_type="multipart/form-data")
            assert response.status_code == 400, (kind, name)
            assert "読み込めません" in response.get_data(as_text=True) or "UTF-8" in response.get_data(as_text=True)


# --------------------------------------------------------------------------- login


def post_login(http, email, password):
    return http.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(http, "/login")})


def test_login_says_what_is_missing_or_too_long(app, staff_auth):
    staff_auth.create()
    http = app.test_client()
    assert "メールアドレスを入力してください" in post_login(http, "", PASSWORD).get_data(as_text=True)
    assert "パスワードを入力してください" in post_login(http, "organizer@example.org", "").get_data(as_text=True)
    huge = post_login(http, "organizer@example.org", "x" * 1_000_000)
    assert "パスワードを入力してください（200文字まで）" in huge.get_data(as_text=True)
    assert "メールアドレスを入力してください" in post_login(http, "a" * 1_000_000, PASSWORD).get_data(as_text=True)
    assert "パスワードを入力してください" in post_login(http, "organizer@example.org", "x" * 5000).get_data(as_text=True)


def test_per_account_throttle_with_a_growing_wait(app, staff_auth):
    staff_auth.create()
    for n in range(12):  # from many addresses: each try comes from its own client
        http = app.test_client()
        http.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"
        post_login(http, "organizer@example.org", f"wrong {n}")
        blocked = post_login(http, "organizer@example.org", f"wrong again {n}")  # refused while waiting
        assert n < 4 or blocked.status_code == 429
        with app.app_context():  # the guesser waits out each delay
            db.session.execute(sa.update(LoginThrottle).values(blocked_until=utcnow() - timedelta(seconds=1)))
            db.session.commit()
    post_login(app.test_client(), "organizer@example.org", "one more wrong")
    right = post_login(app.test_client(), "organizer@example.org", PASSWORD)
    assert right.status_code == 429 and "秒待って" in right.get_data(as_text=True)
    with app.app_context():
        row = db.session.scalars(sa.select(LoginThrottle)).one()
        assert row.failures >= 13 and row.blocked_until > utcnow() + timedelta(seconds=100)
        row.blocked_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert post_login(app.test_client(), "organizer@example.org", PASSWORD).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 0


def test_a_venue_sharing_one_address_logs_in_correctly(app):
    with app.app_context():
        for n in range(30):
            staff.create_staff(f"fac{n}@example.org", PASSWORD)
    for n in range(30):
        assert post_login(app.test_client(), f"fac{n}@example.org", PASSWORD).status_code == 302, n


# --------------------------------------------------------------------------- sizes, pages, CLI


def test_request_bodies_over_the_limit_get_a_clear_413(tmp_path, migrated_db, staff_auth):
    small = make_app(tmp_path, migrated_db, MAX_CONTENT_LENGTH=1024 * 1024)
    meeting_id, _ = build_meeting(small, participants=0, tables=1)
    http = small.test_client()
    type(staff_auth)(small).login(http)
    page = f"/staff/meetings/{meeting_id}/panel"
    data = {"file": (io.BytesIO(b"x" * (2 * 1024 * 1024)), "big.csv"), "csrf_token": csrf_token(http, page)}
    response = http.post(f"{page}/roster", data=data, content_type="multipart/form-data")
    assert response.status_code == 413 and "大きすぎます" in response.get_data(as_text=True)
    with small.app_context():
        db.engine.dispose()


def test_error_pages_are_the_apps_own_and_localized(tmp_path, migrated_db, staff_auth):
    app = make_app(tmp_path, migrated_db, TESTING=False)

    @app.route("/provoked-error")
    def provoked():
        raise RuntimeError("provoked on purpose")

    meeting_id, _ = build_meeting(app, participants=0, tables=1)
    add_facilitator(app, meeting_id)
    fac = login(app, type(staff_auth)(app), "fac@example.org")
    forbidden = fac.get(f"/staff/meetings/{meeting_id}/export/ideas.csv")
    assert forbidden.status_code == 403 and "このページを開く権限がありません" in forbidden.get_data(as_text=True)
    assert "見つかりません" in fac.get("/nowhere").get_data(as_text=True)
    failed = app.test_client().get("/provoked-error")
    assert failed.status_code == 500 and "問題が起きました" in failed.get_data(as_text=True)
    assert "Traceback" not in failed.get_data(as_text=True) and "Internal Server Error" not in failed.get_data(as_text=True)
    english = app.test_client().get("/nowhere?lang=en")
    assert english.status_code == 404 and "This page does not exist." in english.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_commands_on_an_unmigrated_database_say_to_upgrade(tmp_path):
    env = {**os.environ, "MEETING_INSTANCE_PATH": str(tmp_path), "DATABASE_URL": ""}
    # Every registered command gets the same wrapper (meeting/commands/__init__.py): two suffice here.
    for args in (["demo"], ["purge-identity", "--meeting", "1", "--yes"]):
        done = subprocess.run([sys.executable, "-m", "meeting", *args], cwd=PROJECT_DIR, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.strip().splitlines() == [
            "Error: the database has no up-to-date schema; run `python -m meeting db upgrade` first."], args

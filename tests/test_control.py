"""The control room's actions over Socket.IO (in-process test clients): permissions, states,
events on the right streams, audit log."""

from meeting.models import HelpCall
from tests.conftest import build_meeting, staff_socket
from tests.test_agenda import actions, call, snapshot, wait_for


def test_help_call_is_queued_acknowledged_and_resolved(app, staff_auth, participant_socket):
    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    phone = participant_socket(cards[0]["token"], "さくら")
    other = participant_socket(cards[1]["token"], "もみじ")
    control = staff_socket(app, staff_auth, meeting_id)
    assert snapshot(phone)["help"] is None
    assert snapshot(other)["help"] is None
    assert snapshot(control)["help"] == []

    first = call(phone, "call_staff")
    assert first["ok"] and first["help"]["state"] == "waiting"
    again = call(phone, "call_staff")  # a second press while waiting is the same call
    assert again["help"]["id"] == first["help"]["id"]
    queued = wait_for(control, "help_changed")["help"]
    assert queued["nickname"] == "さくら" and queued["table_name"] == "1" and queued["state"] == "waiting"
    assert [h["id"] for h in snapshot(control)["help"]] == [queued["id"]]

    ack = call(control, "help_ack", help_id=queued["id"])
    assert ack["ok"] and ack["help"]["state"] == "coming"
    assert wait_for(phone, "help_changed", lambda m: m["help"]["state"] == "coming")["help"]["id"] == queued["id"]
    assert call(control, "help_ack", help_id=queued["id"])["error"] == "help_state"
    assert call(control, "help_resolve", help_id=True)["error"] == "not_found"  # a boolean is not an id
    assert call(control, "help_resolve", help_id=queued["id"])["ok"]
    assert wait_for(phone, "help_changed", lambda m: m["help"]["state"] == "resolved")
    assert snapshot(control)["help"] == []
    # Only the caller's phone hears about the call.
    assert not [e for e in other.get_received() if e["name"] == "help_changed"]
    assert {"help.call", "help.ack", "help.resolve"} <= set(actions(app, meeting_id))


def test_help_calls_need_the_right_role(app, staff_auth, participant_socket):
    meeting_id, cards = build_meeting(app, participants=1, tables=1)
    other_meeting, _ = build_meeting(app, participants=1, tables=1, organizer_email="other@example.org")
    phone = participant_socket(cards[0]["token"])
    called = call(phone, "call_staff")["help"]
    assert call(phone, "help_ack", help_id=called["id"])["error"] == "forbidden"  # a participant is not staff
    outsider = staff_socket(app, staff_auth, other_meeting, email="other@example.org")
    assert call(outsider, "help_ack", help_id=called["id"])["error"] == "not_found"
    control = staff_socket(app, staff_auth, meeting_id)
    assert call(control, "call_staff")["error"] == "forbidden"
    cancelled = call(phone, "help_cancel")
    assert cancelled["ok"] and cancelled["help"]["state"] == "cancelled"
    with app.app_context():
        from meeting.extensions import db

        assert db.session.get(HelpCall, called["id"]).resolved_at is not None


def joined(app, token, nickname="さくら"):
    """A phone that joined: its HTTP client (cookie) and its Socket.IO client."""
    from meeting.extensions import socketio
    from tests.conftest import join

    http = app.test_client()
    assert join(http, token, nickname).headers["Location"].endswith("/table")
    return http, socketio.test_client(app, flask_test_client=http)


def test_removed_person_loses_the_session_and_the_seat(app, staff_auth):
    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    http, phone = joined(app, cards[0]["token"])
    pid = snapshot(phone)["me"]["id"]
    assert call(phone, "post_idea", text="図書館を夜まで開けてほしい")["ok"]
    control = staff_socket(app, staff_auth, meeting_id)
    snapshot(control)
    removed = call(control, "person_remove", participant_id=pid)
    assert removed["ok"] and removed["person"]["removed"] is True
    assert not phone.is_connected()  # the server closed the socket
    assert call(control, "person_remove", participant_id=pid)["error"] == "person_removed"
    assert call(control, "person_remove", participant_id=True)["error"] == "not_found"
    # The old cookie is dead for the pages and for Socket.IO.
    from meeting.extensions import socketio

    assert http.get("/table").headers["Location"] == "/"
    assert not socketio.test_client(app, flask_test_client=http).is_connected()
    seats = snapshot(control)["seating"]["people"]
    assert next(p for p in seats if p["id"] == pid)["table_id"] is None
    assert "person.remove" in actions(app, meeting_id)


def test_let_back_in_with_a_fresh_code_keeps_nickname_seat_and_ideas(app, staff_auth):
    from meeting.extensions import db
    from meeting.models import OpLog
    from tests.conftest import csrf_token

    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    http, phone = joined(app, cards[0]["token"])
    before = snapshot(phone)
    assert call(phone, "post_idea", text="図書館を夜まで開けてほしい")["ok"]
    control = staff_socket(app, staff_auth, meeting_id)
    issued = call(control, "person_readmit", participant_id=before["me"]["id"])
    assert issued["ok"], issued
    assert len(issued["code"]) == 9 and issued["url"].startswith("https://kurumaza.example/j/")
    assert issued["qr"].startswith("data:image/png;base64,")
    assert not phone.is_connected()  # the old session ended
    assert http.get("/table").headers["Location"] == "/"
    with app.app_context():  # the code and link reach the facilitator once, never the op log
        stored = [r.response for r in db.session.scalars(sa_select(OpLog))]
        assert not [r for r in stored if "code" in r or "url" in r]
    assert "person.readmit" in actions(app, meeting_id)

    # The resident types the new code on another browser and is back as themselves.
    browser = app.test_client()
    page = browser.post("/join", data={"code": issued["code"].lower(), "csrf_token": csrf_token(browser, "/join")})
    assert page.status_code == 302 and page.headers["Location"] == "/welcome"
    welcome = browser.get("/welcome").get_data(as_text=True)
    assert "さくら" in welcome  # their nickname is offered first
    done = browser.post("/welcome", data={"nickname_choice": "さくら", "csrf_token": csrf_token(browser, "/welcome")})
    assert done.headers["Location"] == "/table"
    from meeting.extensions import socketio

    again = socketio.test_client(app, flask_test_client=browser)
    after = snapshot(again)
    assert after["me"] == before["me"] and after["table"] == before["table"]
    assert [(i["text"], i["mine"]) for i in after["ideas"]] == [("図書館を夜まで開けてほしい", True)]
    again.disconnect()
    # The code works once.
    other = app.test_client()
    refused = other.post("/join", data={"code": issued["code"], "csrf_token": csrf_token(other, "/join")},
                         follow_redirects=True)
    assert "すでに" in refused.get_data(as_text=True)


def sa_select(model):
    import sqlalchemy as sa

    return sa.select(model)


def test_audit_log_page_filters_and_downloads_csv(app, staff_auth, participant_socket):
    from meeting.extensions import db
    from meeting.models import Idea
    from tests.conftest import Staff

    meeting_id, cards = build_meeting(app, participants=4, tables=2)
    by_table = {}
    for card in cards:
        by_table.setdefault(card["table_id"], card)
    (t1, c1), (t2, c2) = sorted(by_table.items())
    one, two = participant_socket(c1["token"], "さくら"), participant_socket(c2["token"], "もみじ")
    first = call(one, "post_idea", text="=HYPERLINK(\"x\")")["idea"]["id"]
    second = call(two, "post_idea", text="二つ目")["idea"]["id"]
    control = staff_socket(app, staff_auth, meeting_id)
    assert call(control, "hide_idea", idea_id=first, reason="数式のため")["ok"]
    assert call(control, "hide_idea", idea_id=second, reason="重複")["ok"]
    assert call(two, "call_staff")["ok"]

    http = app.test_client()
    Staff(app).login(http)
    page = http.get(f"/staff/meetings/{meeting_id}/audit").get_data(as_text=True)
    assert "操作の記録" in page and "idea.hide" in page and "help.call" in page
    only = http.get(f"/staff/meetings/{meeting_id}/audit?action=idea.hide&table={t1}").get_data(as_text=True)
    assert "数式のため" in only and "重複" not in only and "help.call" not in only.split("<tbody>")[1]
    csv = http.get(f"/staff/meetings/{meeting_id}/audit.csv?action=idea.hide").get_data()
    text = csv.decode("utf-8")
    assert text.startswith("\ufeff時刻（UTC）,操作,スタッフ,テーブル,対象,詳細")
    assert text.count("idea.hide") == 2 and "help.call" not in text
    # Another meeting's staff cannot read it.
    build_meeting(app, participants=1, tables=1, organizer_email="other@example.org")
    outsider = app.test_client()
    Staff(app).login(outsider, email="other@example.org")
    assert outsider.get(f"/staff/meetings/{meeting_id}/audit").status_code == 404  # the same as no meeting
    assert outsider.get(f"/staff/meetings/{meeting_id}/audit.csv").status_code == 404
    with app.app_context():
        assert db.session.get(Idea, first).hidden


def test_edit_keeps_the_original_and_the_author_is_told_of_edits_and_hiding(app, staff_auth, participant_socket):
    meeting_id, cards = build_meeting(app, participants=2, tables=1)
    author = participant_socket(cards[0]["token"], "さくら")
    neighbour = participant_socket(cards[1]["token"], "もみじ")
    snapshot(author), snapshot(neighbour)  # as every phone does on connecting: this joins its own stream
    idea = call(author, "post_idea", text="こうえんに べんち を ふやして 田中さん")["idea"]
    control = staff_socket(app, staff_auth, meeting_id)
    assert call(control, "edit_idea", idea_id=idea["id"], text="公園にベンチを増やして", reason="")["error"] == "reason_required"
    assert call(control, "edit_idea", idea_id=idea["id"], text=idea["text"], reason="x")["error"] == "idea_unchanged"
    edited = call(control, "edit_idea", idea_id=idea["id"], text="公園にベンチを増やして", reason="個人名と読みやすさ")
    assert edited["ok"] and edited["idea"]["original_text"] == idea["text"] and edited["idea"]["edited"]
    seen = wait_for(neighbour, "idea_posted", lambda m: m["idea"]["id"] == idea["id"] and m["idea"]["edited"])
    assert seen["idea"]["text"] == "公園にベンチを増やして" and "original_text" not in seen["idea"]
    told = wait_for(author, "idea_moderated", lambda m: m["what"] == "edited")
    assert told["reason"] == "個人名と読みやすさ"
    again = call(control, "edit_idea", idea_id=idea["id"], text="公園のベンチを増やしてほしい", reason="読みやすさ")
    assert again["idea"]["original_text"] == idea["text"]  # the author's words, not the first edit
    staff_view = next(i for t in snapshot(control)["tables"] for i in t["ideas"] if i["id"] == idea["id"])
    assert staff_view["original_text"] == idea["text"]
    phone_view = next(i for i in snapshot(neighbour)["ideas"] if i["id"] == idea["id"])
    assert phone_view["edited"] and "original_text" not in phone_view

    assert call(control, "hide_idea", idea_id=idea["id"], reason="重複しているため")["ok"]
    hidden = wait_for(author, "idea_moderated", lambda m: m["what"] == "hidden")
    assert hidden["reason"] == "重複しているため" and hidden["idea_id"] == idea["id"]
    assert not [e for e in neighbour.get_received() if e["name"] == "idea_moderated"]
    assert actions(app, meeting_id).count("idea.edit") == 2


def test_similar_ideas_at_the_table_before_posting(app, staff_auth, participant_socket):
    meeting_id, cards = build_meeting(app, participants=4, tables=2)
    by_table = {}
    for card in cards:
        by_table.setdefault(card["table_id"], []).append(card)
    (a, b), (c, _d) = [by_table[t] for t in sorted(by_table)]
    writer, reader, elsewhere = (participant_socket(x["token"], n) for x, n in ((a, "さくら"), (b, "もみじ"), (c, "かえで")))
    bench = call(writer, "post_idea", text="公園にベンチを増やしてほしい")["idea"]
    call(writer, "post_idea", text="図書館の開館時間を延ばしてほしい")
    call(elsewhere, "post_idea", text="公園のベンチをもっと増やしてほしい")  # another table: not offered
    hint = call(reader, "similar_ideas", text="公園のベンチを増やして")
    assert hint["ok"] and [i["id"] for i in hint["similar"]] == [bench["id"]]
    assert hint["similar"][0]["my_vote"] is None and hint["similar"][0]["mine"] is False
    assert call(reader, "vote", idea_id=bench["id"], value="agree")["ok"]  # votes on it instead
    assert call(reader, "similar_ideas", text="公園のベンチを増やして")["similar"][0]["my_vote"] == "agree"
    assert call(reader, "similar_ideas", text="花火大会をやりたい")["similar"] == []
    assert call(reader, "similar_ideas", text="ベン")["similar"] == []  # too short to help
    assert call(reader, "similar_ideas", text=None)["similar"] == []
    english = call(reader, "similar_ideas", text="More benches in the park please")
    assert english["ok"] and english["similar"] == []
    control = staff_socket(app, staff_auth, meeting_id)
    assert call(control, "similar_ideas", text="公園のベンチ")["error"] == "forbidden"


def test_announcements_to_one_table_carry_their_time_and_can_be_cleared(app, staff_auth, participant_socket):
    from datetime import timedelta

    from meeting.models import Announcement

    meeting_id, cards = build_meeting(app, participants=4, tables=2)
    by_table = {}
    for card in cards:
        by_table.setdefault(card["table_id"], card)
    (t1, c1), (t2, c2) = sorted(by_table.items())
    here, there = participant_socket(c1["token"], "さくら"), participant_socket(c2["token"], "もみじ")
    snapshot(here), snapshot(there)
    control = staff_socket(app, staff_auth, meeting_id)
    assert call(control, "announce_to", text="お茶をどうぞ", table_id=True)["error"] == "not_found"
    sent = call(control, "announce_to", text="テーブル1の方、前へどうぞ", table_id=t1)
    assert sent["ok"] and sent["announcement"]["table_id"] == t1 and sent["announcement"]["created_at"].endswith("Z")
    assert wait_for(here, "announcement")["announcement"]["text"] == "テーブル1の方、前へどうぞ"
    everyone = call(control, "announce_to", text="10分後に休憩します", table_id=None)["announcement"]
    assert wait_for(there, "announcement")["announcement"]["id"] == everyone["id"]
    assert not [e for e in there.get_received() if e["name"] == "announcement"]  # not the table-1 one
    assert snapshot(there)["announcement"]["id"] == everyone["id"]
    assert [a["id"] for a in snapshot(control)["announcements"]] == [everyone["id"], sent["announcement"]["id"]]

    assert call(control, "announcement_clear", announcement_id=everyone["id"])["ok"]
    assert wait_for(there, "announcement_cleared")["announcement_id"] == everyone["id"]
    assert snapshot(there)["announcement"] is None  # a phone joining now gets no banner
    assert snapshot(here)["announcement"]["id"] == sent["announcement"]["id"]
    with app.app_context():  # an old announcement does not greet later phones either
        from meeting.extensions import db

        item = db.session.get(Announcement, sent["announcement"]["id"])
        item.created_at = item.created_at - timedelta(minutes=21)
        db.session.commit()
    assert snapshot(here)["announcement"] is None
    assert {"announce", "announce.clear"} <= set(actions(app, meeting_id))

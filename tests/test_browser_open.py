"""Open meetings and video rooms in a real browser: the LINE share link carries the join address
and nothing else, a resident joins by the poster's address, and a table's video link opens from
the table page."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser import chromium, join, phone, staff_page
from tests.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path).start()
    yield live
    live.stop()


def test_share_link_join_by_code_and_the_table_video_room(server, tmp_path):
    demo = server.demo(participants=2, tables=1)
    with chromium() as browser:
        organizer = staff_page(browser, demo["organizer"]["login_url"], "admin@example.org", "admin password 123")
        organizer.goto(demo["organizer"]["meeting_url"])
        organizer.get_by_label("定員（空なら制限なし。超えると順番待ち）").fill("50")
        organizer.get_by_label("参加するときに答えてもらう質問", exact=False).fill("年代: 10〜30代, 40〜60代, 70代以上")
        organizer.get_by_role("button", name="保存して公開する").click()
        organizer.locator(".open-code").wait_for(timeout=20000)
        code = organizer.locator(".open-code").inner_text()
        share = urlsplit(organizer.locator("#share-line").get_attribute("href"))
        query = parse_qs(share.query)
        assert (share.scheme, share.netloc, share.path) == ("https", "line.me", "/R/share")
        assert list(query) == ["text"] and query["text"] == [f"{server.url}/o/{code.replace('-', '')}"]
        mail = urlsplit(organizer.locator("#share-mail").get_attribute("href"))
        assert mail.scheme == "mailto" and parse_qs(mail.query)["body"] == query["text"]

        # A resident types the public code at the join page, answers the optional question, joins.
        resident = phone(browser)
        resident.goto(demo["join_page"])
        resident.get_by_label("招待コード").fill(code)
        resident.get_by_role("button", name="次へ").click()
        resident.wait_for_url("**/open/welcome")
        resident.get_by_label("または自分で入力").fill("商店街の人")
        resident.get_by_label("年代").select_option("70代以上")
        resident.get_by_role("button", name="テーブルに参加する").click()
        resident.wait_for_url("**/table")

        # The facilitator gives the table a video room; the table page opens it.
        invited = phone(browser)
        join(invited, demo["participants"][0]["join_url"], "さくら")
        control = staff_page(browser, demo["facilitator"]["login_url"], demo["facilitator"]["email"],
                             demo["facilitator"]["password"])
        control.goto(demo["facilitator"]["control_url"])
        control.locator(".tile").first.click()
        room = f"{server.url}/join?room=table-1"  # any address; this one stays on the loopback
        control.get_by_label("このテーブルのビデオ会議のリンク").fill(room)
        control.locator("#video-form").get_by_role("button", name="保存").click()
        button = invited.get_by_role("link", name="テーブルのビデオ会議に入る")
        button.wait_for(timeout=20000)
        with invited.context.expect_page() as opened:
            button.click()
        call = opened.value
        call.wait_for_url(room, timeout=10000)
        resident.get_by_role("link", name="テーブルのビデオ会議に入る").wait_for(state="visible", timeout=20000)


def test_free_text_answers_grouped_in_the_control_room(server, tmp_path):
    from tests.live import Phone, close_all, join_over_http, staff_login

    demo = server.demo(participants=5, tables=1)
    staff = Phone(server, staff_login(server, demo["facilitator"]["email"], demo["facilitator"]["password"]),
                  auth={"meeting_id": demo["meeting_id"]})
    others = [Phone(server, join_over_http(p["join_url"], f"区民{i}")) for i, p in enumerate(demo["participants"][1:])]
    try:
        poll = staff.call("create_poll", {"kind": "text", "question": "区にいちばん望むことは何ですか"})["poll"]
        assert staff.call("open_poll", {"poll_id": poll["id"]})["ok"]
        with chromium() as browser:
            resident = phone(browser)
            join(resident, demo["participants"][0]["join_url"], "さくら")
            card = resident.locator(f'.poll[data-poll-id="{poll["id"]}"]')
            area = card.get_by_label("あなたの言葉で答えてください")
            area.fill("保育園が足りないので増やしてほしい")
            # Others answer while she is still at the keyboard: her words and the caret stay.
            for phone_, text in zip(others, ["保育園に入れず困っています。保育園を増やして", "公園のトイレをきれいにしてほしい",
                                             "公園のトイレが汚くて子どもが使えない", "バスの本数を増やしてほしい"], strict=True):
                assert phone_.call("cast_ballot", {"poll_id": poll["id"], "ballot": {"text": text}})["ok"]
            area.press("End")
            resident.keyboard.type("です")
            assert area.input_value() == "保育園が足りないので増やしてほしいです"
            card.locator("button.send").click()
            card.locator(".accepted").wait_for(timeout=20000)

            control = staff_page(browser, demo["facilitator"]["login_url"], demo["facilitator"]["email"],
                                 demo["facilitator"]["password"])
            control.goto(demo["facilitator"]["control_url"])
            control.locator("#polls-panel summary").click()
            results = control.locator(f'.poll[data-poll-id="{poll["id"]}"] .themes')
            results.locator(".typical li", has_text="保育園が足りないので増やしてほしいです").wait_for(timeout=20000)
            assert results.locator(".theme").count() >= 2
            assert "トイレ" in results.inner_text()
            row = results.locator(".typical li", has_text="公園のトイレをきれいに")
            row.get_by_role("button", name="意見にする").click()
            row.get_by_role("button", name="意見にしました").wait_for(timeout=20000)
            # The promoted answer is an idea at the table: the resident's phone lists it.
            resident.locator("li.idea", has_text="公園のトイレをきれいにしてほしい").wait_for(timeout=20000)
    finally:
        close_all(others + [staff])

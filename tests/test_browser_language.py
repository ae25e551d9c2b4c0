"""Switching language keeps the place; the first visit follows the browser unless the meeting fixes it."""

import pytest

from tests.browser import PHONE, chromium, phone, reconnecting_table_page, staff_page
from tests.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path).start()
    yield live
    live.stop()


def english_phone(browser):
    return browser.new_context(**{**PHONE, "locale": "en-US"}).new_page()


def test_welcome_switch_keeps_the_invitation_and_the_typed_nickname(server):
    demo = server.demo(participants=1, tables=1)
    with chromium() as browser:
        page = phone(browser)
        page.goto(demo["participants"][0]["join_url"])
        page.get_by_label("または自分で入力").fill("はなこ")
        page.get_by_role("button", name="English").click()
        page.get_by_role("button", name="Join the table").wait_for()
        assert page.url.endswith("/welcome")
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.get_by_label("Or write your own").input_value() == "はなこ"
        # Back to Japanese, still on the same invitation, and the resident joins with that name.
        page.get_by_role("button", name="日本語").click()
        page.get_by_role("button", name="テーブルに参加する").click()
        page.wait_for_url("**/table")
        assert page.get_by_text("はなこ").count() >= 1


def test_control_room_switch_stays_in_the_control_room(server):
    demo = server.demo(participants=1, tables=1)
    facilitator = demo["facilitator"]
    with chromium() as browser:
        page = staff_page(browser, facilitator["login_url"], facilitator["email"], facilitator["password"])
        page.goto(facilitator["control_url"])
        page.get_by_role("button", name="English").click()
        page.wait_for_function("document.documentElement.lang === 'en'")
        assert page.url == facilitator["control_url"]


def test_an_english_browser_gets_english_unless_the_meeting_fixes_its_language(server):
    demo = server.demo(participants=2, tables=1)
    first, second = demo["participants"]
    organizer = demo["organizer"]
    with chromium() as browser:
        page = english_phone(browser)
        page.goto(first["join_url"])
        page.get_by_role("button", name="Join the table").wait_for()
        assert page.evaluate("document.documentElement.lang") == "en"

        staff = staff_page(browser, organizer["login_url"], organizer["email"],
                           organizer.get("password") or server.env["MEETING_ADMIN_PASSWORD"])
        staff.goto(organizer["meeting_url"])
        staff.get_by_label("いつも会議の言語で表示する（ブラウザーの言語設定に従わない）").check()
        staff.get_by_role("button", name="保存する").click()
        staff.get_by_text("保存しました。").wait_for()

        fixed = english_phone(browser)
        fixed.goto(second["join_url"])
        fixed.get_by_role("button", name="テーブルに参加する").wait_for()
        assert fixed.evaluate("document.documentElement.lang") == "ja"
        # The resident's own choice still wins.
        fixed.get_by_role("button", name="English").click()
        fixed.get_by_role("button", name="Join the table").wait_for()


def test_plain_japanese_is_one_tap_away_and_stays(server):
    demo = server.demo(participants=1, tables=1)
    with chromium() as browser:
        page = phone(browser)
        page.goto(demo["participants"][0]["join_url"])
        page.get_by_role("button", name="やさしい にほんご").click()
        page.wait_for_function("document.querySelector('meta[name=catalog]').content === 'plain'")
        assert page.evaluate("document.documentElement.lang") == "ja"
        assert page.locator("main ruby rt").count() > 0
        # Attributes and form labels never show the reading marks.
        assert "{" not in page.locator("main").inner_html().replace("{n}", "")
        page.get_by_role("button", name="テーブルに 入る").click()
        page.wait_for_url("**/table")
        assert page.evaluate("document.querySelector('meta[name=catalog]').content") == "plain"
        post = page.locator("form button.primary")
        assert post.evaluate("b => { const c = b.cloneNode(true); c.querySelectorAll('rt, rp').forEach(n => n.remove());"
                             " return c.textContent.trim(); }") == "意見を 送る"
        assert post.locator("rt").all_inner_texts() == ["いけん", "おく"]


def test_the_reconnecting_page_switches_back_to_the_page_it_stands_for(server):
    with chromium() as browser:
        page = reconnecting_table_page(browser, server)
        switch = page.locator("form.lang")
        assert switch.get_by_role("button", name="English").is_visible()
        # The switch there comes back to the table page (the address shown), not to the offline page.
        assert switch.locator("input[name=next]").input_value() == "/table"
        server.start()
        page.get_by_label("あなたの意見").wait_for(timeout=15000)
        page.get_by_role("button", name="English").click()
        page.get_by_label("Your idea").wait_for()
        assert page.url.endswith("/table")

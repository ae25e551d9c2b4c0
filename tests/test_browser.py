"""Two phones in a real browser: join by link, post, vote, see each other's changes live."""

import os
import signal

import pytest

from tests.browser import chromium, join, phone, staff_page
from tests.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path).start()
    yield live
    live.stop()


def idea_card(page, text):
    return page.locator("li.idea", has_text=text)


def test_two_phones_post_and_vote_live(server, tmp_path):
    demo = server.demo(participants=2, tables=1)
    first, second = demo["participants"]
    with chromium() as browser:
        a, b = phone(browser), phone(browser)
        join(a, first["join_url"], "さくら")
        assert "/j/" not in a.url
        join(b, second["join_url"], "もみじ")

        a.get_by_label("あなたの意見").fill("駅前にベンチを置いてほしい")
        a.get_by_role("button", name="意見を送る").click()
        card_b = idea_card(b, "駅前にベンチを置いてほしい")
        card_b.wait_for(timeout=20000)

        card_b.get_by_role("button", name="賛成").click()
        agree_b = card_b.locator("button.vote-agree")
        card_a = idea_card(a, "駅前にベンチを置いてほしい")
        agree_a = card_a.locator("button.vote-agree")
        for button in (agree_a, agree_b):
            button.locator(".n").filter(has_text="1").wait_for(timeout=20000)
        assert agree_b.get_attribute("aria-pressed") == "true"
        assert agree_a.get_attribute("aria-pressed") == "false"

        a.screenshot(path=str(tmp_path / "table.png"))
        # A reader of the README sees this page; keep the picture current when asked to.
        if os.environ.get("MEETING_UPDATE_SCREENSHOT"):
            a.screenshot(path=os.environ["MEETING_UPDATE_SCREENSHOT"], full_page=True)


def test_dropped_connection_shows_reconnecting_and_loses_nothing(server):
    demo = server.demo(participants=2, tables=1)
    first, second = demo["participants"]
    with chromium() as browser:
        a, b = phone(browser), phone(browser)
        join(a, first["join_url"], "さくら")
        join(b, second["join_url"], "もみじ")
        a.get_by_label("あなたの意見").fill("最初の意見")
        a.get_by_role("button", name="意見を送る").click()
        idea_card(b, "最初の意見").wait_for(timeout=20000)

        # The server goes away: both phones say so.
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        banner = b.locator("#connection")
        banner.wait_for(state="visible", timeout=10000)
        assert banner.inner_text() == "再接続中…"

        # B writes an idea while offline; it is sent once the server is back.
        b.get_by_label("あなたの意見").fill("切断中に書いた意見")
        b.get_by_role("button", name="意見を送る").click()
        server.start()
        banner.wait_for(state="hidden", timeout=20000)
        a.locator("#connection").wait_for(state="hidden", timeout=20000)
        for page in (a, b):
            idea_card(page, "切断中に書いた意見").wait_for(timeout=10000)
            assert idea_card(page, "最初の意見").count() == 1
            assert page.locator("li.idea").count() == 2


def test_facilitator_hides_an_idea_and_announces_from_the_control_room(server):
    demo = server.demo(participants=2, tables=1)
    facilitator = demo["facilitator"]
    with chromium() as browser:
        resident = phone(browser)
        join(resident, demo["participants"][0]["join_url"], "さくら")
        resident.get_by_label("あなたの意見").fill("となりの家の田中さんがうるさい")
        resident.get_by_role("button", name="意見を送る").click()
        idea_card(resident, "田中さん").wait_for(timeout=20000)

        control = staff_page(browser, facilitator["login_url"], facilitator["email"], facilitator["password"])
        control.goto(facilitator["control_url"])
        tile = control.locator(".control-table").first
        tile.locator(".connected").filter(has_text="1").wait_for(timeout=20000)  # the resident's phone
        tile.click()  # the tile opens the table's detail, with its ideas
        table = control.locator("#table-detail")
        card = table.locator("li.idea", has_text="田中さん")
        card.get_by_role("button", name="非表示にする").click()
        card.get_by_label("非表示にする理由").fill("個人名が含まれるため")
        card.get_by_role("button", name="確定").click()

        resident.locator("li.idea", has_text="田中さん").wait_for(state="detached", timeout=20000)
        table.locator("li.idea.is-hidden", has_text="個人名が含まれるため").wait_for(timeout=20000)

        control.locator("#announce-panel summary").click()
        control.get_by_label("全員の端末へのお知らせ").fill("10分後に休憩します")
        control.get_by_role("button", name="送信").click()
        banner = resident.locator("#announcement")
        banner.filter(has_text="10分後に休憩します").wait_for(timeout=20000)
        banner.locator("time").filter(has_text="のお知らせ").wait_for(timeout=20000)  # with its time
        control.locator(".announcement-row", has_text="10分後に休憩します").get_by_role("button", name="消す").click()
        banner.wait_for(state="hidden", timeout=20000)


def test_facilitator_runs_a_plenary_poll_from_the_control_room(server):
    demo = server.demo(participants=2, tables=1)
    facilitator = demo["facilitator"]
    with chromium() as browser:
        resident = phone(browser)
        join(resident, demo["participants"][0]["join_url"], "さくら")
        control = staff_page(browser, facilitator["login_url"], facilitator["email"], facilitator["password"])
        control.goto(facilitator["control_url"])

        control.locator("#polls-panel summary").click()
        control.get_by_label("質問（賛成・反対の場合は、問いかける文）").fill("次回の会場はどこがよいですか")
        control.get_by_label("選択肢（1行に1つ。アンケートの場合は質問）").fill("区役所\n図書館\n公民館")
        control.get_by_role("button", name="投票を作る（下書き）").click()
        control.get_by_role("button", name="投票を始める").click()

        poll = resident.locator(".poll", has_text="次回の会場はどこがよいですか")
        poll.get_by_role("button", name="図書館").click()
        poll.get_by_role("button", name="回答を送る").click()
        poll.get_by_text("回答を受け付けました").wait_for(timeout=20000)

        # The control room's result table counts the answer, in text (not only a bar).
        row = control.locator(".results-table tr", has_text="図書館")
        row.filter(has_text="1").wait_for(timeout=20000)
        control.get_by_role("button", name="投票を締め切る").click()
        poll.get_by_text("締め切り").first.wait_for(timeout=20000)


def test_map_page_redraws_itself_after_votes(tmp_path):
    from tests.live import Phone, close_all, join_over_http

    live = LiveServer(tmp_path, extra_env={"MEETING_MAP_INTERVAL": "0.3"}).start()
    try:
        demo = live.demo(participants=8, tables=1)
        facilitator = demo["facilitator"]
        with chromium() as browser:
            control = staff_page(browser, facilitator["login_url"], facilitator["email"], facilitator["password"])
            control.goto(facilitator["control_url"].replace("/control", "/map"))
            assert control.locator("svg.opinion-map .dot").count() == 0

            phones = [Phone(live, join_over_http(p["join_url"], f"P{i}")) for i, p in enumerate(demo["participants"])]
            try:
                ideas = [phones[i].call("post_idea", {"text": f"案{i}"})["idea"]["id"] for i in range(8)]
                for n, ph in enumerate(phones):  # two camps, everyone votes on everything
                    for i, idea in enumerate(ideas):
                        ph.call("vote", {"idea_id": idea, "value": "agree" if (i + n) % 2 == 0 else "disagree"})
            finally:
                close_all(phones)
            # No reload: the page fetches the new map when the server announces it.
            control.locator("svg.opinion-map .dot").nth(7).wait_for(timeout=15000)
            assert control.locator("svg.opinion-map .dot").count() == 8
    finally:
        live.stop()

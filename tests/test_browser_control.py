"""The control room in a real browser at 1280×800: 20 tables at a glance, a table's detail, and
half-typed text that survives live updates."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser import chromium, join, phone, staff_page
from tests.live import LiveServer, Phone, close_all, join_over_http, staff_login
from tests.test_browser_agenda import keep

pytestmark = [pytest.mark.browser, pytest.mark.live]

LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path).start()
    yield live
    live.stop()


def control_room(browser, demo):
    facilitator = demo["facilitator"]
    page = staff_page(browser, facilitator["login_url"], facilitator["email"], facilitator["password"])
    page.set_viewport_size(LAPTOP)
    page.goto(facilitator["control_url"])
    return page


def test_twenty_tables_fit_and_a_half_typed_reason_survives_fifty_tallies(server, tmp_path):
    demo = server.demo(participants=40, tables=20)
    first = next(p for p in demo["participants"] if p["table"] == "1")
    resident = Phone(server, join_over_http(first["join_url"], "さくら"))
    try:
        posted = resident.call("post_idea", {"text": "駅前に駐輪場を増やしてほしい"})
        assert posted["ok"], posted
        idea_id = posted["idea"]["id"]
        with chromium() as browser:
            control = control_room(browser, demo)
            tiles = control.locator("#tables .tile")
            tiles.nth(19).wait_for(timeout=10000)
            assert tiles.count() == 20
            # Every tile is inside the first screen: no scrolling to see a table.
            for i in range(20):
                box = tiles.nth(i).bounding_box()
                assert box["y"] >= 0 and box["y"] + box["height"] <= LAPTOP["height"], (i, box)
                assert box["x"] + box["width"] <= LAPTOP["width"], (i, box)
            assert control.evaluate("document.documentElement.scrollHeight") <= LAPTOP["height"]
            one = control.locator(".tile", has_text="テーブル 1").first
            one.locator(".connected").filter(has_text="1").wait_for(timeout=20000)
            assert one.locator(".idea-count").inner_text() == "1"
            keep(control, tmp_path, "control-grid.png")

            # The tile opens the table's detail: its people and its ideas with moderation.
            one.click()
            detail = control.locator("#table-detail")
            detail.locator("li", has_text="さくら").locator(".person-state").filter(has_text="接続中").wait_for(timeout=20000)
            card = detail.locator("li.idea", has_text="駐輪場")
            card.get_by_role("button", name="非表示にする").click()
            reason = card.get_by_label("非表示にする理由")
            reason.fill("途中まで書いた理由")
            reason.press("End")

            # 50 tallies arrive while the facilitator is typing.
            for n in range(50):
                before = len(resident.named("tallies"))
                assert resident.call("vote", {"idea_id": idea_id, "value": ("agree", "disagree")[n % 2]})["ok"]
                assert resident.wait_for(lambda b=before: len(resident.named("tallies")) > b)
            card.locator(".tally").filter(has_text="反対 1").wait_for(timeout=20000)
            assert reason.input_value() == "途中まで書いた理由"
            assert control.evaluate("document.activeElement.name") == "reason"
            keep(control, tmp_path, "control-detail.png")
            reason.press("End")
            control.keyboard.type("です")
            card.get_by_role("button", name="確定").click()
            card.locator(".status").filter(has_text="途中まで書いた理由です").wait_for(timeout=20000)
            assert one.locator(".idea-count").inner_text() == "0"
    finally:
        resident.close()


def test_a_help_call_from_a_phone_appears_and_is_acknowledged(server, tmp_path):
    demo = server.demo(participants=2, tables=1)
    with chromium() as browser:
        resident = phone(browser)
        join(resident, demo["participants"][0]["join_url"], "さくら")
        control = control_room(browser, demo)
        tile = control.locator(".tile").first
        tile.locator(".connected").filter(has_text="1").wait_for(timeout=20000)

        resident.get_by_role("button", name="スタッフを呼ぶ").click()
        resident.locator("#help-status").filter(has_text="スタッフを呼びました").wait_for(timeout=20000)
        keep(resident, tmp_path, "phone-help-waiting.png")

        # The control room: a red, pulsing count in the toolbar and a flag on the table's tile.
        control.locator("#help-count").filter(has_text="1").wait_for(timeout=20000)
        assert "alert" in control.locator("#help-panel summary").get_attribute("class")
        tile.locator(".flag-help").wait_for(state="visible", timeout=20000)
        control.locator("#help-panel summary").click()
        row = control.locator(".help-row", has_text="さくら")
        assert "テーブル 1" in row.inner_text()
        row.locator(".help-wait").filter(has_text=re.compile(r"待ち時間 \d+:\d\d")).wait_for(timeout=20000)
        keep(control, tmp_path, "control-help.png")
        row.get_by_role("button", name="向かいます").click()
        resident.locator("#help-status").filter(has_text="スタッフが向かっています").wait_for(timeout=20000)
        keep(resident, tmp_path, "phone-help-coming.png")
        row.get_by_role("button", name="対応済み").click()
        row.wait_for(state="detached", timeout=20000)
        resident.locator("#help-status").filter(has_text="スタッフが対応しました").wait_for(timeout=20000)
        assert resident.get_by_role("button", name="スタッフを呼ぶ").is_enabled()
        tile.locator(".flag-help").wait_for(state="hidden", timeout=20000)


def test_a_resident_whose_browser_lost_its_session_gets_back_in_with_a_code(server, tmp_path):
    demo = server.demo(participants=2, tables=1)
    link = demo["participants"][0]["join_url"]
    with chromium() as browser:
        resident = phone(browser)
        join(resident, link, "さくら")
        resident.get_by_label("あなたの意見").fill("公園に日陰のベンチがほしい")
        resident.get_by_role("button", name="意見を送る").click()
        resident.locator("li.idea", has_text="日陰のベンチ").wait_for(timeout=20000)

        # The browser forgets its session; the invitation link no longer lets it in.
        resident.context.clear_cookies()
        resident.goto(link)
        assert "スタッフがその場で新しいコードを発行します" in resident.locator("main").inner_text()
        keep(resident, tmp_path, "phone-refused-ask-staff.png")

        # The facilitator issues a fresh one-time code with its QR code.
        control = control_room(browser, demo)
        control.locator(".tile").first.click()
        person = control.locator("#detail-people li", has_text="さくら")
        person.get_by_role("button", name="新しいコード").click()
        code = control.locator("#readmit-code")
        code.filter(has_text="-").wait_for(timeout=20000)
        control.wait_for_function("() => { const i = document.getElementById('readmit-qr');"
                                  " return i.complete && i.naturalWidth > 0; }")
        keep(control, tmp_path, "control-readmit.png")

        # The resident types it and finds their own idea again, under their nickname.
        resident.get_by_role("link", name="スタッフから受け取った新しいコードを入力する").click()
        resident.get_by_label("招待コード").fill(code.inner_text())
        resident.get_by_role("button", name="次へ").click()
        resident.get_by_role("button", name="テーブルに参加する").click()
        resident.wait_for_url("**/table")
        mine = resident.locator("li.idea", has_text="日陰のベンチ")
        mine.locator(".tag").filter(has_text="あなたの意見").wait_for(timeout=20000)
        assert "さくら" in resident.locator(".table-head").inner_text()
        keep(resident, tmp_path, "phone-back-in.png")

        # Typing an idea like one already at the table offers it, to vote on instead.
        resident.get_by_label("あなたの意見").fill("日陰にベンチを置いてほしい")
        hint = resident.locator("#similar")
        hint.locator(".similar-idea", has_text="日陰のベンチ").wait_for(timeout=20000)
        keep(resident, tmp_path, "phone-similar.png")
        hint.locator(".similar-idea").first.get_by_role("button", name="賛成").click()
        mine.locator("button.vote-agree .n").filter(has_text="1").wait_for(timeout=20000)


def test_merging_two_ideas_and_approving_a_waiting_one_in_the_control_room(server, tmp_path):
    demo = server.demo(participants=2, tables=1)
    with chromium() as browser:
        resident = phone(browser)
        join(resident, demo["participants"][0]["join_url"], "さくら")
        neighbour = phone(browser)
        join(neighbour, demo["participants"][1]["join_url"], "もみじ")
        for text in ("公園にベンチを増やしてほしい", "公園のベンチをもっと増やして"):
            resident.get_by_label("あなたの意見").fill(text)
            resident.get_by_role("button", name="意見を送る").click()
            resident.locator("li.idea", has_text=text).wait_for(timeout=20000)
        neighbour.locator("li.idea", has_text="もっと増やして").get_by_role("button", name="賛成").click()

        control = control_room(browser, demo)
        control.locator(".tile").first.click()
        detail = control.locator("#table-detail")
        for text in ("ベンチを増やしてほしい", "もっと増やして"):
            detail.locator("li.idea", has_text=text).get_by_label("まとめる").check()
        control.get_by_role("button", name="チェックした意見をまとめる").click()
        detail.locator(".merge-sources li", has_text="もっと増やして").wait_for(timeout=20000)
        keep(control, tmp_path, "control-merged.png")
        # The phones show one idea that gathers both, with the neighbour's vote carried over.
        merged = neighbour.locator("li.idea", has_text="ベンチを増やしてほしい")
        merged.locator(".merged-note").wait_for(timeout=20000)
        assert neighbour.locator("li.idea").count() == 1
        expect(merged.get_by_role("button", name="賛成")).to_have_attribute("aria-pressed", "true", timeout=20000)
        keep(neighbour, tmp_path, "phone-merged.png")
        resident.locator(".notice-merged").wait_for(timeout=20000)

        # Undo it: both ideas are back on the phones.
        detail.locator("li.idea.is-merged-away").get_by_role("button", name="まとめを取り消す").click()
        neighbour.locator("li.idea", has_text="もっと増やして").wait_for(timeout=20000)
        assert neighbour.locator("li.idea").count() == 2

        # Pre-moderation: a new idea waits in the approval drawer until approved.
        control.locator("#pending-panel summary").click()
        control.get_by_label("新しい意見は").select_option("pre")
        resident.get_by_label("あなたの意見").fill("児童館を日曜も開けてほしい")
        resident.get_by_role("button", name="意見を送る").click()
        resident.locator("li.idea", has_text="児童館").locator(".pending-note").wait_for(timeout=20000)
        control.locator("#pending-count").filter(has_text="1").wait_for(timeout=20000)
        item = control.locator("#pending-queue li", has_text="児童館")
        keep(control, tmp_path, "control-approval.png")
        item.get_by_role("button", name="承認する").click()
        neighbour.locator("li.idea", has_text="児童館").wait_for(timeout=20000)
        item.wait_for(state="detached", timeout=20000)
        resident.locator(".notice-approved").wait_for(timeout=20000)
        assert resident.locator("li.idea", has_text="児童館").locator(".pending-note").count() == 0


def test_a_panel_whose_script_loads_late_still_gets_the_first_snapshot(server):
    # On a slow hall network the plenary module's script can arrive after the socket has connected;
    # its panel must still show what the snapshot holds, not stay empty until the next change.
    demo = server.demo(participants=1, tables=1)
    facilitator = demo["facilitator"]
    resident = Phone(server, join_over_http(demo["participants"][0]["join_url"], "さくら"))
    staff = Phone(server, staff_login(server, facilitator["email"], facilitator["password"]),
                  auth={"meeting_id": demo["meeting_id"]})
    try:
        idea = resident.call("post_idea", {"text": "駅前にベンチを置いてほしい"})["idea"]
        assert staff.call("plenary_mark", {"idea_id": idea["id"], "plenary": True})["ok"]
        with chromium() as browser:
            # (the service worker would serve the script itself, out of the route's reach)
            control = staff_page(browser, facilitator["login_url"], facilitator["email"], facilitator["password"],
                                 service_workers="block")
            control.set_viewport_size(LAPTOP)

            def slow(route):
                time.sleep(3)  # a slow download, long enough for a socket on loopback to connect first
                route.continue_()

            control.route("**/js/control-plenary.js*", slow)
            control.goto(facilitator["control_url"])
            control.locator("#tables .tile").first.wait_for()
            control.locator(f"#plenary-ideas li[data-idea-id='{idea['id']}']").wait_for(state="attached", timeout=15000)
    finally:
        close_all([resident, staff])

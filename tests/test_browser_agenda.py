"""The agenda in a real browser: the countdown on a phone whose clock is wrong, the move screen,
the tablecloth with earlier ideas, and a facilitator moving a resident by taps."""

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.browser import chromium, join, phone, staff_page
from tests.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.live]

DOCS = Path(__file__).resolve().parent.parent / "docs" / "img"
# This phone's clock is an hour fast: the countdown must still match the server's.
SKEWED_CLOCK = "(() => { const real = Date.now; Date.now = () => real() + 3600000; })();"


def keep(page, tmp_path, name, **options):
    """Save a screenshot for the facilitator guide (docs/img) when asked to, else in tmp."""
    path = tmp_path / name
    page.screenshot(path=str(path), **options)
    if os.environ.get("MEETING_UPDATE_SCREENSHOTS"):
        DOCS.mkdir(exist_ok=True)
        shutil.copy(path, DOCS / name)


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path).start()
    yield live
    live.stop()


def test_countdown_move_screen_tablecloth_and_tap_to_move(server, tmp_path):
    demo = server.demo(participants=4, tables=2)
    tables = {}
    for person in demo["participants"]:
        tables.setdefault(person["table"], []).append(person)
    (one, first), (two, second) = [(name, people[0]) for name, people in sorted(tables.items())]
    with chromium() as browser:
        a = phone(browser)
        a.add_init_script(SKEWED_CLOCK)
        join(a, first["join_url"], "さくら")
        c = phone(browser)
        join(c, second["join_url"], "もみじ")
        control = staff_page(browser, demo["facilitator"]["login_url"], demo["facilitator"]["email"],
                             demo["facilitator"]["password"])
        control.set_viewport_size({"width": 1280, "height": 800})
        control.goto(demo["facilitator"]["control_url"])
        control.get_by_role("button", name="次のステップを始める").click()

        # Every phone shows the step, its question and the server's remaining time.
        a.locator("#now-title").filter(has_text="第1ラウンド：いまの公園").wait_for(timeout=10000)
        assert "よいところと困っていること" in a.locator("#now-question").inner_text()
        a.wait_for_function("Number(document.getElementById('clock').dataset.remaining) > 0")
        remaining = int(a.locator("#clock").get_attribute("data-remaining"))
        assert 1190 <= remaining <= 1200, remaining
        assert re.fullmatch(r"残り (20:00|19:[0-5]\d)", a.locator("#clock").inner_text())
        keep(a, tmp_path, "phone-countdown.png")

        c.get_by_label("あなたの意見").fill("遊具の近くにベンチがほしい")
        c.get_by_role("button", name="意見を送る").click()
        c.locator("li.idea", has_text="遊具の近くにベンチがほしい").wait_for(timeout=20000)

        # The round ends; the facilitator previews the World Café rotation, then applies it.
        control.get_by_role("button", name="いま終える").click()
        a.locator("#clock").filter(has_text="時間になりました").wait_for(timeout=20000)
        control.locator("#seating-panel summary").click()
        control.get_by_role("button", name="ワールドカフェの席替え").click()
        control.locator("#seating-plan h3").filter(has_text="ワールドカフェの席替えの案").wait_for(timeout=20000)
        keep(control, tmp_path, "control-seating-preview.png", full_page=True)
        control.get_by_role("button", name="この席決めにする").click()

        # The phone says where to walk, then shows the new table's tablecloth with earlier ideas.
        move = a.locator("#move")
        move.wait_for(state="visible", timeout=10000)
        assert a.locator("#move-title").inner_text() == f"テーブル {two} へ移動してください"
        keep(a, tmp_path, "phone-move.png")
        a.get_by_role("button", name="新しいテーブルに着きました").click()
        move.wait_for(state="hidden")
        assert a.locator("#table-name").inner_text() == f"テーブル {two}"
        earlier = a.locator("li.idea", has_text="遊具の近くにベンチがほしい")
        earlier.wait_for(timeout=20000)
        assert earlier.locator(".round-tag").inner_text() == "第1ラウンドから"
        earlier.get_by_role("button", name="賛成").click()
        earlier.locator("button.vote-agree .n").filter(has_text="1").wait_for(timeout=20000)
        keep(a, tmp_path, "phone-tablecloth.png", full_page=True)

        # The facilitator taps the resident, then the table: the phone follows at once.
        control.locator("#people .person", has_text="さくら").click()
        control.locator("#people [data-move-to]").nth(0).click()
        move.wait_for(state="visible", timeout=10000)
        assert a.locator("#move-title").inner_text() == f"テーブル {one} へ移動してください"
        keep(control, tmp_path, "control-room.png")

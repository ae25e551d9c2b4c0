"""An organizer draws a panel in a real browser: uploads, live progress, report, letters."""

import pytest

from tests.browser import chromium, staff_page
from tests.live import LiveServer
from tests.test_panel import QUOTAS, roster_csv

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_organizer_draws_confirms_and_prints_letters(tmp_path):
    roster = tmp_path / "名簿.csv"
    roster.write_bytes(roster_csv(60))
    quotas = tmp_path / "quotas.csv"
    quotas.write_bytes(b"\xef\xbb\xbf" + QUOTAS.encode())
    server = LiveServer(tmp_path).start()
    try:
        with chromium() as browser:
            page = staff_page(browser, server.url + "/login", "admin@example.org", "admin password 123")
            page.get_by_label("タイトル").fill("世田谷区民会議")
            page.get_by_role("button", name="会議を作成").click()
            page.get_by_role("link", name="住民パネルの抽選").click()

            page.locator("#quotas-file").set_input_files(quotas)
            page.get_by_role("button", name="割当をアップロード").click()
            roster_form = page.locator("form:has(input[name=id_column])")
            page.locator("#roster-file").set_input_files(roster)
            roster_form.locator("input[name=household_columns]").fill("住所")
            page.get_by_role("button", name="名簿をアップロード").click()
            assert "60" in page.locator("main").inner_text()

            page.locator("input[name=k]").fill("10")
            page.get_by_role("button", name="パネルを抽選").click()
            # The draw runs in a child process; the page follows it and shows the report.
            page.get_by_role("heading", name="報告").wait_for(timeout=120_000)
            assert page.locator("dd.min-probability").inner_text().startswith("0.1")

            page.get_by_role("button", name="パネルを確定して招待状を作成").click()
            page.wait_for_url("**/panel/letters")  # confirming leads straight to the letters
            letters = page.locator(".letter")
            assert letters.count() == 10
            first = letters.first.inner_text()
            assert "世田谷区太子堂" in first  # the organizer sees the address to post the letter
            assert letters.first.locator("img").count() == 1  # the QR code
            page.screenshot(path=str(tmp_path / "letters.png"))
    finally:
        server.stop()

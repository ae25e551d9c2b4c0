"""Playwright driving Debian's Chromium (never a downloaded browser)."""

import contextlib

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"viewport": {"width": 375, "height": 667}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "ja-JP"}


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def phone(browser):
    """A new phone: its own browser context, so its own cookies."""
    return browser.new_context(**PHONE).new_page()


def join(page, join_url: str, nickname: str):
    page.goto(join_url)
    page.get_by_label("または自分で入力").fill(nickname)
    page.get_by_role("button", name="テーブルに参加する").click()
    page.wait_for_url("**/table")

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


def staff_page(browser, login_url: str, email: str, password: str):
    """A laptop-sized page of a staff member who has logged in through the login form."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP").new_page()
    page.goto(login_url)
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/staff/")
    return page

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


def staff_page(browser, login_url: str, email: str, password: str, **context):
    """A laptop-sized page of a staff member who has logged in through the login form (`context`:
    more options for its browser context)."""
    page = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, "locale": "ja-JP", **context}).new_page()
    page.goto(login_url)
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/staff/")
    return page


def reconnecting_table_page(browser, server):
    """A phone at its table page whose server went away, reloaded: the app's "reconnecting" page,
    served by the service worker from the shell it kept (the offline page in this visitor's language)."""
    demo = server.demo(participants=1, tables=1)
    page = phone(browser)
    join(page, demo["participants"][0]["join_url"], "さくら")
    page.get_by_label("あなたの意見").wait_for()
    page.wait_for_function("async () => !!(await (await caches.open('kurumaza-shell-v1')).match('/offline'))",
                           timeout=15000)
    server.stop()
    page.reload()
    page.get_by_role("heading", name="再接続中…").wait_for()
    return page

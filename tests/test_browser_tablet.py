"""A table's shared tablet in a real browser: residents without a phone take turns, each acts as
themselves, and a secret poll stays secret on it: nothing of the previous voter's choice shows."""

import sqlite3

import pytest

from tests.browser import chromium
from tests.live import LiveServer, Phone, close_all, join_over_http, staff_login

pytestmark = [pytest.mark.browser, pytest.mark.live]

TABLET = {"viewport": {"width": 800, "height": 1100}, "locale": "ja-JP"}


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path).start()
    yield live
    live.stop()


def take(page, nickname: str):
    """Tap one's own (still unnamed) entry on the picker and start with a nickname."""
    field = page.locator(".tablet-people input[name=nickname]").first
    field.fill(nickname)
    field.locator("xpath=..").get_by_role("button", name="このニックネームで始める").click()
    page.wait_for_url("**/table")
    page.get_by_text(f"共有タブレット：{nickname}さんが使用中").wait_for(timeout=20000)


def test_residents_take_turns_and_a_secret_ballot_stays_secret(server, tmp_path):
    demo = server.demo(participants=3, tables=1)
    staff = Phone(server, staff_login(server, demo["facilitator"]["email"], demo["facilitator"]["password"]),
                  auth={"meeting_id": demo["meeting_id"]})
    own_phone = Phone(server, join_over_http(demo["participants"][2]["join_url"], "スマホの人"))
    try:
        table_id = own_phone.call("snapshot", {})["snapshot"]["table"]["id"]
        made = staff.call("tablet_link_create", {"table_id": table_id})
        assert made["ok"] and made["url"].startswith(server.url), made
        poll = staff.call("create_poll", {"kind": "single", "question": "無記名で選んでください",
                                          "options": ["賛成", "反対"], "secret": True})["poll"]
        assert staff.call("open_poll", {"poll_id": poll["id"]})["ok"]
        with chromium() as browser:
            tablet = browser.new_context(**TABLET).new_page()
            tablet.goto(made["url"])
            # The resident on their own phone is not offered.
            assert tablet.get_by_role("button", name="スマホの人 · 自分のスマートフォンで参加中").is_disabled()
            take(tablet, "はなこ")
            card = tablet.locator(f'.poll[data-poll-id="{poll["id"]}"]')
            card.get_by_role("button", name="賛成").click()
            card.locator("button.send").click()
            card.locator(".accepted").wait_for(timeout=20000)
            tablet.get_by_label("あなたの意見").fill("タブレットで出した意見")
            tablet.get_by_role("button", name="意見を送る").click()
            tablet.locator("li.idea", has_text="タブレットで出した意見").wait_for(timeout=20000)

            tablet.get_by_role("button", name="次の人に交代する").click()
            tablet.wait_for_url("**/tablet/**")
            take(tablet, "たろう")
            card = tablet.locator(f'.poll[data-poll-id="{poll["id"]}"]')
            card.get_by_role("button", name="反対").wait_for(timeout=20000)
            # Nothing of はなこ's ballot: no choice pressed, no "accepted", no receipt.
            assert card.locator('button[aria-pressed="true"]').count() == 0
            assert card.locator(".accepted").count() == 0 and card.locator(".receipt").count() == 0
            assert tablet.locator("li.idea", has_text="タブレットで出した意見").locator(".tag").count() == 0  # not "yours"
            card.get_by_role("button", name="反対").click()
            card.locator("button.send").click()
            card.locator(".accepted").wait_for(timeout=20000)
            tablet.get_by_role("button", name="次の人に交代する").click()
            tablet.wait_for_url("**/tablet/**")
            tablet.go_back()  # the browser's back button does not bring たろう's page back
            tablet.goto(server.url + "/table")
            assert not tablet.url.endswith("/table")
        closed = staff.call("close_poll", {"poll_id": poll["id"]})
        assert closed["ok"]
        results = staff.call("snapshot", {})["snapshot"]["polls"]
        counts = {r["id"]: r["value"] for p in results if p["id"] == poll["id"] for r in p["results"]["rows"]}
        assert counts == {"o1": 1, "o2": 1}
        with sqlite3.connect(tmp_path / "live.sqlite3") as conn:
            actions = [a for (a,) in conn.execute("SELECT action FROM audit_events WHERE action LIKE 'tablet.%'")]
        assert actions.count("tablet.take") == 2 and actions.count("tablet.hand_over") == 2
        assert "tablet.create" in actions
    finally:
        close_all([staff, own_phone])

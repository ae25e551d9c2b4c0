"""A participant answers a ranking poll on a phone-sized Chromium, with buttons only."""

import pytest
from playwright.sync_api import expect

from tests.browser import chromium, phone
from tests.live import LiveServer, Phone, staff_login

pytestmark = [pytest.mark.browser, pytest.mark.live]

@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path)
    live.start()
    yield live
    live.stop()


@pytest.fixture
def phone_page():
    with chromium() as browser:
        page = phone(browser)
        problems = []
        # Script errors and CSP refusals; failed loads are checked by URL (a missing favicon is fine).
        page.on("console", lambda m: problems.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        yield page, problems


def test_ranking_ballot_with_buttons_only(server, phone_page):
    page, problems = phone_page
    demo = server.demo(participants=2, tables=1)
    facilitator = demo["facilitator"]
    staff = Phone(server, staff_login(server, facilitator["email"], facilitator["password"]),
                  auth={"meeting_id": demo["meeting_id"]})
    try:
        page.goto(demo["participants"][0]["join_url"])
        page.locator("label.choice").first.click()
        page.locator("main input#submit").click()
        page.wait_for_url("**/table")
        poll = staff.call("create_poll", {"kind": "ranking", "question": "どれを先に進めますか",
                                          "options": ["公園の整備", "図書館の延長", "バスの増便"]})["poll"]
        assert staff.call("open_poll", {"poll_id": poll["id"]})["ok"]

        card = page.locator(f'.poll[data-poll-id="{poll["id"]}"]')
        card.wait_for()
        assert "どれを先に進めますか" in card.inner_text()
        # Pick the order with "as No. n" buttons, then fix it with "move up".
        for option in ("o2", "o3", "o1"):
            card.locator(f'button.pick[data-option="{option}"]').click()
        assert card.locator(".ranked-row").evaluate_all("rows => rows.map(r => r.dataset.option)") == ["o2", "o3", "o1"]
        card.locator('.ranked-row[data-option="o1"] .step').first.click()  # ↑
        assert card.locator(".ranked-row").evaluate_all("rows => rows.map(r => r.dataset.option)") == ["o2", "o1", "o3"]
        for box in card.locator("button").evaluate_all("bs => bs.map(b => b.getBoundingClientRect().height)"):
            assert box >= 44  # touch targets
        assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing overflows the phone

        card.locator("button.send").click()
        accepted = card.locator(".accepted")
        accepted.wait_for()
        assert "受け付けました" in accepted.inner_text()
        assert card.locator(".receipt").count() == 0  # a receipt only where it serves: secret polls

        snapshot = staff.call("snapshot", {})["snapshot"]
        results = next(p for p in snapshot["polls"] if p["id"] == poll["id"])["results"]
        assert results["ballots"] == 1
        assert [r["id"] for r in results["rows"]] == ["o2", "o1", "o3"]

        # Live results reach the phone as bars with their numbers in words, best first.
        # (Until the tally of this ballot arrives they show no places at all: nothing is ranked yet.)
        expect(card.locator(".bar-row .place")).to_have_text(["1位", "2位", "3位"])
        assert card.locator(".bar-row").count() == 3
        assert card.locator(".bar-row .bar-value").first.inner_text() == "2点"
        assert problems == []
    finally:
        staff.close()

"""The hall's screen in a real browser at 1280×800: the report-out timer counting down, the plenary
list and the plenary poll's live results, and never a participant's nickname."""

import re
import time

import pytest
import requests

from tests.browser import chromium
from tests.live import LiveServer, Phone, close_all, join_over_http, staff_login
from tests.test_browser_agenda import keep

pytestmark = [pytest.mark.browser, pytest.mark.live]

LAPTOP = {"width": 1280, "height": 800}


def until(check, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path).start()
    yield live
    live.stop()


def test_the_projector_shows_the_report_out_timer_and_the_plenary_results(server, tmp_path):
    demo = server.demo(participants=8, tables=4)
    nicknames = [f"ゆうき{i}" for i in range(8)]
    phones = [Phone(server, join_over_http(p["join_url"], n)) for p, n in zip(demo["participants"], nicknames, strict=True)]
    control = Phone(server, staff_login(server, demo["facilitator"]["email"], demo["facilitator"]["password"]),
                    auth={"meeting_id": demo["meeting_id"]})
    try:
        snaps = [p.call("snapshot", {})["snapshot"] for p in phones]
        texts = ["駅前に駐輪場を増やす", "公園に日よけを作る", "バスの本数を増やす"]
        seen, ideas = set(), []
        for phone, snap in zip(phones, snaps, strict=True):
            if snap["table"]["id"] in seen or len(ideas) == len(texts):
                continue
            seen.add(snap["table"]["id"])
            idea = phone.call("post_idea", {"text": texts[len(ideas)]})["idea"]
            assert control.call("plenary_mark", {"idea_id": idea["id"], "plenary": True})["ok"]
            ideas.append(idea)
        link = control.call("projector_create", {})
        with chromium() as browser:
            screen = browser.new_context(viewport=LAPTOP, locale="ja-JP").new_page()
            screen.goto(link["url"])
            plenary = screen.locator("#pj-plenary-ideas li")
            plenary.nth(2).wait_for(timeout=10000)
            listed = control.call("snapshot", {})["snapshot"]["plenary"]["ideas"]  # in table order
            assert [plenary.nth(i).locator(".pj-idea-text").inner_text() for i in range(3)] == [i["text"] for i in listed]
            assert sorted(i["text"] for i in listed) == sorted(texts)

            # A report-out: the table, its idea and the countdown, large on the screen.
            assert control.call("report_settings", {"speak_s": 120, "questions_s": 60})["ok"]
            assert control.call("report_queue", {})["ok"]
            assert control.call("report_next", {})["ok"]
            report = screen.locator("#pj-report")
            report.locator("#pj-report-table").filter(has_text=listed[0]["table"]).wait_for(timeout=20000)
            clock = screen.locator("#pj-report-clock")
            assert until(lambda: int(clock.get_attribute("data-remaining") or 0) > 150)
            assert report.locator("#pj-report-phase").inner_text() == "発表"
            assert report.locator("#pj-report-ideas li").first.inner_text() == listed[0]["text"]
            first = clock.inner_text()
            assert re.fullmatch(r"1:[0-5]\d|2:00", first), first  # the speaking time left
            assert until(lambda: clock.inner_text() != first)  # it counts down
            box = clock.bounding_box()
            assert box["height"] >= 60 and box["y"] + box["height"] <= LAPTOP["height"]  # legible, on screen
            assert control.call("report_pause", {})["ok"]
            report.locator("#pj-report-phase", has_text="一時停止").wait_for(timeout=20000)
            assert report.get_attribute("data-state") == "paused"
            keep(screen, tmp_path, "projector-report.png")

            # The plenary poll over the list: its results come in live.
            poll = control.call("plenary_poll", {"kind": "approval", "question": "まず取り組む意見は", "open": True})
            assert poll["ok"], poll
            screen.locator("#pj-poll-question", has_text="まず取り組む意見は").wait_for(timeout=20000)
            for n, phone in enumerate(phones):
                assert phone.call("cast_ballot", {"poll_id": poll["poll"]["id"],
                                                  "ballot": {"options": ["o1"] if n < 5 else ["o2"]}})["ok"]
            screen.locator("#pj-poll-count", has_text="8").wait_for(timeout=20000)
            rows = screen.locator("#pj-poll-rows li")
            # The same plain words as on the phones: place, then what the number means.
            assert rows.first.locator(".pj-bar-label").inner_text().replace("\n", "").replace(" ", "") == "1位" + listed[0]["text"]
            assert rows.first.locator(".pj-bar-value").inner_text() == "8人中5人（63%）"
            assert rows.nth(1).locator(".pj-place").inner_text() == "2位"
            assert rows.nth(1).locator(".pj-bar-value").inner_text() == "8人中3人（38%）"
            assert control.call("close_poll", {"poll_id": poll["poll"]["id"]})["ok"]
            screen.locator("#pj-poll[data-state=closed]").wait_for(timeout=20000)
            assert screen.evaluate("document.documentElement.scrollHeight") <= LAPTOP["height"]
            keep(screen, tmp_path, "projector-poll.png")
            body = screen.locator("body").inner_text()
            assert not any(n in body for n in nicknames)  # no participant identifier, ever

            # Revoked: the connection closes and the page shows the refusal.
            assert control.call("projector_revoke", {"link_id": link["link"]["id"]})["ok"]
            screen.get_by_role("alert").wait_for(timeout=20000)
            assert requests.get(link["url"], timeout=10).status_code == 404
    finally:
        close_all(phones + [control])


def test_a_host_marks_on_the_phone_and_the_control_room_runs_the_report_out(server, tmp_path):
    from tests.browser import join, phone, staff_page

    demo = server.demo(participants=2, tables=1)
    with chromium() as browser:
        host = phone(browser)
        join(host, demo["participants"][0]["join_url"], "さくら")
        neighbour = phone(browser)
        join(neighbour, demo["participants"][1]["join_url"], "もみじ")
        facilitator = demo["facilitator"]
        control = staff_page(browser, facilitator["login_url"], facilitator["email"], facilitator["password"])
        control.set_viewport_size(LAPTOP)
        control.goto(facilitator["control_url"])
        control.locator(".tile").first.wait_for(timeout=10000)
        staff = Phone(server, staff_login(server, facilitator["email"], facilitator["password"]),
                      auth={"meeting_id": demo["meeting_id"]})
        try:
            snap = staff.call("snapshot", {})["snapshot"]
            me = next(p["id"] for p in snap["seating"]["people"] if p["label"] == "さくら")
            assert staff.call("set_host", {"table_id": snap["tables"][0]["id"], "participant_id": me})["ok"]
        finally:
            staff.close()
        host.locator("#host").wait_for(state="visible", timeout=20000)
        host.get_by_label("あなたの意見").fill("川沿いに散歩道を作る")
        host.get_by_role("button", name="意見を送る").click()
        idea = host.locator("#ideas li", has_text="川沿いに散歩道を作る")
        idea.get_by_role("button", name="全体会に出す").click()
        idea.get_by_role("button", name="全体会に出さない").wait_for(timeout=20000)
        # The neighbour sees the mark, without a button of their own.
        theirs = neighbour.locator("#ideas li", has_text="川沿いに散歩道を作る")
        theirs.locator(".plenary-badge").wait_for(state="visible", timeout=20000)
        assert theirs.get_by_role("button", name="全体会に出す").count() == 0

        # The control room: the list, the queue, the report-out; every phone shows who reports.
        control.locator("#plenary-panel summary").click()
        control.locator("#plenary-ideas li", has_text="川沿いに散歩道を作る").wait_for(timeout=20000)
        control.get_by_role("button", name="全体会に意見を出したテーブルを順に並べる").click()
        control.locator("#report-queue li", has_text="1").wait_for(timeout=20000)
        control.get_by_role("button", name="次のテーブル").click()
        control.locator("#report-clock", has_text="発表").wait_for(timeout=20000)
        for screen in (host, neighbour):
            screen.locator("#report-now", has_text="発表中: テーブル 1").wait_for(timeout=20000)
        keep(control, tmp_path, "control-plenary.png")
        # Unmarking from the table's detail takes it off the plenary list.
        control.locator("#plenary-panel summary").click()
        control.locator(".tile").first.click()
        card = control.locator("#detail-ideas li", has_text="川沿いに散歩道を作る")
        card.get_by_role("button", name="全体会から外す").click()
        idea.get_by_role("button", name="全体会に出す").wait_for(timeout=20000)
        theirs.locator(".plenary-badge").wait_for(state="hidden", timeout=20000)


def test_the_projector_switches_language_and_stays_on_its_link(server):
    demo = server.demo(participants=1, tables=1)
    resident = Phone(server, join_over_http(demo["participants"][0]["join_url"], "あおい"))
    control = Phone(server, staff_login(server, demo["facilitator"]["email"], demo["facilitator"]["password"]),
                    auth={"meeting_id": demo["meeting_id"]})
    try:
        idea = resident.call("post_idea", {"text": "図書館を夜まで開ける"})["idea"]
        assert control.call("plenary_mark", {"idea_id": idea["id"], "plenary": True})["ok"]
        link = control.call("projector_create", {})
        with chromium() as browser:
            screen = browser.new_context(viewport=LAPTOP, locale="ja-JP").new_page()
            screen.goto(link["url"])
            screen.get_by_role("heading", name="全体会に出す意見").wait_for()
            screen.locator("#pj-step-name", has_text="ようこそ").wait_for(timeout=10000)
            screen.get_by_role("button", name="English").click()
            screen.get_by_role("heading", name="Ideas for the plenary").wait_for()
            assert screen.url == link["url"]  # still the projector, by its own link
            assert screen.evaluate("document.documentElement.lang") == "en"
            # The live part comes back too, in English.
            screen.locator("#pj-step-name", has_text="Welcome").wait_for(timeout=10000)
            screen.locator("#pj-plenary-ideas li", has_text="図書館を夜まで開ける").wait_for(timeout=10000)
            assert "Scan the code" in screen.locator(".pj-join-text").inner_text()
            # The switch fits the screen: nothing scrolls, the title row keeps the switch in view.
            assert screen.evaluate("document.documentElement.scrollHeight") <= LAPTOP["height"]
            box = screen.get_by_role("button", name="日本語").bounding_box()
            assert box and box["x"] + box["width"] <= LAPTOP["width"] and box["y"] >= 0

            screen.get_by_role("button", name="日本語").click()
            screen.get_by_role("heading", name="全体会に出す意見").wait_for()
            assert screen.url == link["url"]
            assert screen.evaluate("document.documentElement.lang") == "ja"
            screen.locator("#pj-plenary-ideas li", has_text="図書館を夜まで開ける").wait_for(timeout=10000)

            # Opened on a phone, the join box stays on the screen, its words whole.
            screen.set_viewport_size({"width": 375, "height": 667})
            join = screen.locator(".pj-join")
            box = join.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
            assert join.evaluate("el => el.scrollWidth <= el.clientWidth")
            assert screen.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        close_all([resident, control])


def test_a_plenary_list_longer_than_the_screen_turns_its_pages(server, tmp_path):
    # 20 tables bring two ideas each: more than the screen holds. The hall sees every one, a page
    # at a time, each page whole (nothing cut at the edge or under the join box), numbered on.
    demo = server.demo(participants=4, tables=4)
    phones = [Phone(server, join_over_http(p["join_url"], f"ひかり{i}")) for i, p in enumerate(demo["participants"])]
    control = Phone(server, staff_login(server, demo["facilitator"]["email"], demo["facilitator"]["password"]),
                    auth={"meeting_id": demo["meeting_id"]})
    try:
        for n in range(40):
            text = f"意見{n + 1}：駅前の広場に、雨の日にも座れる屋根つきのベンチを置いてほしい"
            posted = phones[n % 4].call("post_idea", {"text": text})
            assert posted["ok"], posted
            assert control.call("plenary_mark", {"idea_id": posted["idea"]["id"], "plenary": True})["ok"]
        link = control.call("projector_create", {})
        with chromium() as browser:
            screen = browser.new_context(viewport=LAPTOP, locale="ja-JP").new_page()
            screen.goto(link["url"])
            screen.locator("#pj-plenary-ideas li").nth(39).wait_for(state="attached", timeout=20000)
            label = screen.locator("#pj-plenary-page")
            label.filter(has_text=re.compile(r"中1ページ目")).wait_for(timeout=20000)
            pages = int(re.search(r"(\d+)ページ中", label.inner_text()).group(1))
            assert pages >= 2

            def page_state():
                return screen.evaluate("""() => {
                  const section = document.getElementById('pj-plenary').getBoundingClientRect();
                  const join = document.querySelector('.pj-join').getBoundingClientRect();
                  const list = document.getElementById('pj-plenary-ideas');
                  const shown = Array.from(list.children).filter((li) => !li.hidden);
                  return { start: list.start, count: shown.length,
                           cut: shown.filter((li) => { const b = li.getBoundingClientRect();
                             return b.bottom > section.bottom + 0.5
                               || (b.bottom > join.top + 0.5 && b.right > join.left && b.left < join.right); }).length };
                }""")

            first = page_state()
            assert first["start"] == 1 and 0 < first["count"] < 40 and first["cut"] == 0, first
            keep(screen, tmp_path, "projector-pages.png")
            label.filter(has_text=re.compile(r"中2ページ目")).wait_for(timeout=30000)  # it turns by itself
            second = page_state()
            assert second["start"] == first["count"] + 1 and second["cut"] == 0, second
    finally:
        close_all([*phones, control])

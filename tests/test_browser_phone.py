"""A resident's phone after the meeting has run a while (issue 10): what is open comes first, closed
polls fold away, every result fits 320 px and 200% zoom and reads in plain words, focus and typed
text survive live updates, new ideas and votes are announced, targets are 44 px, and the whole
flow works with the keyboard alone. Screenshots for the README are saved from here."""

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, join
from tests.live import LiveServer, Phone, close_all, join_over_http, staff_login
from tests.test_browser_agenda import keep  # screenshots for docs/img with MEETING_UPDATE_SCREENSHOTS=1

pytestmark = [pytest.mark.browser, pytest.mark.live]

SMALL = {**PHONE, "viewport": {"width": 320, "height": 640}}
# 200% zoom on a 375 px phone: the CSS viewport halves (187 px) while the device pixels stay; this is
# what Chromium's page zoom does to layout (media queries and all), without a browser zoom API.
ZOOM_200 = {**PHONE, "viewport": {"width": 187, "height": 333}, "device_scale_factor": 4}

# Every kind, each closed with some ballots: (spec, ballots from the three other phones).
CLOSED = [
    ({"kind": "agree", "question": "公園の利用時間を延ばすことに賛成ですか"},
     [{"vote": "agree"}, {"vote": "agree"}, {"vote": "disagree"}]),
    ({"kind": "single", "question": "最初に取り組むことはどれですか", "options": ["公園", "図書館", "バス"]},
     [{"option": "o1"}, {"option": "o2"}, {"option": "o1"}]),
    ({"kind": "approval", "question": "よいと思うものをすべて選んでください", "options": ["ベンチ", "日よけ", "水飲み場"]},
     [{"options": ["o1", "o2"]}, {"options": ["o2"]}, {"options": ["o2", "o3"]}]),
    ({"kind": "dots", "question": "シールを配ってください", "options": ["ベンチ", "日よけ", "水飲み場"], "rules": {"dots": 3}},
     [{"dots": {"o1": 2, "o3": 1}}, {"dots": {"o3": 3}}, {"dots": {"o2": 1}}]),
    # o1 and o2 tie (each is first on one ballot, second on the other): "1位（同点）" twice, then 3位.
    ({"kind": "ranking", "question": "どの順に進めますか", "options": ["駐輪場", "街灯", "花壇"]},
     [{"ranking": ["o1", "o2", "o3"]}, {"ranking": ["o2", "o1", "o3"]}]),
    ({"kind": "score", "question": "それぞれ5段階で評価してください", "options": ["安全さ", "使いやすさ"]},
     [{"scores": {"o1": 5, "o2": 3}}, {"scores": {"o1": 4, "o2": None}}, {"scores": {"o1": 2, "o2": 4}}]),
    ({"kind": "text", "question": "公園について自由に書いてください"},
     [{"text": "ベンチが足りない"}, {"text": "ベンチを増やしてほしい"}, {"text": "夜の照明が暗い"}]),
]
SURVEY = {"kind": "survey", "question": "この地域の公共交通についての満足度（ワークショップ前後）",
          "options": ["バスの本数に満足している", "駅までの道が歩きやすい"]}


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path).start()
    yield live
    live.stop()


def staff_of(server, demo):
    facilitator = demo["facilitator"]
    return Phone(server, staff_login(server, facilitator["email"], facilitator["password"]),
                 auth={"meeting_id": demo["meeting_id"]})


def run_poll(staff, voters, spec, ballots, *, close=True):
    poll = staff.call("create_poll", spec)
    assert poll["ok"], poll
    poll = poll["poll"]
    assert staff.call("open_poll", {"poll_id": poll["id"]})["ok"]
    for voter, ballot in zip(voters * 2, ballots):
        assert voter.call("cast_ballot", {"poll_id": poll["id"], "ballot": ballot})["ok"]
    if close:
        assert staff.call("close_poll", {"poll_id": poll["id"]})["ok"]
    return poll


def no_sideways_scroll(page) -> tuple[int, int]:
    return page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")


def small_targets(page) -> list:
    """Every visible a/button/input/select/summary/textarea smaller than 44×44 CSS px. A radio button
    or checkbox is measured with the label that wraps it: tapping the label picks it (WCAG 2.5.8)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('a, button, input, select, summary, textarea'))
      .filter((e) => e.type !== 'hidden' && e.getClientRects().length)
      .map((e) => (e.type === 'radio' || e.type === 'checkbox') && e.closest('label') ? e.closest('label') : e)
      .map((e) => { const r = e.getBoundingClientRect();
        return [e.outerHTML.slice(0, 80), Math.round(r.width), Math.round(r.height)]; })
      .filter(([, w, h]) => w < 44 || h < 44)""")


def open_all_folds(page):
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")


def test_a_long_meeting_on_a_small_phone(server, tmp_path):
    demo = server.demo(participants=4, tables=1)
    staff = staff_of(server, demo)
    others = [Phone(server, join_over_http(p["join_url"], f"区民{i}")) for i, p in enumerate(demo["participants"][1:])]
    from playwright.sync_api import sync_playwright

    try:
        for spec, ballots in CLOSED:
            run_poll(staff, others, spec, ballots)
        before = run_poll(staff, others, SURVEY, [{"answers": {"o1": 2, "o2": 3}}, {"answers": {"o1": 3, "o2": 3}},
                                                   {"answers": {"o1": 2, "o2": None}}])
        after = staff.call("create_poll", {"follow_up_of": before["id"]})["poll"]
        assert staff.call("open_poll", {"poll_id": after["id"]})["ok"]
        for voter, answers in zip(others, [{"o1": 4, "o2": 3}, {"o1": 4, "o2": 4}, {"o1": 3, "o2": None}]):
            assert voter.call("cast_ballot", {"poll_id": after["id"], "ballot": {"answers": answers}})["ok"]
        assert staff.call("close_poll", {"poll_id": after["id"]})["ok"]
        # 9 closed polls (the survey has two waves), one open.
        live = run_poll(staff, others, {"kind": "single", "question": "今日の昼食はどれにしますか",
                                         "options": ["おにぎり", "サンドイッチ"]}, [], close=False)
        for text in ("駅前にベンチを置いてほしい", "夜の公園を明るくしてほしい", "バス停に屋根がほしい"):
            assert others[0].call("post_idea", {"text": text})["ok"]

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(**PHONE).new_page()
            page.goto(server.url + "/")
            assert page.locator("a.brand").bounding_box()["height"] >= 44
            assert not small_targets(page), small_targets(page)  # the start page: brand, staff login
            page.goto(demo["participants"][0]["join_url"])
            assert not small_targets(page), small_targets(page)  # the welcome page
            keep(page, tmp_path, "phone-welcome.png")
            page.get_by_label("または自分で入力").fill("はなこ")
            page.get_by_role("button", name="テーブルに参加する").click()
            page.wait_for_url("**/table")
            card = page.locator(f'#polls .poll[data-poll-id="{live["id"]}"]')
            card.wait_for()
            page.locator("#earlier-polls .poll").nth(8).wait_for()
            page.locator("li.idea").nth(2).wait_for()

            # What is open now is on the first screen; the idea form is one tap away.
            box = card.bounding_box()
            assert box["y"] < 667 - 100, box  # its question and first choices show without scrolling
            assert page.locator("#polls .poll").count() == 1
            assert page.locator("#earlier-polls details.poll-fold:not([open])").count() == 9  # folded
            jump = page.locator("#jump-idea")
            assert jump.is_visible() and jump.bounding_box()["y"] < 667
            form_y = page.locator("#idea-form").bounding_box()["y"]
            assert form_y < 2 * 667, form_y  # no more 7,000 px down: below one open poll at most
            jump.click()
            assert page.evaluate("document.activeElement.id") == "idea-text"
            text_box = page.locator("#idea-text").bounding_box()
            assert 0 <= text_box["y"] and text_box["y"] + text_box["height"] <= 667  # now in view, ready to type
            nav = page.locator("#jump").bounding_box()
            assert nav["y"] == 0  # the short menu stays at hand while scrolling
            page.locator("#jump-earlier").click()
            assert page.locator("#earlier-polls").bounding_box()["y"] < 667
            page.evaluate("window.scrollTo(0, 0)")
            keep(page, tmp_path, "phone-long-meeting.png")

            # Plain words: the ranking's tie is said, the numbers explained; same words on every kind.
            open_all_folds(page)
            ranking = page.locator('.poll[data-kind="ranking"] .bar-row')
            places = ranking.locator(".place").all_inner_texts()
            assert places == ["1位（同点）", "1位（同点）", "3位"], places
            assert ranking.nth(0).locator(".bar-value").inner_text() == "3点"
            assert "1番に選ばれると2点" in page.locator('.poll[data-kind="ranking"] .result-note').inner_text()
            agree = page.locator('.poll[data-kind="agree"] .bar-row').first
            assert agree.locator(".bar-value").inner_text() == "3人中2人（67%）"
            survey = page.locator(f'.poll[data-poll-id="{after["id"]}"] .bar-row').first
            assert survey.locator(".bar-value").inner_text().startswith("前2.33 → 後3.67（+1.33）")
            assert page.locator('.poll[data-kind="text"] .theme').count() >= 1
            assert not small_targets(page), small_targets(page)  # the table page, every fold open
            shot = page.locator('.poll[data-kind="ranking"]')
            page.evaluate("document.getElementById('jump').style.position = 'static'")  # not over the picture
            shot.scroll_into_view_if_needed()
            keep(page, tmp_path, "phone-result.png", clip=shot.bounding_box())
            page.evaluate("document.getElementById('jump').style.position = ''")

            # Every result fits 320 px and 200% zoom, in Japanese and in English; headers stay words.
            for lang in ("ja", "en"):
                for size, name in ((SMALL, "320 px"), (ZOOM_200, "200% zoom")):
                    view = browser.new_context(**{**size, "locale": "ja-JP"})
                    view.add_cookies(page.context.cookies())
                    small = view.new_page()
                    if lang == "en":
                        small.goto(server.url + "/table")
                        small.locator(".topbar .lang button[value=en]").click()
                        small.wait_for_function("document.documentElement.lang === 'en'")
                    small.goto(server.url + "/table")
                    assert small.evaluate("document.documentElement.lang") == lang
                    small.locator("#earlier-polls .poll").nth(8).wait_for()
                    open_all_folds(small)
                    small.locator(".result-rows").nth(7).wait_for()
                    scroll, client = no_sideways_scroll(small)
                    assert scroll <= client, (lang, name, scroll, client, small.evaluate("""(w) => Array.from(
                      document.querySelectorAll('body *')).filter((e) => e.getBoundingClientRect().right > w + 0.5)
                      .map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
                      .slice(-12)""", client))
                    # No text squeezed to one character a line: a label or header is wider than 1.5 characters.
                    narrow = small.evaluate("""() => Array.from(document.querySelectorAll(
                        '.choice-label, .bar-value, .poll-question, .place, th, .theme-head'))
                      .filter((e) => e.textContent.length > 2
                        && e.getBoundingClientRect().width < 1.5 * parseFloat(getComputedStyle(e).fontSize))
                      .map((e) => e.textContent)""")
                    assert narrow == [], (lang, name, narrow)
                    view.close()
            browser.close()
    finally:
        close_all([staff, *others])


def test_focus_and_typed_text_survive_live_updates_and_are_announced(server):
    demo = server.demo(participants=4, tables=1)
    staff = staff_of(server, demo)
    others = [Phone(server, join_over_http(p["join_url"], f"区民{i}")) for i, p in enumerate(demo["participants"][1:])]
    from playwright.sync_api import sync_playwright

    try:
        idea = others[0].call("post_idea", {"text": "図書館を夜9時まで開けてほしい"})["idea"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(**PHONE).new_page()
            join(page, demo["participants"][0]["join_url"], "はなこ")
            card = page.locator(f'li.idea[data-idea-id="{idea["id"]}"]')
            agree = card.locator("button.vote-agree")
            agree.wait_for()
            page.locator("#idea-text").fill("書きかけの意見")
            agree.focus()
            page.evaluate("window.kept = document.activeElement")
            for i, voter in enumerate(others):
                assert voter.call("vote", {"idea_id": idea["id"], "value": "agree"})["ok"]
                agree.locator(".n").filter(has_text=str(i + 1)).wait_for(timeout=20000)  # a tally arrived
            assert page.evaluate("document.activeElement === window.kept"), "focus left the vote button"
            assert page.input_value("#idea-text") == "書きかけの意見"

            # A new idea from someone else is announced in the polite live region.
            said = page.locator("#said")
            assert said.get_attribute("aria-live") == "polite"
            others[1].call("post_idea", {"text": "バス停に屋根がほしい"})
            said.filter(has_text="バス停に屋根がほしい").wait_for(state="attached")
            assert page.evaluate("document.activeElement === window.kept")
            # So is a recorded vote (Space on the focused button).
            page.keyboard.press("Space")
            said.filter(has_text="あなたの投票を記録しました：賛成").wait_for(state="attached")
            assert page.evaluate("document.activeElement === window.kept")

            # A ballot's option keeps the focus through live results from other phones.
            poll = run_poll(staff, others, {"kind": "single", "question": "どれがよいですか",
                                            "options": ["公園", "図書館", "バス"]}, [], close=False)
            option = page.locator(f'.poll[data-poll-id="{poll["id"]}"] .choice-button', has_text="図書館")
            option.wait_for()
            option.focus()
            page.keyboard.press("Enter")  # chosen, not sent yet
            assert option.get_attribute("aria-pressed") == "true"
            page.evaluate("window.kept = document.activeElement")
            for voter, choice in zip(others, ("o1", "o2", "o3")):
                assert voter.call("cast_ballot", {"poll_id": poll["id"], "ballot": {"option": choice}})["ok"]
            page.locator(f'.poll[data-poll-id="{poll["id"]}"] .bar-value', has_text="3人中1人").first.wait_for(timeout=20000)
            assert page.evaluate("document.activeElement === window.kept"), "focus left the ballot option"
            assert option.get_attribute("aria-pressed") == "true"  # the unsent choice is kept too
            page.locator(f'.poll[data-poll-id="{poll["id"]}"] button.send').click()
            said.filter(has_text="回答を受け付けました").wait_for(state="attached")
            browser.close()
    finally:
        close_all([staff, *others])


def test_keyboard_only_join_post_vote_and_every_poll_kind(server):
    demo = server.demo(participants=2, tables=1)
    staff = staff_of(server, demo)
    other = Phone(server, join_over_http(demo["participants"][1]["join_url"], "区民"))
    from playwright.sync_api import sync_playwright

    def tab_to(page, selector, limit=80):
        """Press Tab until the focused element matches: the way a keyboard user gets there."""
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    try:
        idea = other.call("post_idea", {"text": "駅前にベンチを置いてほしい"})["idea"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(**{**PHONE, "is_mobile": False, "has_touch": False}).new_page()
            page.goto(demo["participants"][0]["join_url"])
            tab_to(page, "input[name=nickname]")
            page.keyboard.type("けいこ")
            page.keyboard.press("Enter")
            page.wait_for_url("**/table")
            page.locator(f'li.idea[data-idea-id="{idea["id"]}"]').wait_for()

            tab_to(page, "#idea-text")
            page.keyboard.type("図書館の開館時間を延ばしてほしい")
            tab_to(page, "#idea-form button[type=submit]")
            page.keyboard.press("Enter")
            page.locator("li.idea", has_text="図書館の開館時間").wait_for()

            card = f'li.idea[data-idea-id="{idea["id"]}"]'
            tab_to(page, f"{card} button.vote-agree")
            page.keyboard.press("Enter")
            page.locator(f"{card} button.vote-agree[aria-pressed=true]").wait_for()
            page.keyboard.press("Tab")  # to 反対: change the vote
            page.keyboard.press("Space")
            page.locator(f"{card} button.vote-disagree[aria-pressed=true]").wait_for()
            assert page.locator(f"{card} button.vote-agree").get_attribute("aria-pressed") == "false"

            kinds = [
                ({"kind": "agree", "question": "Q agree"}, ["button.vote-agree"]),
                ({"kind": "single", "question": "Q single", "options": ["A", "B"]}, ['button[data-key="o2"]']),
                ({"kind": "approval", "question": "Q approval", "options": ["A", "B"]},
                 ['button[data-key="o1"]', 'button[data-key="o2"]']),
                ({"kind": "dots", "question": "Q dots", "options": ["A", "B"], "rules": {"dots": 2}},
                 ['[data-key="o1"] button[data-key="plus"]', '[data-key="o1"] button[data-key="plus"]']),
                ({"kind": "ranking", "question": "Q ranking", "options": ["A", "B"]},
                 ['button.pick[data-key="o2"]', 'button.pick[data-key="o1"]']),
                ({"kind": "score", "question": "Q score", "options": ["A"]}, ['fieldset[data-key="o1"] button[data-key="4"]']),
                ({"kind": "survey", "question": "Q survey", "options": ["A"]}, ['fieldset[data-key="o1"] button[data-key="none"]']),
                ({"kind": "text", "question": "Q text"}, ["textarea.text-answer"]),
            ]
            for spec, presses in kinds:
                poll = run_poll(staff, [other], spec, [], close=False)
                sel = f'.poll[data-poll-id="{poll["id"]}"]'
                page.locator(sel).wait_for()
                for press in presses:
                    tab_to(page, f"{sel} {press}")
                    if press.startswith("textarea"):
                        page.keyboard.type("ベンチがほしい")
                    else:
                        page.keyboard.press("Enter")
                tab_to(page, f"{sel} button.send")
                page.keyboard.press("Enter")
                page.locator(f"{sel} .accepted").wait_for(timeout=20000)
                counted = next(x for x in staff.call("snapshot", {})["snapshot"]["polls"] if x["id"] == poll["id"])
                assert counted["results"]["ballots"] == 1, spec["kind"]
                assert staff.call("close_poll", {"poll_id": poll["id"]})["ok"]
            browser.close()
    finally:
        close_all([staff, other])


def test_secret_poll_receipt_and_its_check_and_a_taken_nickname(server):
    demo = server.demo(participants=3, tables=1)
    staff = staff_of(server, demo)
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            first = browser.new_context(**PHONE).new_page()
            join(first, demo["participants"][0]["join_url"], "はなこ")
            # A second resident picks the same nickname: refused kindly, with a free one filled in.
            second = browser.new_context(**PHONE).new_page()
            second.goto(demo["participants"][1]["join_url"])
            second.get_by_label("または自分で入力").fill("はなこ")
            second.get_by_role("button", name="テーブルに参加する").click()
            alert = second.get_by_role("alert")
            assert "「はなこ」はこの会議ですでに使われています" in alert.inner_text()
            assert second.get_by_label("または自分で入力").input_value() == "はなこ 2"
            second.get_by_role("button", name="テーブルに参加する").click()
            second.wait_for_url("**/table")
            assert "はなこ 2" in second.locator(".table-head").inner_text()

            plain = run_poll(staff, [], {"kind": "agree", "question": "ふつうの投票"}, [], close=False)
            secret = run_poll(staff, [], {"kind": "agree", "question": "無記名の投票", "secret": True}, [], close=False)
            for poll in (plain, secret):
                sel = f'.poll[data-poll-id="{poll["id"]}"]'
                first.locator(f"{sel} button.vote-agree").click()
                first.locator(f"{sel} button.send").click()
                first.locator(f"{sel} .accepted").wait_for()
            assert first.locator(f'.poll[data-poll-id="{plain["id"]}"] .receipt').count() == 0  # not where it serves nothing
            receipt = first.locator(f'.poll[data-poll-id="{secret["id"]}"] .receipt')
            code = receipt.locator("code").inner_text().strip()
            assert len(code) == 24 and "受付番号を確かめる" in receipt.inner_text()
            assert staff.call("close_poll", {"poll_id": plain["id"]})["ok"]
            closed = first.locator(f'#earlier-polls .poll[data-poll-id="{plain["id"]}"]')
            closed.wait_for()
            closed.locator("summary").click()
            assert "投票は終わり" in closed.inner_text() and "開いている間" not in closed.inner_text()

            first.locator("#jump-earlier").click()
            first.locator("#receipt-check summary").click()
            first.get_by_label("受付番号", exact=True).fill(code)
            first.get_by_role("button", name="確かめる", exact=True).click()
            result = first.locator("#receipt-result")
            result.filter(has_text="見つかりました").wait_for()
            assert "無記名の投票" in result.inner_text()
            first.get_by_label("受付番号", exact=True).fill("x" * 24)
            first.get_by_role("button", name="確かめる", exact=True).click()
            result.filter(has_text="見つかりませんでした").wait_for()
            browser.close()
    finally:
        staff.close()


# Scrolled to the bottom: the page's last control (in document order) and the end of its content are
# clear of the "Call staff" dock, whatever the dock holds (a call's status, in any language).
LAST_CONTROL_CLEAR = """() => {
  window.scrollTo(0, document.documentElement.scrollHeight);
  const controls = Array.from(document.querySelectorAll(
      'main a[href], main button, main input:not([type=hidden]), main select, main summary, main textarea'))
    .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden');
  const last = controls[controls.length - 1];
  const r = last.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  const content = Array.from(document.querySelectorAll('main *')).filter((e) => e.getClientRects().length)
    .reduce((bottom, e) => Math.max(bottom, e.getBoundingClientRect().bottom), 0);
  const dock = document.getElementById('help-dock').getBoundingClientRect();
  return {clear: !!hit && (hit === last || last.contains(hit)), last: last.outerHTML.slice(0, 80),
          hit: hit ? hit.outerHTML.slice(0, 80) : null, contentBottom: content, dockTop: dock.top,
          atBottom: Math.ceil(window.scrollY + innerHeight) >= document.documentElement.scrollHeight - 1};
}"""


def test_nothing_hides_under_the_call_staff_button(server):
    demo = server.demo(participants=2, tables=1)
    neighbour = Phone(server, join_over_http(demo["participants"][1]["join_url"], "もみじ"))
    from playwright.sync_api import sync_playwright

    try:
        for text in ("駅前に駐輪場を増やす", "公園に日よけを作る", "バス停に屋根がほしい"):
            assert neighbour.call("post_idea", {"text": text})["ok"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(**PHONE).new_page()
            join(page, demo["participants"][0]["join_url"], "はなこ")
            page.locator("li.idea").nth(2).wait_for()

            def check(where):
                seen = page.evaluate(LAST_CONTROL_CLEAR)
                assert seen["atBottom"] and seen["clear"], (where, seen)
                assert seen["contentBottom"] <= seen["dockTop"], (where, seen)  # the end of the page too

            check("the button alone")
            last_idea = page.locator("li.idea").last
            assert last_idea.get_by_role("button").last.is_visible()
            # A call makes the dock taller (its status beside the cancel button): still nothing under it.
            page.get_by_role("button", name="スタッフを呼ぶ").click()
            page.locator("#help-status", has_text="スタッフを呼びました").wait_for()
            check("a call waiting, Japanese")
            for lang, status in (("en", "Staff have been called"), ("plain", "")):
                page.locator(f".topbar .lang button[value={lang}]").click()
                page.wait_for_function(f"document.querySelector('meta[name=catalog]').content === '{lang}'")
                page.locator("li.idea").nth(2).wait_for()
                page.locator("#help-status:not([hidden])", has_text=status).wait_for()
                check(f"a call waiting, {lang}")
            # At 320 px too, where the status wraps onto more lines.
            page.set_viewport_size(SMALL["viewport"])
            page.wait_for_function("document.getElementById('help-dock').getBoundingClientRect().width < 320")
            check("a call waiting, 320 px")
            browser.close()
    finally:
        neighbour.close()

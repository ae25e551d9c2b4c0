"""Accessibility sweep (issue 10): axe-core's WCAG 2.2 AA rules on every GET page of the app, in
Japanese, English and plain Japanese, on a phone (375×667) and a laptop (1280×800), once the meeting
has live content (ideas with votes, every poll kind open and every kind closed with results, an
announcement, a plenary list, a drawn panel, a report). Beside it, what axe does not check: 44 px
targets on every participant page in every language, `<html lang>` against the catalog, and focus
always visible on the table page.

tests/test_browser_phone.py already proves the rest of the issue's scripted checks, and they are not
repeated here: no sideways scroll at 320 px and 200% zoom with every kind closed (ja and en), focus
and typed text kept across live updates, the polite live region announcing a new idea and a
recorded vote, and the keyboard-only flow (join, post, vote, change the vote, every poll kind).

axe-core comes from npm (package.json) and `make install-dev` copies it to tests/vendor/, outside
static/: it is injected into each page by the test and never served.
"""

import re
import time
from pathlib import Path

import pytest
import requests

from tests.browser import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.live import CSRF, LiveServer, Phone, close_all, join_over_http, staff_login
from tests.test_browser_phone import CLOSED, SURVEY
from tests.test_panel import QUOTAS, roster_csv

pytestmark = [pytest.mark.browser, pytest.mark.live]

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
LANGUAGES = ("ja", "en", "plain")
HTML_LANG = {"ja": "ja", "en": "en", "plain": "ja"}  # plain Japanese is Japanese (BCP 47 "ja")
VIEWPORTS = {
    "phone": {**PHONE, "viewport": {"width": 375, "height": 667}},
    "laptop": {"viewport": {"width": 1280, "height": 800}, "locale": "ja-JP"},
}
ADMIN = ("admin@example.org", "admin password 123")  # tests/live.py's MEETING_ADMIN_*: an organizer

# GET routes that are not pages, each with the reason. Every other GET route must be swept below;
# test_every_get_route_is_swept_or_excluded fails on a new route that is in neither list.
EXCLUDED = {
    "static": "static files (CSS, JS, fonts)",
    "shell.service_worker": "sw.js, a script",
    "join.by_token": "redirects to /welcome (swept)",
    "open.by_code": "redirects to /open/welcome (swept)",
    "api.unknown": "JSON API (404 answer)",
    "api.list_meetings": "JSON API",
    "api.get_meeting": "JSON API",
    "api.get_ideas": "JSON API",
    "api.get_opinion": "JSON API",
    "api.get_polls": "JSON API",
    "api.get_report": "JSON API",
    "api.get_tables": "JSON API",
    "api.openapi": "JSON (OpenAPI document)",
    "control.audit_csv": "CSV download",
    "exports.dataset": "CSV/JSON/XLSX download",
    "exports.ideas_csv": "CSV download",
    "exports.votes_csv": "CSV download",
    "exports.meeting_json": "JSON download",
    "exports.meeting_xlsx": "XLSX download",
    "exports.open_data": "ZIP download",
    "exports.polis": "ZIP download",
    "exports.report_zip": "ZIP download",
    "exports.report_status": "JSON (the report page polls it)",
    "organizer.invitation_qr": "SVG/PNG image (shown on the invitations page)",
    "opinion.as_json": "JSON (the map page reads it)",
    "opinion.fragment": "HTML fragment the map page loads into itself (swept there)",
    "panel.selection_status": "JSON (the selection page polls it)",
}


class Hall:
    """The module's meeting, built once over HTTP and Socket.IO (each call goes through a service)."""


def _csrf(http: requests.Session, url: str) -> str:
    return CSRF.search(http.get(url, timeout=10).text).group(1)


def _post(http: requests.Session, url: str, form_url: str, **kwargs) -> requests.Response:
    data = {**kwargs.pop("data", {}), "csrf_token": _csrf(http, form_url)}
    return http.post(url, data=data, allow_redirects=False, timeout=30, **kwargs)


def _wait_json(http: requests.Session, url: str, key: str, done: tuple, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = http.get(url, timeout=10).json()
        if status.get(key) in done:
            return status
        time.sleep(0.3)
    raise AssertionError(f"{url} never reached {done}")


CATALOGS = [Path(__file__).resolve().parent.parent / "meeting" / "translations" / path for path in
            ("ja/LC_MESSAGES/messages.mo", "ja/LC_MESSAGES/plain.mo", "en/LC_MESSAGES/messages.mo")]


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    # Without the compiled catalogs every page falls back to the English msgids: a sweep of nothing.
    assert all(path.exists() for path in CATALOGS), "catalogs not compiled: run make translations"
    server = LiveServer(tmp_path_factory.mktemp("a11y")).start()
    phones = []
    try:
        demo = server.demo(participants=16, tables=1)
        staff = Phone(server, staff_login(server, demo["facilitator"]["email"], demo["facilitator"]["password"]),
                      auth={"meeting_id": demo["meeting_id"]})
        phones.append(staff)
        voters = [Phone(server, join_over_http(p["join_url"], f"区民{i}"))
                  for i, p in enumerate(demo["participants"][:3])]
        phones.extend(voters)
        meeting_id = demo["meeting_id"]
        organizer = staff_login(server, *ADMIN)
        base = f"{server.url}/staff/meetings/{meeting_id}"

        # The report builds in a child process while the rest is set up.
        started = _post(organizer, f"{base}/report", base)
        assert started.status_code == 302, started.status_code
        report_url = server.url + started.headers["Location"]

        ideas = []
        for voter, text in zip(voters, ("駅前にベンチを置いてほしい", "夜の公園を明るくしてほしい",
                                        "バス停に屋根がほしい"), strict=True):
            answer = voter.call("post_idea", {"text": text})
            assert answer["ok"], answer
            ideas.append(answer["idea"])
        for voter, value in zip(voters, ("agree", "disagree", "pass"), strict=True):
            assert voter.call("vote", {"idea_id": ideas[0]["id"], "value": value})["ok"]
        assert staff.call("plenary_mark", {"idea_id": ideas[0]["id"], "plenary": True})["ok"]
        assert staff.call("report_queue", {})["ok"]  # a table's report-out running, on the projector too
        assert staff.call("report_next", {})["ok"]

        def poll(spec, ballots, close):
            made = staff.call("create_poll", spec)
            assert made["ok"], made
            assert staff.call("open_poll", {"poll_id": made["poll"]["id"]})["ok"]
            for voter, ballot in zip(voters, ballots):
                assert voter.call("cast_ballot", {"poll_id": made["poll"]["id"], "ballot": ballot})["ok"]
            if close:
                assert staff.call("close_poll", {"poll_id": made["poll"]["id"]})["ok"]
            return made["poll"]

        # Every kind closed with results (the survey with its second wave), then every kind open.
        for spec, ballots in CLOSED:
            poll(spec, ballots, close=True)
        before = poll(SURVEY, [{"answers": {"o1": 2, "o2": 3}}, {"answers": {"o1": 3, "o2": None}}], close=True)
        after = staff.call("create_poll", {"follow_up_of": before["id"]})["poll"]
        assert staff.call("open_poll", {"poll_id": after["id"]})["ok"]
        assert voters[0].call("cast_ballot", {"poll_id": after["id"], "ballot": {"answers": {"o1": 4, "o2": 4}}})["ok"]
        assert staff.call("close_poll", {"poll_id": after["id"]})["ok"]
        for spec, ballots in [*CLOSED, (SURVEY, [{"answers": {"o1": 4, "o2": 5}}])]:
            poll({**spec, "question": "いま：" + spec["question"]}, ballots[:1], close=False)
        assert staff.call("announce", {"text": "10分後に全体会を始めます"})["ok"]

        projector = staff.call("projector_create", {})
        assert projector["ok"], projector
        table_id = staff.call("snapshot", {})["snapshot"]["tables"][0]["id"]
        tablet = staff.call("tablet_link_create", {"table_id": table_id})
        assert tablet["ok"], tablet

        # The meeting is open to anyone with its code too (the poster, the open welcome page).
        opened = _post(organizer, f"{base}/open", base, data={"capacity": "", "self_report": "年代: 10代, 20代, 30代以上"})
        assert opened.status_code == 302
        code = re.search(r'class="open-code">([^<]+)<', organizer.get(base, timeout=10).text).group(1)

        # A second meeting where the organizer draws a panel by lot and confirms it.
        created = _post(organizer, f"{server.url}/staff/meetings", f"{server.url}/staff/",
                        data={"title": "抽選の会議", "language": "ja", "purpose": "パネルを抽選します。"})
        panel_meeting = int(re.search(r"/meetings/(\d+)", created.headers["Location"]).group(1))
        panel = f"{server.url}/staff/meetings/{panel_meeting}/panel"
        assert _post(organizer, f"{panel}/quotas", panel,
                     files={"file": ("quotas.csv", b"\xef\xbb\xbf" + QUOTAS.encode())}).status_code == 302
        assert _post(organizer, f"{panel}/roster", panel, data={"id_column": "id", "household_columns": "住所"},
                     files={"file": ("名簿.csv", roster_csv(40))}).status_code == 302
        drawn = _post(organizer, f"{panel}/draw", panel, data={"k": "10", "method": "legacy", "alternates": "5"})
        selection = int(re.search(r"/selections/(\d+)", drawn.headers["Location"]).group(1))
        status = _wait_json(organizer, f"{panel}/selections/{selection}.json", "status", ("done", "failed"))
        assert status["status"] == "done", status
        assert _post(organizer, f"{panel}/selections/{selection}/confirm",
                     f"{panel}/selections/{selection}").status_code == 302
        assert _wait_json(organizer, report_url + ".json", "status", ("done", "failed"), timeout=180)["status"] == "done"

        h = Hall()
        h.url, h.demo, h.meeting_id, h.panel_meeting, h.selection = server.url, demo, meeting_id, panel_meeting, selection
        h.projector_url, h.tablet_url, h.open_url = projector["url"], tablet["url"], f"{server.url}/o/{code}"
        h.report_path = started.headers["Location"]
        h.invitations = [p["join_url"] for p in demo["participants"][3:]]  # unused: one per browser context
        h.staff, h.organizer, h.report_zip = staff, organizer, report_url + ".zip"
        yield h
    finally:
        close_all(phones)
        server.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# Every swept page: endpoint, who opens it, its path, and a marker of its live content to wait for.
# "participant" pages are opened in the resident's context, in this order (the welcome page before
# the nickname is sent, the table page after); "staff" pages after logging in as the organizer.
def pages(h):
    m, pm = h.meeting_id, h.panel_meeting
    s = f"/staff/meetings/{m}"
    return [
        ("join.index", "participant", "/", "main"),
        ("join.by_code", "participant", "/join", "main form"),
        ("shell.offline", "participant", "/offline", "main"),
        ("error", "participant", "/no-such-page", "main"),
        ("open.welcome", "participant", h.open_url, "main form"),
        ("join.welcome", "participant", "INVITATION", "input[name=nickname]"),
        ("join.table", "participant", "/table", ("#announcement:not([hidden])", "#earlier-polls .poll >> nth=8",
                                                  "li.idea >> nth=2", "#polls .poll >> nth=7")),
        ("tablet.picker", "participant", h.tablet_url, "main"),
        ("projector.screen", "participant", h.projector_url, ("#pj-plenary-ideas li", "#pj-report:not([hidden])",
                                                               "#pj-report-ideas li")),
        ("auth.login", "staff", "/login", "main form"),
        ("organizer.dashboard", "staff", "/staff/", "main"),
        ("auth.account", "staff", "/staff/account", "main form"),
        ("organizer.meeting", "staff", s, "#open .open-code"),
        ("auth.meeting_staff", "staff", f"{s}/staff", "main"),
        ("control.room", "staff", f"{s}/control", ("#tables .tile", "#announcements li", "#plenary-ideas li",
                                                    "#control-polls .poll >> nth=16")),
        ("control.audit_log", "staff", f"{s}/audit", "main table"),
        ("organizer.invitation_cards", "staff", f"{s}/invitations", ".invitation"),
        ("opinion.page", "staff", f"{s}/map", "main"),
        ("open.poster", "staff", f"{s}/open/poster", "main"),
        ("exports.report_page", "staff", h.report_path, "main"),
        ("panel.page", "staff", f"/staff/meetings/{pm}/panel", "main"),
        ("panel.selection", "staff", f"/staff/meetings/{pm}/panel/selections/{h.selection}", "dd.min-probability"),
        ("panel.letters", "staff", f"/staff/meetings/{pm}/panel/letters", ".letter"),
        ("panel.checkin", "staff", f"/staff/meetings/{pm}/panel/checkin", "main"),
        ("panel.purge", "staff", f"/staff/meetings/{pm}/panel/purge", "main form"),
    ]


SWEPT = {"join.index", "join.by_code", "shell.offline", "open.welcome", "join.welcome", "join.table",
         "tablet.picker", "projector.screen", "auth.login", "organizer.dashboard", "auth.account",
         "organizer.meeting", "auth.meeting_staff", "control.room", "control.audit_log",
         "organizer.invitation_cards", "opinion.page", "open.poster", "exports.report_page", "panel.page",
         "panel.selection", "panel.letters", "panel.checkin", "panel.purge"}


def test_every_get_route_is_swept_or_excluded():
    from meeting import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 40, "DATA_KEY": "y" * 40,
                      "MEETING_ASYNC_MODE": "threading", "TESTING": True})
    get_routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert SWEPT.isdisjoint(EXCLUDED)
    assert sorted(get_routes - SWEPT - set(EXCLUDED)) == [], "a GET route neither swept nor excluded with a reason"
    assert sorted((SWEPT | set(EXCLUDED)) - get_routes) == [], "a listed route that no longer exists"

    class Fake:
        meeting_id = panel_meeting = selection = 1
        projector_url = tablet_url = open_url = report_path = ""

    assert {endpoint for endpoint, *_ in pages(Fake)} - {"error"} == SWEPT


AXE_RUN = """(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then((r) => ({passed: r.passes.length, violations: r.violations.map((v) => ({id: v.id, impact: v.impact,
    help: v.help, targets: v.nodes.map((n) => n.target.join(' ') + ' — '
                                             + (n.failureSummary || '').replace(/\\s+/g, ' '))}))}))"""


def axe_violations(page) -> list[dict]:
    # Folded parts (closed polls' results, the receipt check) are opened: axe skips hidden content.
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(AXE_RUN, WCAG_22_AA)
    assert result["passed"] > 0, "axe checked nothing"  # a sweep that ran no rule proves nothing
    return result["violations"]


def choose_language(page, lang: str):
    """Switch through the page's own language switch (POST /language), as a resident would."""
    if page.locator("meta[name=catalog]").get_attribute("content") != lang:
        page.locator(f".topbar .lang button[value={lang}]").click()
        page.wait_for_selector(f"meta[name=catalog][content={lang}]", state="attached")


def wait_ready(page, ready):
    for marker in (ready,) if isinstance(ready, str) else ready:
        page.locator(marker).first.wait_for(state="attached")


# Every visible control under 44×44 CSS px. A radio button or checkbox counts with the label that wraps
# it (tapping the label picks it). A link inside running text is excepted, as WCAG 2.5.8 allows for an
# inline target whose size the line of text constrains: a link sharing its paragraph with other words.
SMALL_TARGETS = """() => Array.from(document.querySelectorAll('a, button, input, select, summary, textarea'))
  .filter((e) => e.type !== 'hidden' && e.getClientRects().length)
  .filter((e) => !(e.tagName === 'A' && e.parentElement.closest('p, li, dd')
                   && e.parentElement.closest('p, li, dd').textContent.trim() !== e.textContent.trim()))
  .map((e) => (e.type === 'radio' || e.type === 'checkbox') && e.closest('label') ? e.closest('label') : e)
  .map((e) => { const r = e.getBoundingClientRect();
    return [e.outerHTML.slice(0, 100), Math.round(r.width), Math.round(r.height)]; })
  .filter(([, w, h]) => w < 44 || h < 44)"""


def sweep(page, endpoint: str, lang: str, resident: bool, found: list):
    """axe on the page as it is now, `<html lang>`, and on a resident's page the size of every target."""
    assert page.locator("meta[name=catalog]").get_attribute("content") == lang, (endpoint, "not switched")
    html_lang = page.evaluate("document.documentElement.lang")
    if html_lang != HTML_LANG[lang]:
        found.append(f"{endpoint}: <html lang={html_lang!r}> for the {lang} catalog")
    for v in axe_violations(page):
        found.append(f"{endpoint}: [{v['impact']}] {v['id']}: {v['help']}\n      " + "\n      ".join(v["targets"][:8]))
    if resident:
        for html, w, h in page.evaluate(SMALL_TARGETS):
            found.append(f"{endpoint}: target {w}×{h} px < 44×44: {html}")


def url_of(hall, path: str) -> str:
    return path if path.startswith("http") else hall.url + path


def join_page(page, invitation: str, nickname: str):
    page.goto(invitation)
    page.locator("input[name=nickname]").fill(nickname)
    page.locator("input[name=nickname]").press("Enter")
    page.wait_for_url("**/table")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_axe_finds_no_wcag_22_aa_violation_on_any_page(hall, browser, lang, viewport):
    assert AXE.exists(), "tests/vendor/axe.min.js is missing: run make install-dev"
    found: list[str] = []
    # bypass_csp: the page's CSP (script-src 'self') would refuse the injected axe script.
    resident = browser.new_context(**VIEWPORTS[viewport], bypass_csp=True)
    organizer = browser.new_context(**VIEWPORTS[viewport], bypass_csp=True)
    try:
        page = resident.new_page()
        page.goto(hall.url + "/")
        choose_language(page, lang)
        invitation = hall.invitations.pop()
        for endpoint, who, path, ready in pages(hall):
            if who != "participant":
                continue
            if endpoint == "join.table":  # the welcome page was swept: pick a nickname and sit down
                page.locator("input[name=nickname]").fill(f"{lang}-{viewport}")
                page.locator("input[name=nickname]").press("Enter")
                page.wait_for_url("**/table")
            else:
                page.goto(invitation if path == "INVITATION" else url_of(hall, path), wait_until="domcontentloaded")
            wait_ready(page, ready)
            sweep(page, endpoint, lang, endpoint != "projector.screen", found)

        page = organizer.new_page()
        page.goto(hall.url + "/login")
        choose_language(page, lang)
        for endpoint, who, path, ready in pages(hall):
            if who != "staff":
                continue
            page.goto(url_of(hall, path), wait_until="domcontentloaded")
            wait_ready(page, ready)
            if endpoint == "control.room":  # a table's detail open too: its people, ideas and tallies
                page.locator("#tables .tile").first.click()
                page.locator("#detail-ideas li.idea >> nth=2").wait_for()
            sweep(page, endpoint, lang, False, found)
            if endpoint == "auth.login":
                page.locator("input[name=email]").fill(ADMIN[0])
                page.locator("input[name=password]").fill(ADMIN[1])
                page.locator("input[name=password]").press("Enter")
                page.wait_for_url("**/staff/")
    finally:
        resident.close()
        organizer.close()
    assert not found, f"{len(found)} problems ({lang}, {viewport}):\n  " + "\n  ".join(found)


def test_axe_finds_no_wcag_22_aa_violation_in_the_published_report(hall, browser, tmp_path):
    """The report's HTML (in the package residents and the public read) at both sizes."""
    import io
    import zipfile

    package = hall.organizer.get(hall.report_zip, timeout=30)
    assert package.status_code == 200, package.status_code
    report = tmp_path / "report.html"
    report.write_bytes(zipfile.ZipFile(io.BytesIO(package.content)).read(f"meeting-{hall.meeting_id}/report.html"))
    found = []
    for viewport in VIEWPORTS:
        context = browser.new_context(**VIEWPORTS[viewport])
        try:
            page = context.new_page()
            page.goto(report.as_uri())
            assert page.evaluate("document.documentElement.lang") == "ja"  # the meeting's language
            found += [f"{viewport}: [{v['impact']}] {v['id']}: {v['help']}\n      " + "\n      ".join(v["targets"][:8])
                      for v in axe_violations(page)]
        finally:
            context.close()
    assert not found, f"{len(found)} problems in report.html:\n  " + "\n  ".join(found)


FOCUSED = """() => { const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
  return {what: e.outerHTML.slice(0, 100), body: e === document.body,
          key: e.tagName + '#' + e.id + '.' + e.className + '@' + Math.round(r.x) + ',' + Math.round(r.y + scrollY),
          outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
          shadow: s.boxShadow !== 'none',
          visible: r.width >= 8 && r.height >= 8 && r.bottom > 0 && r.top < innerHeight}; }  // not a clipped sr-only box"""


def test_focus_is_always_visible_on_the_table_page(hall, browser):
    """Tab through every focusable thing of the table page (every fold open): each shows a focus ring."""
    context = browser.new_context(**{**VIEWPORTS["phone"], "is_mobile": False, "has_touch": False})
    try:
        page = context.new_page()
        join_page(page, hall.invitations.pop(), "フォーカス")
        wait_ready(page, pages(hall)[6][3])
        page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
        seen, unseen = [], []
        for _ in range(600):
            page.keyboard.press("Tab")
            focused = page.evaluate(FOCUSED)
            if focused["body"] or (seen and focused["key"] == seen[0]):
                break  # round the page once
            seen.append(focused["key"])
            if not (focused["visible"] and (focused["outline"] or focused["shadow"])):
                unseen.append(focused["what"])
        assert len(seen) > 60, seen  # the open polls' choices, the ideas' votes, the folds, the forms
        assert unseen == [], f"{len(unseen)} of {len(seen)} focused elements show no focus:\n  " + "\n  ".join(unseen)
    finally:
        context.close()


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    def luminance(colour):
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_opinion_maps_group_colours_read_on_white():
    """axe cannot judge SVG text over dots (it answers "incomplete"), and a small meeting shows only a
    group or two: every group's label reads at 4.5:1 on the map's white, every dot and mark at 3:1."""
    from meeting.web.opinion import COLOURS, INKS

    assert len(INKS) == len(COLOURS)
    assert [c for c in INKS if contrast(c, "#ffffff") < 4.5] == []
    assert [c for c in COLOURS if contrast(c, "#ffffff") < 3] == []

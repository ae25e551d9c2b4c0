"""The table page on a phone: what its first load weighs, how soon it is usable on slow 3G, and what a
reload shows while the server is away.

Figures are printed (run with -s to see them) and recorded in the README; only the weight is asserted.
"""

import pytest

from tests.browser import PHONE, chromium, join, reconnecting_table_page
from tests.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.live]

BUDGET = 60 * 1024  # bytes on the wire, first load, fonts included
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * 1000 / 8, "uploadThroughput": 400 * 1000 / 8}
# Usable: the socket is connected (its WebSocket handshake answered, CDP's clock) and the idea form is enabled.
USABLE = "() => !document.getElementById('idea-text').disabled"


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path).start()
    yield live
    live.stop()


def first_load(context, url, conditions=None):
    """Open the table page with an empty cache (no service worker): bytes on the wire and seconds."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")
    if conditions:
        cdp.send("Network.emulateNetworkConditions", conditions)
    sizes, clock = {}, {}
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    cdp.on("Network.requestWillBeSent", lambda e: clock.setdefault("start", e["timestamp"]))
    cdp.on("Network.webSocketHandshakeResponseReceived", lambda e: clock.setdefault("socket", e["timestamp"]))
    page.goto(url, wait_until="load")
    page.wait_for_function(USABLE, timeout=60000)
    page.wait_for_function("() => true")  # let CDP events arrive
    deadline = 600
    while "socket" not in clock and deadline:
        page.wait_for_timeout(100)
        deadline -= 1
    usable = clock["socket"] - clock["start"]
    page.wait_for_load_state("networkidle")
    total = sum(sizes.values())
    page.close()
    return total, usable


def test_table_page_first_load_weight_and_slow_3g(server):
    demo = server.demo(participants=1, tables=1)
    with chromium() as browser:
        context = browser.new_context(**PHONE, service_workers="block")
        page = context.new_page()
        join(page, demo["participants"][0]["join_url"], "さくら")
        url = page.url
        page.close()
        weight, fast = first_load(context, url)
        _, slow = first_load(context, url, SLOW_3G)
    print(f"\ntable page first load: {weight} bytes transferred ({weight / 1024:.1f} KB), usable after "
          f"{fast:.2f} s unthrottled, {slow:.2f} s on slow 3G (400 kbit/s, 400 ms RTT)")
    assert weight <= BUDGET, weight


def test_reload_while_offline_shows_the_apps_reconnecting_page(server):
    with chromium() as browser:
        page = reconnecting_table_page(browser, server)
        assert page.url.endswith("/table")
        assert page.locator("link[rel=stylesheet]").evaluate("l => l.sheet !== null")
        # The server is back: the page opens again by itself.
        server.start()
        page.get_by_label("あなたの意見").wait_for(timeout=15000)


def test_the_reconnecting_page_opened_at_its_own_address_stays_put(server):
    """Only the page shown in place of another reopens itself: at /offline there is nothing to reopen, and
    a reload every 2 s would cut short the next page the visitor opens."""
    with chromium() as browser:
        page = browser.new_page(**PHONE)
        page.clock.install()
        heads = []
        page.on("request", lambda r: r.method == "HEAD" and heads.append(r.url))
        page.goto(server.url + "/offline")
        page.get_by_role("heading", name="再接続中…").wait_for()
        page.clock.run_for(10_000)  # five retry intervals, at once
        # A HEAD of our own, after the timers ran: requests are announced in the order they are made.
        page.evaluate("() => fetch('/offline?probe', {method: 'HEAD'})")
        deadline = 200
        while not any(u.endswith("probe") for u in heads) and deadline:
            page.wait_for_timeout(50)
            deadline -= 1
        assert [u.rsplit("/", 1)[-1] for u in heads] == ["offline?probe"]
        assert page.url.endswith("/offline")

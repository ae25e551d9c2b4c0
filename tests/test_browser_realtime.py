"""The browser's realtime client (static/js/realtime.js) in Chromium, on broadcasts that arrive out of
order: with two server processes a stream's broadcasts reach Redis from each, and one can overtake
another. The socket here is a stand-in the test drives, so the order of arrival is the test's."""

from pathlib import Path

import pytest

from tests.browser import chromium

pytestmark = pytest.mark.browser

REALTIME = Path(__file__).resolve().parent.parent / "static" / "js" / "realtime.js"

# A socket that records what the client asks and lets the test deliver broadcasts and answer snapshots.
FAKE_SOCKET = """
window.sent = [];
window.io = () => {
  const handlers = {};
  const socket = {
    connected: true, active: true, any: null,
    on(name, fn) { handlers[name] = fn; },
    onAny(fn) { socket.any = fn; },
    timeout() { return { emit: (name, payload, cb) => window.sent.push({ name, payload, cb }) }; },
    emit() {},
    connect() {},
    fire(name) { handlers[name](); },
  };
  window.socket = socket;
  return socket;
};
"""

SETUP = """() => {
  window.applied = [];
  window.sent = [];
  window.snapshots = 0;
  window.rt = new Kurumaza.Realtime({
    onSnapshot: () => { window.snapshots += 1; },
    onEvent: (name, message) => window.applied.push(message.seq),
  });
  socket.fire('connect');
}"""

ANSWER_SNAPSHOT = """(position) => {
  const ask = sent.filter((s) => s.name === 'snapshot').pop();
  ask.cb(null, { ok: true, snapshot: { streams: { 'table:1': position } } });
}"""

DELIVER = """(pairs) => pairs.forEach(([seq, prev]) =>
  socket.any('idea_posted', { stream: 'table:1', seq: seq, prev: prev }))"""


@pytest.fixture(scope="module")
def page():
    with chromium() as browser:
        page = browser.new_page()
        page.set_content("<!doctype html><title>realtime</title>")
        page.add_script_tag(content=FAKE_SOCKET)
        page.add_script_tag(path=str(REALTIME))
        yield page


def asked_snapshots(page) -> int:
    return page.evaluate("sent.filter((s) => s.name === 'snapshot').length")


def test_a_broadcast_that_overtook_the_one_before_it_waits_for_it(page):
    page.evaluate(SETUP)
    page.evaluate(ANSWER_SNAPSHOT, 5)
    page.evaluate(DELIVER, [[7, 6], [8, 7], [6, 5]])  # 7 and 8 overtook 6
    assert page.evaluate("applied") == [6, 7, 8]
    assert asked_snapshots(page) == 1  # the one on connecting: nothing was lost, so no other
    page.evaluate(DELIVER, [[9, 8]])
    assert page.evaluate("applied") == [6, 7, 8, 9]


def test_a_broadcast_whose_predecessor_never_comes_brings_a_snapshot(page):
    page.evaluate(SETUP)
    page.evaluate(ANSWER_SNAPSHOT, 5)
    page.evaluate(DELIVER, [[8, 7]])  # 6 and 7 lost
    assert page.evaluate("applied") == []
    page.wait_for_function("sent.filter((s) => s.name === 'snapshot').length === 2", timeout=20000)
    page.evaluate(ANSWER_SNAPSHOT, 7)  # the snapshot has 6 and 7; 8, held meanwhile, follows it
    assert page.evaluate("applied") == [8]
    assert page.evaluate("snapshots") == 2

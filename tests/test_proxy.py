"""Behind nginx every request comes from 127.0.0.1: the rate limits and the access log see the
phone's own address only when the proxy is trusted (MEETING_PROXY_HOPS), and never a header a
client wrote itself when it is not."""

import pytest
import requests

from tests.live import CSRF, LiveServer

pytestmark = pytest.mark.live

WRONG_CODE = "ZZZZ9999"


def try_code(server: LiveServer, forwarded_for: str | None = None) -> int:
    """One typed-code attempt from a fresh browser; the status code of the answer."""
    http = requests.Session()
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = http.get(server.url + "/join", headers=headers, timeout=10)
    token = CSRF.search(page.text).group(1)
    return http.post(server.url + "/join", data={"code": WRONG_CODE, "csrf_token": token}, headers=headers,
                     timeout=10).status_code


@pytest.fixture(params=[1, 0], ids=["proxy-trusted", "no-proxy"])
def server(request, tmp_path):
    live = LiveServer(tmp_path, extra_env={"MEETING_PROXY_HOPS": str(request.param), "MEETING_ACCESS_LOG": "1",
                                           "MEETING_CODE_RATE_LIMIT": "3 per minute"})
    live.hops = request.param
    try:
        yield live.start()
    finally:
        live.stop()


def test_rate_limits_key_on_the_forwarded_address_only_behind_a_trusted_proxy(server):
    # A phone in the hall, as nginx forwards it: three wrong codes, then it must wait.
    assert [try_code(server, "203.0.113.10") for _ in range(3)] == [400, 400, 400]
    assert try_code(server, "203.0.113.10") == 429

    if server.hops:
        # Another phone behind the same proxy still gets its three tries, and so does a request
        # without the header (the proxy's own address is a key of its own).
        assert try_code(server, "203.0.113.11") == 400
        assert try_code(server) == 400
        # A forged address written before nginx's own entry does not escape the limit: only the
        # last hop's entry (the one the trusted proxy appended) counts.
        assert try_code(server, "198.51.100.7, 203.0.113.10") == 429
        # The access log names the phone (its line is written once the response has gone out).
        assert server.wait_for_log("203.0.113.10 - - ["), server.log.read_text()[-2000:]
        assert "198.51.100.7 - - [" not in server.log.read_text()
    else:
        # Served directly, the header is anyone's to write: it is ignored, and the address the
        # limit counts is the connection's, already used up.
        assert try_code(server, "203.0.113.11") == 429
        assert try_code(server) == 429
        assert "203.0.113." not in server.log.read_text()

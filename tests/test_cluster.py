"""Two workers on PostgreSQL + Redis behave as one server: a change made through one worker
reaches phones on the other, and the per-meeting background work (the tally coalescer, the
opinion map's recompute, the poll clock) runs once per meeting, not once per worker."""

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import socketio

from tests.live import REDIS_TEST_URL, LiveServer, Phone, PostgresDatabase, close_all, free_port, join_over_http, staff_login

pytestmark = pytest.mark.live
PROJECT = Path(__file__).resolve().parent.parent
INTERVAL = "3.0"  # long enough, on a slow machine too, that two votes sent back to back land in one interval


def total(tally: dict) -> int:
    return sum(tally.values())


def tallies_of(phone: Phone, idea_id: int) -> list[int]:
    """The totals of every `tallies` message this phone received for the idea."""
    return [total(m["tallies"][str(idea_id)]) for m in phone.named("tallies") if str(idea_id) in m["tallies"]]


@pytest.fixture
def cluster(tmp_path):
    database = PostgresDatabase()
    env = {"MEETING_TALLY_INTERVAL": INTERVAL, "MEETING_MAP_INTERVAL": INTERVAL, "MEETING_POLL_CLOCK_INTERVAL": "0.2",
           "MEETING_ACCESS_LOG": "1", "MEETING_PROXY_HOPS": "1"}  # as `make cluster` runs them, behind nginx
    a = LiveServer(tmp_path, database_url=database.url, redis_url=REDIS_TEST_URL, name="a", extra_env=env)
    b = LiveServer(tmp_path, database_url=database.url, redis_url=REDIS_TEST_URL, name="b", extra_env=env,
                   migrate=False)
    try:
        yield a.start(), b.start()
    finally:
        a.stop(), b.stop()
        database.drop()


def test_two_workers_deliver_across_and_coalesce_once_per_meeting(cluster):
    a, b = cluster
    demo = a.demo(participants=3, tables=1)
    meeting_id = demo["meeting_id"]
    people = [join_over_http(p["join_url"], f"p{p['number']}") for p in demo["participants"]]
    staff_http = staff_login(a, demo["facilitator"]["email"], demo["facilitator"]["password"])
    phones = []
    try:
        on_a, on_b = Phone(a, people[0]), Phone(b, people[1])
        third_on_b = Phone(b, people[2])
        staff = Phone(a, staff_http, auth={"meeting_id": meeting_id})
        phones = [on_a, on_b, third_on_b, staff]

        # An idea posted through worker A reaches the phone on worker B.
        first = on_a.call("post_idea", {"text": "公園にベンチを"})["idea"]["id"]
        assert on_b.wait_for(lambda: any(m["idea"]["id"] == first for m in on_b.named("idea_posted")))
        second = on_b.call("post_idea", {"text": "図書館を夜まで"})["idea"]["id"]

        # Two votes on one idea, one through each worker, within one coalescing interval.
        assert on_a.call("vote", {"idea_id": first, "value": "agree"})["ok"]
        assert on_b.call("vote", {"idea_id": first, "value": "disagree"})["ok"]
        for phone in (on_a, on_b, staff):
            assert phone.wait_for(lambda p=phone: 2 in tallies_of(p, first), timeout=20)
        assert staff.wait_for(lambda: any(m["vote_count"] == 2 for m in staff.named("opinion_map")), timeout=20)

        # A marker: a later vote through worker B, flushed an interval after the batch above; any
        # second flush of that batch (by the other worker) would have reached the phones before it.
        assert third_on_b.call("vote", {"idea_id": second, "value": "agree"})["ok"]
        for phone in (on_a, on_b, staff):
            assert phone.wait_for(lambda p=phone: 1 in tallies_of(p, second), timeout=20)
        assert staff.wait_for(lambda: any(m["vote_count"] == 3 for m in staff.named("opinion_map")), timeout=20)

        for phone in (on_a, on_b, staff):
            assert tallies_of(phone, first) == [2]  # one tally message for the interval, not one per worker
        assert [m["vote_count"] for m in staff.named("opinion_map")] == [2, 3]  # one recompute per interval

        # A poll with a one-second deadline, opened through worker A, closes once for phones on both.
        created = staff.call("create_poll", {"kind": "single", "question": "どこに予算を?", "options": ["公園", "図書館"],
                                             "visibility": "live", "rules": {"duration": 1}})
        assert created["ok"], created
        poll_id = created["poll"]["id"]
        assert staff.call("open_poll", {"poll_id": poll_id})["ok"]
        for phone in (on_a, on_b):
            assert phone.wait_for(lambda p=phone: any(m["poll"]["id"] == poll_id for m in p.named("poll_closed")),
                                  timeout=20)
        # Marker: an idea posted after the close; a second close would have come before it.
        marker = on_b.call("post_idea", {"text": "広場で市場を"})["idea"]["id"]
        for phone in (on_a, on_b):
            assert phone.wait_for(lambda p=phone: any(m["idea"]["id"] == marker for m in p.named("idea_posted")))
            assert len([m for m in phone.named("poll_closed") if m["poll"]["id"] == poll_id]) == 1
    finally:
        close_all(phones)


NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def test_nginx_sticks_a_phone_to_one_worker_through_polling_and_upgrade(cluster, tmp_path):
    """Through the nginx.conf `make cluster` writes: Engine.IO long-polling (every request of a
    session must reach the worker that holds it) and the upgrade to WebSocket both work, for
    phones routed to either worker by their cookie, and a vote through nginx reaches every phone."""
    assert NGINX, "nginx is not installed: `make install-dev` (or `make cluster`) installs Debian's package"
    sys.path.insert(0, str(PROJECT / "deploy"))
    import cluster as topology

    a, b = cluster
    port = free_port()
    (tmp_path / "nginx-tmp").mkdir()
    conf = tmp_path / "nginx.conf"
    servers = "\n".join(f"        server 127.0.0.1:{s.port};" for s in (a, b))
    conf.write_text(topology.NGINX_CONF.format(dir=tmp_path, servers=servers, port=port, cookie=topology.ROUTE_COOKIE))
    nginx = [NGINX, "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "nginx-error.log")]
    subprocess.run(nginx, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    front = f"http://127.0.0.1:{port}"
    clients = []
    try:
        demo = a.demo(participants=12, tables=1)
        people = [join_over_http(p["join_url"].replace(a.url, front), f"p{p['number']}") for p in demo["participants"]]
        assert all(topology.ROUTE_COOKIE in http.cookies for http in people)
        received = {}
        for index, http in enumerate(people):
            # The phone's own cookie jar on every request, as a browser sends its cookies.
            client = socketio.Client(reconnection=False, http_session=http)
            received[index] = []
            client.on("*", lambda name, data, i=index: received[i].append((name, data)))
            # Half stay on long-polling, half upgrade to WebSocket: both need one worker per session.
            transports = ["polling"] if index % 2 else ["polling", "websocket"]
            client.connect(front, transports=transports, wait_timeout=10)
            clients.append(client)
        posted = clients[0].call("post_idea", {"op_id": str(uuid.uuid4()), "text": "公園にベンチを"}, timeout=10)
        assert posted["ok"], posted
        idea = posted["idea"]["id"]
        for index, client in enumerate(clients):
            ack = client.call("vote", {"op_id": str(uuid.uuid4()), "idea_id": idea, "value": "agree"}, timeout=10)
            assert ack["ok"], ack
        deadline = time.monotonic() + 10
        def final(i):
            return any(name == "tallies" and sum(d["tallies"].get(str(idea), {}).values()) == len(clients)
                       for name, d in received[i])
        while time.monotonic() < deadline and not all(final(i) for i in received):
            time.sleep(0.05)
        assert all(final(i) for i in received)  # every phone, on either worker, has the final tally
        # The cookies spread the phones over both workers (all 12 on one: odds of 1 in 2,000).
        assert all("/socket.io/" in s.log.read_text() for s in (a, b))
        # nginx appends the address it saw to X-Forwarded-For, and the workers trust that entry
        # only: an address a client wrote in the header itself never reaches the rate limits.
        assert requests.get(front + "/login?forged", headers={"X-Forwarded-For": "198.51.100.7"}, timeout=10).ok
        # The access log line is written once the response has gone out: wait for it.
        deadline = time.monotonic() + 20
        while "GET /login?forged" not in (logs := a.log.read_text() + b.log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert '127.0.0.1 - - [' in logs and "GET /login?forged" in logs and "198.51.100.7" not in logs
    finally:
        for client in clients:
            client.disconnect()
        subprocess.run([*nginx, "-s", "quit"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

"""The live meeting on a real server process with real python-socketio clients.

The same flow runs on the embedded default (SQLite) and on PostgreSQL with Redis as the
Socket.IO message queue.
"""

import base64
import os
import socket

import pytest
import socketio

from tests.live import LiveServer, Phone, close_all, join_over_http, serving

pytestmark = pytest.mark.live


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request, tmp_path_factory):
    """One server per backend for the module; every test makes its own demo meeting."""
    with serving(request.param, tmp_path_factory.mktemp(request.param)) as live:
        yield live


def test_two_tables_each_see_only_their_own_events(server):
    demo = server.demo(participants=4, tables=2)
    by_table: dict[str, list] = {}
    for person in demo["participants"]:
        by_table.setdefault(person["table"], []).append(person)
    (a1, a2), (b1, b2) = by_table.values()
    phones = {key: Phone(server, join_over_http(p["join_url"], key)) for key, p in
              (("a1", a1), ("a2", a2), ("b1", b1), ("b2", b2))}
    try:
        for phone in phones.values():
            assert phone.call("snapshot", {})["ok"]
        idea_a = phones["a1"].call("post_idea", {"text": "駅前に駐輪場を"})["idea"]["id"]
        idea_b = phones["b1"].call("post_idea", {"text": "Bench by the river"})["idea"]["id"]
        assert phones["a2"].call("vote", {"idea_id": idea_a, "value": "agree"})["ok"]
        assert phones["b2"].call("vote", {"idea_id": idea_b, "value": "disagree"})["ok"]
        # A phone cannot vote on another table's idea.
        assert phones["b2"].call("vote", {"idea_id": idea_a, "value": "agree"})["error"] == "not_found"

        def tally(phone, idea_id):
            values = [t["tallies"].get(str(idea_id)) for t in phone.named("tallies")]
            return values[-1] if values and values[-1] else None

        assert phones["a1"].wait_for(lambda: tally(phones["a1"], idea_a) == {"agree": 1, "disagree": 0, "pass": 0})
        assert phones["b1"].wait_for(lambda: tally(phones["b1"], idea_b) == {"agree": 0, "disagree": 1, "pass": 0})
        for key, own, other in (("a1", idea_a, idea_b), ("a2", idea_a, idea_b),
                                ("b1", idea_b, idea_a), ("b2", idea_b, idea_a)):
            seen_ideas = {e["idea"]["id"] for e in phones[key].named("idea_posted")}
            seen_tallies = {i for t in phones[key].named("tallies") for i in t["tallies"]}
            assert own in seen_ideas and other not in seen_ideas, key
            assert str(other) not in seen_tallies, key
            seqs = [data["seq"] for _, data in phones[key].received]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), key
    finally:
        close_all(phones.values())


def test_reconnecting_phone_catches_up_from_snapshot(server):
    demo = server.demo(participants=2, tables=1)
    first, second = demo["participants"]
    http_a = join_over_http(first["join_url"], "A")
    a, b = Phone(server, http_a), Phone(server, join_over_http(second["join_url"], "B"))
    try:
        a.call("post_idea", {"text": "before the drop"})
        close_all([a])
        b.call("post_idea", {"text": "while A was away"})
        a = Phone(server, http_a)
        snapshot = a.call("snapshot", {})["snapshot"]
        assert [i["text"] for i in snapshot["ideas"]] == ["before the drop", "while A was away"]
        assert snapshot["streams"][f"table:{snapshot['table']['id']}"] >= 2
    finally:
        close_all([a, b])


def test_foreign_origin_is_refused(server):
    demo = server.demo(participants=1, tables=1)
    http = join_over_http(demo["participants"][0]["join_url"], "A")
    with pytest.raises(socketio.exceptions.ConnectionError):
        Phone(server, http, origin="https://evil.example")


def test_a_connection_ends_with_its_websocket(server):
    # Once a phone's WebSocket is closed, the server closes the connection too: it must not wait on
    # it for a next HTTP request and read the phone's last frames as one (garbage in the log).
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as raw:
        key = base64.b64encode(os.urandom(16)).decode()
        raw.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        received = b""
        while b"\r\n\r\n" not in received:
            received += raw.recv(4096)
        assert received.startswith(b"HTTP/1.1 101"), received[:200]
        mask = os.urandom(4)
        raw.sendall(bytes([0x88, 0x82]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate((1000).to_bytes(2, "big"))))
        while chunk := raw.recv(4096):  # the server's frames, then the end of the connection
            received += chunk
    assert b"\x88" in received.split(b"\r\n\r\n", 1)[1]  # the server answered the close


def test_fifty_identical_votes_leave_one(server):
    from concurrent.futures import ThreadPoolExecutor

    demo = server.demo(participants=2, tables=1)
    http = join_over_http(demo["participants"][0]["join_url"], "A")
    author = Phone(server, http)
    idea_id = author.call("post_idea", {"text": "one vote only"})["idea"]["id"]
    voters = [Phone(server, http) for _ in range(10)]  # ten connections of the same phone
    try:
        def submit(i):
            return voters[i % 10].call("vote", {"idea_id": idea_id, "value": "agree"})

        with ThreadPoolExecutor(max_workers=25) as pool:
            acks = list(pool.map(submit, range(50)))
        assert all(a["ok"] for a in acks)
        snapshot = author.call("snapshot", {})["snapshot"]
        assert snapshot["ideas"][0]["tally"] == {"agree": 1, "disagree": 0, "pass": 0}
    finally:
        close_all(voters + [author])


@pytest.mark.parametrize("mode", ["eventlet", "threading"])
def test_other_async_modes_serve_the_same_flow(tmp_path, mode):
    live = LiveServer(tmp_path, mode=mode).start()
    try:
        demo = live.demo(participants=2, tables=1)
        a = Phone(live, join_over_http(demo["participants"][0]["join_url"], "A"))
        b = Phone(live, join_over_http(demo["participants"][1]["join_url"], "B"))
        b.call("snapshot", {})
        idea = a.call("post_idea", {"text": f"served by {mode}"})["idea"]
        assert b.wait_for(lambda: [e["idea"]["text"] for e in b.named("idea_posted")] == [f"served by {mode}"])
        assert b.call("vote", {"idea_id": idea["id"], "value": "pass"})["ok"]
        assert a.wait_for(lambda: any(t["tallies"].get(str(idea["id"]), {}).get("pass") == 1 for t in a.named("tallies")))
        close_all([a, b])
    finally:
        live.stop()
        assert f"({mode} mode)" in live.log.read_text()


def test_first_start_creates_an_organizer_and_prints_its_login_once(tmp_path):
    import re

    import requests

    from tests.live import CSRF

    live = LiveServer(tmp_path)
    for key in ("MEETING_ADMIN_EMAIL", "MEETING_ADMIN_PASSWORD"):
        live.env.pop(key)
    live.start()
    try:
        log = live.log.read_text()
        email = re.search(r"e-mail:\s+(\S+)", log).group(1)
        password = re.search(r"password:\s+(\S+)", log).group(1)
        http = requests.Session()
        token = CSRF.search(http.get(live.url + "/login").text).group(1)
        page = http.post(live.url + "/login", data={"email": email, "password": password, "csrf_token": token})
        assert page.url.endswith("/staff/") and "会議一覧" in page.text
    finally:
        live.stop()
    live.start()  # a second start prints no new login
    live.stop()
    assert live.log.read_text().count("password:") == 1


@pytest.mark.postgres
def test_two_deployments_on_one_redis_never_hear_each_other(tmp_path):
    """MEETING_REDIS_NAMESPACE: the same meeting and table ids on two deployments sharing one Redis."""
    folders = {name: tmp_path / name for name in ("north", "south")}
    for folder in folders.values():
        folder.mkdir()
    with serving("postgresql", folders["north"], extra_env={"MEETING_REDIS_NAMESPACE": "north"}) as north, \
            serving("postgresql", folders["south"], extra_env={"MEETING_REDIS_NAMESPACE": "south"}) as south:
        phones = {}
        for name, live in (("north", north), ("south", south)):
            demo = live.demo(participants=2, tables=1)
            assert demo["meeting_id"] == 1  # a fresh database each: the same ids on both
            phones[name] = [Phone(live, join_over_http(p["join_url"], f"{name}{n}"))
                            for n, p in enumerate(demo["participants"])]
        try:
            def texts(phone):
                return [m["idea"]["text"] for m in phone.named("idea_posted")]

            # Each table's neighbour gets its own deployment's idea through Redis (in publish order),
            # so by then the other deployment would have heard the first one too.
            for name, text in (("north", "北の案"), ("south", "南の案")):
                author, neighbour = phones[name]
                assert author.call("post_idea", {"text": text})["ok"]
                assert neighbour.wait_for(lambda n=neighbour, t=text: t in texts(n)), name
            for phone in phones["north"]:
                assert "南の案" not in texts(phone)
            for phone in phones["south"]:
                assert "北の案" not in texts(phone)
        finally:
            close_all(phones["north"] + phones["south"])

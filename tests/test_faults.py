"""Fault tests: the server killed, Redis stopped, PostgreSQL restarted, a phone offline.

Real server processes, real python-socketio clients, loopback only, bounded in count and time.
After each fault every acknowledged vote and ballot is stored exactly once, the tallies equal
them, and every phone's view equals a fresh snapshot (docs/reliability.md).
"""

import time

import pytest

from tests.live import LiveServer, VotingFloor

pytestmark = pytest.mark.live


def wait_for_acks(floor: VotingFloor, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while floor.acks < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert floor.acks >= count, f"only {floor.acks} acks"


def finish(threads, errors):
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads), "a phone is still waiting for an answer"
    assert errors == []


def test_server_killed_mid_vote_loses_and_doubles_nothing(tmp_path):
    server = LiveServer(tmp_path).start()
    floor = None
    try:
        floor = VotingFloor([server], participants=50, tables=5)
        threads, errors = floor.vote(operations=12)
        wait_for_acks(floor, 150)
        server.kill()  # mid-burst: some votes committed but not acknowledged, some not sent
        killed_at = floor.acks
        server.restart()
        finish(threads, errors)
        assert floor.refused == []
        assert floor.acks == 50 * 12 > killed_at
        assert sum(p.stats["reconnects"] for p in floor.phones) >= 50  # every phone came back
        assert floor.check(server.env["DATABASE_URL"]) == []
    finally:
        if floor:
            floor.close()
        server.stop()

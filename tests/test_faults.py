"""Fault tests: the server killed, Redis stopped, PostgreSQL restarted, a phone offline.

Real server processes, real python-socketio clients, loopback only, bounded in count and time.
After each fault every acknowledged vote and ballot is stored exactly once, the tallies equal
them, and every phone's view equals a fresh snapshot (docs/reliability.md).
"""

import threading
import time

import pytest

from tests.live import (
    LiveServer,
    Phone,
    PostgresDatabase,
    PostgresServer,
    RedisServer,
    ReliablePhone,
    VotingFloor,
    close_all,
    join_over_http,
    staff_login,
)

pytestmark = [pytest.mark.live, pytest.mark.faults]


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


def test_a_restarted_server_numbers_its_streams_past_what_it_may_have_broadcast(tmp_path):
    """On SQLite a broadcast leaves at its commit, before the fsync its answer waits for, so a
    power cut could lose commits whose events phones already hold. A restarted server numbers
    every stream past those: no number goes to two different events, and a phone that reconnects
    takes the new positions from its snapshot and gets what follows (docs/reliability.md)."""
    from meeting.services.events import STREAM_LEAP

    server = LiveServer(tmp_path).start()
    phones = []
    try:
        first, second = server.demo(participants=2, tables=1)["participants"]
        cookies = [join_over_http(first["join_url"], "A"), join_over_http(second["join_url"], "B")]
        phones = [Phone(server, http) for http in cookies]
        assert phones[0].call("post_idea", {"text": "before the restart"})["ok"]
        before = phones[1].call("snapshot", {})["snapshot"]
        table = f"table:{before['table']['id']}"
        numbered = {name: seq for name, seq in before["streams"].items() if seq}
        assert numbered.get(table, 0) >= 1
        server.kill()
        close_all(phones)
        server.restart()
        phones = [Phone(server, http) for http in cookies]
        after = phones[1].call("snapshot", {})["snapshot"]
        assert {name: after["streams"][name] - seq for name, seq in numbered.items()} == \
            {name: STREAM_LEAP for name in numbered}
        assert [i["text"] for i in after["ideas"]] == ["before the restart"]
        idea = phones[0].call("post_idea", {"text": "after the restart"})["idea"]
        assert phones[1].wait_for(lambda: [(e["idea"]["id"], e["prev"], e["seq"]) for e in phones[1].named("idea_posted")]
                                  == [(idea["id"], after["streams"][table], after["streams"][table] + 1)])
    finally:
        close_all(phones)
        server.stop()


def phone_totals(floor: VotingFloor) -> dict:
    return {key: sum(p.stats[key] for p in floor.phones) for key in floor.phones[0].stats}


def test_postgresql_restart_mid_burst_gets_retry_answers_and_loses_nothing(tmp_path):
    postgres = PostgresServer().start().create_database()
    server = LiveServer(tmp_path, database_url=postgres.url).start()
    floor = None
    try:
        floor = VotingFloor([server], participants=20, tables=2)
        threads, errors = floor.vote(operations=15, pause=(0.02, 0.1))
        wait_for_acks(floor, 100)
        postgres.stop("fast")  # every connection of the pool dies; new ones are refused
        deadline = time.monotonic() + 30
        while phone_totals(floor)["retry_acks"] < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        # A phone that opens a second connection now is refused with "retry", and tries again.
        late: list = []
        opening = threading.Thread(target=lambda: late.append(ReliablePhone(server.url, floor.sessions[0])))
        opening.start()
        deadline = time.monotonic() + 30
        while "event connect: database unavailable" not in server.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        acks_while_down = floor.acks
        postgres.start()  # the same server, not restarted: it must reconnect by itself
        opening.join(60)
        assert late and late[0].fresh_snapshot()["me"]["id"] == floor.pid[id(floor.phones[0])]
        late[0].close()
        finish(threads, errors)
        totals = phone_totals(floor)
        assert totals["retry_acks"] >= 30  # answered, and answered "send again"
        print(f"postgresql restart: {totals}")
        assert floor.refused == []
        assert floor.acks == 20 * 15 > acks_while_down
        assert server.process.poll() is None
        assert floor.check(postgres.url) == []
        log = server.log.read_text()
        assert "client asked to retry" in log
    finally:
        if floor:
            floor.close()
        server.stop()
        postgres.destroy()


def test_redis_outage_writes_land_broadcasts_resume_and_clients_catch_up(tmp_path):
    redis = RedisServer(tmp_path).start()
    database = PostgresDatabase()
    a = LiveServer(tmp_path, database_url=database.url, redis_url=redis.url, name="a")
    b = LiveServer(tmp_path, database_url=database.url, redis_url=redis.url, name="b", migrate=False)
    floor = None
    try:
        a.start(), b.start()
        floor = VotingFloor([a, b], participants=20, tables=2)  # phones alternate between a and b
        stop = threading.Event()
        threads, errors = floor.vote(stop=stop, pause=(0.05, 0.2))
        wait_for_acks(floor, 60)
        redis.stop()
        down_acks = floor.acks
        down_until = time.monotonic() + 10
        # Staff can still log in (the login rate limit keeps counting in memory meanwhile).
        staff_login(b, "admin@example.org", "admin password 123")
        time.sleep(max(0.0, down_until - time.monotonic()))  # the outage lasts 10 s, as the issue says
        acks_during_outage = floor.acks - down_acks
        redis.start()  # same port: both servers must find it again by themselves
        back = time.monotonic()

        # A phone on server a posts a probe every half second until one reaches a phone on server b.
        table = next(t for t, ideas in floor.ideas.items())
        sender = next(p for i, p in enumerate(floor.phones) if i % 2 == 0 and floor.table_of[id(p)] == table)
        receiver = next(p for i, p in enumerate(floor.phones) if i % 2 == 1 and floor.table_of[id(p)] == table)
        probes_sent = []
        while not any(m.get("idea", {}).get("text", "").startswith("probe") for n, m in list(receiver.received)
                      if n == "idea_posted") and time.monotonic() < back + 15:
            probes_sent.append(time.monotonic() - back)
            assert sender.call("post_idea", {"text": f"probe {len(probes_sent)}"})["ok"]
            time.sleep(0.5)
        first = next(int(m["idea"]["text"].split()[1]) for n, m in list(receiver.received)
                     if n == "idea_posted" and m["idea"]["text"].startswith("probe"))
        resumed_after = probes_sent[first - 1]
        # Each phone is told to catch up: by its own server once that server's subscription is
        # back (which may come up to RETRY_MAX after the other's), or by the other server's first
        # publish that goes through.
        told = time.monotonic() + 15
        while not all(p.stats["resync_notices"] >= 1 for p in floor.phones) and time.monotonic() < told:
            time.sleep(0.1)
        untold = [i for i, p in enumerate(floor.phones) if p.stats["resync_notices"] == 0]
        wait_for_acks(floor, floor.acks + 40)
        stop.set()
        finish(threads, errors)

        assert acks_during_outage > 0 and floor.refused == []  # writes kept landing
        assert resumed_after <= 10, resumed_after  # cross-process broadcasts resumed within 10 s
        assert untold == [], f"phones never told to resync (even index: server a): {untold}"
        assert floor.check(database.url) == []  # ... and did: every view equals a fresh snapshot
        for server in (a, b):
            assert "message queue back" in server.log.read_text()
        print(f"redis outage: {acks_during_outage} acks during 10 s, cross-process broadcasts back "
              f"{resumed_after:.1f} s after Redis returned; {phone_totals(floor)}")
    finally:
        if floor:
            floor.close()
        a.stop(), b.stop()
        redis.stop()
        database.drop()


def tallies_of(phone: Phone, idea_id: int) -> list[int]:
    """The totals of every `tallies` message this phone received for the idea."""
    return [sum(m["tallies"][str(idea_id)].values()) for m in phone.named("tallies") if str(idea_id) in m["tallies"]]


def test_a_tally_left_pending_by_a_frozen_redis_or_a_dead_worker_still_reaches_the_phones(tmp_path):
    """The vote is acknowledged and its tally waits in Redis for the worker holding the lease. When
    that worker's flush meets a frozen Redis, or the worker dies before it, the tally still goes
    out: the pending set is adopted once its lease runs out. Meanwhile every event answers."""
    redis = RedisServer(tmp_path).start()
    database = PostgresDatabase()
    env = {"MEETING_TALLY_INTERVAL": "2", "MEETING_MAP_INTERVAL": "2"}  # time to act between ack and flush
    a = LiveServer(tmp_path, database_url=database.url, redis_url=redis.url, name="a", extra_env=env)
    b = LiveServer(tmp_path, database_url=database.url, redis_url=redis.url, name="b", extra_env=env, migrate=False)
    phones = []
    try:
        a.start(), b.start()
        demo = a.demo(participants=3, tables=1)
        people = [join_over_http(p["join_url"], f"p{p['number']}") for p in demo["participants"]]
        on_a, on_b, also_on_b = Phone(a, people[0]), Phone(b, people[1]), Phone(b, people[2])
        phones = [on_a, on_b, also_on_b]
        idea = on_b.call("post_idea", {"text": "公園にベンチを"})["idea"]["id"]
        assert on_a.wait_for(lambda: any(m["idea"]["id"] == idea for m in on_a.named("idea_posted")))

        # 1. Worker b took the vote (and the tally's lease); Redis freezes before b's flush.
        assert on_b.call("vote", {"idea_id": idea, "value": "agree"})["ok"]
        redis.freeze()
        try:
            posted = also_on_b.call("post_idea", {"text": "図書館を夜まで"})  # broadcast in the handler
            assert posted["ok"], posted
            assert also_on_b.call("vote", {"idea_id": posted["idea"]["id"], "value": "agree"})["ok"]
            assert on_b.wait_for(lambda: "left for the watch" in b.log.read_text(), timeout=15)  # the flush failed
        finally:
            redis.thaw()
        for phone in phones:
            assert phone.wait_for(lambda p=phone: 1 in tallies_of(p, idea), timeout=20), phone.named("tallies")
        # The phone on a missed the idea broadcast while Redis was frozen, and is told to catch up.
        assert on_a.wait_for(lambda: on_a.named("resync"), timeout=10)

        # 2. Worker a takes the next vote (and the lease) and dies before its flush.
        assert on_a.call("vote", {"idea_id": idea, "value": "disagree"})["ok"]
        a.kill()
        for phone in (on_b, also_on_b):
            assert phone.wait_for(lambda p=phone: 2 in tallies_of(p, idea), timeout=20), phone.named("tallies")
        assert "adopting idea tallies" in b.log.read_text()
    finally:
        close_all(phones[1:])
        a.stop(), b.stop()
        redis.stop()
        database.drop()


def test_the_write_ahead_log_is_carried_into_the_database_while_phones_vote(tmp_path):
    """With group commit SQLite's own checkpoint is off (it ran on the event loop) and the fsync
    thread checkpoints instead: the database file itself, read without its WAL, soon holds the
    acknowledged operations, so the WAL does not grow for the whole meeting."""
    import shutil
    import sqlite3

    server = LiveServer(tmp_path).start()
    floor = None
    try:
        floor = VotingFloor([server], participants=20, tables=2)
        threads, errors = floor.vote(operations=6)
        finish(threads, errors)
        assert floor.acks == 120 and floor.refused == []
        database = tmp_path / "live.sqlite3"
        copy = tmp_path / "main-file-only.sqlite3"

        def operations_in_the_main_file() -> int:
            shutil.copyfile(database, copy)  # without live.sqlite3-wal: only what was checkpointed
            with sqlite3.connect(copy) as db:
                return db.execute("SELECT count(*) FROM op_log").fetchone()[0]

        deadline = time.monotonic() + 30
        while (found := operations_in_the_main_file()) < 64 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert found >= 64, f"only {found} operations reached the database file itself"
        assert floor.check(server.env["DATABASE_URL"]) == []
    finally:
        if floor:
            floor.close()
        server.stop()

"""Two workers on PostgreSQL + Redis behave as one server: a change made through one worker
reaches phones on the other, and the per-meeting background work (the tally coalescer, the
opinion map's recompute, the poll clock) runs once per meeting, not once per worker."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import REDIS_TEST_URL, LiveServer, Phone, PostgresDatabase, close_all, free_port, join_over_http, \
    staff_login

PROJECT = Path(__file__).resolve().parent.parent
INTERVAL = "1.0"  # long enough that two votes sent back to back land in one interval


def total(tally: dict) -> int:
    return sum(tally.values())


def tallies_of(phone: Phone, idea_id: int) -> list[int]:
    """The totals of every `tallies` message this phone received for the idea."""
    return [total(m["tallies"][str(idea_id)]) for m in phone.named("tallies") if str(idea_id) in m["tallies"]]


@pytest.fixture
def cluster(tmp_path):
    database = PostgresDatabase()
    env = {"MEETING_TALLY_INTERVAL": INTERVAL, "MEETING_MAP_INTERVAL": INTERVAL, "MEETING_POLL_CLOCK_INTERVAL": "0.2"}
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
            assert phone.wait_for(lambda p=phone: 2 in tallies_of(p, first), timeout=10)
        assert staff.wait_for(lambda: any(m["vote_count"] == 2 for m in staff.named("opinion_map")), timeout=10)

        # A marker: a later vote through worker B, flushed an interval after the batch above; any
        # second flush of that batch (by the other worker) would have reached the phones before it.
        assert third_on_b.call("vote", {"idea_id": second, "value": "agree"})["ok"]
        for phone in (on_a, on_b, staff):
            assert phone.wait_for(lambda p=phone: 1 in tallies_of(p, second), timeout=10)
        assert staff.wait_for(lambda: any(m["vote_count"] == 3 for m in staff.named("opinion_map")), timeout=10)

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
                                  timeout=10)
        # Marker: an idea posted after the close; a second close would have come before it.
        marker = on_b.call("post_idea", {"text": "広場で市場を"})["idea"]["id"]
        for phone in (on_a, on_b):
            assert phone.wait_for(lambda p=phone: any(m["idea"]["id"] == marker for m in p.named("idea_posted")))
            assert len([m for m in phone.named("poll_closed") if m["poll"]["id"] == poll_id]) == 1
    finally:
        close_all(phones)

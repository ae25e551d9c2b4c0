"""A small run of the load benchmark (bench/load.py) as a correctness test, and its lean client
checked against python-socketio's own.

200 phones in 10 tables join through their invitations, post ideas and vote for a few seconds
on a real server process (gevent, SQLite, group commit as `make run`). Only correctness is
asserted: nothing lost or duplicated, every operation answered, every phone's view equal to a
fresh snapshot, and the database equal to what the phones were told was accepted. Timings are
the benchmark's business, never asserted here.
"""

import argparse
import asyncio
import sys
import uuid
from pathlib import Path

import aiohttp
import pytest

from tests import live
from tests.live import LiveServer, Phone, join_over_http, stored_choices

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import load  # noqa: E402

pytestmark = pytest.mark.live


def test_small_load_loses_nothing_and_every_view_equals_the_database(tmp_path, monkeypatch):
    monkeypatch.setattr(load, "free_port", live.free_port)
    kept: dict = {}
    args = argparse.Namespace(profile="breakout", participants=200, tables=10, rate=40.0, seconds=6.0,
                              idea_rate=2.0, ideas=2, interval=0.25, processes=1, target=None, database_url=None,
                              server_pid=None, spy=[], label="", knee_ms=250.0, keep=kept)
    result = load.run_against("ours", args, tmp_path)
    step = result["steps"][0]
    assert result["connected"] == 200
    assert step["votes_sent"] > 0 and step["unanswered"] == 0, step["errors"]
    assert step["undelivered"] == 0  # every tally and idea reached every phone at its table
    verify = result["verify"]
    assert verify["lost"] == 0 and verify["duplicated"] == 0, verify
    assert verify["problem_count"] == 0, verify["problems"]
    assert verify["disconnected"] == 0
    votes, _ballots = stored_choices(kept["database_url"])
    stored: dict = {}
    for (pid, idea), value in votes.items():
        stored.setdefault(pid, {})[idea] = value
    assert {pid: mine for pid, mine in kept["mine"].items() if mine} == stored


def test_lean_client_sees_what_python_socketio_sees(tmp_path):
    """The benchmark's client and python-socketio's, at the same table: the same acks, the same
    broadcasts in the same order (seq/prev), the same snapshot."""
    server = LiveServer(tmp_path).start()
    try:
        demo = server.demo(participants=2, tables=1)
        first, second = demo["participants"]
        reference = Phone(server, join_over_http(first["join_url"], "ref"))
        lean = load.Phone(0, 0, join=second["join_url"])

        async def scenario():
            async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
                await load._join(http, lean, server.url)
                await load._connect(http, lean, server.url, bare=False)
                assert reference.call("snapshot", {})["ok"]
                posted = await lean.client.call("post_idea", {"op_id": str(uuid.uuid4()), "text": "A bench"})
                assert posted["ok"], posted
                idea = posted["idea"]["id"]
                mine = await lean.client.call("vote", {"op_id": str(uuid.uuid4()), "idea_id": idea, "value": "agree"})
                theirs = reference.call("vote", {"idea_id": idea, "value": "disagree"})
                assert mine == {"ok": True, "idea_id": idea, "value": "agree"}
                assert theirs == {"ok": True, "idea_id": idea, "value": "disagree"}
                # Both have the final tally (the coalescer sends it once per interval).
                final = {"agree": 1, "disagree": 1, "pass": 0}
                for _ in range(400):
                    shown = [m["tallies"].get(str(idea)) for m in reference.named("tallies")]
                    if lean.ideas.get(idea) == final and final in shown:
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError(f"no final tally within 20 s: lean {lean.ideas.get(idea)}, reference {shown}")
                lean_snapshot = (await lean.client.call("snapshot", {"op_id": str(uuid.uuid4())}))["snapshot"]
                await lean.client.close()
                return lean_snapshot

        lean_snapshot = asyncio.run(scenario())
        reference_snapshot = reference.call("snapshot", {})["snapshot"]
        table = f"table:{lean.table_id}"
        seen_by_reference = [(name, m["seq"], m["prev"]) for name, m in reference.received
                             if isinstance(m, dict) and m.get("stream") == table]
        seen_by_lean = [(seq, at) for seq, at in sorted(lean.seq_at.items())]
        assert [seq for _name, seq, _prev in seen_by_reference] == [seq for seq, _at in seen_by_lean]
        assert lean.gaps() == 0 and lean.duplicated == 0 and lean.reordered == 0
        assert {i["id"]: i["tally"] for i in lean_snapshot["ideas"]} == \
            {i["id"]: i["tally"] for i in reference_snapshot["ideas"]} == lean.ideas
        reference.close()
    finally:
        server.stop()


def test_the_lean_phone_applies_each_stream_in_order_as_the_browser_does():
    """With two workers a stream's broadcasts can overtake each other; the bench's phone holds an
    early one until the one before it comes (as static/js/realtime.js does) and counts what never
    came, what came twice and what came out of order."""
    phone = load.Phone(0, 0)
    phone.load({"table": {"id": 7}, "me": {"id": 1}, "ideas": [], "streams": {"table:7": 10}})

    def idea(seq, prev, idea_id, at):
        phone._on_event("idea_posted", {"stream": "table:7", "seq": seq, "prev": prev,
                                        "idea": {"id": idea_id, "tally": {"agree": 0, "disagree": 0, "pass": 0}}}, at)

    def tally(seq, prev, idea_id, agree, at):
        phone._on_event("tallies", {"stream": "table:7", "seq": seq, "prev": prev,
                                    "tallies": {str(idea_id): {"agree": agree, "disagree": 0, "pass": 0}}}, at)

    tally(12, 11, 5, 1, at=2.0)  # the tally of idea 5 overtakes the idea itself
    assert phone.ideas == {} and phone.reordered == 1 and phone.gaps() == 1
    idea(11, 10, 5, at=3.0)
    assert phone.ideas == {5: {"agree": 1, "disagree": 0, "pass": 0}}  # both applied, in order
    assert phone.gaps() == 0 and phone.seq_at == {11: 3.0, 12: 3.0}  # shown once the gap filled
    idea(11, 10, 5, at=4.0)  # again
    assert phone.duplicated == 1
    tally(10, 9, 5, 0, at=5.0)  # already in the snapshot
    assert phone.duplicated == 2
    tally(14, 13, 5, 3, at=6.0)  # 13 never comes
    assert phone.gaps() == 1 and phone.ideas[5]["agree"] == 1

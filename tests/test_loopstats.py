"""The benchmark's loop monitor names the greenlet that held the event loop (meeting/loopstats.py)."""

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import sys, time
    from gevent import monkey; monkey.patch_all()
    import gevent
    from meeting import loopstats

    def hog():  # 60 ms without yielding, three times
        for _ in range(3):
            end = time.perf_counter() + 0.06
            while time.perf_counter() < end:
                pass
            gevent.sleep(0.05)

    loopstats.start(sys.argv[1])
    gevent.spawn(hog).join()
    gevent.sleep(0.7)  # the next half-second line carries the runs
""")


def test_a_greenlet_that_holds_the_loop_is_named_with_its_longest_run(tmp_path):
    out = tmp_path / "loop.jsonl"
    env = {"MEETING_LOOP_RUNS": "20", "PYTHONPATH": str(PROJECT), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", SCRIPT, str(out)], env=env, check=True, timeout=60, cwd=PROJECT)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    runs = {}
    for line in lines:
        for where, (count, total, longest) in line.get("runs", {}).items():
            seen = runs.setdefault(where, [0, 0.0, 0.0])
            seen[0], seen[1], seen[2] = seen[0] + count, seen[1] + total, max(seen[2], longest)
    hog = [v for where, v in runs.items() if ":hog:" in where]
    assert hog, runs
    count, _total, longest = hog[0]
    assert count == 3 and longest >= 60
    assert max(line["max_pause_ms"] for line in lines) >= 50  # the watch greenlet woke that late


def test_a_vote_is_noted_with_the_number_above_which_the_first_tally_counts_it(app, participant_socket, monkeypatch):
    """For the benchmark: while the monitor records, a vote notes the last number its process had
    stamped on the voter's table stream at the commit; the first tally above it counts the vote."""
    from meeting import loopstats
    from tests.conftest import build_meeting, op_id

    monkeypatch.setattr(loopstats, "noting", True)
    monkeypatch.setattr(loopstats, "_notes", {})
    _, cards = build_meeting(app, participants=2, tables=1)
    author, voter = participant_socket(cards[0]["token"]), participant_socket(cards[1]["token"], "もみじ")
    idea = author.emit("post_idea", {"op_id": op_id(), "text": "ベンチを増やす"}, callback=True)["idea"]["id"]
    posted = next(e["args"][0] for e in voter.get_received() if e["name"] == "idea_posted")
    vote = op_id()
    assert voter.emit("vote", {"op_id": vote, "idea_id": idea, "value": "agree"}, callback=True)["ok"]
    assert loopstats._notes == {vote: posted["seq"]}
    tallies = []
    for _ in range(500):
        tallies += [e["args"][0] for e in voter.get_received() if e["name"] == "tallies"]
        if tallies:
            break
        time.sleep(0.01)
    first = tallies[0]
    assert first["seq"] > posted["seq"] and first["tallies"][str(idea)] == {"agree": 1, "disagree": 0, "pass": 0}

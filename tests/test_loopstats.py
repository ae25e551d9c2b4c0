"""The benchmark's loop monitor names the greenlet that held the event loop (meeting/loopstats.py)."""

import json
import subprocess
import sys
import textwrap
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

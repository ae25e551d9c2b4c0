"""Event-loop pause monitor for benchmarks (never on by default).

`MEETING_LOOP_STATS=/path/file.jsonl python -m meeting.serve` starts a greenlet that sleeps
10 ms again and again and records how late it wakes up (the longest pause of the whole process:
a request that holds the loop, a garbage collection, an fsync), plus the time spent in each
garbage collection (gc.callbacks). Every half second one JSON line is appended:
`{"t": monotonic, "max_pause_ms", "max_gc_ms", "gc_ms", "collections", "max_gc_generation"}` for that half second,
with the running totals `counters()` returns (the server's group commit: commits, fsyncs, checkpoints).
bench/load.py reads the lines of its measuring window. The bare server of the bench uses it too.
"""

import gc
import json
import os
import time

INTERVAL = 0.010
REPORT_EVERY = 0.5


def start(path: str | None = None, sleep=None, spawn=None, counters=None) -> bool:
    path = path or os.environ.get("MEETING_LOOP_STATS")
    if not path:
        return False
    if sleep is None or spawn is None:
        import gevent

        sleep, spawn = gevent.sleep, gevent.spawn
    gc_state = {"start": 0.0, "max": 0.0, "total": 0.0, "count": 0, "gen": None}

    def on_gc(phase, info):
        if phase == "start":
            gc_state["start"] = time.perf_counter()
        else:
            took = time.perf_counter() - gc_state["start"]
            if took > gc_state["max"]:
                gc_state["gen"] = info.get("generation")
            gc_state["max"] = max(gc_state["max"], took)
            gc_state["total"] += took
            gc_state["count"] += 1

    gc.callbacks.append(on_gc)

    def watch():
        worst = 0.0
        last_report = time.monotonic()
        while True:
            before = time.perf_counter()
            sleep(INTERVAL)
            worst = max(worst, time.perf_counter() - before - INTERVAL)
            now = time.monotonic()
            if now - last_report >= REPORT_EVERY:
                line = {"t": now, "max_pause_ms": round(worst * 1000, 2), "max_gc_ms": round(gc_state["max"] * 1000, 2),
                        "gc_ms": round(gc_state["total"] * 1000, 2), "collections": gc_state["count"],
                        "max_gc_generation": gc_state["gen"], **(counters() if counters else {})}
                with open(path, "a") as out:
                    out.write(json.dumps(line) + "\n")
                worst = 0.0
                gc_state.update(max=0.0, total=0.0, count=0, gen=None)
                last_report = now

    spawn(watch)
    return True

"""Event-loop pause monitor for benchmarks (never on by default).

`MEETING_LOOP_STATS=/path/file.jsonl python -m meeting.serve` starts a greenlet that sleeps
10 ms again and again and records how late it wakes up (the longest pause of the whole process:
a request that holds the loop, a garbage collection, an fsync), plus the time spent in each
garbage collection (gc.callbacks). Every half second one JSON line is appended:
`{"t": monotonic, "max_pause_ms", "max_gc_ms", "gc_ms", "collections", "max_gc_generation"}` for that half second,
with the running totals `counters()` returns (the server's group commit: commits, fsyncs, checkpoints).
bench/load.py reads the lines of its measuring window. The bare server of the bench uses it too.

With `MEETING_LOOP_RUNS=<ms>` as well, every greenlet switch is traced (greenlet.settrace, a few
per cent of CPU): a greenlet that ran that long without yielding is counted under the code it
yielded from (its innermost frames of this project, or else of any library), and each line also
carries `"runs": {where: [count, total_ms, max_ms]}` for its half second. The hub's own turns are
left out (they include the idle wait for I/O). This names what holds the loop: a pause is
always some greenlet's run.
"""

import gc
import json
import os
import time

INTERVAL = 0.010
REPORT_EVERY = 0.5

# Facts the server notes for the benchmark while recording (written with the next line as
# "notes", then forgotten): for each vote, by its op_id, the last number its process had stamped
# on the voter's table stream when the vote committed, so that the first tally numbered above
# it is the first to count the vote (exact in one gevent process, whose write transactions do
# not interleave; bench/load.py).
noting = False
_notes: dict[str, int] = {}


def note(key: str, value: int) -> None:
    if noting and len(_notes) < 100_000:
        _notes[key] = value


def start(path: str | None = None, sleep=None, spawn=None, counters=None) -> bool:
    global noting
    path = path or os.environ.get("MEETING_LOOP_STATS")
    if not path:
        return False
    noting = True
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
                if runs:
                    line["runs"] = {k: [n, round(total, 1), round(most, 1)] for k, (n, total, most) in runs.items()}
                    runs.clear()
                if _notes:
                    line["notes"] = dict(_notes)
                    _notes.clear()
                with open(path, "a") as out:
                    out.write(json.dumps(line) + "\n")
                worst = 0.0
                gc_state.update(max=0.0, total=0.0, count=0, gen=None)
                last_report = now

    runs: dict = {}
    threshold = float(os.environ.get("MEETING_LOOP_RUNS") or 0) / 1000
    if threshold > 0:
        _trace_runs(threshold, runs)

    spawn(watch)
    return True


def _where(frame) -> str:
    """The innermost two frames of this project's code in a stack, else the innermost one outside gevent."""
    mine, first = [], None
    while frame is not None and len(mine) < 2:
        code = frame.f_code
        name = f"{code.co_filename.rsplit('/site-packages/', 1)[-1].rsplit('/work/', 1)[-1]}:{code.co_name}:{frame.f_lineno}"
        if first is None and "/gevent/" not in code.co_filename:  # where it yielded, not gevent's switch
            first = name
        if "/meeting/" in code.co_filename and "loopstats" not in code.co_filename:
            mine.append(name.rsplit("meeting/", 1)[-1])
        frame = frame.f_back
    return " < ".join(mine) if mine else first or "?"


def _ended(glet) -> str:
    run = getattr(glet, "_run", None) or getattr(glet, "run", None)
    code = getattr(run, "__code__", None)
    return f"{getattr(run, '__qualname__', type(glet).__name__)}" + (f" ({code.co_filename.rsplit('/', 1)[-1]})" if code else "")


def _trace_runs(threshold: float, runs: dict) -> None:
    import greenlet

    hub_type = None
    try:
        from gevent.hub import Hub as hub_type
    except ImportError:
        pass
    state = {"t": time.perf_counter()}

    def trace(event, args):
        now = time.perf_counter()
        ran, state["t"] = now - state["t"], now
        if ran < threshold or event not in ("switch", "throw"):
            return
        origin = args[0]
        if hub_type is not None and isinstance(origin, hub_type):
            return
        # The trace runs once the switch is made: the origin is suspended now, at the frame it left from.
        frame = origin.gr_frame
        where = _where(frame) if frame is not None else f"(ended) {_ended(origin)}"
        seen = runs.setdefault(where, [0, 0.0, 0.0])
        seen[0] += 1
        seen[1] += ran * 1000
        seen[2] = max(seen[2], ran * 1000)

    greenlet.settrace(trace)

"""meeting/offload.py: a pure computation runs in a helper process beside the gevent loop, not in
it (nor in a thread of it); a long read lets the loop run between its parts."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
from gevent import monkey
monkey.patch_all()
import os, time
import gevent
from meeting import offload

ticks = []
def ticker():
    while True:
        ticks.append(time.monotonic())
        gevent.sleep(0.001)

gevent.spawn(ticker)
gevent.sleep(0.01)
print(offload.cpu(os.getpid) != os.getpid())                 # elsewhere: another process
started = time.monotonic()
offload.cpu(sum, range(40_000_000))                          # a second or so of CPU over there
finished = time.monotonic()
beside = [t for t in ticks if started < t < finished]
print(len(beside) > 100, max(b - a for a, b in zip(beside, beside[1:])) < 0.25)  # the loop ran on
try:
    offload.cpu(divmod, 1, 0)
except ZeroDivisionError:
    print("raised")
try:
    offload.cpu(lambda: 1)
except Exception as exc:                                     # it cannot travel: said at once
    print("unpicklable" if "pickle" in repr(exc).lower() else repr(exc))
first = offload.cpu(os.getpid)
try:
    offload.cpu(os._exit, 3)
except offload.HelperGone:
    print("gone")
print(offload.cpu(os.getpid) not in (first, os.getpid()))    # the next call starts a new helper
waiting = []
gevent.spawn(waiting.append, "ran")
offload.breathe()  # a long read's pause between two parts: the ready greenlet runs now
print(waiting == ["ran"])
"""


def test_under_gevent_a_computation_runs_in_a_helper_process_while_the_loop_keeps_running():
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["True", "True", "True", "raised", "unpicklable", "gone", "True", "True"], \
        out.stdout + out.stderr


def test_without_gevent_it_is_a_plain_call():
    from meeting import offload

    assert offload.cpu(lambda a, b: a + b, 2, 3) == 5
    offload.breathe()  # nothing to let run: returns

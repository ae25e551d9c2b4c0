"""meeting/offload.py: a pure computation runs beside the gevent loop, not in it; a long read
lets the loop run between its parts."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
from gevent import monkey
monkey.patch_all()
import threading, time
import gevent
from meeting import offload

ticks = []
def ticker():
    while True:
        ticks.append(1)
        gevent.sleep(0.001)

def busy(seen):
    # Spins (holding the GIL between switches) until the loop has ticked while it runs: it
    # returns only if the event loop kept running beside it.
    start = len(seen)
    deadline = time.monotonic() + 20
    while len(seen) < start + 20 and time.monotonic() < deadline:
        sum(range(1000))
    return threading.get_native_id(), len(seen) - start

gevent.spawn(ticker)
gevent.sleep(0.01)
native, ticked = offload.cpu(busy, ticks)
print(native != threading.get_native_id(), ticked >= 20)
try:
    offload.cpu(lambda: 1 / 0)
except ZeroDivisionError:
    print("raised")
waiting = []
gevent.spawn(waiting.append, "ran")
offload.breathe()  # a long read's pause between two parts: the ready greenlet runs now
print(waiting == ["ran"])
"""


def test_under_gevent_the_loop_keeps_running_while_a_computation_runs():
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True", "True", "raised", "True"], out.stderr


def test_without_gevent_it_is_a_plain_call():
    from meeting import offload

    assert offload.cpu(lambda a, b: a + b, 2, 3) == 5
    offload.breathe()  # nothing to let run: returns

"""CPU-heavy pure computation off the gevent event loop, and long reads that let it breathe.

In a gevent server every greenlet shares one OS thread: a computation of 150 ms (the opinion map
of a meeting of 2,000) holds every connection's ack, broadcast and page for 150 ms. `cpu()` runs
such a function in a helper process of this server's own, started on first use, and the calling
greenlet waits for the result while the loop keeps serving.

Not a thread: the loop's thread gives the GIL up on every system call (each send, receive and
epoll wait) and, while a computing thread holds it, waits up to the switch interval to get it
back, so a loop making thousands of calls a second is slowed for the whole computation
(bench/convoy.py: round-trip p99 10–12 ms and max 40–50 ms beside a map in a thread, against
5 ms and 18 ms beside the same map in a process, 2 ms and 6 ms with no map; the breakout load
at 100 votes/s on 2026-12-07 had ack p99 437 ms with the map in a thread and 170 ms without it).

The function and its arguments travel pickled through the helper's pipes: the function must be
importable by name (no lambda), pure (no database session, no Flask context, no gevent
primitive) and take and return plain data. Its exception is raised in the caller. A helper that
died is started again by the next call; the call it died in raises `HelperGone`. Without gevent
(threading mode, tests, commands) `cpu()` simply calls the function.

A function may read the database on a connection of its own in the helper (the opinion map reads
every vote of a meeting there: read and decoded on the loop, that held it 40-50 ms at a time), but
never writes: SQLite has one writer, and a writer in the helper would hold the server's commits.
`breathe()` lets every other ready greenlet run, for a long loop that stays on the event loop.
"""

import os
import pickle
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def _gevent_hub():
    try:
        from gevent import monkey
    except ImportError:
        return None
    if not monkey.is_module_patched("threading"):
        return None
    import gevent

    return gevent.get_hub()


class HelperGone(RuntimeError):
    """The helper process ended during a call (killed, out of memory); the next call starts one."""


_HEADER = struct.Struct("!Q")


def _frame(value) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


def _read_frame(stream):
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    size = _HEADER.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


class _Helper:
    """One helper process, one call at a time (callers queue on a gevent semaphore)."""

    def __init__(self):
        from gevent.lock import Semaphore

        self._turn = Semaphore()
        self._process = None

    def call(self, fn, args):
        from gevent import subprocess

        request = _frame((fn, args))  # before starting anything: an unpicklable call raises here
        with self._turn:
            if self._process is None or self._process.poll() is not None:
                root = str(Path(__file__).resolve().parent.parent)  # wherever the server was started
                env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
                self._process = subprocess.Popen([sys.executable, "-m", "meeting.offload"], env=env,
                                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            process = self._process
            try:
                process.stdin.write(request)
                process.stdin.flush()
                ok, value = _read_frame(process.stdout)
            except (OSError, EOFError, ValueError) as exc:
                process.kill()
                process.wait()
                self._process = None
                raise HelperGone(f"the computation's helper process ended ({exc!r})") from exc
        if ok:
            return value
        raise value


_helper: _Helper | None = None


def offloaded() -> bool:
    """Whether cpu() runs its function in the helper process (the server runs on gevent)."""
    return _gevent_hub() is not None


def cpu(fn: Callable[..., T], *args) -> T:
    """fn(*args), in this server's helper process when it runs on gevent; its exception propagates."""
    global _helper
    if _gevent_hub() is None:
        return fn(*args)
    if _helper is None:
        _helper = _Helper()
    return _helper.call(fn, args)


def _serve() -> None:
    """The helper process: answer each pickled (fn, args) with (True, result) or (False, error)
    until the server closes the pipe."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the answers
    while True:
        try:
            fn, args = _read_frame(stdin)
        except EOFError:
            return
        try:
            answer = _frame((True, fn(*args)))
        except Exception as exc:  # noqa: BLE001 - the caller gets it, as with a local call
            try:
                answer = _frame((False, exc))
            except Exception:  # noqa: BLE001 - an error that does not pickle
                answer = _frame((False, RuntimeError(repr(exc))))
        try:
            stdout.write(answer)
            stdout.flush()
        except BrokenPipeError:  # the server stopped while this computed: nobody to answer
            return


def breathe() -> None:
    """Let every other ready greenlet run now (gevent); nothing without gevent."""
    hub = _gevent_hub()
    if hub is not None:
        import gevent

        gevent.sleep(0)


if __name__ == "__main__":
    _serve()

"""A background clock that acts on deadlines (polls that close, agenda steps that end)."""

import threading
from collections.abc import Callable

from flask import current_app

from meeting import lease
from meeting.broadcast import emit_events
from meeting.extensions import db, socketio
from meeting.services.errors import retryable

FLAG_INTERVALS = 10  # a clock's shared flag outlives its last check by this many intervals


class DeadlineClock:
    """Run `act_on_due` while `next_deadline` says something is due later.

    One background task per server process runs while there is a deadline: it is woken when
    one is set (or a snapshot shows one), checks every `interval_setting` seconds, and stops
    when none is left. `act_on_due` must be safe when several processes race (a conditional
    update), and return the committed events to broadcast. With several workers (Redis), each
    interval's check runs in one process only: the one that takes the clock's lease; and a
    running clock raises a shared flag, so every worker's watch (meeting/lease.py) starts its own
    clock too: when the worker that opened a poll dies, another one still closes it. A database
    that does not answer skips a check, it does not stop the clock.
    """

    def __init__(self, act_on_due: Callable[[], list], next_deadline: Callable[[], object],
                 interval_setting: str = "POLL_CLOCK_INTERVAL"):
        self._act_on_due = act_on_due
        self._next_deadline = next_deadline
        self._interval_setting = interval_setting
        self._name = f"clock:{act_on_due.__module__}.{act_on_due.__qualname__}"
        self._lock = threading.Lock()
        self._running: set[int] = set()  # ids of the apps whose clock runs (tests make many apps)
        clocks.append(self)

    def _flag_ttl(self, app) -> float:
        return FLAG_INTERVALS * app.config[self._interval_setting]

    def wake(self) -> None:
        app = current_app._get_current_object()
        with self._lock:
            if id(app) in self._running:
                return
            self._running.add(id(app))
        lease.flag(app, self._name, self._flag_ttl(app))
        lease.keep_watch(app)
        socketio.start_background_task(self._run, app)

    def _run(self, app) -> None:
        try:
            while True:
                interval = app.config[self._interval_setting]
                socketio.sleep(interval)
                with app.app_context():
                    try:
                        if lease.acquire(app, self._name, interval):
                            emit_events(self._act_on_due())
                        with self._lock:
                            if self._next_deadline() is None:
                                self._running.discard(id(app))
                                lease.flag(app, self._name, None)
                                return
                    except Exception as exc:
                        if not retryable(exc):
                            raise
                        db.session.rollback()
                        app.logger.warning("%s: database unavailable, checking again in %s s", self._name, interval)
                        continue
                lease.flag(app, self._name, self._flag_ttl(app))
        except Exception:
            with self._lock:
                self._running.discard(id(app))
            raise

    def wake_if_flagged(self, app, raised: set[str]) -> None:
        if self._name in raised and id(app) not in self._running:
            self.wake()


clocks: list[DeadlineClock] = []


def wake_flagged(app) -> None:
    """Start here the clocks another worker runs (run by lease.keep_watch)."""
    raised = lease.flagged(app, [clock._name for clock in clocks])
    for clock in clocks:
        clock.wake_if_flagged(app, raised)


lease.watchers.append(wake_flagged)

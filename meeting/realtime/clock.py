"""A background clock that acts on deadlines (polls that close, agenda steps that end)."""

import threading
from collections.abc import Callable

from flask import current_app

from meeting import lease
from meeting.broadcast import emit_events
from meeting.extensions import socketio


class DeadlineClock:
    """Run `act_on_due` while `next_deadline` says something is due later.

    One background task per server process runs while there is a deadline: it is woken when
    one is set (or a snapshot shows one), checks every `interval_setting` seconds, and stops
    when none is left. `act_on_due` must be safe when several processes race (a conditional
    update), and return the committed events to broadcast. With several workers (Redis), each
    interval's check runs in one process only: the one that takes the clock's lease.
    """

    def __init__(self, act_on_due: Callable[[], list], next_deadline: Callable[[], object],
                 interval_setting: str = "POLL_CLOCK_INTERVAL"):
        self._act_on_due = act_on_due
        self._next_deadline = next_deadline
        self._interval_setting = interval_setting
        self._name = f"clock:{act_on_due.__module__}.{act_on_due.__qualname__}"
        self._lock = threading.Lock()
        self._running: set[int] = set()  # ids of the apps whose clock runs (tests make many apps)

    def wake(self) -> None:
        app = current_app._get_current_object()
        with self._lock:
            if id(app) in self._running:
                return
            self._running.add(id(app))
        socketio.start_background_task(self._run, app)

    def _run(self, app) -> None:
        try:
            while True:
                interval = app.config[self._interval_setting]
                socketio.sleep(interval)
                with app.app_context():
                    if lease.acquire(app, self._name, interval):
                        emit_events(self._act_on_due())
                    with self._lock:
                        if self._next_deadline() is None:
                            self._running.discard(id(app))
                            return
        except Exception:
            with self._lock:
                self._running.discard(id(app))
            raise

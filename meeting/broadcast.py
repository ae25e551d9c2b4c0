"""Emit committed events, and coalesce tally updates per meeting.

Shared by the realtime handlers and the pages: whoever called a service broadcasts what it
returned, after the commit.
"""

import threading

from flask import current_app

from meeting import durability
from meeting.extensions import db, socketio
from meeting.services.errors import retryable
from meeting.services.events import TALLY_INTERVAL_SETTINGS, TALLY_PUBLISHERS, Changes, Dirty, Event


def emit_events(events: list[Event]) -> None:
    if events:
        # With group commit, a broadcast waits for the fsync covering its commit, as acks do;
        # broadcasts then leave in commit order, which is seq order (meeting/durability.py).
        durability.settle(db.session)
    for event in events:
        socketio.emit(event.name, event.message(), to=event.stream)


class TallyCoalescer:
    """Collect tallies that changed and broadcast each kind at most once per interval per meeting.

    A plenary of hundreds voting at once then costs each phone a few messages a second, not
    one per vote.
    """

    def __init__(self):
        self._lock = threading.Lock()
        # Keyed by app too: each app (a test's, with its own database) flushes its own meetings.
        self._pending: dict[tuple[str, int, object], set[int]] = {}

    def mark(self, dirty: set[Dirty]) -> None:
        if not dirty:
            return
        app = current_app._get_current_object()
        start = []
        with self._lock:
            for item in dirty:
                key = (item.kind, item.meeting_id, app)
                if key not in self._pending:
                    self._pending[key] = set()
                    start.append(key)
                self._pending[key].add(item.item_id)
        for key in start:
            socketio.start_background_task(self._flush_later, app, key)

    def _flush_later(self, app, key: tuple[str, int, object]) -> None:
        socketio.sleep(app.config[TALLY_INTERVAL_SETTINGS.get(key[0], "TALLY_INTERVAL")])
        with self._lock:
            item_ids = self._pending.pop(key, set())
        if not item_ids:
            return
        kind, meeting_id, _app = key
        with app.app_context():
            try:
                events = TALLY_PUBLISHERS[kind](meeting_id, item_ids)
            except Exception as exc:
                # Keep the batch: the next change retries it rather than losing these tallies.
                if retryable(exc):
                    app.logger.warning("publishing %s tallies of meeting %s: database unavailable, retrying",
                                       kind, meeting_id)
                else:
                    app.logger.exception("publishing %s tallies of meeting %s failed", kind, meeting_id)
                self.mark({Dirty(kind, meeting_id, i) for i in item_ids})
                return
            emit_events(events)


tallies = TallyCoalescer()


# Functions of committed Changes that return more to recount soon (views derived from what changed,
# such as the plenary list after an idea changed).
watchers: list = []


def dispatch(changes: Changes) -> None:
    """Broadcast what a committed service call changed."""
    emit_events(changes.events)
    dirty = set(changes.dirty)
    for watch in watchers:
        dirty |= watch(changes)
    tallies.mark(dirty)
    for sid in changes.disconnect:  # any worker's connection: the message queue carries it
        socketio.server.disconnect(sid, namespace="/")

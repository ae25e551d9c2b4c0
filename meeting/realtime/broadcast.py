"""Emit committed events, and coalesce tally updates per meeting."""

import threading

from flask import current_app

from meeting.extensions import socketio
from meeting.services import ideas
from meeting.services.events import Changes, Event


def emit_events(events: list[Event]) -> None:
    for event in events:
        socketio.emit(event.name, event.message(), to=event.stream)


class TallyCoalescer:
    """Collect ideas whose votes changed and broadcast their tallies at most once per interval.

    A plenary of hundreds voting at once then costs each phone a few messages a second, not
    one per vote.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._pending: dict[int, set[int]] = {}

    def mark(self, dirty: set[tuple[int, int]]) -> None:
        if not dirty:
            return
        app = current_app._get_current_object()
        start = []
        with self._lock:
            for meeting_id, idea_id in dirty:
                if meeting_id not in self._pending:
                    self._pending[meeting_id] = set()
                    start.append(meeting_id)
                self._pending[meeting_id].add(idea_id)
        for meeting_id in start:
            socketio.start_background_task(self._flush_later, app, meeting_id)

    def _flush_later(self, app, meeting_id: int) -> None:
        socketio.sleep(app.config["TALLY_INTERVAL"])
        with self._lock:
            idea_ids = self._pending.pop(meeting_id, set())
        if not idea_ids:
            return
        with app.app_context():
            emit_events(ideas.publish_tallies(meeting_id, idea_ids))


tallies = TallyCoalescer()


def dispatch(changes: Changes) -> None:
    """Broadcast what a committed service call changed."""
    emit_events(changes.events)
    tallies.mark(changes.dirty_ideas)

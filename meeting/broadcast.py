"""Emit committed events, and coalesce tally updates per meeting.

Shared by the realtime handlers and the pages: whoever called a service broadcasts what it
returned, after the commit.
"""

import math
import threading
import time
from collections import Counter

from flask import current_app

from meeting import lease
from meeting.extensions import socketio
from meeting.services.errors import retryable
from meeting.services.events import TALLY_INTERVAL_SETTINGS, TALLY_PUBLISHERS, Changes, Dirty, Event

# A long list of events (the tally flush: one per table that changed, each to its twenty phones)
# lets the loop breathe after every EMIT_CHUNK of them, so answers and other work are not held
# behind a burst of a thousand messages; meanwhile no later commit's event on a stream the list
# has still to reach goes out (InStreamOrder).
EMIT_CHUNK = 8


class _Turn:
    __slots__ = ("pending", "wake")

    def __init__(self, pending: Counter, wake):
        self.pending = pending  # stream -> events of this emitter not yet sent on it
        self.wake = wake


class InStreamOrder:
    """Sends each stream's events in the order their emitters arrived (greenlets or threads).

    Emitters arrive in commit order (emit_events), which is each stream's seq order. An event goes
    out as soon as no earlier emitter still has one to send on its stream: an idea at one table
    does not wait for a tally flush that is emitting to a hundred others, unless the flush has
    yet to reach that table. A lock per stream would not do: a newcomer could take it in the
    moment between one holder's release and the next waiter's wake-up, and overtake it.
    """

    event = threading.Event  # gevent's when monkey-patched

    def __init__(self):
        self._lock = threading.Lock()  # held only to read or change the line, never while waiting
        self._line: list[_Turn] = []  # emitters in arrival order, each until its last event is out

    def send(self, events: list[Event], send_one, breathe=None) -> None:
        turn = _Turn(Counter(event.stream for event in events), self.event())
        with self._lock:
            self._line.append(turn)
        try:
            for count, event in enumerate(events, 1):
                while True:
                    turn.wake.clear()  # before looking: a wake-up after the look is not missed
                    if not self._behind(turn, event.stream):
                        break
                    turn.wake.wait()
                send_one(event)
                with self._lock:
                    turn.pending[event.stream] -= 1
                    if not turn.pending[event.stream]:
                        del turn.pending[event.stream]
                        self._wake_later(turn)
                if breathe and count % EMIT_CHUNK == 0 and count < len(events):
                    breathe()
        finally:  # done, or killed while waiting: leave the line, or those behind would wait for good
            with self._lock:
                self._wake_later(turn)
                self._line.remove(turn)

    def _behind(self, turn: _Turn, stream: str) -> bool:
        with self._lock:
            for earlier in self._line:
                if earlier is turn:
                    return False
                if stream in earlier.pending:
                    return True
        return False

    def _wake_later(self, turn: _Turn) -> None:
        for later in self._line[self._line.index(turn) + 1:]:
            later.wake.set()


_in_order = InStreamOrder()


def _emit(event: Event) -> None:
    socketio.emit(event.name, event.message(), to=event.stream)


def emit_events(events: list[Event]) -> None:
    """Emit committed events, right after their commit.

    With group commit (meeting/durability.py) they leave before the fsync that makes their commit
    durable: only answers (acks, pages) wait for it. Nothing that leaves between a commit and the
    line below yields, so emitters join the line in commit order. A power cut could lose a commit
    whose events went out; the server then starts every stream past the numbers it may have sent
    (events.leap_streams), and the phones, reconnecting, take their snapshot from there.
    """
    if events:
        _in_order.send(events, _emit, breathe=lambda: socketio.sleep(0))


# A process's changes of one kind and meeting are published by FLUSH_SPREAD slots in turn: a
# change (by its group, a vote by its table) belongs to one slot, and slot s publishes what it
# collected at the times s * interval / FLUSH_SPREAD past each multiple of the interval. So a
# change still waits at most one interval (half of one on average) and a table still gets one
# message per interval, while a breakout's hundred tables reach the wire in FLUSH_SPREAD smaller
# bursts (each about 200 messages, not 800) that hold answers and ideas back less.
FLUSH_SPREAD = 4


def _due(now: float, interval: float, slot: int) -> float:
    """The slot's next publishing time after `now`."""
    phase = slot * interval / FLUSH_SPREAD
    return phase + (math.floor((now - phase) / interval) + 1) * interval


class _Batch:
    __slots__ = ("due", "items")

    def __init__(self, due: float):
        self.due = due
        self.items: dict[int, None] = {}  # in the order they were first marked


class TallyCoalescer:
    """Collect tallies that changed and broadcast each kind at most once per interval per meeting
    and slot (FLUSH_SPREAD, above).

    A plenary of hundreds voting at once then costs each phone a few messages a second, not
    one per vote. With several workers (Redis), the changed items of a meeting are collected in
    one shared set and one worker, the one holding the set's lease, flushes it for all: a phone
    gets one tally message per interval, not one per worker. Without Redis, or while Redis is
    away, each process collects and flushes its own. A shared set its worker did not flush (the
    worker died, or Redis did not answer at the flush) is adopted by another worker's watch once
    its lease has run out (meeting/lease.py), so an acknowledged vote's tally still goes out.
    """

    clock = staticmethod(time.monotonic)

    def __init__(self):
        self._lock = threading.Lock()
        # Keyed by app too: each app (a test's, with its own database) flushes its own meetings.
        # (kind, meeting, app, slot) -> what that slot publishes next, in the order first marked
        # (the flush sends the longest-waiting first).
        self._pending: dict[tuple[str, int, object, int], _Batch] = {}
        # One publish at a time per kind and meeting: a flush that starts while the one before is
        # still counting, committing or emitting (a loaded server) would otherwise overtake it on
        # the wire, and a phone would keep the older tally as the newest. Each lock is kept while
        # a publish holds or waits for it [lock, users], then dropped: a long-running server that
        # holds many meetings does not keep one for each.
        self._publishing: dict[tuple[str, int, object], list] = {}

    @staticmethod
    def _interval(app, kind: str) -> float:
        return app.config[TALLY_INTERVAL_SETTINGS.get(kind, "TALLY_INTERVAL")]

    def mark(self, dirty: set[Dirty]) -> None:
        if not dirty:
            return
        app = current_app._get_current_object()
        if lease.client(app) is not None:
            dirty = self._mark_shared(app, dirty)
        start = []
        now = self.clock()
        with self._lock:
            for item in dirty:
                slot = (item.item_id if item.group is None else item.group) % FLUSH_SPREAD
                key = (item.kind, item.meeting_id, app, slot)
                batch = self._pending.get(key)
                if batch is None:
                    batch = self._pending[key] = _Batch(_due(now, self._interval(app, item.kind), slot))
                    start.append((key, batch.due - now))
                batch.items.setdefault(item.item_id)  # already there: that publish counts this change too
        for key, delay in start:
            socketio.start_background_task(self._flush_later, app, key, delay)

    def _mark_shared(self, app, dirty: set[Dirty]) -> set[Dirty]:
        """Put the items in the meeting's shared set; start a flush where this process took the
        lease. Returns what Redis did not take (to collect locally)."""
        groups: dict[tuple[str, int], set[int]] = {}
        for item in dirty:
            groups.setdefault((item.kind, item.meeting_id), set()).add(item.item_id)
        left = set()
        for (kind, meeting_id), item_ids in groups.items():
            try:
                flush = lease.add_pending(app, f"tally:{kind}:{meeting_id}", self._lease_ttl(app, kind), item_ids)
            except lease.Unavailable:
                left |= {Dirty(kind, meeting_id, i) for i in item_ids}
                continue
            if flush:
                socketio.start_background_task(self._flush_shared_later, app, kind, meeting_id)
        return left

    def _lease_ttl(self, app, kind: str) -> float:
        # Long enough for the flush an interval later, short enough that an orphan is adopted soon.
        return 2 * self._interval(app, kind) + 1

    def _flush_shared_later(self, app, kind: str, meeting_id: int) -> None:
        socketio.sleep(self._interval(app, kind))
        self._flush_shared(app, kind, meeting_id)

    def _flush_shared(self, app, kind: str, meeting_id: int) -> None:
        try:
            item_ids = lease.take_pending(app, f"tally:{kind}:{meeting_id}")
        except lease.Unavailable as exc:
            # The set stays in Redis (or is gone with a restarted Redis, whose return makes every
            # phone resync): once its lease runs out, a worker's watch adopts and flushes it.
            app.logger.warning("flushing %s tallies of meeting %s: Redis unavailable (%s), left for the watch",
                               kind, meeting_id, exc)
            return
        if item_ids:
            self._publish(app, kind, meeting_id, item_ids)

    def adopt_orphans(self, app) -> None:
        """Flush the shared sets whose lease ran out unflushed (run by lease.keep_watch)."""
        def ttl(name: str) -> float:
            return self._lease_ttl(app, name.split(":")[1])

        for name in lease.adopt_orphans(app, ttl):
            _, kind, meeting_id = name.split(":")
            if kind in TALLY_PUBLISHERS:
                app.logger.warning("adopting %s tallies of meeting %s left unflushed", kind, meeting_id)
                self._flush_shared(app, kind, int(meeting_id))

    def _flush_later(self, app, key: tuple[str, int, object, int], delay: float) -> None:
        socketio.sleep(delay)
        with self._lock:
            batch = self._pending.pop(key, None)
        if batch is not None and batch.items:
            self._publish(app, key[0], key[1], list(batch.items))

    def _publish(self, app, kind: str, meeting_id: int, item_ids: set[int]) -> None:
        key = (kind, meeting_id, app)
        with self._lock:
            entry = self._publishing.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                self._publish_one(app, kind, meeting_id, item_ids)
        finally:
            with self._lock:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._publishing[key]

    def _publish_one(self, app, kind: str, meeting_id: int, item_ids: set[int]) -> None:
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
lease.watchers.append(tallies.adopt_orphans)


# Functions of committed Changes that return more to recount soon (views derived from what changed,
# such as the plenary list after an idea changed).
watchers: list = []


def dispatch(changes: Changes) -> None:
    """Broadcast what a committed service call changed."""
    lease.keep_watch(current_app._get_current_object())  # from the first connection on (Redis only)
    emit_events(changes.events)
    dirty = set(changes.dirty)
    for watch in watchers:
        dirty |= watch(changes)
    tallies.mark(dirty)
    for sid in changes.disconnect:  # any worker's connection: the message queue carries it
        socketio.server.disconnect(sid, namespace="/")

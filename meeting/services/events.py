"""Events to broadcast, stamped with their stream's sequence number before commit."""

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Meeting, Stream
from meeting.models._base import upsert, upsert_rows


def table_stream(table_id: int) -> str:
    return f"table:{table_id}"


def meeting_stream(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


def staff_stream(meeting_id: int) -> str:
    return f"staff:{meeting_id}"


def participant_stream(participant_id: int) -> str:
    """One participant's own phones (help call state, their session ending, their idea hidden)."""
    return f"participant:{participant_id}"


@dataclass
class Event:
    stream: str
    name: str
    payload: dict
    seq: int = 0
    prev: int = 0

    def message(self) -> dict:
        return {**self.payload, "stream": self.stream, "seq": self.seq, "prev": self.prev}


@dataclass(frozen=True)
class Dirty:
    """A tally that changed and is due for a (coalesced) broadcast.

    `kind` names a publisher registered with `register_tally_publisher`. `group`: the items that
    are published together when they change together (an idea's table), else the item alone.
    """

    kind: str
    meeting_id: int
    item_id: int
    group: int | None = None


@dataclass
class Changes:
    """What a service changed: events to broadcast now and tallies to recount soon."""

    events: list[Event] = field(default_factory=list)
    dirty: set[Dirty] = field(default_factory=set)
    # Socket.IO connections to close after the broadcast (a revoked participant session).
    disconnect: set[str] = field(default_factory=set)

    def extend(self, other: "Changes") -> None:
        self.events.extend(other.events)
        self.dirty |= other.dirty
        self.disconnect |= other.disconnect


# kind -> function(meeting_id, item_ids) that stamps, commits and returns tally events. The ids
# come in the order they were first marked where the process knows it (not from Redis's set).
TALLY_PUBLISHERS: dict[str, Callable[[int, Collection[int]], list[Event]]] = {}
# kind -> the app setting holding how long its changes are collected before publishing.
TALLY_INTERVAL_SETTINGS: dict[str, str] = {}


def register_tally_publisher(kind: str, publish: Callable[[int, Collection[int]], list[Event]],
                             interval_setting: str = "TALLY_INTERVAL") -> None:
    TALLY_PUBLISHERS[kind] = publish
    TALLY_INTERVAL_SETTINGS[kind] = interval_setting


# This process's last number stamped on each stream. Only the benchmark reads it (through
# meeting/loopstats.py notes: which tally first counts a vote).
_last_stamped: dict[str, int] = {}


def last_stamped(stream: str) -> int:
    return _last_stamped.get(stream, 0)


def stamp(meeting_id: int, events: list[Event]) -> None:
    """Give each event its stream's next sequence number, and `prev`, the one before it.

    Runs inside the caller's transaction. The streams' counters are bumped by one upsert (one row
    per stream, a tally flush's hundred tables in one statement), which locks those streams' rows
    only until the commit: writers of one stream are serialized and its numbers never repeat,
    while writers of different streams (a hundred tables) never wait for each other. The rows
    are in name order, one order for every writer, so two writers of the same streams cannot
    deadlock on PostgreSQL.
    """
    if not events:
        return
    counts = Counter(event.stream for event in events)
    rows = [{"meeting_id": meeting_id, "name": name, "last_seq": counts[name]} for name in sorted(counts)]
    bump = upsert(Stream, ("meeting_id", "name", "last_seq"), ("meeting_id", "name"), increment=("last_seq",),
                  returning=("name", "last_seq"), rows=len(rows))
    top = dict(db.session.execute(bump, rows[0] if len(rows) == 1 else upsert_rows(rows)).all())
    _last_stamped.update(top)
    before = {name: top[name] - count for name, count in counts.items()}
    for event in events:
        event.prev = before[event.stream]
        event.seq = before[event.stream] = event.prev + 1


# How far every stream's number moves when a group-commit server starts (leap_streams): more
# events than one stream could broadcast while its commits waited for their fsync.
STREAM_LEAP = 1_000_000


def leap_streams() -> None:
    """Move every stream's number past any it may have broadcast but lost (at startup).

    With group commit a broadcast leaves at its commit, before the fsync (meeting/broadcast.py
    emit_events). A power cut can lose such a commit, and a restarted server would then give its
    numbers to other events, which a phone still holding the lost ones would take for events it
    already has. After the leap every number sent from now on is new, and a reconnecting phone
    takes its snapshot's positions. Answers are unaffected: they waited for the fsync.
    """
    db.session.execute(sa.update(Stream).values(last_seq=Stream.last_seq + STREAM_LEAP))
    db.session.commit()


def hold_meeting(meeting_id: int) -> None:
    """Lock the meeting row until the commit, before anything is read (tally publishers).

    A tally publisher that reads counts and only then stamps could, with several processes,
    stamp older counts after newer ones; reading under this lock gives the newest counts the
    highest seq, which is the value every client keeps. Ordinary writers never take it.
    """
    db.session.execute(sa.update(Meeting).where(Meeting.id == meeting_id).values(seq=Meeting.seq))


def publish(meeting_id: int, events: list[Event]) -> list[Event]:
    """Stamp events in a transaction of their own, commit, and return them for broadcasting."""
    stamp(meeting_id, events)
    db.session.commit()
    return events


_POSITIONS = sa.select(Stream.name, Stream.last_seq).where(Stream.meeting_id == sa.bindparam("meeting_id"),
                                                           Stream.name.in_(sa.bindparam("names", expanding=True)))


def stream_positions(meeting_id: int, names: list[str]) -> dict[str, int]:
    found = dict(db.session.execute(_POSITIONS, {"meeting_id": meeting_id, "names": list(names)}).all())
    return {name: found.get(name, 0) for name in names}

"""Who is connected right now, shared through the database so every worker sees it.

A connection's row is written (and committed) by its own connect, move or disconnect; the
control room's `presence` counts are a coalesced tally (meeting/broadcast.py), like the votes':
the tables whose count changed are marked, and once per interval one publisher counts them all
in one query and numbers the events under the meeting's lock. Two hundred phones connecting at
once then cost staff a few messages, not two hundred, and the newest counts always carry the
highest seq, whichever worker's phones connected.
"""

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Connection, Participant
from meeting.models._base import now, upsert, utcnow
from meeting.services.events import Changes, Dirty, Event, hold_meeting, publish, register_tally_publisher, staff_stream

_COUNTS = (sa.select(Connection.table_id, sa.func.count())
           .where(Connection.meeting_id == sa.bindparam("meeting_id"),
                  Connection.table_id.in_(sa.bindparam("ids", expanding=True)), Connection.participant_id.is_not(None))
           .group_by(Connection.table_id))


def publish_presence(meeting_id: int, table_ids: set[int]) -> list[Event]:
    """Stamp and commit the connected-phone counts of these tables; return them for broadcasting."""
    hold_meeting(meeting_id)  # count under the lock: the newest counts get the highest seq
    counts = dict(db.session.execute(_COUNTS, {"meeting_id": meeting_id, "ids": sorted(table_ids)}).all())
    return publish(meeting_id, [Event(staff_stream(meeting_id), "presence", {"table_id": t, "connected": counts.get(t, 0)})
                                for t in sorted(table_ids)])


register_tally_publisher("presence", publish_presence)


def _changed(meeting_id: int, *table_ids: int | None) -> Changes:
    return Changes(dirty={Dirty("presence", meeting_id, t) for t in table_ids if t})


def _seen(participant_id: int | None) -> None:
    """Note when a participant's phone was last connected (the funnel's "stayed to the end")."""
    if participant_id is not None:
        # Core, on the session's connection: every phone's connect and disconnect runs it, and the
        # ORM's bulk-update path (autoflush, synchronizing the identity map) cost more than the UPDATE.
        db.session.connection().execute(_SEEN, {"pid": participant_id, "at": now()})


_SEEN = (sa.update(Participant.__table__).where(Participant.__table__.c.id == sa.bindparam("pid"))
         .values(last_seen_at=sa.bindparam("at", type_=Participant.__table__.c.last_seen_at.type)))


def connected(sid: str, meeting_id: int, *, participant_id=None, table_id=None, staff_id=None) -> Changes:
    # An upsert, not the ORM's merge (a SELECT, then an INSERT through the unit of work).
    row = {"sid": sid, "meeting_id": meeting_id, "participant_id": participant_id, "table_id": table_id,
           "staff_id": staff_id, "connected_at": utcnow()}
    db.session.connection().execute(upsert(Connection, row, ("sid",), tuple(k for k in row if k != "sid")), row)
    _seen(participant_id)
    db.session.commit()
    return _changed(meeting_id, table_id if participant_id else None)


_GONE = (sa.delete(Connection.__table__).where(Connection.__table__.c.sid == sa.bindparam("sid"))
         .returning(Connection.__table__.c.meeting_id, Connection.__table__.c.table_id,
                    Connection.__table__.c.participant_id))


def disconnected(sid: str) -> Changes:
    # One DELETE ... RETURNING on the session's connection (no look-up, no unit of work).
    row = db.session.connection().execute(_GONE, {"sid": sid}).one_or_none()
    if row is None:
        db.session.rollback()
        return Changes()
    _seen(row.participant_id)
    db.session.commit()
    return _changed(row.meeting_id, row.table_id if row.participant_id is not None else None)


def moved(sid: str, table_id: int | None) -> Changes:
    """A connected participant now sits at another table: both tables' counts change."""
    conn = db.session.get(Connection, sid)
    if conn is None:
        return Changes()
    old, meeting_id = conn.table_id, conn.meeting_id
    conn.table_id = table_id
    db.session.commit()
    return _changed(meeting_id, old, table_id)


def clear_all() -> None:
    """Forget connections left by a previous run of a single-process server."""
    db.session.execute(sa.delete(Connection))
    db.session.commit()

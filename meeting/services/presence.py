"""Who is connected right now, shared through the database so every worker sees it."""

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Connection, Participant
from meeting.models._base import now
from meeting.services.events import Changes, Event, staff_stream, stamp


def _presence_event(meeting_id: int, table_id: int | None) -> Event:
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Connection).where(
        Connection.meeting_id == meeting_id, Connection.table_id == table_id,
        Connection.participant_id.is_not(None))) if table_id else 0
    return Event(staff_stream(meeting_id), "presence", {"table_id": table_id, "connected": count})


def _seen(participant_id: int | None) -> None:
    """Note when a participant's phone was last connected (the funnel's "stayed to the end")."""
    if participant_id is not None:
        db.session.execute(sa.update(Participant).where(Participant.id == participant_id).values(last_seen_at=now()))


def connected(sid: str, meeting_id: int, *, participant_id=None, table_id=None, staff_id=None) -> Changes:
    db.session.merge(Connection(sid=sid, meeting_id=meeting_id, participant_id=participant_id,
                                table_id=table_id, staff_id=staff_id))
    _seen(participant_id)
    return _commit_presence(meeting_id, table_id if participant_id else None)


def disconnected(sid: str) -> Changes:
    conn = db.session.get(Connection, sid)
    if conn is None:
        return Changes()
    meeting_id, table_id, is_participant = conn.meeting_id, conn.table_id, conn.participant_id is not None
    _seen(conn.participant_id)
    db.session.delete(conn)
    return _commit_presence(meeting_id, table_id if is_participant else None)


def moved(sid: str, table_id: int | None) -> Changes:
    """A connected participant now sits at another table: both tables' counts change."""
    conn = db.session.get(Connection, sid)
    if conn is None:
        return Changes()
    old = conn.table_id
    conn.table_id = table_id
    db.session.flush()
    events = [_presence_event(conn.meeting_id, t) for t in (old, table_id) if t]
    stamp(conn.meeting_id, events)
    db.session.commit()
    return Changes(events=events)


def _commit_presence(meeting_id: int, table_id: int | None) -> Changes:
    db.session.flush()
    events = [_presence_event(meeting_id, table_id)] if table_id else []
    stamp(meeting_id, events)
    db.session.commit()
    return Changes(events=events)


def clear_all() -> None:
    """Forget connections left by a previous run of a single-process server."""
    db.session.execute(sa.delete(Connection))
    db.session.commit()

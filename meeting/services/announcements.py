"""Announcements to everyone or to one table, with their time, that staff can clear. A phone that
joins later sees only an announcement still in force: not cleared and at most ANNOUNCEMENT_TTL old."""

from datetime import timedelta

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Announcement, Participant
from meeting.models._base import iso, now
from meeting.services import audit, meetings, staff
from meeting.services.errors import ServiceError
from meeting.services.events import Changes, Event, meeting_stream, staff_stream, table_stream

ANNOUNCEMENT_TTL = timedelta(minutes=20)


def view(item: Announcement) -> dict:
    return {"id": item.id, "text": item.text, "table_id": item.table_id, "created_at": iso(item.created_at),
            "cleared_at": iso(item.cleared_at)}


def audience(item: Announcement) -> str:
    return table_stream(item.table_id) if item.table_id else meeting_stream(item.meeting_id)


def _since():
    return (now() - ANNOUNCEMENT_TTL).replace(tzinfo=None)  # created_at is stored naive UTC


def _in_force(meeting_id: int):
    return sa.select(Announcement).where(Announcement.meeting_id == meeting_id, Announcement.cleared_at.is_(None),
                                         Announcement.created_at >= _since())


# To everyone, or to one table (none: "= NULL" is never true).
_FOR_TABLE = (sa.select(Announcement).where(Announcement.meeting_id == sa.bindparam("meeting_id"),
                                            Announcement.cleared_at.is_(None),
                                            Announcement.created_at >= sa.bindparam("since"),
                                            sa.or_(Announcement.table_id.is_(None),
                                                   Announcement.table_id == sa.bindparam("table_id")))
              .order_by(Announcement.id.desc()).limit(1))


def for_participant(person: Participant) -> dict | None:
    """The latest announcement in force for this resident: to everyone, or to their table now."""
    table = meetings.table_of(person)
    item = db.session.scalar(_FOR_TABLE, {"meeting_id": person.meeting_id, "since": _since(),
                                          "table_id": table.id if table else None})
    return view(item) if item else None


def for_staff(meeting_id: int) -> list[dict]:
    """Every announcement still in force, newest first."""
    return [view(a) for a in db.session.scalars(_in_force(meeting_id).order_by(Announcement.id.desc()))]


def clear(user, meeting_id: int, announcement_id) -> tuple[dict, Changes]:
    """Take an announcement off every phone's banner."""
    staff.require_facilitator(user, meeting_id)
    item = db.session.get(Announcement, announcement_id) \
        if isinstance(announcement_id, int) and not isinstance(announcement_id, bool) else None
    if item is None or item.meeting_id != meeting_id:
        raise ServiceError("not_found")
    if item.cleared_at is None:
        item.cleared_at = now()
        audit.record("announce.clear", meeting_id=meeting_id, staff_id=user.id, target=f"announcement:{item.id}",
                     table_id=item.table_id)
    payload = {"announcement_id": item.id}
    return {"announcement": view(item)}, Changes(events=[Event(audience(item), "announcement_cleared", payload),
                                                         Event(staff_stream(meeting_id), "announcement_cleared", payload)])

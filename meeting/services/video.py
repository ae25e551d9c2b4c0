"""Video-call links per table (Jitsi, Zoom, Teams, any https URL), for one round or for every round:
in an online or hybrid session the table page shows its table's room, so people who rotate to
another table rotate to its room."""

from urllib.parse import urlsplit

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Round, Table, VideoRoom
from meeting.services import audit, meetings, staff, validate
from meeting.services.errors import ServiceError
from meeting.services.events import Changes, Event, staff_stream, table_stream

URL_MAX = 500


def clean_url(raw) -> str:
    """An http(s) address with a host, or "" (no room); anything else is refused."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ""
    if not isinstance(raw, str) or len(raw.strip()) > URL_MAX:
        raise ServiceError("video_url", max=URL_MAX)
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or any(c.isspace() for c in url):
        raise ServiceError("video_url", max=URL_MAX)
    return url


_ROOMS_OF = sa.select(VideoRoom.round_id, VideoRoom.url).where(
    VideoRoom.table_id == sa.bindparam("table_id"),
    sa.or_(VideoRoom.round_id.is_(None), VideoRoom.round_id == sa.bindparam("round_id")))


def room_for(table_id: int, round_id: int | None) -> str | None:
    """The table's room for this round: a link for the round itself, else the one for every round."""
    rows = dict(db.session.execute(_ROOMS_OF, {"table_id": table_id, "round_id": round_id}).all())
    return rows.get(round_id) or rows.get(None) if round_id is not None else rows.get(None)


def rooms(meeting_id: int) -> list[dict]:
    return [{"table_id": r.table_id, "round_id": r.round_id, "url": r.url}
            for r in db.session.scalars(sa.select(VideoRoom).where(VideoRoom.meeting_id == meeting_id)
                                        .order_by(VideoRoom.table_id, VideoRoom.round_id))]


def set_room(user, meeting_id: int, table_id, url, round_id=None) -> tuple[dict, Changes]:
    """Set (or, with an empty url, remove) a table's video room for every round or one round."""
    staff.require_facilitator(user, meeting_id)
    table = db.session.get(Table, table_id) if validate.is_id(table_id) else None
    if table is None or table.meeting_id != meeting_id:
        raise ServiceError("not_found")
    if round_id is not None:
        step = db.session.get(Round, round_id) if validate.is_id(round_id) else None
        if step is None or step.meeting_id != meeting_id:
            raise ServiceError("not_found")
    url = clean_url(url)
    room = db.session.scalar(sa.select(VideoRoom).where(VideoRoom.table_id == table.id, VideoRoom.round_id.is_(None)
                                                        if round_id is None else VideoRoom.round_id == round_id))
    if url and room is None:
        db.session.add(VideoRoom(meeting_id=meeting_id, table_id=table.id, round_id=round_id, url=url))
    elif url:
        room.url = url
    elif room is not None:
        db.session.delete(room)
    db.session.flush()
    audit.record("video.set", meeting_id=meeting_id, staff_id=user.id, target=f"table:{table.id}",
                 table_id=table.id, round_id=round_id, url=url)
    now_round = meetings.seating_round_id(meeting_id)
    shown = room_for(table.id, now_round)
    return {"rooms": rooms(meeting_id)}, Changes(events=[
        Event(table_stream(table.id), "video_room", {"url": shown}),
        Event(staff_stream(meeting_id), "video_rooms", {"rooms": rooms(meeting_id)})])


def for_phone(meeting_id: int, table_id: int | None) -> str | None:
    return room_for(table_id, meetings.seating_round_id(meeting_id)) if table_id else None

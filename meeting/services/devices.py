"""Secret, revocable links for shared devices: the hall's projector (read-only) and a table's
shared tablet. Only a token's hash is kept; the token reaches the facilitator once."""

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import DeviceLink
from meeting.models._base import iso, now
from meeting.services import audit, secrets, validate
from meeting.services.errors import ServiceError


def view(link: DeviceLink) -> dict:
    return {"id": link.id, "kind": link.kind, "table_id": link.table_id, "created_at": iso(link.created_at),
            "revoked_at": iso(link.revoked_at)}


def links(meeting_id: int, kind: str) -> list[dict]:
    """The links of this kind still in force, oldest first."""
    return [view(link) for link in db.session.scalars(sa.select(DeviceLink).where(
        DeviceLink.meeting_id == meeting_id, DeviceLink.kind == kind, DeviceLink.revoked_at.is_(None))
        .order_by(DeviceLink.id))]


def create(user, meeting_id: int, kind: str, table_id: int | None = None) -> tuple[DeviceLink, str]:
    """A new link (the caller checked permission); return it and its token, which is not kept."""
    token = secrets.new_token()
    link = DeviceLink(meeting_id=meeting_id, kind=kind, table_id=table_id, token_hash=secrets.token_hash(token),
                      created_by=user.id, created_at=now())
    db.session.add(link)
    db.session.flush()
    audit.record(f"{kind}.create", meeting_id=meeting_id, staff_id=user.id, target=f"device:{link.id}",
                 table_id=table_id)
    return link, token


def revoke(user, meeting_id: int, kind: str, link_id) -> DeviceLink:
    """Revoke a link of this meeting and kind (the caller checked permission)."""
    link = db.session.get(DeviceLink, link_id) if validate.is_id(link_id) else None
    if link is None or link.meeting_id != meeting_id or link.kind != kind:
        raise ServiceError("not_found")
    if link.revoked_at is None:
        link.revoked_at = now()
        audit.record(f"{kind}.revoke", meeting_id=meeting_id, staff_id=user.id, target=f"device:{link.id}",
                     table_id=link.table_id)
    return link


def find(meeting_id: int | None, kind: str, token) -> DeviceLink | None:
    """The link of this kind a token opens (of this meeting, when given), if it is not revoked."""
    if not isinstance(token, str) or not 10 <= len(token) <= 100:
        return None
    link = db.session.scalar(sa.select(DeviceLink).where(DeviceLink.token_hash == secrets.token_hash(token)))
    if link is None or link.kind != kind or link.revoked_at is not None:
        return None
    if meeting_id is not None and link.meeting_id != meeting_id:
        return None
    return link

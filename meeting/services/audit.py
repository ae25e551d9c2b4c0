"""Append to the audit log (in the caller's transaction)."""

from meeting.extensions import db
from meeting.models import AuditEvent


def record(action: str, *, meeting_id: int | None = None, staff_id: int | None = None,
           target: str = "", **detail) -> None:
    db.session.add(AuditEvent(meeting_id=meeting_id, staff_id=staff_id, action=action,
                              target=target, detail=detail))

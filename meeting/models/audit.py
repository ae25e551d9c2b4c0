"""The audit log, the realtime op log (idempotent replay) and live connections."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from meeting.extensions import db
from meeting.models._base import utcnow


class AuditEvent(db.Model):
    """Something staff did, or an access to personal data."""

    __tablename__ = "audit_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    staff_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    action: so.Mapped[str] = so.mapped_column(sa.String(60))
    target: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    detail: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class OpLog(db.Model):
    """The first answer to a client operation, so a replayed op_id repeats it."""

    __tablename__ = "op_log"
    __table_args__ = (sa.UniqueConstraint("actor", "op_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    actor: so.Mapped[str] = so.mapped_column(sa.String(40))
    meeting_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    op_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    response: so.Mapped[dict] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class Connection(db.Model):
    """A live Socket.IO connection, for connected counts across workers."""

    __tablename__ = "connections"

    sid: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    participant_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("participants.id", ondelete="CASCADE"))
    table_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("tables.id", ondelete="CASCADE"))
    staff_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_users.id", ondelete="CASCADE"))
    connected_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

"""Help calls: a resident asks for staff from their phone."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from meeting.extensions import db
from meeting.models._base import AwareDateTime, now

HELP_STATES = ("waiting", "coming", "resolved", "cancelled")


class HelpCall(db.Model):
    """One call for staff: waiting → coming (a staff member acknowledged) → resolved; or cancelled."""

    __tablename__ = "help_calls"
    __table_args__ = (sa.CheckConstraint("state IN ('waiting', 'coming', 'resolved', 'cancelled')", name="state"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    participant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    table_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("tables.id", ondelete="SET NULL"))
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default="waiting")
    created_at: so.Mapped[datetime] = so.mapped_column(AwareDateTime(), default=now)
    acknowledged_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())
    acknowledged_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    resolved_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())

"""Staff accounts (organizers, facilitators) and their meeting roles."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from meeting.extensions import db
from meeting.models._base import utcnow

ROLES = ("organizer", "facilitator")


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    is_organizer: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    roles: so.WriteOnlyMapped["MeetingStaff"] = so.relationship(back_populates="user")


class MeetingStaff(db.Model):
    """A staff member's role in one meeting."""

    __tablename__ = "meeting_staff"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    role: so.Mapped[str] = so.mapped_column(sa.String(20))

    user: so.Mapped[StaffUser] = so.relationship(back_populates="roles")

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


class StaffSession(db.Model):
    """One staff login, kept on the server so that it can be ended before the cookie expires.

    The cookie holds the row id and a random key; only the key's SHA-256 is stored. Logout,
    a password change, "sign out everywhere" and the idle and absolute timeouts set revoked_at.
    """

    __tablename__ = "staff_sessions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    key_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_seen_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(default=None)
    revoked_why: so.Mapped[str] = so.mapped_column(sa.String(40), default="")


class LoginThrottle(db.Model):
    """Wrong passwords per account (keyed by the e-mail's hash, known account or not)."""

    __tablename__ = "login_throttle"

    email_hash: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    failures: so.Mapped[int] = so.mapped_column(default=0)
    blocked_until: so.Mapped[datetime | None] = so.mapped_column(default=None)

"""Participants (pseudonymous) and their invitations."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from meeting.extensions import db
from meeting.models._base import AwareDateTime, utcnow


class Participant(db.Model):
    """A resident taking part; linked to ideas and votes, never to a name."""

    __tablename__ = "participants"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    number: so.Mapped[int] = so.mapped_column(default=0)
    nickname: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    # Category values used for seating and analysis (never identity).
    categories: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    session_key_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    joined_at: so.Mapped[datetime | None] = so.mapped_column()
    # Removed from the meeting by staff: the session is revoked and no invitation lets them in.
    removed_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # "invite" (a drawn panel's personal invitation) or "open" (joined by an open meeting's code).
    via: so.Mapped[str] = so.mapped_column(sa.String(8), default="invite", server_default="invite")
    # On an open meeting's waiting list (capacity reached) since then; null once admitted.
    waitlisted_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())
    # When a phone of theirs was last connected (the funnel's "stayed to the end").
    last_seen_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())

    invitation: so.Mapped["Invitation"] = so.relationship(back_populates="participant", uselist=False)


class Invitation(db.Model):
    """A single-use invitation: a 128-bit link token and a short typed code.

    Only hashes are used for look-up; the printable values are sealed with the data key,
    which lives outside the database.
    """

    __tablename__ = "invitations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    participant_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("participants.id", ondelete="CASCADE"), unique=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    sealed: so.Mapped[str] = so.mapped_column(sa.Text)
    used_at: so.Mapped[datetime | None] = so.mapped_column()
    # First opened (link or code), whether or not the resident went on to join (the funnel).
    opened_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    participant: so.Mapped[Participant] = so.relationship(back_populates="invitation")

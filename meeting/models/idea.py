"""Ideas posted at tables, votes on them, and announcements."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from meeting.extensions import db
from meeting.models._base import AwareDateTime, utcnow

VOTE_VALUES = ("agree", "disagree", "pass")
IDEA_MAX_LENGTH = 500


class Idea(db.Model):
    __tablename__ = "ideas"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    table_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tables.id", ondelete="CASCADE"), index=True)
    round_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    participant_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("participants.id", ondelete="SET NULL"), index=True)
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    hidden: so.Mapped[bool] = so.mapped_column(default=False)
    hidden_reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # Edited by staff for readability: the author's words are kept here, and the idea says it was edited.
    original_text: so.Mapped[str | None] = so.mapped_column(sa.Text)
    edited_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())
    # Pre-moderation: waits for staff approval before any table sees it (rejected = hidden + reason).
    pending: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # Merged into another idea (a duplicate): shown only through that idea, whose tally counts each
    # voter of the group once. A plain integer, not a foreign key: SQLite cannot add one to an
    # existing table without rebuilding it, and a rebuild would cascade-delete the votes.
    merged_into_id: so.Mapped[int | None] = so.mapped_column(sa.Integer, index=True)
    # Brought to the plenary by its table's host or a facilitator.
    plenary_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())
    # Entered by a facilitator on behalf of a resident without a phone (the staff member's id).
    proxy_staff_id: so.Mapped[int | None] = so.mapped_column(sa.Integer)


class Vote(db.Model):
    """A participant's agree/disagree/pass on an idea; the last vote counts."""

    __tablename__ = "votes"
    __table_args__ = (
        sa.UniqueConstraint("participant_id", "idea_id"),
        sa.CheckConstraint("value IN ('agree', 'disagree', 'pass')", name="value"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    idea_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    participant_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    value: so.Mapped[str] = so.mapped_column(sa.String(10))
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # Cast by a facilitator on behalf of a resident without a phone (the staff member's id).
    proxy_staff_id: so.Mapped[int | None] = so.mapped_column(sa.Integer)


class Announcement(db.Model):
    __tablename__ = "announcements"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    staff_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # To one table (else to everyone); cleared by staff, after which no phone shows it.
    table_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("tables.id", ondelete="CASCADE"))
    cleared_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())

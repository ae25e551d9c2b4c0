"""Polls (plenary or at one table) and the ballots cast in them."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from meeting.extensions import db
from meeting.models._base import utcnow

POLL_KINDS = ("agree", "single", "approval", "dots", "ranking", "score", "survey", "text")
POLL_STATES = ("draft", "open", "closed")
# Who sees the results: participants live, participants after closing, or only the staff.
POLL_VISIBILITY = ("live", "after_close", "organizers")
SURVEY_PHASES = ("before", "after")


class Poll(db.Model):
    """One question put to the plenary (table_id NULL) or to one table.

    A before/after survey is two linked polls: the "after" wave points at the "before" wave
    through `before_poll_id` and asks the same questions.
    """

    __tablename__ = "polls"
    __table_args__ = (
        sa.CheckConstraint("state IN ('draft', 'open', 'closed')", name="state"),
        sa.CheckConstraint("visibility IN ('live', 'after_close', 'organizers')", name="visibility"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    table_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("tables.id", ondelete="CASCADE"), index=True)
    round_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("rounds.id", ondelete="SET NULL"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    question: so.Mapped[str] = so.mapped_column(sa.Text)
    # [{"id": "o1", "label": "..."}]; survey: the questions; agree: empty (the question is the statement).
    options: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    rules: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default="draft")
    visibility: so.Mapped[str] = so.mapped_column(sa.String(20), default="live")
    secret: so.Mapped[bool] = so.mapped_column(default=False)
    phase: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    before_poll_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("polls.id", ondelete="SET NULL"))
    closes_at: so.Mapped[datetime | None] = so.mapped_column(index=True)
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    opened_at: so.Mapped[datetime | None] = so.mapped_column()
    closed_at: so.Mapped[datetime | None] = so.mapped_column()


class Ballot(db.Model):
    """One participant's answer to one poll; the last one counts.

    In a secret poll the link to the participant is dropped when the poll closes; the
    `receipt` (a hash of a nonce given only to the voter) still finds the ballot. An ordinary
    poll's ballot has no receipt: its voter sees their own ballot on the phone.
    """

    __tablename__ = "ballots"
    __table_args__ = (sa.UniqueConstraint("poll_id", "participant_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    poll_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    participant_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("participants.id", ondelete="SET NULL"), index=True)
    data: so.Mapped[dict] = so.mapped_column(sa.JSON)
    receipt: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

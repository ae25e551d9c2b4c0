"""The last computed opinion map of a meeting, so pages and the report never recompute."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from meeting.extensions import db
from meeting.models._base import utcnow


class OpinionMapSnapshot(db.Model):
    """One row per meeting, replaced by each recompute (see services/opinion.py)."""

    __tablename__ = "opinion_map_snapshots"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), unique=True)
    computed_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # Votes counted (one per participant and idea, hidden ideas included).
    vote_count: so.Mapped[int] = so.mapped_column(default=0)
    data: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)

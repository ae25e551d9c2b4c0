"""Panel selection by lot: the roster (identity sealed), quotas, and draws."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from meeting.extensions import db
from meeting.models._base import utcnow

# What happened to a person of the roster, in the order a meeting goes through.
ROSTER_STATUSES = ("pool", "selected", "alternate", "confirmed", "arrived", "declined", "replacement")


class Roster(db.Model):
    """The uploaded pool file of one meeting: which columns mean what (no cell values)."""

    __tablename__ = "panel_rosters"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), unique=True)
    filename: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    id_column: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    category_columns: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)  # category -> column
    household_columns: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    identity_columns: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    uploaded_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    purged_at: so.Mapped[datetime | None] = so.mapped_column()


class RosterPerson(db.Model):
    """One resident in the pool.

    Category values are plain (quotas, seating, analysis need them). Name, address, contact
    and every other column are sealed with the data key, which lives outside the database;
    the household is a keyed hash of the normalized address, never the address itself.
    """

    __tablename__ = "roster_people"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "external_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    position: so.Mapped[int] = so.mapped_column(default=0)   # order in the file
    line: so.Mapped[int] = so.mapped_column(default=0)       # row number in the file
    external_id: so.Mapped[str] = so.mapped_column(sa.String(100))
    categories: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    household_key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    identity_sealed: so.Mapped[str | None] = so.mapped_column(sa.Text)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="pool")
    alternate_rank: so.Mapped[int | None] = so.mapped_column()
    is_replacement: so.Mapped[bool] = so.mapped_column(default=False)
    participant_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("participants.id", ondelete="SET NULL"))


class PanelQuota(db.Model):
    """Bounds on how many panel members have `value` in `category`."""

    __tablename__ = "panel_quotas"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "category", "value"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    position: so.Mapped[int] = so.mapped_column(default=0)
    category: so.Mapped[str] = so.mapped_column(sa.String(100))
    value: so.Mapped[str] = so.mapped_column(sa.String(100))
    min: so.Mapped[int] = so.mapped_column(default=0)
    max: so.Mapped[int] = so.mapped_column(default=0)


class Selection(db.Model):
    """One run of the solver in a child process: a quota check, a panel draw or replacements.

    The child writes `progress`/`message` while it works and the outcome when it ends;
    `error_code` is a stable code the page localizes, `error_detail` its structured data.
    """

    __tablename__ = "panel_selections"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(12), default="panel")  # check / panel / replacement
    method: so.Mapped[str] = so.mapped_column(sa.String(12), default="leximin")
    k: so.Mapped[int] = so.mapped_column(default=0)
    alternates: so.Mapped[int] = so.mapped_column(default=0)
    seed: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    time_limit: so.Mapped[float] = so.mapped_column(default=120.0)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="queued")  # queued/running/done/failed
    progress: so.Mapped[float] = so.mapped_column(default=0.0)
    message: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    params: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)   # input snapshot (replacements)
    report: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)   # same fields as the CLI's report.json
    probabilities: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)  # roster person id -> probability
    panel: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)        # roster person ids
    alternate_ids: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)  # roster person ids, in order
    feasibility: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)  # issues and relaxations
    error_code: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    error_detail: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    pid: so.Mapped[int | None] = so.mapped_column()
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    started_at: so.Mapped[datetime | None] = so.mapped_column()
    finished_at: so.Mapped[datetime | None] = so.mapped_column()
    confirmed_at: so.Mapped[datetime | None] = so.mapped_column()

"""A meeting, its rounds, tables (breakout rooms) and seating."""

from datetime import date, datetime, time

import sqlalchemy as sa
import sqlalchemy.orm as so

from meeting.extensions import db
from meeting.models._base import AwareDateTime, now, utcnow

STEP_KINDS = ("table", "plenary")
STEP_STATES = ("planned", "running", "paused", "done")


class Meeting(db.Model):
    __tablename__ = "meetings"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    language: so.Mapped[str] = so.mapped_column(sa.String(5), default="ja")
    # True: pages follow the meeting's language, not the browser's (a visitor's own choice still wins).
    language_fixed: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    purpose: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # No longer a counter (streams are numbered in `streams`): tally publishers update it to
    # lock the meeting row while they read counts (services/events.hold_meeting).
    seq: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # When a table round ends, posting ideas for it closes (round_closed) or stays open.
    close_posting_at_end: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    table_min_size: so.Mapped[int | None] = so.mapped_column()
    table_max_size: so.Mapped[int | None] = so.mapped_column()
    # When and where, printed on letters and cards and in the report: a local date and local
    # times in `timezone` (what an organizer types), not UTC instants.
    held_on: so.Mapped[date | None] = so.mapped_column()
    starts_at: so.Mapped[time | None] = so.mapped_column()
    ends_at: so.Mapped[time | None] = so.mapped_column()
    timezone: so.Mapped[str] = so.mapped_column(sa.String(40), default="Asia/Tokyo", server_default="Asia/Tokyo")
    venue: so.Mapped[str] = so.mapped_column(sa.String(300), default="", server_default="")
    contact: so.Mapped[str] = so.mapped_column(sa.String(300), default="", server_default="")
    # The licence of the published report and open data (an SPDX id).
    licence: so.Mapped[str] = so.mapped_column(sa.String(40), default="CC-BY-4.0", server_default="CC-BY-4.0")
    # Set when an organizer publishes the meeting: only then the read-only API shows it.
    published_at: so.Mapped[datetime | None] = so.mapped_column()
    # "post": ideas appear at once and staff may hide them; "pre": they wait for approval.
    moderation: so.Mapped[str] = so.mapped_column(sa.String(4), default="post", server_default="post")
    # A table's report-out in the plenary: speaking time, then questions (seconds).
    report_speak_s: so.Mapped[int] = so.mapped_column(default=120, server_default="120")
    report_questions_s: so.Mapped[int] = so.mapped_column(default=60, server_default="60")
    # An open meeting (まち作り会議): anyone with the public code joins, up to `capacity` (then a
    # waiting list); they may report the categories in `self_report` ([{"category", "values"}]).
    open_code: so.Mapped[str | None] = so.mapped_column(sa.String(16), unique=True, index=True)
    capacity: so.Mapped[int | None] = so.mapped_column()
    self_report: so.Mapped[list] = so.mapped_column(sa.JSON, default=list, server_default="[]")

    tables: so.Mapped[list["Table"]] = so.relationship(
        back_populates="meeting", order_by="Table.position", cascade="all, delete-orphan")
    rounds: so.Mapped[list["Round"]] = so.relationship(
        back_populates="meeting", order_by=lambda: (Round.position, Round.id), cascade="all, delete-orphan")

    @property
    def current_round(self) -> "Round | None":
        """The round whose seating is in force (where ideas are posted now)."""
        seated = [r for r in self.rounds if r.seating_since is not None]
        return max(seated, key=lambda r: (r.seating_since, r.id)) if seated else None


class Round(db.Model):
    """A step of the day's agenda: a table round or a plenary step.

    Seating belongs to a table round (World Café rotates per round); an idea remembers the
    round it was posted in. The server owns the clock: a running step has `ends_at`, a paused
    one keeps `remaining_s`.
    """

    __tablename__ = "rounds"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    number: so.Mapped[int] = so.mapped_column(default=1)
    title: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    kind: so.Mapped[str] = so.mapped_column(sa.String(10), default="table", server_default="table")
    question: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    position: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    duration_s: so.Mapped[int] = so.mapped_column(default=0, server_default="0")  # planned; 0: no timer
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default="planned", server_default="planned")
    auto_end: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    started_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())
    ends_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())
    remaining_s: so.Mapped[float | None] = so.mapped_column()
    ended_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())
    # When this round's seating was put in force; the latest such round is where phones sit.
    seating_since: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())

    meeting: so.Mapped[Meeting] = so.relationship(back_populates="rounds")


class Table(db.Model):
    """A breakout room."""

    __tablename__ = "tables"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    position: so.Mapped[int] = so.mapped_column(default=0)

    meeting: so.Mapped[Meeting] = so.relationship(back_populates="tables")


class TableHost(db.Model):
    """The World Café host of a table, who stays there every round: a participant or a staff member."""

    __tablename__ = "table_hosts"

    table_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tables.id", ondelete="CASCADE"), primary_key=True)
    participant_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("participants.id", ondelete="CASCADE"), unique=True)
    staff_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_users.id", ondelete="CASCADE"))


class Seat(db.Model):
    """Where a participant sits in one round."""

    __tablename__ = "seats"
    __table_args__ = (sa.UniqueConstraint("round_id", "participant_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    round_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    table_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tables.id", ondelete="CASCADE"), index=True)
    participant_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("participants.id", ondelete="CASCADE"), index=True)


class SeatingRule(db.Model):
    """Keep these participants together (a resident and their helper) or apart."""

    __tablename__ = "seating_rules"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))  # together / apart
    participant_ids: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)


class Stream(db.Model):
    """A broadcast room's last sequence number, so clients can detect a gap."""

    __tablename__ = "streams"

    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(60), primary_key=True)
    last_seq: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)


REPORT_STATES = ("waiting", "running", "paused", "done")


class ReportOut(db.Model):
    """One table's turn to report to the plenary: a queue position and its own server-side clock."""

    __tablename__ = "report_outs"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "table_id"),
                      sa.CheckConstraint("state IN ('waiting', 'running', 'paused', 'done')", name="state"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    table_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tables.id", ondelete="CASCADE"))
    position: so.Mapped[int] = so.mapped_column(default=0)
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default="waiting")
    speak_s: so.Mapped[int] = so.mapped_column(default=120)
    questions_s: so.Mapped[int] = so.mapped_column(default=60)
    started_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())
    ends_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())
    remaining_s: so.Mapped[float | None] = so.mapped_column()
    ended_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())


DEVICE_KINDS = ("projector", "tablet")


class DeviceLink(db.Model):
    """A secret, revocable link for a shared device: the hall's projector (read-only, no participant
    identifier ever) or one table's shared tablet. Only the token's hash is kept."""

    __tablename__ = "device_links"
    __table_args__ = (sa.CheckConstraint("kind IN ('projector', 'tablet')", name="kind"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    table_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("tables.id", ondelete="CASCADE"))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(AwareDateTime(), default=now)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(AwareDateTime())


class VideoRoom(db.Model):
    """A table's video-call link (Jitsi, Zoom, Teams, any URL), for one round or (round_id null) all."""

    __tablename__ = "video_rooms"
    __table_args__ = (sa.UniqueConstraint("table_id", "round_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    table_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tables.id", ondelete="CASCADE"))
    round_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"))
    url: so.Mapped[str] = so.mapped_column(sa.String(500))


class OpenVisit(db.Model):
    """A browser that opened an open meeting's page (the funnel's "opened"): a hash of a random
    per-browser id, never an IP address or anything else about the visitor."""

    __tablename__ = "open_visits"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "browser_hash"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    browser_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    at: so.Mapped[datetime] = so.mapped_column(AwareDateTime(), default=now)

"""Moderation beyond hide/restore: editing an idea for readability (the original is kept), and
the audit log as staff read it (filter by action, staff member, table; CSV)."""

import re

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import AuditEvent, HelpCall, Idea, Seat, StaffUser, Table
from meeting.models._base import iso, now
from meeting.models.idea import IDEA_MAX_LENGTH
from meeting.services import audit, ideas, staff, validate
from meeting.services.errors import ServiceError
from meeting.services.events import Changes, Dirty, Event, staff_stream, table_stream


def staff_idea_view(idea: Idea) -> dict:
    """An idea as the control room sees it: with the hiding reason and, once edited, the original."""
    view = ideas.idea_view(idea, ideas.tallies([idea.id])[idea.id])
    return {**view, "hidden_reason": idea.hidden_reason, "original_text": idea.original_text,
            "sources": ideas.merged_sources([idea.id]).get(idea.id, [])}


def edit_idea(user, meeting_id: int, idea_id, text, reason) -> tuple[dict, Changes]:
    """Edit an idea for readability (typos, a name taken out). The author's original words are kept
    (the first original, however often it is edited), every phone shows the idea as edited, and the
    author is told."""
    staff.require_facilitator(user, meeting_id)
    idea = db.session.get(Idea, idea_id) if isinstance(idea_id, int) and not isinstance(idea_id, bool) else None
    if idea is None or idea.meeting_id != meeting_id:
        raise ServiceError("not_found")
    text = ideas._clean_text(text, IDEA_MAX_LENGTH, "idea_empty")
    reason = reason.strip()[:ideas.REASON_MAX] if isinstance(reason, str) else ""
    if not reason:
        raise ServiceError("reason_required")
    if text == idea.text:
        raise ServiceError("idea_unchanged")
    before = idea.text
    if idea.original_text is None:
        idea.original_text = idea.text
    idea.text = text
    idea.edited_at = now()
    audit.record("idea.edit", meeting_id=meeting_id, staff_id=user.id, target=f"idea:{idea.id}",
                 table_id=idea.table_id, reason=reason, before=before, after=text)
    view = staff_idea_view(idea)
    public = {k: v for k, v in view.items() if k not in ("hidden_reason", "original_text")}
    events = [Event(staff_stream(meeting_id), "idea_updated", {"idea": view})]
    if not (idea.hidden or idea.pending or idea.merged_into_id is not None):
        events += [Event(table_stream(t), "idea_posted", {"idea": public}) for t in sorted(ideas.tables_showing(idea))]
    if idea.participant_id:
        events.append(ideas.author_notice(idea, "edited", reason))
    return {"idea": view}, Changes(events=events, dirty={Dirty("map", meeting_id, 0)})

def _pending(meeting_id: int, idea_id) -> Idea:
    idea = db.session.get(Idea, idea_id) if isinstance(idea_id, int) and not isinstance(idea_id, bool) else None
    if idea is None or idea.meeting_id != meeting_id:
        raise ServiceError("not_found")
    if not idea.pending:
        raise ServiceError("idea_decided")
    return idea


def approve_idea(user, meeting_id: int, idea_id) -> tuple[dict, Changes]:
    """Pre-moderation: let a waiting idea through to its table; its author is told."""
    staff.require_facilitator(user, meeting_id)
    idea = _pending(meeting_id, idea_id)
    idea.pending = False
    audit.record("idea.approve", meeting_id=meeting_id, staff_id=user.id, target=f"idea:{idea.id}",
                 table_id=idea.table_id)
    view = staff_idea_view(idea)
    public = {k: v for k, v in view.items() if k not in ("hidden_reason", "original_text")}
    events = [Event(table_stream(idea.table_id), "idea_posted", {"idea": public}),
              Event(staff_stream(meeting_id), "idea_updated", {"idea": view})]
    if idea.participant_id:
        events.append(ideas.author_notice(idea, "approved"))
    return {"idea": view}, Changes(events=events, dirty={Dirty("map", meeting_id, 0)})


def reject_idea(user, meeting_id: int, idea_id, reason) -> tuple[dict, Changes]:
    """Pre-moderation: keep a waiting idea from its table, with a reason its author is told."""
    staff.require_facilitator(user, meeting_id)
    idea = _pending(meeting_id, idea_id)
    reason = validate.clean_text(reason, ideas.REASON_MAX, "reason_required", too_long_code="reason_too_long",
                                 multiline=True)
    idea.pending = False
    idea.hidden = True
    idea.hidden_reason = reason
    audit.record("idea.reject", meeting_id=meeting_id, staff_id=user.id, target=f"idea:{idea.id}",
                 table_id=idea.table_id, reason=reason)
    view = staff_idea_view(idea)
    events = [Event(staff_stream(meeting_id), "idea_updated", {"idea": view})]
    if idea.participant_id:
        events.append(ideas.author_notice(idea, "rejected", reason))
    return {"idea": view}, Changes(events=events)


TARGET = re.compile(r"^(idea|help|participant):(\d+)$")


def _tables_of(events: list[AuditEvent]) -> dict[int, int | None]:
    """The table each event concerns: its `table_id` detail, else its idea's or help call's table."""
    wanted: dict[str, set[int]] = {"idea": set(), "help": set(), "participant": set()}
    for event in events:
        match = TARGET.match(event.target or "")
        if match:
            wanted[match.group(1)].add(int(match.group(2)))
    ideas = dict(db.session.execute(sa.select(Idea.id, Idea.table_id).where(Idea.id.in_(wanted["idea"]))).all()) \
        if wanted["idea"] else {}
    calls = dict(db.session.execute(sa.select(HelpCall.id, HelpCall.table_id)
                                    .where(HelpCall.id.in_(wanted["help"]))).all()) if wanted["help"] else {}
    seats: dict[int, int] = {}
    if wanted["participant"]:  # a person's latest seat
        for pid, table_id in db.session.execute(sa.select(Seat.participant_id, Seat.table_id)
                                                .where(Seat.participant_id.in_(wanted["participant"]))
                                                .order_by(Seat.id)):
            seats[pid] = table_id
    found = {}
    for event in events:
        table_id = (event.detail or {}).get("table_id")
        match = TARGET.match(event.target or "")
        if table_id is None and match:
            kind, item = match.group(1), int(match.group(2))
            table_id = {"idea": ideas, "help": calls, "participant": seats}[kind].get(item)
        found[event.id] = table_id if isinstance(table_id, int) and not isinstance(table_id, bool) else None
    return found


def _int_or_none(raw) -> int | None:
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


def audit_log(user, meeting_id: int, *, action=None, staff_id=None, table_id=None) -> dict:
    """The meeting's audit log, newest first, with the filters' choices (reads only)."""
    staff.require_facilitator(user, meeting_id)
    events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.meeting_id == meeting_id)
                                     .order_by(AuditEvent.id.desc())))
    tables = {t.id: t.name for t in db.session.scalars(sa.select(Table).where(Table.meeting_id == meeting_id))}
    people = {u.id: (u.name or u.email) for u in db.session.scalars(
        sa.select(StaffUser).where(StaffUser.id.in_({e.staff_id for e in events if e.staff_id})))}
    table_of = _tables_of(events)
    staff_id, table_id = _int_or_none(staff_id), _int_or_none(table_id)
    rows = []
    for event in events:
        if action and event.action != action:
            continue
        if staff_id is not None and event.staff_id != staff_id:
            continue
        if table_id is not None and table_of[event.id] != table_id:
            continue
        detail = {k: v for k, v in (event.detail or {}).items() if k != "table_id"}
        rows.append({"id": event.id, "at": iso(event.created_at), "action": event.action,
                     "staff_id": event.staff_id, "staff": people.get(event.staff_id, ""),
                     "table_id": table_of[event.id], "table": tables.get(table_of[event.id], ""),
                     "target": event.target, "detail": detail})
    return {"rows": rows, "actions": sorted({e.action for e in events}),
            "staff": sorted(people.items(), key=lambda kv: kv[1]), "tables": sorted(tables.items()),
            "filters": {"action": action or "", "staff_id": staff_id, "table_id": table_id}}

"""The day's agenda: ordered steps (table rounds and plenary steps) and the clock the server owns.

A step is planned, running, paused or done. A running step with a duration has `ends_at`; a
paused one keeps `remaining_s`. Phones show the countdown from `ends_at` and the server's time
sent with every `round_changed`, so every phone shows the same remaining time whatever its own
clock says. Done steps stay as they ran: they can no longer be edited, moved or deleted.
"""

import unicodedata
from datetime import timedelta

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Idea, Meeting, Round, Seat
from meeting.models._base import by_id, iso, now
from meeting.models.meeting import STEP_KINDS
from meeting.services import audit, meetings, seating, staff
from meeting.services.errors import ServiceError
from meeting.services.events import Changes, Event, meeting_stream, publish, staff_stream

TITLE_MAX = 200
QUESTION_MAX = 500
MAX_DURATION_S = 8 * 3600
MAX_EXTEND_S = 3600
LIVE = ("running", "paused")


# --------------------------------------------------------------------------- views


def remaining_s(step: Round, at=None) -> float | None:
    """Seconds left on the step's clock now (None: the step has no timer)."""
    if step.state == "running":
        if step.ends_at is None:
            return None
        return max(0.0, (step.ends_at - (at or now())).total_seconds())
    if step.state == "paused":
        return step.remaining_s
    if step.state == "planned":
        return float(step.duration_s) if step.duration_s else None
    return 0.0


def step_view(step: Round, at=None) -> dict:
    return {"id": step.id, "number": step.number, "position": step.position, "kind": step.kind,
            "title": step.title, "question": step.question, "duration_s": step.duration_s,
            "state": step.state, "auto_end": step.auto_end, "started_at": iso(step.started_at),
            "ends_at": iso(step.ends_at) if step.state == "running" else None,
            "remaining_s": remaining_s(step, at), "ended_at": iso(step.ended_at)}


_STEPS = sa.select(Round).where(Round.meeting_id == sa.bindparam("meeting_id")).order_by(Round.position, Round.id)


def steps(meeting_id: int) -> list[Round]:
    return list(db.session.scalars(_STEPS, {"meeting_id": meeting_id}))


def current_step(all_steps: list[Round]) -> Round | None:
    """The running or paused step; else the step that ended last (phones show "time is up")."""
    live = [s for s in all_steps if s.state in LIVE]
    if live:
        return live[0]
    done = [s for s in all_steps if s.state == "done" and s.ended_at is not None]
    return max(done, key=lambda s: (s.ended_at, s.id)) if done else None


def upcoming_step(all_steps: list[Round]) -> Round | None:
    """The planned step that "next" starts: the first after the latest step that ran, else the first."""
    ran = [i for i, s in enumerate(all_steps) if s.state != "planned"]
    after = all_steps[max(ran) + 1:] if ran else all_steps
    return next((s for s in after if s.state == "planned"), None) or \
        next((s for s in all_steps if s.state == "planned"), None)


def clock_view(meeting_id: int) -> dict:
    """What every client shows of the agenda: the current step, the whole agenda, the server's time."""
    at = now()
    all_steps = steps(meeting_id)
    current = current_step(all_steps)
    upcoming = upcoming_step(all_steps)
    seating_id = meetings.seating_round_id(meeting_id)
    seating_step = next((s for s in all_steps if s.id == seating_id), None)
    meeting = by_id(Meeting, meeting_id)
    return {"step": step_view(current, at) if current else None,
            "next_step": step_view(upcoming, at) if upcoming else None,
            "agenda": [step_view(s, at) for s in all_steps], "server_time": iso(at),
            "seating_round_id": seating_id, "posting_open": not posting_closed(meeting, seating_step)}


def _changed(meeting_id: int) -> Changes:
    view = clock_view(meeting_id)
    return Changes(events=[Event(meeting_stream(meeting_id), "round_changed", view),
                           Event(staff_stream(meeting_id), "round_changed", view)])


# --------------------------------------------------------------------------- editing the agenda


def _text(raw, max_length: int, code: str, *, required: bool = False) -> str:
    if raw is None and not required:
        return ""
    if not isinstance(raw, str):
        raise ServiceError(code, max=max_length)
    text = unicodedata.normalize("NFC", raw).strip()
    if (required and not text) or len(text) > max_length or any(unicodedata.category(c) == "Cc" for c in text):
        raise ServiceError(code, max=max_length)
    return text


def _seconds(raw, code: str, *, maximum: int, minimum: int = 0) -> int:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw != raw or not minimum <= raw <= maximum:
        raise ServiceError(code, max=maximum // 60)
    return int(round(raw))


def _step(meeting_id: int, step_id) -> Round:
    if isinstance(step_id, bool) or not isinstance(step_id, int):
        raise ServiceError("not_found")
    step = db.session.get(Round, step_id) if -2**63 <= step_id < 2**63 else None
    if step is None or step.meeting_id != meeting_id:
        raise ServiceError("not_found")
    return step


def _fields(step: Round, data: dict, *, creating: bool) -> None:
    if creating or "kind" in data:
        if data.get("kind") not in STEP_KINDS:
            raise ServiceError("step_kind")
        if not creating and data["kind"] != step.kind and step.state != "planned":
            raise ServiceError("step_started")
        step.kind = data["kind"]
    if creating or "title" in data:
        step.title = _text(data.get("title"), TITLE_MAX, "step_title", required=True)
    if creating or "question" in data:
        step.question = _text(data.get("question"), QUESTION_MAX, "step_question")
    if creating or "duration_s" in data:
        duration = _seconds(data.get("duration_s", 0), "step_duration", maximum=MAX_DURATION_S)
        if not creating and step.state != "planned" and duration != step.duration_s:
            raise ServiceError("step_started")
        step.duration_s = duration
    if "auto_end" in data:
        if not isinstance(data["auto_end"], bool):
            raise ServiceError("bad_request")
        step.auto_end = data["auto_end"]


def add_step(user, meeting_id: int, data: dict) -> tuple[dict, Changes]:
    """Add a step at the end of the agenda (or before `before_id`, a planned step)."""
    staff.require_facilitator(user, meeting_id)
    all_steps = steps(meeting_id)
    number = max((s.number for s in all_steps), default=0) + 1
    step = Round(meeting_id=meeting_id, number=number, position=0, state="planned")
    _fields(step, data, creating=True)
    db.session.add(step)
    order = all_steps + [step]
    if data.get("before_id") is not None:
        before = _step(meeting_id, data["before_id"])
        if before.state != "planned":
            raise ServiceError("step_started")
        order = [s for s in all_steps if s is not before]
        order.insert(all_steps.index(before), before)
        order.insert(order.index(before), step)
    _renumber(order)
    db.session.flush()
    audit.record("agenda.add", meeting_id=meeting_id, staff_id=user.id, target=f"round:{step.id}",
                 kind=step.kind, title=step.title, duration_s=step.duration_s)
    return {"step": step_view(step)}, _changed(meeting_id)


def edit_step(user, meeting_id: int, step_id, data: dict) -> tuple[dict, Changes]:
    """Change a step's title, question, duration or kind; a done step stays as it ran."""
    staff.require_facilitator(user, meeting_id)
    step = _step(meeting_id, step_id)
    if step.state == "done":
        raise ServiceError("step_done")
    _fields(step, data, creating=False)
    audit.record("agenda.edit", meeting_id=meeting_id, staff_id=user.id, target=f"round:{step.id}",
                 fields=sorted(k for k in data if k in ("kind", "title", "question", "duration_s", "auto_end")))
    return {"step": step_view(step)}, _changed(meeting_id)


def move_step(user, meeting_id: int, step_id, position) -> tuple[dict, Changes]:
    """Move a planned step to `position` (0-based) among the steps; it cannot go before one that ran."""
    staff.require_facilitator(user, meeting_id)
    step = _step(meeting_id, step_id)
    if step.state != "planned":
        raise ServiceError("step_started")
    all_steps = steps(meeting_id)
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < len(all_steps):
        raise ServiceError("bad_request")
    order = [s for s in all_steps if s is not step]
    order.insert(position, step)
    started = [i for i, s in enumerate(order) if s.state != "planned"]
    if started and order.index(step) < max(started):
        raise ServiceError("step_before_started")
    _renumber(order)
    audit.record("agenda.move", meeting_id=meeting_id, staff_id=user.id, target=f"round:{step.id}", position=position)
    return {"step": step_view(step)}, _changed(meeting_id)


def delete_step(user, meeting_id: int, step_id) -> tuple[dict, Changes]:
    """Delete a planned step that holds nothing yet (no seats, no ideas)."""
    staff.require_facilitator(user, meeting_id)
    step = _step(meeting_id, step_id)
    holds = db.session.scalar(sa.select(sa.func.count()).select_from(Seat).where(Seat.round_id == step.id)) or \
        db.session.scalar(sa.select(sa.func.count()).select_from(Idea).where(Idea.round_id == step.id))
    if step.state != "planned" or holds or step.seating_since is not None:
        raise ServiceError("step_started")
    audit.record("agenda.delete", meeting_id=meeting_id, staff_id=user.id, target=f"round:{step.id}", title=step.title)
    db.session.delete(step)
    db.session.flush()
    _renumber(steps(meeting_id))
    return {"step_id": step.id}, _changed(meeting_id)


def _renumber(order: list[Round]) -> None:
    for index, step in enumerate(order, start=1):
        step.position = index


# --------------------------------------------------------------------------- the clock


def _begin(step: Round, at) -> None:
    step.state = "running"
    step.started_at = step.started_at or at
    step.ends_at = at + timedelta(seconds=step.duration_s) if step.duration_s else None
    step.remaining_s = None


def _finish(step: Round, at) -> None:
    step.state = "done"
    step.ends_at = None
    step.remaining_s = None
    step.ended_at = at


def start_step(user, meeting_id: int, step_id=None) -> tuple[dict, Changes]:
    """Start a planned step (the next one when none is given); a step still running ends first.

    A table round that has no seating of its own yet keeps everyone at the table where they sit.
    """
    staff.require_facilitator(user, meeting_id)
    all_steps = steps(meeting_id)
    if step_id is None:
        step = upcoming_step(all_steps)
        if step is None:
            raise ServiceError("agenda_over")
    else:
        step = _step(meeting_id, step_id)
        if step.state != "planned":
            raise ServiceError("step_started")
    at = now()
    for other in all_steps:
        if other.state in LIVE:
            _finish(other, at)
    _begin(step, at)
    changes = Changes()
    if step.kind == "table":
        changes.extend(seating.put_in_force(meeting_id, step, at))
    audit.record("step.start", meeting_id=meeting_id, staff_id=user.id, target=f"round:{step.id}",
                 duration_s=step.duration_s)
    changes.extend(_changed(meeting_id))
    return {"step": step_view(step, at)}, changes


def _live_step(meeting_id: int) -> Round:
    step = current_step(steps(meeting_id))
    if step is None or step.state not in LIVE:
        raise ServiceError("no_running_step")
    return step


def pause_step(user, meeting_id: int) -> tuple[dict, Changes]:
    staff.require_facilitator(user, meeting_id)
    step = _live_step(meeting_id)
    if step.state != "running":
        raise ServiceError("step_not_running")
    at = now()
    step.remaining_s = remaining_s(step, at)
    step.ends_at = None
    step.state = "paused"
    audit.record("step.pause", meeting_id=meeting_id, staff_id=user.id, target=f"round:{step.id}",
                 remaining_s=step.remaining_s)
    return {"step": step_view(step, at)}, _changed(meeting_id)


def resume_step(user, meeting_id: int) -> tuple[dict, Changes]:
    staff.require_facilitator(user, meeting_id)
    step = _live_step(meeting_id)
    if step.state != "paused":
        raise ServiceError("step_not_paused")
    at = now()
    step.ends_at = at + timedelta(seconds=step.remaining_s) if step.remaining_s is not None else None
    step.remaining_s = None
    step.state = "running"
    audit.record("step.resume", meeting_id=meeting_id, staff_id=user.id, target=f"round:{step.id}")
    return {"step": step_view(step, at)}, _changed(meeting_id)


def extend_step(user, meeting_id: int, seconds) -> tuple[dict, Changes]:
    """Give the current step more time; a step that just ran out runs again for that long."""
    staff.require_facilitator(user, meeting_id)
    seconds = _seconds(seconds, "step_extend", minimum=1, maximum=MAX_EXTEND_S)
    all_steps = steps(meeting_id)
    step = current_step(all_steps)
    if step is None:
        raise ServiceError("no_running_step")
    at = now()
    if step.state == "done":
        later = [s for s in all_steps if s.position > step.position and s.state != "planned"]
        if later:
            raise ServiceError("no_running_step")
        step.state, step.ended_at = "running", None
        step.ends_at = at + timedelta(seconds=seconds)
    elif step.state == "paused":
        step.remaining_s = (step.remaining_s or 0.0) + seconds
    elif step.ends_at is not None:
        step.ends_at = max(step.ends_at, at) + timedelta(seconds=seconds)
    else:
        step.ends_at = at + timedelta(seconds=seconds)
    audit.record("step.extend", meeting_id=meeting_id, staff_id=user.id, target=f"round:{step.id}", seconds=seconds)
    return {"step": step_view(step, at)}, _changed(meeting_id)


def end_step(user, meeting_id: int) -> tuple[dict, Changes]:
    staff.require_facilitator(user, meeting_id)
    step = _live_step(meeting_id)
    at = now()
    _finish(step, at)
    audit.record("step.end", meeting_id=meeting_id, staff_id=user.id, target=f"round:{step.id}")
    return {"step": step_view(step, at)}, _changed(meeting_id)


def next_step(user, meeting_id: int) -> tuple[dict, Changes]:
    """End the current step (if any) and start the next planned one."""
    return start_step(user, meeting_id, None)


def end_due() -> list[Event]:
    """End every running step whose time is up (those set to end by themselves); return committed events.

    The update is conditional, so when several server processes race only one ends a step.
    """
    at = now()
    due = list(db.session.execute(sa.select(Round.id, Round.meeting_id).where(
        Round.state == "running", Round.auto_end.is_(True), Round.ends_at.is_not(None), Round.ends_at <= at)).all())
    events: list[Event] = []
    for step_id, meeting_id in due:
        ended = db.session.execute(sa.update(Round).where(Round.id == step_id, Round.state == "running",
                                                          Round.ends_at <= at)
                                   .values(state="done", ended_at=Round.ends_at, ends_at=None, remaining_s=None))
        if ended.rowcount != 1:
            db.session.rollback()
            continue
        audit.record("step.timeout", meeting_id=meeting_id, target=f"round:{step_id}")
        events.extend(publish(meeting_id, _changed(meeting_id).events))
    return events


def next_deadline():
    """The earliest end time of a running step that ends by itself, or None."""
    return db.session.scalar(sa.select(sa.func.min(Round.ends_at)).where(
        Round.state == "running", Round.auto_end.is_(True), Round.ends_at.is_not(None)))


def posting_closed(meeting: Meeting, step: Round | None) -> bool:
    """Whether ideas can no longer be posted in this round (it ran, and the meeting closes rounds)."""
    return bool(step is not None and meeting.close_posting_at_end and step.state == "done")


def settings(user, meeting_id: int, data: dict) -> tuple[dict, Changes]:
    """Meeting-wide agenda and seating settings: close posting at a round's end, table sizes."""
    staff.require_facilitator(user, meeting_id)
    meeting = db.session.get(Meeting, meeting_id)
    if "close_posting_at_end" in data:
        if not isinstance(data["close_posting_at_end"], bool):
            raise ServiceError("bad_request")
        meeting.close_posting_at_end = data["close_posting_at_end"]
    for key in ("table_min_size", "table_max_size"):
        if key in data:
            value = data[key]
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100):
                raise ServiceError("table_size")
            setattr(meeting, key, value)
    if meeting.table_min_size and meeting.table_max_size and meeting.table_min_size > meeting.table_max_size:
        raise ServiceError("table_size")
    if "moderation" in data:  # ideas already waiting keep waiting for a decision
        if data["moderation"] not in ("post", "pre"):
            raise ServiceError("bad_request")
        meeting.moderation = data["moderation"]
    audit.record("meeting.settings", meeting_id=meeting_id, staff_id=user.id, target=f"meeting:{meeting_id}",
                 **{k: data[k] for k in ("close_posting_at_end", "table_min_size", "table_max_size", "moderation")
                    if k in data})
    view = settings_view(meeting)
    return {"settings": view}, Changes(events=[Event(staff_stream(meeting_id), "settings_changed", {"settings": view})])


def settings_view(meeting: Meeting) -> dict:
    return {"close_posting_at_end": meeting.close_posting_at_end, "table_min_size": meeting.table_min_size,
            "table_max_size": meeting.table_max_size, "moderation": meeting.moderation}

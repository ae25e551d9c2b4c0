"""Open meetings (まち作り会議): instead of personal invitations, a public code and QR for a poster
or the hall's screen. Anyone with it joins with a nickname, may report the categories the organizer
asks for (or prefer not to say), and is seated like a drawn panel's resident. Past the capacity,
newcomers wait on a list and are let in, oldest first, as places free up. Rotating the code stops
new joins with the old one; people already in stay in.

The browser is the unit: one participant per browser (its session), and the join form is
rate-limited per browser rather than per address, since a whole venue shares one address.
"""

import hashlib
import secrets as pysecrets

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from meeting.extensions import db
from meeting.models import Meeting, OpenVisit, Participant
from meeting.models._base import now, utcnow
from meeting.services import audit, invitations, seating, secrets, staff, validate
from meeting.services.errors import ServiceError
from meeting.services.events import Changes, Event, participant_stream, staff_stream, stamp

CAPACITY_MAX = 5000
CATEGORIES_MAX = 8
VALUES_MAX = 20
LABEL_MAX = 40


def public_code(meeting: Meeting) -> str | None:
    return secrets.format_code(meeting.open_code) if meeting.open_code else None


def _capacity(raw) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= CAPACITY_MAX:
        raise ServiceError("open_capacity", max=CAPACITY_MAX)
    return raw


def parse_self_report(text: str) -> list[dict]:
    """Read the organizer's lines "category: value, value, …" (、 and ， separate too)."""
    out = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        name, sep, values = line.replace("：", ":").partition(":")
        parts = [v.strip() for v in values.replace("、", ",").replace("，", ",").split(",") if v.strip()]
        if not sep or not name.strip() or not parts:
            raise ServiceError("open_categories")
        out.append({"category": name.strip(), "values": parts})
    return _self_report(out)


def _self_report(raw) -> list[dict]:
    if not isinstance(raw, list) or len(raw) > CATEGORIES_MAX:
        raise ServiceError("open_categories")
    seen, out = set(), []
    for item in raw:
        name = item.get("category") if isinstance(item, dict) else None
        values = item.get("values") if isinstance(item, dict) else None
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= LABEL_MAX or name.strip() in seen:
            raise ServiceError("open_categories")
        if not isinstance(values, list) or not 1 <= len(values) <= VALUES_MAX or len(set(values)) != len(values) \
                or not all(isinstance(v, str) and 1 <= len(v.strip()) <= LABEL_MAX for v in values):
            raise ServiceError("open_categories")
        seen.add(name.strip())
        out.append({"category": name.strip(), "values": [v.strip() for v in values]})
    return out


def configure(user, meeting_id: int, *, capacity=None, self_report=None) -> tuple[dict, Changes]:
    """Open the meeting (a public code is made the first time) or change its capacity and questions."""
    staff.require_organizer(user, meeting_id)
    meeting = db.session.get(Meeting, meeting_id)
    meeting.capacity = _capacity(capacity)
    if self_report is not None:
        meeting.self_report = _self_report(self_report)
    if meeting.open_code is None:
        meeting.open_code = secrets.new_code()
    audit.record("open.configure", meeting_id=meeting_id, staff_id=user.id, target=f"meeting:{meeting_id}",
                 capacity=meeting.capacity, categories=[c["category"] for c in meeting.self_report])
    changes = admit_waiting(meeting)
    return {"open": view(meeting)}, changes


def rotate_code(user, meeting_id: int) -> tuple[dict, Changes]:
    """A new public code: the old one stops letting anyone in; whoever is in stays in."""
    staff.require_facilitator(user, meeting_id)
    meeting = db.session.get(Meeting, meeting_id)
    if meeting.open_code is None:
        raise ServiceError("not_open")
    meeting.open_code = secrets.new_code()
    audit.record("open.rotate_code", meeting_id=meeting_id, staff_id=user.id, target=f"meeting:{meeting_id}")
    return {"open": view(meeting)}, Changes(events=[Event(staff_stream(meeting_id), "open_changed", {"open": view(meeting)})])


def close(user, meeting_id: int) -> tuple[dict, Changes]:
    """No more joins by code (people in stay in)."""
    staff.require_organizer(user, meeting_id)
    meeting = db.session.get(Meeting, meeting_id)
    meeting.open_code = None
    audit.record("open.close", meeting_id=meeting_id, staff_id=user.id, target=f"meeting:{meeting_id}")
    return {"open": view(meeting)}, Changes()


def view(meeting: Meeting) -> dict:
    return {"open": meeting.open_code is not None, "code": public_code(meeting), "capacity": meeting.capacity,
            "self_report": meeting.self_report or [], "admitted": admitted_count(meeting.id),
            "waiting": waiting_count(meeting.id)}


def find(typed) -> Meeting:
    """The open meeting whose current public code this is."""
    code = secrets.normalize_code(typed if isinstance(typed, str) else "")
    meeting = db.session.scalar(sa.select(Meeting).where(Meeting.open_code == code)) \
        if len(code) == secrets.CODE_LENGTH else None
    if meeting is None:
        raise ServiceError("open_code_unknown")
    return meeting


def browser_hash(browser_id: str) -> str:
    return hashlib.sha256(b"visit:" + browser_id.encode()).hexdigest()


def record_visit(meeting: Meeting, browser_id: str) -> None:
    """Count a browser that opened the meeting's page once (the funnel's "opened"); commit."""
    db.session.add(OpenVisit(meeting_id=meeting.id, browser_hash=browser_hash(browser_id)))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def _admitted_query(meeting_id: int):
    return sa.select(sa.func.count()).select_from(Participant).where(
        Participant.meeting_id == meeting_id, Participant.removed_at.is_(None), Participant.waitlisted_at.is_(None),
        Participant.joined_at.is_not(None))


def admitted_count(meeting_id: int) -> int:
    return db.session.scalar(_admitted_query(meeting_id))


def waiting_count(meeting_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Participant).where(
        Participant.meeting_id == meeting_id, Participant.removed_at.is_(None), Participant.waitlisted_at.is_not(None)))


def clean_categories(meeting: Meeting, raw: dict) -> dict:
    """Keep the answers to the organizer's questions; an empty answer is "prefer not to say"."""
    out = {}
    for question in meeting.self_report or []:
        value = (raw or {}).get(question["category"], "")
        if value in ("", None):
            continue
        if value not in question["values"]:
            raise ServiceError("open_categories")
        out[question["category"]] = value
    return out


def join(meeting_id: int, code, nickname, categories: dict) -> tuple[Participant, str, Changes]:
    """Join an open meeting by its current code; commit. Past the capacity, join the waiting list."""
    meeting = db.session.get(Meeting, meeting_id) if validate.is_id(meeting_id) else None
    if meeting is None or meeting.open_code is None or secrets.normalize_code(code or "") != meeting.open_code:
        raise ServiceError("open_code_unknown")
    name = invitations.clean_nickname(nickname)
    answers = clean_categories(meeting, categories)
    db.session.execute(sa.select(Meeting.id).where(Meeting.id == meeting.id).with_for_update())  # capacity race
    try:
        invitations.ensure_free_nickname(meeting.id, name)
    except ServiceError:
        db.session.rollback()
        raise
    number = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Participant.number), 0))
                               .where(Participant.meeting_id == meeting.id)) + 1
    key = pysecrets.token_urlsafe(24)
    full = meeting.capacity is not None and admitted_count(meeting.id) >= meeting.capacity
    person = Participant(meeting_id=meeting.id, number=number, nickname=name, categories=answers, via="open",
                         joined_at=utcnow(), session_key_hash=secrets.session_key_hash(key),
                         waitlisted_at=now() if full else None)
    db.session.add(person)
    db.session.flush()
    events = [Event(staff_stream(meeting.id), "open_changed", {"open": view(meeting)})]
    stamp(meeting.id, events)
    db.session.commit()
    changes = Changes(events=events)
    if not full:
        more = seating.seat_arrival(person)
        changes.events += more.events
    return person, key, changes


def waiting_position(person: Participant) -> int | None:
    if person.waitlisted_at is None:
        return None
    return db.session.scalar(sa.select(sa.func.count()).select_from(Participant).where(
        Participant.meeting_id == person.meeting_id, Participant.removed_at.is_(None),
        Participant.waitlisted_at.is_not(None), Participant.id <= person.id))


def admit_waiting(meeting: Meeting) -> Changes:
    """Let in, oldest first, as many waiting people as the capacity now allows (caller commits)."""
    free = None if meeting.capacity is None else meeting.capacity - admitted_count(meeting.id)
    query = sa.select(Participant).where(Participant.meeting_id == meeting.id, Participant.removed_at.is_(None),
                                         Participant.waitlisted_at.is_not(None)).order_by(Participant.id)
    if free is not None:
        if free <= 0:
            return Changes()
        query = query.limit(free)
    admitted = list(db.session.scalars(query))
    if not admitted:
        return Changes()
    for person in admitted:
        person.waitlisted_at = None
    db.session.flush()
    seated = seating.seat_newcomers(meeting)
    events = [Event(participant_stream(p.id), "admitted", {}) for p in admitted]
    events += [Event(staff_stream(meeting.id), "open_changed", {"open": view(meeting)})]
    if seated:
        events.append(Event(staff_stream(meeting.id), "seating_changed", {}))
    return Changes(events=events)

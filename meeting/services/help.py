"""Help calls: a resident calls staff from their phone; staff acknowledge ("coming") and resolve.

The control room follows every open call on `staff:<id>`; the resident's phone follows its own
call on its personal stream `participant:<id>`.
"""

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import HelpCall, Participant, Table
from meeting.models._base import iso, now
from meeting.services import audit, meetings, staff
from meeting.services.errors import ServiceError
from meeting.services.events import Changes, Event, participant_stream, staff_stream

OPEN = ("waiting", "coming")


def help_view(call: HelpCall) -> dict:
    person = db.session.get(Participant, call.participant_id)
    table = db.session.get(Table, call.table_id) if call.table_id else None
    return {"id": call.id, "state": call.state, "participant_id": call.participant_id,
            "nickname": (person.nickname or f"#{person.number}") if person else "",
            "table_id": call.table_id, "table_name": table.name if table else None,
            "created_at": iso(call.created_at), "acknowledged_at": iso(call.acknowledged_at),
            "resolved_at": iso(call.resolved_at)}


def phone_view(call: HelpCall | None) -> dict | None:
    """What the caller's phone shows: the state and times, nothing about staff."""
    if call is None:
        return None
    return {"id": call.id, "state": call.state, "created_at": iso(call.created_at),
            "acknowledged_at": iso(call.acknowledged_at)}


def _changes(call: HelpCall) -> Changes:
    return Changes(events=[Event(staff_stream(call.meeting_id), "help_changed", {"help": help_view(call)}),
                           Event(participant_stream(call.participant_id), "help_changed", {"help": phone_view(call)})])


_OPEN_CALL = (sa.select(HelpCall).where(HelpCall.participant_id == sa.bindparam("participant_id"), HelpCall.state.in_(OPEN))
              .order_by(HelpCall.id.desc()).limit(1))


def open_call(participant_id: int) -> HelpCall | None:
    return db.session.scalar(_OPEN_CALL, {"participant_id": participant_id})


def call_staff(person: Participant) -> tuple[dict, Changes]:
    """Ask for staff; a second press while a call is open changes nothing."""
    existing = open_call(person.id)
    if existing is not None:
        return {"help": phone_view(existing)}, Changes()
    table = meetings.table_of(person)
    call = HelpCall(meeting_id=person.meeting_id, participant_id=person.id, table_id=table.id if table else None,
                    state="waiting", created_at=now())
    db.session.add(call)
    db.session.flush()
    audit.record("help.call", meeting_id=person.meeting_id, target=f"help:{call.id}",
                 participant=f"participant:{person.id}", table_id=call.table_id)
    return {"help": phone_view(call)}, _changes(call)


def cancel(person: Participant) -> tuple[dict, Changes]:
    """The resident no longer needs help."""
    call = open_call(person.id)
    if call is None:
        return {"help": None}, Changes()
    call.state = "cancelled"
    call.resolved_at = now()
    audit.record("help.cancel", meeting_id=person.meeting_id, target=f"help:{call.id}", table_id=call.table_id)
    return {"help": phone_view(call)}, _changes(call)


def _call(meeting_id: int, help_id) -> HelpCall:
    if not isinstance(help_id, int) or isinstance(help_id, bool):
        raise ServiceError("not_found")
    call = db.session.get(HelpCall, help_id)
    if call is None or call.meeting_id != meeting_id:
        raise ServiceError("not_found")
    return call


def acknowledge(user, meeting_id: int, help_id) -> tuple[dict, Changes]:
    """A staff member is on the way: the phone shows "staff are coming"."""
    staff.require_facilitator(user, meeting_id)
    call = _call(meeting_id, help_id)
    if call.state != "waiting":
        raise ServiceError("help_state")
    call.state = "coming"
    call.acknowledged_at = now()
    call.acknowledged_by = user.id
    audit.record("help.ack", meeting_id=meeting_id, staff_id=user.id, target=f"help:{call.id}", table_id=call.table_id)
    return {"help": help_view(call)}, _changes(call)


def resolve(user, meeting_id: int, help_id) -> tuple[dict, Changes]:
    staff.require_facilitator(user, meeting_id)
    call = _call(meeting_id, help_id)
    if call.state not in OPEN:
        raise ServiceError("help_state")
    call.state = "resolved"
    call.resolved_at = now()
    audit.record("help.resolve", meeting_id=meeting_id, staff_id=user.id, target=f"help:{call.id}",
                 table_id=call.table_id)
    return {"help": help_view(call)}, _changes(call)


def queue(meeting_id: int) -> list[dict]:
    """Open calls, oldest first."""
    calls = db.session.scalars(sa.select(HelpCall).where(HelpCall.meeting_id == meeting_id, HelpCall.state.in_(OPEN))
                               .order_by(HelpCall.id))
    return [help_view(c) for c in calls]

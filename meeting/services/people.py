"""People in the control room: who sits where and whether their phone is connected; removing a
person from the meeting and letting a resident back in with a fresh one-time code."""

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Connection, HelpCall, Invitation, Meeting, Participant, Seat, TableHost
from meeting.models._base import now
from meeting.services import audit, meetings, seating, secrets, staff
from meeting.services.errors import ServiceError
from meeting.services.events import Changes, Event, participant_stream, staff_stream


def _id(raw) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise ServiceError("not_found")
    return raw


def label(person: Participant) -> str:
    return person.nickname or f"#{person.number}"


def connected_ids(meeting_id: int) -> set[int]:
    """Participants with at least one live connection (any worker)."""
    return set(db.session.scalars(sa.select(Connection.participant_id).where(
        Connection.meeting_id == meeting_id, Connection.participant_id.is_not(None))))


def table_detail(user, meeting_id: int, table_id) -> tuple[dict, Changes]:
    """The people at one table in the round in force, with their connection state (reads only)."""
    staff.require_facilitator(user, meeting_id)
    table_id = _id(table_id)
    from meeting.services.ideas import table_by_id

    table = table_by_id(meeting_id, table_id)
    if table is None:
        raise ServiceError("not_found")
    round_id = meetings.seating_round_id(meeting_id)
    people = list(db.session.scalars(sa.select(Participant).join(Seat, Seat.participant_id == Participant.id)
                                     .where(Seat.round_id == round_id, Seat.table_id == table.id)
                                     .order_by(Participant.number)))
    host = db.session.get(TableHost, table.id)
    online = connected_ids(meeting_id)
    return {"table_id": table.id, "people": [
        {"id": p.id, "label": label(p), "number": p.number, "joined": p.joined_at is not None,
         "connected": p.id in online, "host": bool(host and host.participant_id == p.id)} for p in people]}, Changes()


def _person(meeting_id: int, participant_id) -> Participant:
    person = db.session.get(Participant, _id(participant_id))
    if person is None or person.meeting_id != meeting_id:
        raise ServiceError("not_found")
    return person


def _end_session(person: Participant, reason: str) -> Changes:
    """Revoke the participant's session: the cookie's key stops matching, every live socket closes."""
    person.session_key_hash = None
    sids = set(db.session.scalars(sa.select(Connection.sid).where(Connection.participant_id == person.id)))
    return Changes(events=[Event(participant_stream(person.id), "session_ended", {"reason": reason})],
                   disconnect=sids)


def person_view(person: Participant) -> dict:
    return {"id": person.id, "label": label(person), "number": person.number,
            "joined": person.joined_at is not None, "removed": person.removed_at is not None}


def remove(user, meeting_id: int, participant_id) -> tuple[dict, Changes]:
    """Remove a person from the meeting: session revoked, sockets closed, seat and host role freed.

    Their ideas and votes stay (hide an idea to take it out of sight). A facilitator can let them
    back in later with a fresh code (readmit).
    """
    staff.require_facilitator(user, meeting_id)
    person = _person(meeting_id, participant_id)
    if person.removed_at is not None:
        raise ServiceError("person_removed")
    person.removed_at = now()
    changes = _end_session(person, "removed")
    round_id = meetings.seating_round_id(meeting_id)
    db.session.execute(sa.delete(Seat).where(Seat.round_id == round_id, Seat.participant_id == person.id))
    db.session.execute(sa.delete(TableHost).where(TableHost.participant_id == person.id))
    db.session.execute(sa.update(HelpCall).where(HelpCall.participant_id == person.id,
                                                 HelpCall.state.in_(("waiting", "coming")))
                       .values(state="cancelled", resolved_at=now()))
    audit.record("person.remove", meeting_id=meeting_id, staff_id=user.id, target=f"participant:{person.id}",
                 round_id=round_id)
    changes.events.append(Event(staff_stream(meeting_id), "person_changed", {"person": person_view(person)}))
    changes.extend(seating.seating_changed(meeting_id))
    from meeting.services import openings

    changes.extend(openings.admit_waiting(db.session.get(Meeting, meeting_id)))  # a freed place in an open meeting
    return {"person": person_view(person)}, changes


def readmit(user, meeting_id: int, participant_id) -> tuple[dict, Changes]:
    """Let a resident back in: a fresh one-time link and code replace their invitation, and the old
    session ends. Nickname, seat, ideas and votes stay theirs (the same participant).

    The link token and code reach the facilitator once (in `_once`), never the op log.
    """
    staff.require_facilitator(user, meeting_id)
    person = _person(meeting_id, participant_id)
    inv = db.session.scalar(sa.select(Invitation).where(Invitation.participant_id == person.id))
    token = code = None
    for _attempt in range(5):
        token, code = secrets.new_token(), secrets.new_code()
        taken = db.session.scalar(sa.select(Invitation.id).where(
            sa.or_(Invitation.code_hash == secrets.code_hash(code), Invitation.token_hash == secrets.token_hash(token))))
        if taken is None:
            break
    else:
        raise RuntimeError("could not draw a unique invitation code")
    fields = {"token_hash": secrets.token_hash(token), "code_hash": secrets.code_hash(code),
              "sealed": secrets.seal({"token": token, "code": code}), "used_at": None}
    if inv is None:
        db.session.add(Invitation(participant_id=person.id, **fields))
    else:
        for key, value in fields.items():
            setattr(inv, key, value)
    was_removed = person.removed_at is not None
    person.removed_at = None
    changes = _end_session(person, "new_code")
    audit.record("person.readmit", meeting_id=meeting_id, staff_id=user.id, target=f"participant:{person.id}",
                 was_removed=was_removed)
    changes.events.append(Event(staff_stream(meeting_id), "person_changed", {"person": person_view(person)}))
    if was_removed:
        changes.extend(seating.seating_changed(meeting_id))
    return {"person": person_view(person),
            "_once": {"token": token, "code": secrets.format_code(code)}}, changes

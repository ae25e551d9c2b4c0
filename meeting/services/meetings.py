"""Meetings, participants, tables and seating."""

from typing import NamedTuple

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Meeting, Participant, Round, Seat, StaffUser, Table
from meeting.models._base import by_id, now
from meeting.services import audit, invitations, secrets, staff, validate
from meeting.services import seating as seat_plans  # meetings.seating() is this module's own
from meeting.services.events import Changes, stamp
from meeting.services.memo import memo


def create_meeting(title: str, language: str, *, by: StaffUser, purpose: str = "") -> Meeting:
    meeting = Meeting(title=title.strip(), language=language, purpose=purpose.strip(), seq=0)
    # The first table round, whose seating is in force from the start; the agenda adds the rest.
    meeting.rounds.append(Round(number=1, position=1, kind="table", seating_since=now()))
    db.session.add(meeting)
    db.session.flush()
    audit.record("meeting.create", meeting_id=meeting.id, staff_id=by.id, target=f"meeting:{meeting.id}")
    staff.assign(meeting.id, by, "organizer", by=by)
    return meeting


def add_participants(meeting: Meeting, *, count: int = 0, nicknames: list[str] | None = None,
                     by: StaffUser | None = None) -> list[Participant]:
    """Add participants (a number of them, or one per given nickname) with invitations."""
    if by is not None:  # None: a command or a draw, run by whoever runs the server
        staff.require_organizer(by, meeting.id)
    names = [n.strip()[:40] for n in (nicknames or []) if n.strip()] or [""] * count
    people = new_participants(meeting, [{"nickname": name} for name in names], staff_id=by.id if by else None)
    db.session.commit()
    return people


def new_participants(meeting: Meeting, profiles: list[dict], *, staff_id: int | None = None,
                     source: str = "organizer") -> list[Participant]:
    """Create participants with invitations in the caller's transaction.

    A profile may give a `nickname` and the `categories` (seating and analysis values, never
    identity) of the person.
    """
    start = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Participant.number), 0))
                              .where(Participant.meeting_id == meeting.id))
    people = [Participant(meeting_id=meeting.id, number=start + i + 1, nickname=profile.get("nickname", ""),
                          categories=dict(profile.get("categories") or {}))
              for i, profile in enumerate(profiles)]
    db.session.add_all(people)
    db.session.flush()
    for person in people:
        invitations.issue(person)
    audit.record("participants.add", meeting_id=meeting.id, staff_id=staff_id,
                 target=f"meeting:{meeting.id}", count=len(people), source=source)
    return people


def create_tables(meeting: Meeting, count: int, *, by: StaffUser | None = None) -> Changes:
    """Add tables and seat every unseated participant of the round in force at the best table."""
    if by is not None:
        staff.require_organizer(by, meeting.id)
    first = len(meeting.tables)
    tables = [Table(name=str(first + i + 1), position=first + i) for i in range(count)]
    meeting.tables.extend(tables)
    db.session.flush()
    seat_plans.seat_newcomers(meeting)
    audit.record("tables.create", meeting_id=meeting.id, staff_id=by.id if by else None,
                 target=f"meeting:{meeting.id}", count=count)
    return _commit_seating(meeting)


def seat_newcomers(meeting: Meeting, *, by: StaffUser | None = None) -> Changes:
    """Seat participants who have no table in the round in force yet."""
    if by is not None:
        staff.require_organizer(by, meeting.id)
    seat_plans.seat_newcomers(meeting)
    return _commit_seating(meeting)


def _commit_seating(meeting: Meeting) -> Changes:
    changes = seat_plans.seating_changed(meeting.id)
    stamp(meeting.id, changes.events)
    db.session.commit()
    return changes


def _seating_round(meeting_id) -> sa.Select:
    """The round whose seating is in force in a meeting: the latest one put in force."""
    return (sa.select(Round.id).where(Round.meeting_id == meeting_id, Round.seating_since.is_not(None))
            .order_by(Round.seating_since.desc(), Round.id.desc()).limit(1))


_SEATING_ROUND = _seating_round(sa.bindparam("meeting_id"))


def seating_round_id(meeting_id: int) -> int | None:
    """The id of the round whose seating is in force: the latest one put in force (kept for the
    rest of the transaction, like table_of)."""
    return memo(("seating_round_id", meeting_id),
                lambda: db.session.scalar(_SEATING_ROUND, {"meeting_id": meeting_id}))


# The round in force as a subquery (bind `meeting_id`), for statements built once elsewhere too.
IN_FORCE = _SEATING_ROUND.scalar_subquery()
# Built once: building it on every event cost more than running it (bench/vote_cpu.py).
_TABLE_OF = (sa.select(Table).join(Seat, Seat.table_id == Table.id)
             .where(Seat.round_id == IN_FORCE, Seat.participant_id == sa.bindparam("participant_id")))


class Seated(NamedTuple):
    """Who a session cookie names and their table now: all a vote needs to know of its voter."""

    id: int
    meeting_id: int
    table_id: int | None


# The session check and the seat in one statement (a participant event's role check runs it): the
# participant's key hash and meeting, and the table of the round in force in that meeting.
_SEATED = (sa.select(Participant.meeting_id, Participant.session_key_hash, Seat.table_id)
           .outerjoin(Seat, sa.and_(Seat.participant_id == Participant.id,
                                    Seat.round_id == _seating_round(Participant.meeting_id).scalar_subquery()))
           .where(Participant.id == sa.bindparam("participant_id")))


def seated(participant_id, key) -> Seated | None:
    """The participant a session cookie names, if its key still matches, and their table: one Core
    query (no ORM objects), kept for the rest of the transaction with the table's id (table_id_of)."""
    if not validate.is_id(participant_id) or not isinstance(key, str):
        return None

    def check():
        row = db.session.connection().execute(_SEATED, {"participant_id": participant_id}).first()
        if row is None or row.session_key_hash != secrets.session_key_hash(key):
            return None
        return Seated(participant_id, row.meeting_id, row.table_id)

    found = memo(("seated", participant_id, key), check)
    if found is not None:
        memo(("table_id_of", participant_id), lambda: found.table_id)
    return found


def participant_for_session(participant_id, key) -> Participant | None:
    """The participant a session cookie names, if its key still matches (seated(), then the row)."""
    return by_id(Participant, participant_id) if seated(participant_id, key) is not None else None


_TABLE_ID_OF = sa.select(Seat.table_id).where(Seat.round_id == IN_FORCE, Seat.participant_id == sa.bindparam("participant_id"))


def table_id_of(person: Participant | Seated) -> int | None:
    """The id of the participant's table in the round in force (no ORM object; kept for the
    transaction, and already known after seated())."""
    return memo(("table_id_of", person.id), lambda: db.session.connection().execute(
        _TABLE_ID_OF, {"meeting_id": person.meeting_id, "participant_id": person.id}).scalar())


def table_of(participant: Participant) -> Table | None:
    """Return the participant's table in the round whose seating is in force (one query, kept for
    the rest of the transaction: services/memo.py)."""
    def look_up():
        return db.session.scalar(_TABLE_OF, {"meeting_id": participant.meeting_id, "participant_id": participant.id})

    return memo(("table_of", participant.id), look_up)


def seating(meeting: Meeting) -> dict[int, list[Participant]]:
    """Return the current round's participants by table id."""
    rnd = meeting.current_round
    result: dict[int, list[Participant]] = {t.id: [] for t in meeting.tables}
    if rnd is None:
        return result
    rows = db.session.execute(sa.select(Seat.table_id, Participant).join(Participant, Participant.id == Seat.participant_id)
                              .where(Seat.round_id == rnd.id).order_by(Participant.number))
    for table_id, person in rows:
        result.setdefault(table_id, []).append(person)
    return result


def participants(meeting: Meeting) -> list[Participant]:
    return list(db.session.scalars(sa.select(Participant).where(Participant.meeting_id == meeting.id)
                                   .order_by(Participant.number)))

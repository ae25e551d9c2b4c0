"""Seating: balanced first seating, World Café rotation, late arrivals, moves, hosts and rules.

The numbers come from meeting.core.seating; this module feeds it the meeting's people, tables,
hosts and rules, and writes the seats of a round. A seating is always shown as a preview first
and applied as previewed: nobody is moved silently.
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from meeting.core import seating as core
from meeting.extensions import db
from meeting.models import Meeting, MeetingStaff, Participant, RosterPerson, Round, Seat, SeatingRule, Table, TableHost
from meeting.models._base import now
from meeting.services import audit, meetings, staff
from meeting.services.errors import ServiceError
from meeting.services.events import Changes, Event, meeting_stream, staff_stream, stamp

MODES = ("first", "rotate", "rebalance")
RULE_KINDS = ("together", "apart")

# The core's conflict codes, said to a facilitator.
CONFLICT_MESSAGES = {
    "capacity": _l("There are more people than seats at the tables. Add a table or raise the table size."),
    "min_size": _l("There are too few people to give every table its minimum size."),
    "sizes": _l("The minimum table size is above the maximum."),
    "host_twice": _l("One person is the host of two tables."),
    "host_not_present": _l("The host of a table is not present: choose another host or none."),
    "together_too_big": _l("A keep-together group is larger than a table."),
    "together_hosts": _l("A keep-together group holds the hosts of two tables."),
    "together_apart": _l("Two people must sit together and apart at once: remove one of these rules."),
    "apart_impossible": _l("More people must sit apart from each other than there are tables."),
    "unsatisfiable": _l("No seating holds every rule at once: relax a rule or a table size."),
}


def conflict_message(code: str) -> str:
    return str(CONFLICT_MESSAGES.get(code, CONFLICT_MESSAGES["unsatisfiable"]))


def _refuse(err: core.SeatingError) -> ServiceError:
    return ServiceError("seating_conflict", detail=conflict_message(err.code))


# --------------------------------------------------------------------------- reading the meeting


def _id(raw) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < 2**63:
        raise ServiceError("not_found")
    return raw


def present_ids(meeting_id: int) -> set[int]:
    """Participants who are here: joined on a phone, or checked in at the door."""
    joined = set(db.session.scalars(sa.select(Participant.id).where(Participant.meeting_id == meeting_id,
                                                                    Participant.joined_at.is_not(None),
                                                                    Participant.removed_at.is_(None),
                                                                    Participant.waitlisted_at.is_(None))))
    arrived = set(db.session.scalars(sa.select(RosterPerson.participant_id).where(
        RosterPerson.meeting_id == meeting_id, RosterPerson.status == "arrived",
        RosterPerson.participant_id.is_not(None))))
    return joined | arrived


def assignment_of(round_id: int | None) -> dict[int, int]:
    if round_id is None:
        return {}
    return dict(db.session.execute(sa.select(Seat.participant_id, Seat.table_id).where(Seat.round_id == round_id)).all())


def hosts(meeting_id: int) -> dict[int, TableHost]:
    rows = db.session.scalars(sa.select(TableHost).join(Table, Table.id == TableHost.table_id)
                              .where(Table.meeting_id == meeting_id))
    return {h.table_id: h for h in rows}


def history(meeting_id: int, *, before: int | None = None) -> list[dict[int, int]]:
    """Earlier rounds' seatings, oldest first (the round `before` left out)."""
    rounds = db.session.scalars(sa.select(Round.id).where(Round.meeting_id == meeting_id, Round.kind == "table",
                                                          Round.seating_since.is_not(None))
                                .order_by(Round.seating_since, Round.id))
    return [a for a in (assignment_of(r) for r in rounds if r != before) if a]


def _rules(meeting: Meeting, people: set[int]) -> core.Rules:
    together, apart = [], []
    for rule in db.session.scalars(sa.select(SeatingRule).where(SeatingRule.meeting_id == meeting.id)):
        members = frozenset(int(p) for p in rule.participant_ids if p in people)
        if len(members) >= 2:
            (together if rule.kind == "together" else apart).append(members)
    return core.Rules(min_size=meeting.table_min_size or 1, max_size=meeting.table_max_size,
                      together=tuple(together), apart=tuple(apart))


def _inputs(meeting: Meeting, people_ids: set[int]):
    people = [core.Person(p.id, {str(k): str(v) for k, v in (p.categories or {}).items()})
              for p in db.session.scalars(sa.select(Participant).where(Participant.id.in_(people_ids))
                                          .order_by(Participant.id))]
    table_hosts = hosts(meeting.id)
    tables = [core.TableSpec(t.id, host=(h.participant_id if (h := table_hosts.get(t.id)) and
                                         h.participant_id in people_ids else None))
              for t in meeting.tables]
    return people, tables, _rules(meeting, people_ids)


def _target(meeting: Meeting, mode: str, step_id) -> Round:
    """The round a plan is for: the one given, or the natural one for the mode."""
    if step_id is not None:
        step = db.session.get(Round, _id(step_id))
        if step is None or step.meeting_id != meeting.id:
            raise ServiceError("not_found")
    else:
        current = meeting.current_round
        planned = next((s for s in meeting.rounds if s.kind == "table" and s.state == "planned"
                        and s is not current), None)
        if mode == "rotate" or current is None or (mode == "first" and current.state == "done"):
            step = planned
        else:
            step = current
        if step is None:
            raise ServiceError("no_table_round")
    if step.kind != "table":
        raise ServiceError("no_table_round")
    if step.state == "done":
        raise ServiceError("step_done")
    return step


# --------------------------------------------------------------------------- preview and apply


def _label(person: Participant) -> str:
    return person.nickname or f"#{person.number}"


def plan_view(meeting: Meeting, plan: core.Plan, *, mode: str, step: Round) -> dict:
    ids = set(plan.assignment)
    people = {p.id: p for p in db.session.scalars(sa.select(Participant).where(Participant.id.in_(ids)))}
    names = {t.id: t.name for t in meeting.tables}
    whole: dict[str, dict[str, int]] = {}
    for person in people.values():
        for category, value in (person.categories or {}).items():
            bucket = whole.setdefault(str(category), {})
            bucket[str(value)] = bucket.get(str(value), 0) + 1
    tables = [{"table_id": r.table_id, "name": names.get(r.table_id, ""), "host": r.host, "size": r.size,
               "members": [{"id": m, "label": _label(people[m]), "host": m == r.host,
                            "categories": people[m].categories or {}} for m in r.members if m in people],
               "counts": r.counts, "targets": {c: {v: round(x, 2) for v, x in vs.items()} for c, vs in r.targets.items()},
               "deviation": round(r.deviation, 2), "new_encounters": r.new_encounters,
               "repeat_encounters": r.repeat_encounters} for r in plan.tables]
    return {"mode": mode, "step_id": step.id, "step_title": step.title, "tables": tables, "whole": whole,
            "assignment": {str(p): t for p, t in plan.assignment.items()},
            "moves": [{"participant_id": p, "label": _label(people[p]) if p in people else "",
                       "from": f, "from_name": names.get(f, "") if f else "", "to": t, "to_name": names.get(t, "")}
                      for p, f, t in plan.moves],
            "repeats": plan.repeats, "repeat_lower_bound": plan.repeat_lower_bound,
            "max_deviation": round(plan.max_deviation, 2), "people": len(plan.assignment)}


def preview(user, meeting_id: int, mode, step_id=None, *, everyone=False) -> tuple[dict, Changes]:
    """Propose a seating for a table round: `first` (balanced), `rotate` (World Café) or `rebalance`."""
    staff.require_facilitator(user, meeting_id)
    if mode not in MODES:
        raise ServiceError("bad_request")
    meeting = db.session.get(Meeting, meeting_id)
    if not meeting.tables:
        raise ServiceError("no_tables")
    step = _target(meeting, mode, step_id)
    current_id = meetings.seating_round_id(meeting_id)
    current = assignment_of(current_id)
    chosen = set(db.session.scalars(sa.select(Participant.id).where(Participant.meeting_id == meeting_id))) \
        if everyone is True else present_ids(meeting_id)
    people, tables, rules = _inputs(meeting, chosen)
    if not people:
        raise ServiceError("nobody_present")
    past = history(meeting_id, before=step.id)
    try:
        if mode == "first":
            plan = core.first_seating(people, tables, rules, seed=step.id)
        elif mode == "rotate":
            plan = core.rotate(people, tables, past, rules, current=current or None, seed=step.id)
        else:
            plan = core.rebalance(people, tables, current, past, rules, seed=step.id)
    except core.SeatingError as err:
        raise _refuse(err) from err
    return {"plan": plan_view(meeting, plan, mode=mode, step=step)}, Changes()


def apply(user, meeting_id: int, step_id, assignment) -> tuple[dict, Changes]:
    """Write a previewed seating into its round and put it in force: phones move to their new tables."""
    staff.require_facilitator(user, meeting_id)
    meeting = db.session.get(Meeting, meeting_id)
    step = _target(meeting, "first", _id(step_id))
    if not isinstance(assignment, dict) or not assignment or len(assignment) > 100_000:
        raise ServiceError("bad_request")
    try:
        plan_of = {int(p): _id(t) for p, t in assignment.items()}
    except (TypeError, ValueError) as err:
        raise ServiceError("bad_request") from err
    known = set(db.session.scalars(sa.select(Participant.id).where(Participant.meeting_id == meeting_id,
                                                                    Participant.id.in_(plan_of))))
    if known != set(plan_of) or not set(plan_of.values()) <= {t.id for t in meeting.tables}:
        raise ServiceError("not_found")
    people, tables, rules = _inputs(meeting, set(plan_of))
    for table in tables:
        if table.host is not None and plan_of.get(table.host) != table.id:
            raise ServiceError("host_stays")
    previous = assignment_of(meetings.seating_round_id(meeting_id))
    db.session.execute(sa.delete(Seat).where(Seat.round_id == step.id))
    db.session.add_all(Seat(round_id=step.id, table_id=t, participant_id=p) for p, t in sorted(plan_of.items()))
    step.seating_since = now()
    moved = sum(1 for p, t in plan_of.items() if previous.get(p) != t)
    audit.record("seating.apply", meeting_id=meeting_id, staff_id=user.id, target=f"round:{step.id}",
                 people=len(plan_of), moved=moved)
    return {"round_id": step.id, "moved": moved}, seating_changed(meeting_id)


def put_in_force(meeting_id: int, step: Round, at) -> Changes:
    """Make a starting table round's seating the one in force (called by the agenda's clock).

    A round with no seats of its own keeps everyone where they sit now.
    """
    current_id = meetings.seating_round_id(meeting_id)
    if current_id == step.id:
        return Changes()
    own = db.session.scalar(sa.select(sa.func.count()).select_from(Seat).where(Seat.round_id == step.id))
    if not own and current_id is not None:
        db.session.execute(sa.insert(Seat).from_select(
            ["round_id", "table_id", "participant_id"],
            sa.select(sa.literal(step.id), Seat.table_id, Seat.participant_id).where(Seat.round_id == current_id)))
    step.seating_since = at
    return seating_changed(meeting_id) if own else Changes()


def seating_changed(meeting_id: int) -> Changes:
    # Phones and the control room re-read their snapshot on this event; a phone's snapshot also
    # moves it to its new table's room.
    return Changes(events=[Event(meeting_stream(meeting_id), "seating_changed", {}),
                           Event(staff_stream(meeting_id), "seating_changed", {})])


# --------------------------------------------------------------------------- changes on the day


def _seat_in_force(meeting: Meeting) -> Round:
    step = meeting.current_round
    if step is None:
        raise ServiceError("no_table_round")
    return step


def _table(meeting: Meeting, table_id) -> Table:
    table = db.session.get(Table, _id(table_id))
    if table is None or table.meeting_id != meeting.id:
        raise ServiceError("not_found")
    return table


def _participant(meeting: Meeting, participant_id) -> Participant:
    person = db.session.get(Participant, _id(participant_id))
    if person is None or person.meeting_id != meeting.id:
        raise ServiceError("not_found")
    return person


def _host_table(meeting_id: int, participant_id: int) -> int | None:
    return db.session.scalar(sa.select(TableHost.table_id).where(TableHost.participant_id == participant_id))


def _sit(step: Round, participant_id: int, table_id: int) -> None:
    seat = db.session.scalar(sa.select(Seat).where(Seat.round_id == step.id, Seat.participant_id == participant_id))
    if seat is None:
        db.session.add(Seat(round_id=step.id, table_id=table_id, participant_id=participant_id))
    else:
        seat.table_id = table_id


def move(user, meeting_id: int, participant_id, table_id) -> tuple[dict, Changes]:
    """Move one person to another table now (the round in force)."""
    staff.require_facilitator(user, meeting_id)
    meeting = db.session.get(Meeting, meeting_id)
    person, table = _participant(meeting, participant_id), _table(meeting, table_id)
    if _host_table(meeting_id, person.id) not in (None, table.id):
        raise ServiceError("host_stays")
    step = _seat_in_force(meeting)
    before = assignment_of(step.id).get(person.id)
    _sit(step, person.id, table.id)
    audit.record("seating.move", meeting_id=meeting_id, staff_id=user.id, target=f"participant:{person.id}",
                 round_id=step.id, from_table=before, to_table=table.id)
    return {"participant_id": person.id, "table_id": table.id}, seating_changed(meeting_id)


def swap(user, meeting_id: int, first_id, second_id) -> tuple[dict, Changes]:
    """Swap the tables of two people now."""
    staff.require_facilitator(user, meeting_id)
    meeting = db.session.get(Meeting, meeting_id)
    a, b = _participant(meeting, first_id), _participant(meeting, second_id)
    step = _seat_in_force(meeting)
    seats = assignment_of(step.id)
    if a.id == b.id or a.id not in seats or b.id not in seats:
        raise ServiceError("not_seated_both")
    if _host_table(meeting_id, a.id) or _host_table(meeting_id, b.id):
        raise ServiceError("host_stays")
    _sit(step, a.id, seats[b.id])
    _sit(step, b.id, seats[a.id])
    audit.record("seating.swap", meeting_id=meeting_id, staff_id=user.id, target=f"participant:{a.id}",
                 other=f"participant:{b.id}", round_id=step.id)
    return {"swapped": [a.id, b.id]}, seating_changed(meeting_id)


def set_host(user, meeting_id: int, table_id, participant_id=None, staff_id=None) -> tuple[dict, Changes]:
    """Make a participant (seated there now) or a staff member the table's host, or clear the host."""
    staff.require_facilitator(user, meeting_id)
    meeting = db.session.get(Meeting, meeting_id)
    table = _table(meeting, table_id)
    db.session.execute(sa.delete(TableHost).where(TableHost.table_id == table.id))
    changes = Changes(events=[Event(staff_stream(meeting_id), "seating_changed", {})])
    if participant_id is not None:
        person = _participant(meeting, participant_id)
        db.session.execute(sa.delete(TableHost).where(TableHost.participant_id == person.id))
        db.session.add(TableHost(table_id=table.id, participant_id=person.id))
        step = meeting.current_round
        if step is not None and assignment_of(step.id).get(person.id) != table.id:
            _sit(step, person.id, table.id)
        changes = seating_changed(meeting_id)  # the host's phone shows the badge (and maybe a new table)
    elif staff_id is not None:
        member = db.session.scalar(sa.select(MeetingStaff.role).where(MeetingStaff.meeting_id == meeting_id,
                                                                      MeetingStaff.user_id == _id(staff_id)))
        if member is None:
            raise ServiceError("not_found")
        db.session.add(TableHost(table_id=table.id, staff_id=staff_id))
    audit.record("seating.host", meeting_id=meeting_id, staff_id=user.id, target=f"table:{table.id}",
                 participant_id=participant_id, host_staff_id=staff_id)
    return {"table_id": table.id}, changes


def leave(user, meeting_id: int, participant_id) -> tuple[dict, Changes]:
    """Free the seat of someone who left (they keep their ideas and votes)."""
    staff.require_facilitator(user, meeting_id)
    meeting = db.session.get(Meeting, meeting_id)
    person = _participant(meeting, participant_id)
    step = _seat_in_force(meeting)
    db.session.execute(sa.delete(Seat).where(Seat.round_id == step.id, Seat.participant_id == person.id))
    db.session.execute(sa.delete(TableHost).where(TableHost.participant_id == person.id))
    audit.record("seating.leave", meeting_id=meeting_id, staff_id=user.id, target=f"participant:{person.id}",
                 round_id=step.id)
    return {"participant_id": person.id}, seating_changed(meeting_id)


def add_rule(user, meeting_id: int, kind, participant_ids) -> tuple[dict, Changes]:
    """Keep people together (a resident and their helper) or apart, in every later seating."""
    staff.require_facilitator(user, meeting_id)
    meeting = db.session.get(Meeting, meeting_id)
    if kind not in RULE_KINDS or not isinstance(participant_ids, list) or not 2 <= len(participant_ids) <= 20:
        raise ServiceError("seating_rule")
    people = sorted({_participant(meeting, p).id for p in participant_ids})
    if len(people) < 2:
        raise ServiceError("seating_rule")
    rule = SeatingRule(meeting_id=meeting_id, kind=kind, participant_ids=people)
    db.session.add(rule)
    db.session.flush()
    audit.record("seating.rule.add", meeting_id=meeting_id, staff_id=user.id, target=f"seating_rule:{rule.id}",
                 kind=kind, participants=people)
    return {"rule": rule_view(rule)}, Changes(events=[Event(staff_stream(meeting_id), "seating_changed", {})])


def remove_rule(user, meeting_id: int, rule_id) -> tuple[dict, Changes]:
    staff.require_facilitator(user, meeting_id)
    rule = db.session.get(SeatingRule, _id(rule_id))
    if rule is None or rule.meeting_id != meeting_id:
        raise ServiceError("not_found")
    audit.record("seating.rule.remove", meeting_id=meeting_id, staff_id=user.id, target=f"seating_rule:{rule.id}",
                 kind=rule.kind, participants=rule.participant_ids)
    db.session.delete(rule)
    return {"rule_id": rule.id}, Changes(events=[Event(staff_stream(meeting_id), "seating_changed", {})])


def rule_view(rule: SeatingRule) -> dict:
    return {"id": rule.id, "kind": rule.kind, "participant_ids": list(rule.participant_ids)}


def seat_newcomers(meeting: Meeting) -> int:
    """Seat, one by one at the best table now, the participants who have no seat in the round in force.

    In the caller's transaction; returns how many were seated.
    """
    step = meeting.current_round
    if step is None or not meeting.tables:
        return 0
    current = assignment_of(step.id)
    waiting = list(db.session.scalars(sa.select(Participant.id).where(
        Participant.meeting_id == meeting.id, Participant.removed_at.is_(None),  # removed by staff: no seat
        Participant.waitlisted_at.is_(None),  # on an open meeting's waiting list: not yet
        Participant.id.not_in(current) if current else sa.true())
        .order_by(Participant.id)))
    if not waiting:
        return 0
    everyone = set(current) | set(waiting)
    people, tables, rules = _inputs(meeting, everyone)
    by_id = {p.id: p for p in people}
    past = history(meeting.id, before=step.id)
    for pid in waiting:
        try:
            table_id = core.place_late(by_id[pid], people, tables, current, past, rules)
        except core.SeatingError:
            # Over every table's size: seat at the smallest table rather than leave someone out.
            sizes = {t.id: 0 for t in meeting.tables}
            for t in current.values():
                sizes[t] = sizes.get(t, 0) + 1
            table_id = min(sizes, key=lambda t: (sizes[t], t))
        current[pid] = table_id
        db.session.add(Seat(round_id=step.id, table_id=table_id, participant_id=pid))
    return len(waiting)


def seat_arrival(person: Participant) -> Changes:
    """Seat a resident who just joined and has no seat yet at the best table now; commit."""
    meeting = db.session.get(Meeting, person.meeting_id)
    step = meeting.current_round
    if step is None or not meeting.tables or person.id in assignment_of(step.id):
        return Changes()
    seat_newcomers(meeting)
    changes = Changes(events=[Event(staff_stream(meeting.id), "seating_changed", {})])
    stamp(meeting.id, changes.events)
    db.session.commit()
    return changes


def staff_view(meeting: Meeting) -> dict:
    """The control room's seating panel: people with their table, presence and host flag; rules."""
    step = meeting.current_round
    seats = assignment_of(step.id if step else None)
    present = present_ids(meeting.id)
    table_hosts = hosts(meeting.id)
    host_of = {h.participant_id: t for t, h in table_hosts.items() if h.participant_id}
    people = [{"id": p.id, "label": _label(p), "number": p.number, "table_id": seats.get(p.id),
               "present": p.id in present, "joined": p.joined_at is not None, "host_of": host_of.get(p.id),
               "categories": p.categories or {}}
              for p in meetings.participants(meeting)]
    rules = [rule_view(r) for r in db.session.scalars(sa.select(SeatingRule).where(SeatingRule.meeting_id == meeting.id)
                                                      .order_by(SeatingRule.id))]
    return {"round_id": step.id if step else None, "people": people, "rules": rules,
            "hosts": {str(t): {"participant_id": h.participant_id, "staff_id": h.staff_id}
                      for t, h in table_hosts.items()}}

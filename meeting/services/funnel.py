"""The participation funnel: invited → opened the link → joined → posted → voted → stayed to the
end, overall, per table and per category value, and for a drawn panel laid against its quotas.

Built only from the application's own records (invitations, participants, ideas, votes, ballots,
presence): no tracker, no IP address. Counts under 5 in a breakdown are suppressed, with one more
cell in the same column when a single hidden count could be recovered from the others.

- invited: a personal invitation (a drawn panel); an open meeting's people were not invited.
- opened: the invitation link or code was opened; for an open meeting, browsers that opened its
  page (anonymous, so only in the overall line).
- joined: picked a nickname (an open meeting's waiting list included).
- posted: at least one idea (proxy entries count: they are the resident's voice).
- voted: at least one vote on an idea or ballot in a poll (a secret poll's ballots lose their link
  to the voter when it closes, so they no longer count here).
- stayed: connected now, or, once every agenda step has ended, connected when the last one ended.
"""

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import (
    Ballot,
    Connection,
    Idea,
    Invitation,
    Meeting,
    OpenVisit,
    PanelQuota,
    Participant,
    RosterPerson,
    Round,
    Seat,
    Table,
    Vote,
)
from meeting.services import meetings, staff
from meeting.services.events import Changes

STAGES = ("invited", "opened", "joined", "posted", "voted", "stayed")
MIN_CELL = 5


def _ids(query) -> set[int]:
    return set(db.session.scalars(query))


def stages_of(meeting_id: int) -> dict[int, set[str]]:
    """Each participant's stages reached."""
    people = list(db.session.execute(sa.select(Participant.id, Participant.via, Participant.joined_at,
                                               Participant.last_seen_at).where(Participant.meeting_id == meeting_id)))
    opened = _ids(sa.select(Invitation.participant_id).join(Participant).where(
        Participant.meeting_id == meeting_id, sa.or_(Invitation.opened_at.is_not(None), Invitation.used_at.is_not(None))))
    posted = _ids(sa.select(Idea.participant_id).where(Idea.meeting_id == meeting_id, Idea.participant_id.is_not(None)))
    voted = _ids(sa.select(Vote.participant_id).join(Idea, Idea.id == Vote.idea_id).where(Idea.meeting_id == meeting_id))
    from meeting.models import Poll

    voted |= _ids(sa.select(Ballot.participant_id).join(Poll, Poll.id == Ballot.poll_id).where(
        Poll.meeting_id == meeting_id, Ballot.participant_id.is_not(None)))
    online = _ids(sa.select(Connection.participant_id).where(Connection.meeting_id == meeting_id,
                                                             Connection.participant_id.is_not(None)))
    end = _end_of_day(meeting_id)
    out: dict[int, set[str]] = {}
    for pid, via, joined_at, last_seen in people:
        reached = set()
        if via == "invite":
            reached.add("invited")
        if pid in opened or via == "open" or joined_at is not None:
            reached.add("opened")
        if joined_at is not None:
            reached.add("joined")
        if pid in posted:
            reached.add("posted")
        if pid in voted:
            reached.add("voted")
        if pid in online or (end is not None and last_seen is not None and last_seen >= end):
            reached.add("stayed")
        out[pid] = reached
    return out


def _end_of_day(meeting_id: int):
    """When the last agenda step ended, once every step has ended; else None (the day goes on)."""
    steps = list(db.session.execute(sa.select(Round.state, Round.ended_at).where(Round.meeting_id == meeting_id)))
    if not steps or any(state != "done" for state, _ in steps):
        return None
    ends = [e for _, e in steps if e is not None]
    return max(ends) if ends else None


def _count(reached: list[set[str]]) -> dict[str, int]:
    return {s: sum(s in r for r in reached) for s in STAGES}


def _suppress(rows: list[dict]) -> list[dict]:
    """Hide counts 0 < n < MIN_CELL; where one count of a stage column is hidden, hide the next
    smallest too, so that no hidden count follows from a total minus the others."""
    for stage in STAGES:
        hidden = [r for r in rows if 0 < r[stage] < MIN_CELL]
        if len(hidden) == 1 and len(rows) > 1:
            rest = sorted((r for r in rows if r not in hidden and r[stage] > 0), key=lambda r: r[stage])
            hidden += rest[:1]
        for r in hidden:
            r[stage] = None
    return rows


def funnel(meeting_id: int) -> dict:
    """The funnel as plain data (reads only; no permission check: see `view`)."""
    meeting = db.session.get(Meeting, meeting_id)
    by_person = stages_of(meeting_id)
    overall = _count(list(by_person.values()))
    visits = db.session.scalar(sa.select(sa.func.count()).select_from(OpenVisit).where(OpenVisit.meeting_id == meeting_id))
    if visits:  # an open meeting: anonymous browsers that opened its page
        overall["opened"] = max(overall["opened"], visits + overall["invited"])
    round_id = meetings.seating_round_id(meeting_id)
    seat = dict(db.session.execute(sa.select(Seat.participant_id, Seat.table_id).where(Seat.round_id == round_id)).all()) \
        if round_id else {}
    tables = []
    for table in db.session.scalars(sa.select(Table).where(Table.meeting_id == meeting_id).order_by(Table.position)):
        tables.append({"table_id": table.id, "table": table.name,
                       **_count([r for p, r in by_person.items() if seat.get(p) == table.id])})
    categories = dict(db.session.execute(sa.select(Participant.id, Participant.categories)
                                         .where(Participant.meeting_id == meeting_id)).all())
    by_category = []
    names = sorted({k for c in categories.values() for k in (c or {})})
    for name in names:
        values = sorted({(c or {}).get(name) for c in categories.values() if (c or {}).get(name) is not None}, key=str)
        rows = [{"category": name, "value": v, **_count([r for p, r in by_person.items()
                                                         if (categories.get(p) or {}).get(name) == v])}
                for v in values]
        by_category += _suppress(rows)
    quotas = []
    pool = db.session.scalars(sa.select(RosterPerson.categories).where(RosterPerson.meeting_id == meeting_id)).all()
    for quota in db.session.scalars(sa.select(PanelQuota).where(PanelQuota.meeting_id == meeting_id)
                                    .order_by(PanelQuota.position)):
        members = [r for p, r in by_person.items() if (categories.get(p) or {}).get(quota.category) == quota.value]
        quotas.append({"category": quota.category, "value": quota.value, "min": quota.min, "max": quota.max,
                       "pool": sum((c or {}).get(quota.category) == quota.value for c in pool), **_count(members)})
    return {"stages": list(STAGES), "overall": overall, "tables": _suppress(tables), "categories": by_category,
            "quotas": _suppress(quotas), "open": meeting.open_code is not None or bool(visits),
            "final": _end_of_day(meeting_id) is not None}


def view(user, meeting_id: int) -> tuple[dict, Changes]:
    """The funnel for the control room (facilitators and organizers; reads only)."""
    staff.require_facilitator(user, meeting_id)
    return {"funnel": funnel(meeting_id)}, Changes()

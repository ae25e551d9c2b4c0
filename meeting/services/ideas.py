"""Ideas at tables: post, vote, moderate; announcements; what each client may see."""

from collections.abc import Collection

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Announcement, Connection, Idea, Meeting, Participant, Table, Vote
from meeting.models._base import by_id, iso, upsert, utcnow
from meeting.models.idea import IDEA_MAX_LENGTH, VOTE_VALUES
from meeting.services import agenda, announcements, audit, meetings, staff, validate
from meeting.services.errors import ServiceError
from meeting.services.events import (
    Changes,
    Dirty,
    Event,
    hold_meeting,
    meeting_stream,
    participant_stream,
    publish,
    register_tally_publisher,
    staff_stream,
    stream_positions,
    table_stream,
)
from meeting.services.memo import memo

REASON_MAX = 500
ANNOUNCEMENT_MAX = 500


def _clean_text(raw, max_length: int, empty_code: str) -> str:
    return validate.clean_text(raw, max_length, empty_code, too_long_code="idea_too_long")


def idea_view(idea: Idea, tally: dict | None = None) -> dict:
    return {"id": idea.id, "table_id": idea.table_id, "round_id": idea.round_id, "text": idea.text,
            "hidden": idea.hidden, "created_at": iso(idea.created_at),
            "tally": tally or {v: 0 for v in VOTE_VALUES}, "edited": idea.edited_at is not None,
            "pending": idea.pending, "merged_into_id": idea.merged_into_id}


_MEMBERS = sa.select(Idea.id, Idea.merged_into_id).where(Idea.merged_into_id.in_(sa.bindparam("ids", expanding=True)))


def group_members(idea_ids) -> dict[int, int]:
    """Ideas merged into any of these, each mapped to the idea it was merged into (kept for the
    rest of the transaction: a snapshot's tallies and the phone's own votes both ask)."""
    ids = tuple(idea_ids)
    if not ids:
        return {}
    return memo(("group_members", ids), lambda: dict(db.session.execute(_MEMBERS, {"ids": list(ids)}).all()))


_VOTES = sa.select(Vote.idea_id, Vote.participant_id, Vote.value, Vote.updated_at, Vote.id).where(
    Vote.idea_id.in_(sa.bindparam("ids", expanding=True)))
_VOTES_OF = _VOTES.where(Vote.participant_id == sa.bindparam("participant_id"))
_COUNTS = (sa.select(Vote.idea_id, Vote.value, sa.func.count()).where(Vote.idea_id.in_(sa.bindparam("ids", expanding=True)))
           .group_by(Vote.idea_id, Vote.value))


def latest_votes(idea_ids, *, participant_id: int | None = None) -> dict[tuple[int, int], str]:
    """Each voter's vote on each of these ideas, an idea counting together with the ideas merged into
    it: {(idea_id, participant_id): value}, where a person who voted on several ideas of one merged
    group counts once, with their latest vote."""
    ids = list(idea_ids)
    if not ids:
        return {}
    into = group_members(ids)
    query, params = (_VOTES, {}) if participant_id is None else (_VOTES_OF, {"participant_id": participant_id})
    latest: dict[tuple[int, int], tuple] = {}
    for idea_id, person, value, at, vote_id in db.session.execute(query, {"ids": ids + list(into), **params}):
        key = (into.get(idea_id, idea_id), person)
        if key not in latest or (at, vote_id) > latest[key][0]:
            latest[key] = ((at, vote_id), value)
    return {key: value for key, (_, value) in latest.items()}


def tallies(idea_ids: list[int]) -> dict[int, dict]:
    """Agree / disagree / pass counts per idea; an idea with others merged into it counts each voter
    of the group once (their latest vote)."""
    result = {i: {v: 0 for v in VOTE_VALUES} for i in idea_ids}
    if not idea_ids:
        return result
    merged = set(group_members(idea_ids).values())
    plain = [i for i in idea_ids if i not in merged]
    if plain:
        for idea_id, value, count in db.session.execute(_COUNTS, {"ids": plain}):
            result[idea_id][value] = count
    for (idea_id, _), value in latest_votes(merged).items():
        result[idea_id][value] += 1
    return result


def my_votes(person: Participant, idea_ids) -> dict[int, str]:
    """This participant's vote on each of these ideas (merged groups: their latest)."""
    return {idea_id: value for (idea_id, _), value in latest_votes(idea_ids, participant_id=person.id).items()}


def shown_at(table_id: int):
    """The condition for the ideas a table's phones show: its own ideas, visible and not merged
    away, and ideas elsewhere that one of its ideas was merged into."""
    merged_here = sa.select(Idea.merged_into_id).where(Idea.table_id == table_id, Idea.merged_into_id.is_not(None))
    return sa.and_(Idea.hidden.is_(False), Idea.pending.is_(False), Idea.merged_into_id.is_(None),
                   sa.or_(Idea.table_id == table_id, Idea.id.in_(merged_here)))


def tables_showing(idea) -> set[int]:
    """The tables whose phones show this idea (an Idea, or a row with its `id` and `table_id`: a
    vote's): its own and those of the ideas merged into it."""
    return {idea.table_id} | set(db.session.scalars(sa.select(Idea.table_id).where(Idea.merged_into_id == idea.id)))


def post_idea(person: Participant, text, *, proxy_staff_id: int | None = None) -> tuple[dict, Changes]:
    """Post an idea at the person's table. With pre-moderation it waits for staff approval: only its
    author and staff see it until then. `proxy_staff_id`: entered by staff on the person's behalf."""
    table = meetings.table_of(person)
    if table is None:
        raise ServiceError("not_seated")
    text = _clean_text(text, IDEA_MAX_LENGTH, "idea_empty")
    meeting = db.session.get(Meeting, person.meeting_id)
    if agenda.posting_closed(meeting, meeting.current_round):
        raise ServiceError("round_closed")
    idea = Idea(meeting_id=meeting.id, table_id=table.id, round_id=meeting.current_round.id,
                participant_id=person.id, text=text, pending=meeting.moderation == "pre",
                proxy_staff_id=proxy_staff_id)
    db.session.add(idea)
    db.session.flush()
    view = idea_view(idea)
    events = [Event(staff_stream(meeting.id), "idea_posted", {"idea": {**view, "proxy": proxy_staff_id is not None}})]
    if not idea.pending:
        events.insert(0, Event(table_stream(table.id), "idea_posted", {"idea": view}))
    return {"idea": view}, Changes(events=events)


# What a vote checks of its idea, read as one row: a vote is the hot path, and no ORM object is needed.
_VOTE_TARGET = sa.select(Idea.id, Idea.meeting_id, Idea.table_id, Idea.participant_id, Idea.merged_into_id,
                         Idea.pending, Idea.hidden).where(Idea.id == sa.bindparam("idea_id"))


def vote(person: Participant | meetings.Seated, idea_id, value, *,
         proxy_staff_id: int | None = None) -> tuple[dict, Changes]:
    """Record the person's vote on an idea their table shows (`person`: their row, or what the
    session check read: meetings.seated)."""
    if value not in VOTE_VALUES:
        raise ServiceError("vote_value")
    idea = (db.session.connection().execute(_VOTE_TARGET, {"idea_id": idea_id}).first()
            if validate.is_id(idea_id) else None)
    table_id = meetings.table_id_of(person)
    if idea is None or table_id is None or idea.meeting_id != person.meeting_id:
        raise ServiceError("not_found")
    if idea.merged_into_id is not None:
        raise ServiceError("idea_merged")
    if idea.pending and idea.participant_id == person.id:
        raise ServiceError("idea_pending")
    if idea.hidden or idea.pending or (idea.table_id != table_id and table_id not in tables_showing(idea)):
        raise ServiceError("not_found")
    # Core, not the ORM's bulk insert path: a vote is the hot path.
    row = dict(idea_id=idea.id, participant_id=person.id, value=value, updated_at=utcnow(), proxy_staff_id=proxy_staff_id)
    db.session.connection().execute(upsert(Vote, row, ("participant_id", "idea_id"), ("value", "updated_at",
                                                                                    "proxy_staff_id")), row)
    # "map": the opinion map is recomputed later in the background (services/opinion.py).
    return {"idea_id": idea.id, "value": value}, Changes(dirty={Dirty("idea", idea.meeting_id, idea.id, idea.table_id),
                                                                Dirty("map", idea.meeting_id, 0)})


_TABLES_OF = sa.select(Idea.id, Idea.table_id).where(Idea.id.in_(sa.bindparam("ids", expanding=True)),
                                                    Idea.meeting_id == sa.bindparam("meeting_id"))
_MERGED_AT = sa.select(Idea.table_id, Idea.merged_into_id).where(
    Idea.merged_into_id.in_(sa.bindparam("ids", expanding=True)))


def tally_events(meeting_id: int, idea_ids: Collection[int]) -> list[Event]:
    """Return the current tallies of these ideas as events, one per table stream and staff: the
    tables in the order of their first idea in `idea_ids` (the coalescer's: the longest-waiting
    first, so a burst of a hundred tables does not add its length to the oldest votes' wait)."""
    table_of = dict(db.session.execute(_TABLES_OF, {"ids": sorted(idea_ids), "meeting_id": meeting_id}).all())
    counts = tallies(list(table_of))
    by_table: dict[int, dict] = {}
    for idea_id in idea_ids:
        if idea_id in table_of:
            by_table.setdefault(table_of[idea_id], {})[str(idea_id)] = counts[idea_id]
    # An idea that others were merged into is shown (and counted) at their tables too.
    if group_members(table_of):
        for table_id, target in db.session.execute(_MERGED_AT, {"ids": list(table_of)}):
            by_table.setdefault(table_id, {})[str(target)] = counts[target]
    events = [Event(table_stream(t), "tallies", {"tallies": v}) for t, v in by_table.items()]
    if by_table:
        everything = {k: v for part in by_table.values() for k, v in part.items()}
        events.append(Event(staff_stream(meeting_id), "tallies", {"tallies": everything}))
    return events


def publish_tallies(meeting_id: int, idea_ids: Collection[int]) -> list[Event]:
    """Stamp and commit tally events for these ideas; return them for broadcasting."""
    hold_meeting(meeting_id)  # count under the lock: with several processes, newest counts get the highest seq
    return publish(meeting_id, tally_events(meeting_id, idea_ids))


register_tally_publisher("idea", publish_tallies)


def _moderate(user, meeting_id: int, idea_id, reason, hide: bool) -> tuple[dict, Changes]:
    staff.require_facilitator(user, meeting_id)
    idea = db.session.get(Idea, idea_id) if validate.is_id(idea_id) else None
    if idea is None or idea.meeting_id != meeting_id:
        raise ServiceError("not_found")
    if idea.pending:
        raise ServiceError("idea_pending_staff")
    if idea.merged_into_id is not None:
        raise ServiceError("idea_merged")
    reason = validate.clean_text(reason, REASON_MAX, "reason_required", too_long_code="reason_too_long",
                                 multiline=True)
    idea.hidden = hide
    idea.hidden_reason = reason if hide else ""
    audit.record("idea.hide" if hide else "idea.restore", meeting_id=meeting_id, staff_id=user.id,
                 target=f"idea:{idea.id}", reason=reason)
    view = idea_view(idea, tallies([idea.id])[idea.id])
    if hide:
        events = [Event(table_stream(t), "idea_hidden", {"idea_id": idea.id}) for t in sorted(tables_showing(idea))]
    else:
        events = [Event(table_stream(t), "idea_posted", {"idea": view}) for t in sorted(tables_showing(idea))]
    events.append(Event(staff_stream(meeting_id), "idea_updated", {"idea": {**view, "hidden_reason": idea.hidden_reason}}))
    if idea.participant_id:  # the author is told, instead of seeing their idea vanish
        events.append(author_notice(idea, "hidden" if hide else "restored", reason if hide else ""))
    return {"idea": view}, Changes(events=events, dirty={Dirty("map", meeting_id, 0)})


def author_notice(idea: Idea, what: str, reason: str = "") -> Event:
    """Tell an idea's author (on their own stream) what staff did to it."""
    return Event(participant_stream(idea.participant_id), "idea_moderated",
                 {"idea_id": idea.id, "text": idea.text, "what": what, "reason": reason})


def hide_idea(user, meeting_id: int, idea_id, reason) -> tuple[dict, Changes]:
    return _moderate(user, meeting_id, idea_id, reason, hide=True)


def restore_idea(user, meeting_id: int, idea_id, reason) -> tuple[dict, Changes]:
    return _moderate(user, meeting_id, idea_id, reason, hide=False)


def announce(user, meeting_id: int, text, table_id=None) -> tuple[dict, Changes]:
    """Announce to every phone, or to one table's phones (`table_id`); staff see every announcement."""
    from meeting.services import announcements

    staff.require_facilitator(user, meeting_id)
    text = validate.clean_text(text, ANNOUNCEMENT_MAX, "announcement_empty", too_long_code="announcement_too_long",
                               multiline=True)
    if table_id is not None and (not isinstance(table_id, int) or isinstance(table_id, bool)
                                 or table_by_id(meeting_id, table_id) is None):
        raise ServiceError("not_found")
    item = Announcement(meeting_id=meeting_id, text=text, staff_id=user.id, table_id=table_id)
    db.session.add(item)
    db.session.flush()
    audit.record("announce", meeting_id=meeting_id, staff_id=user.id, target=f"announcement:{item.id}",
                 table_id=table_id)
    view = announcements.view(item)
    return {"announcement": view}, Changes(events=[Event(announcements.audience(item), "announcement", {"announcement": view}),
                                                   Event(staff_stream(meeting_id), "announcement", {"announcement": view})])


def latest_announcement(meeting_id: int) -> dict | None:
    item = db.session.scalar(sa.select(Announcement).where(Announcement.meeting_id == meeting_id)
                             .order_by(Announcement.id.desc()).limit(1))
    if item is None:
        return None
    return {"id": item.id, "text": item.text, "created_at": iso(item.created_at)}


_AT_TABLE = (sa.select(Idea).where(sa.or_(shown_at(sa.bindparam("table_id")),
                                          sa.and_(Idea.participant_id == sa.bindparam("participant_id"),
                                                  Idea.pending.is_(True))))
             .order_by(Idea.id))


def participant_snapshot(person: Participant) -> dict:
    """Everything this participant may see now."""
    meeting = by_id(Meeting, person.meeting_id)
    table = meetings.table_of(person)
    # Positions before content: whatever commits in between is then in the snapshot AND
    # re-broadcast above these positions (applied twice, harmlessly), never lost.
    positions = stream_positions(meeting.id, [meeting_stream(meeting.id), participant_stream(person.id)]
                                 + ([table_stream(table.id)] if table else []))
    ideas: list[dict] = []
    if table:
        rows = list(db.session.scalars(_AT_TABLE, {"table_id": table.id, "participant_id": person.id}))
        counts = tallies([i.id for i in rows])
        mine = my_votes(person, [i.id for i in rows])
        sources = merged_sources([i.id for i in rows])
        for idea in rows:
            view = idea_view(idea, counts[idea.id])
            view["mine"] = idea.participant_id == person.id
            view["my_vote"] = mine.get(idea.id)
            if idea.id in sources:
                view["sources"] = sources[idea.id]
            ideas.append(view)
    return {"meeting": {"id": meeting.id, "title": meeting.title},
            "me": {"id": person.id, "nickname": person.nickname},
            "table": {"id": table.id, "name": table.name} if table else None,
            "ideas": ideas,
            # Only an announcement still in force (not cleared, not stale), to everyone or to this table.
            "announcement": announcements.for_participant(person),
            "streams": positions}


def staff_snapshot(meeting: Meeting) -> dict:
    """The control room's view: every table with its connected count and ideas."""
    positions = stream_positions(meeting.id, [staff_stream(meeting.id)])  # first: see participant_snapshot
    seated = meetings.seating(meeting)
    connected = dict(db.session.execute(sa.select(Connection.table_id, sa.func.count())
                                        .where(Connection.meeting_id == meeting.id,
                                               Connection.participant_id.is_not(None))
                                        .group_by(Connection.table_id)).all())
    rows = list(db.session.scalars(sa.select(Idea).where(Idea.meeting_id == meeting.id).order_by(Idea.id)))
    counts = tallies([i.id for i in rows])
    sources = merged_sources([i.id for i in rows])
    ideas: dict[int, list] = {}
    for idea in rows:
        ideas.setdefault(idea.table_id, []).append({**idea_view(idea, counts[idea.id]),
                                                    "hidden_reason": idea.hidden_reason,
                                                    "original_text": idea.original_text,
                                                    "sources": sources.get(idea.id, [])})
    tables = [{"id": t.id, "name": t.name, "seated": len(seated.get(t.id, [])),
               "connected": connected.get(t.id, 0), "ideas": ideas.get(t.id, [])}
              for t in meeting.tables]
    return {"meeting": {"id": meeting.id, "title": meeting.title}, "tables": tables,
            "announcement": latest_announcement(meeting.id),
            "streams": positions}


def merged_sources(idea_ids) -> dict[int, list[dict]]:
    """For each of these ideas that others were merged into: those ideas and their tables."""
    ids = list(idea_ids)
    if not ids or not group_members(ids):
        return {}
    found: dict[int, list[dict]] = {}
    for source, table in db.session.execute(sa.select(Idea, Table.name).join(Table, Table.id == Idea.table_id)
                                            .where(Idea.merged_into_id.in_(ids)).order_by(Idea.id)):
        found.setdefault(source.merged_into_id, []).append(
            {"id": source.id, "table_id": source.table_id, "table": table, "text": source.text})
    return found


def table_by_id(meeting_id: int, table_id: int) -> Table | None:
    table = db.session.get(Table, table_id)
    return table if table and table.meeting_id == meeting_id else None

"""Merging duplicate ideas, and undoing a merge.

Ideas merged into another (the target) keep their own rows and votes; they are no longer listed
on their own, and the target shows them as its sources with their tables. The target's tally
counts each voter of the group once, with their latest vote (services/ideas.tallies), so an
un-merge gives every idea back exactly the votes it had. Phones at a source's table see the
target in its place and can vote on it.
"""

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Idea, Vote
from meeting.services import audit, ideas, moderation, staff, validate
from meeting.services.errors import ServiceError
from meeting.services.events import Changes, Dirty, Event, participant_stream, staff_stream, table_stream

MAX_SOURCES = 50


def _idea(meeting_id: int, idea_id) -> Idea:
    idea = db.session.get(Idea, idea_id) if validate.is_id(idea_id) else None
    if idea is None or idea.meeting_id != meeting_id:
        raise ServiceError("not_found")
    return idea


def _public(idea: Idea) -> dict:
    view = moderation.staff_idea_view(idea)
    return {k: v for k, v in view.items() if k not in ("hidden_reason", "original_text")}


def _show(target: Idea, tables: set[int]) -> list[Event]:
    """The target as the phones at these tables see it (with its sources and group tally)."""
    view = _public(target)
    return [Event(table_stream(t), "idea_posted", {"idea": view}) for t in sorted(tables)]


def _voters_told(group: list[int], shown: list[int]) -> list[Event]:
    """Each voter on the group learns their own vote on the ideas now shown (only on their own stream:
    nobody else learns how they voted)."""
    voters = set(db.session.scalars(sa.select(Vote.participant_id).where(Vote.idea_id.in_(group))))
    latest = ideas.latest_votes(shown)
    return [Event(participant_stream(p), "my_votes", {"votes": {str(i): latest.get((i, p)) for i in shown}})
            for p in sorted(voters)]


def merge_ideas(user, meeting_id: int, target_id, source_ids) -> tuple[dict, Changes]:
    """Merge the source ideas into the target: one idea listing its sources and their tables; every
    voter of the group counts once, with their latest vote."""
    staff.require_facilitator(user, meeting_id)
    if not isinstance(source_ids, list) or not source_ids or len(source_ids) > MAX_SOURCES:
        raise ServiceError("merge_sources")
    target = _idea(meeting_id, target_id)
    sources = [_idea(meeting_id, i) for i in dict.fromkeys(source_ids)]
    if any(s.id == target.id for s in sources):
        raise ServiceError("merge_sources")
    for idea in [target, *sources]:
        if idea.hidden or idea.pending:
            raise ServiceError("merge_hidden")
        if idea.merged_into_id is not None:
            raise ServiceError("idea_merged")
    before = ideas.tables_showing(target)
    moved: list[Idea] = []
    for source in sources:
        # A source that had ideas merged into it passes them on: a group is one level deep.
        for inner in db.session.scalars(sa.select(Idea).where(Idea.merged_into_id == source.id)):
            inner.merged_into_id = target.id
            moved.append(inner)
        source.merged_into_id = target.id
    db.session.flush()
    audit.record("idea.merge", meeting_id=meeting_id, staff_id=user.id, target=f"idea:{target.id}",
                 table_id=target.table_id, sources=[s.id for s in sources])
    group = [target.id, *(s.id for s in sources), *(m.id for m in moved)]
    tables = ideas.tables_showing(target)
    events = [Event(table_stream(s.table_id), "idea_hidden", {"idea_id": s.id, "merged_into_id": target.id})
              for s in sources]
    events += _show(target, tables | before)
    view = moderation.staff_idea_view(target)
    events.append(Event(staff_stream(meeting_id), "idea_updated", {"idea": view}))
    events += [Event(staff_stream(meeting_id), "idea_updated", {"idea": moderation.staff_idea_view(s)})
               for s in sources + moved]
    events += _voters_told(group, [target.id])
    events += [ideas.author_notice(s, "merged", target.text) for s in sources if s.participant_id]
    return {"idea": view}, Changes(events=events, dirty={Dirty("map", meeting_id, 0)})


def unmerge_idea(user, meeting_id: int, idea_id) -> tuple[dict, Changes]:
    """Undo the merge of one source: it is listed on its own again with exactly its own votes."""
    staff.require_facilitator(user, meeting_id)
    source = _idea(meeting_id, idea_id)
    if source.merged_into_id is None:
        raise ServiceError("not_merged")
    target = _idea(meeting_id, source.merged_into_id)
    source.merged_into_id = None
    db.session.flush()
    audit.record("idea.unmerge", meeting_id=meeting_id, staff_id=user.id, target=f"idea:{source.id}",
                 table_id=source.table_id, merged_into=target.id)
    events = _show(target, ideas.tables_showing(target))
    events.append(Event(table_stream(source.table_id), "idea_posted", {"idea": _public(source)}))
    if source.table_id not in ideas.tables_showing(target):  # that table no longer shows the target
        events.append(Event(table_stream(source.table_id), "idea_hidden", {"idea_id": target.id}))
    view = moderation.staff_idea_view(source)
    events += [Event(staff_stream(meeting_id), "idea_updated", {"idea": moderation.staff_idea_view(target)}),
               Event(staff_stream(meeting_id), "idea_updated", {"idea": view})]
    group = [target.id, source.id, *db.session.scalars(sa.select(Idea.id).where(Idea.merged_into_id == target.id))]
    events += _voters_told(group, [target.id, source.id])
    if source.participant_id:
        events.append(ideas.author_notice(source, "unmerged"))
    return {"idea": view}, Changes(events=events, dirty={Dirty("map", meeting_id, 0)})

"""The opinion map of a meeting: ideas are the statements, idea votes the agree/disagree/pass matrix.

How the map stays fresh without slowing a vote down
---------------------------------------------------
A vote (and hiding or restoring an idea) adds ``Dirty("map", meeting_id, 0)`` to the
service's Changes, next to the idea's own tally. The realtime layer hands every Dirty to the
one tally coalescer (``meeting/broadcast.py``), which waits ``MAP_INTERVAL`` seconds
(``MEETING_MAP_INTERVAL``, 5 by default; the "map" kind is registered with that setting
instead of ``TALLY_INTERVAL``) in a background task, then calls :func:`publish_map`. So a
meeting's map is recomputed at most about once per interval per server process, always
after the vote was committed and acknowledged, and never inside the vote's request.

:func:`publish_map` recomputes (warm, with ``core.opinion.update``, when this process still
holds the previous map of the meeting; cold otherwise), stores the result in the meeting's
single :class:`OpinionMapSnapshot` row, and returns an ``opinion_map`` event for the
``staff:<id>`` stream. Pages, map.json and the report read the snapshot and never recompute.
With several worker processes each one recomputes for the votes it received; the snapshot
is upserted, so the last writer wins and every worker serves the same row.
"""

from __future__ import annotations

import math
import random
import threading
from collections import OrderedDict
from dataclasses import asdict

import sqlalchemy as sa

from meeting import offload
from meeting.core.opinion import OpinionMap, breakdown, bridging_statements, compute_map, table_agreement, update
from meeting.extensions import db
from meeting.models import Idea, Meeting, OpinionMapSnapshot, Participant, Seat, Table, Vote
from meeting.models._base import by_id, iso, upsert, utcnow
from meeting.models.idea import VOTE_VALUES
from meeting.services import meetings, staff
from meeting.services.events import Event, publish, register_tally_publisher, staff_stream

VALUE = {"agree": 1, "disagree": -1, "pass": 0}
READ_PART = 1000  # rows read between two breaths of the event loop (meeting/offload.py)

# (meeting id, created_at) -> (last map, the vote cells it was computed from); kept by the process
# that computes (the helper under gevent), written only by _calculate, whose calls for a meeting
# the meeting's lock serializes; lost on restart. created_at keeps a recreated database's meeting 1 from reusing a stale map.
# Both are bounded: a process that serves many meetings keeps only the most recent ones.
CACHED_MEETINGS = 64


class _Recent(OrderedDict):
    """A dict that forgets its least recently used entries beyond CACHED_MEETINGS."""

    def __getitem__(self, key):
        value = super().__getitem__(key)
        self.move_to_end(key)
        return value

    def get(self, key, default=None):
        return self[key] if key in self else default

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self.move_to_end(key)
        for old in list(self)[:max(0, len(self) - CACHED_MEETINGS)]:
            held = getattr(super().__getitem__(old), "locked", None)
            if not (held and held()):  # never forget a lock that is held
                del self[old]


_previous: _Recent = _Recent()
_locks: _Recent = _Recent()
_locks_guard = threading.Lock()


def _lock(meeting_id: int) -> threading.Lock:
    with _locks_guard:
        if meeting_id not in _locks:
            _locks[meeting_id] = threading.Lock()
        return _locks[meeting_id]


def _num(v) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), 6)


def _clean(d: dict) -> dict:
    return {k: _num(v) if isinstance(v, float) else v for k, v in d.items()}


def meeting_votes(meeting_id: int) -> tuple[list[tuple[int, int, int]], list[Idea]]:
    """Return the meeting's votes as (participant, idea, +1/-1/0) in casting order, and its ideas."""
    ideas = list(db.session.scalars(sa.select(Idea).where(Idea.meeting_id == meeting_id).order_by(Idea.id)))
    rows = db.session.execute(sa.select(Vote.participant_id, Vote.idea_id, Vote.value)
                              .join(Idea, Idea.id == Vote.idea_id)
                              .where(Idea.meeting_id == meeting_id)
                              .order_by(Vote.updated_at, Vote.id))
    votes = []
    for part in rows.partitions(READ_PART):  # tens of thousands in a big meeting: the loop breathes
        votes += [(p, i, VALUE[v]) for p, i, v in part]
        offload.breathe()
    return votes, ideas


def current_tables(meeting_id: int) -> dict[int, int]:
    """Participant id -> table id in the meeting's current round."""
    rnd = meetings.seating_round_id(meeting_id)
    if rnd is None:
        return {}
    return dict(db.session.execute(sa.select(Seat.participant_id, Seat.table_id).where(Seat.round_id == rnd)).all())


def _map(previous: tuple | None, votes: list[tuple], statements: list[int], hidden: set[int]) -> tuple[OpinionMap, dict]:
    """Update the previous (map, cells) of the meeting with what changed, or compute afresh;
    return the new (map, cells)."""
    cells = {(p, s): v for p, s, v in votes}
    om = None
    if previous is not None:
        old_map, old_cells = previous
        # A vote can disappear (a participant or idea deleted); update() cannot forget one.
        if all(cell in cells for cell in old_cells):
            changed = [(p, s, v) for p, s, v in votes if old_cells.get((p, s)) != v]
            om = update(old_map, changed, excluded=hidden) if changed or hidden != old_map.state.excluded else old_map
    if om is None:
        om = compute_map(votes, statements=statements, excluded=hidden)
    return om, cells


def compute(meeting_id: int) -> dict:
    """Compute the map, per-table agreement, bridging ideas and breakdowns as plain JSON.

    What the database holds is read here, in the caller's greenlet; the arithmetic (the map,
    agreement, bridging, breakdowns: up to a few hundred ms for a meeting of thousands) runs off
    the event loop (meeting/offload.py), so phones' acks and broadcasts do not wait for it."""
    votes, ideas = meeting_votes(meeting_id)
    meeting = db.session.get(Meeting, meeting_id)
    visible = [(i.id, i.text, i.table_id) for i in ideas if not i.hidden]
    hidden = {i.id for i in ideas if i.hidden}
    table_of = current_tables(meeting_id)
    offload.breathe()
    names = dict(db.session.execute(sa.select(Table.id, Table.name).where(Table.meeting_id == meeting_id)).all())
    categories = {}
    for part in db.session.execute(sa.select(Participant.id, Participant.categories)
                                   .where(Participant.meeting_id == meeting_id)).partitions(READ_PART):
        categories.update(part)
        offload.breathe()
    return offload.cpu(_calculate, (meeting.id, meeting.created_at), votes, visible, hidden, table_of, names,
                       categories)


def _calculate(key: tuple, votes: list[tuple], visible: list[tuple[int, str, int]], hidden: set[int],
               table_of: dict[int, int], names: dict[int, str], categories: dict[int, dict]) -> dict:
    """The map's JSON from plain data, updating the meeting's previous map kept in `_previous` of
    the process it runs in (the server's helper under gevent, meeting/offload.py): the map's
    state, megabytes for a meeting of thousands, never travels between processes."""
    om, cells = _map(_previous.get(key), votes, [i for i, _text, _table in visible], hidden)
    _previous[key] = (om, cells)

    # Pseudonymous labels, new for every computation: nothing here can be joined to a nickname.
    order = list(range(1, len(om.participants) + 1))
    random.SystemRandom().shuffle(order)
    participants = [
        {"pid": f"P{n}", "group": None if g < 0 else int(g), "x": _num(x), "y": _num(y),
         "in_conv": bool(inc), "n_votes": int(nv)}
        for n, g, x, y, inc, nv in zip(order, om.group, om.x, om.y, om.in_conv, om.n_votes)
    ]
    groups = [{"id": g.id, "size": g.size, "center": [_num(c) for c in g.center],
               "repness": [_clean(asdict(r)) for r in g.repness]} for g in om.groups]
    consensus = {k: [_clean(asdict(c)) for c in v] for k, v in om.consensus.items()}

    visible_votes = [v for v in votes if v[1] not in hidden]
    agreement = [
        {"table_id": t, "idea_id": s, "agree": ta.agree, "disagree": ta.disagree, "pass": ta.pass_,
         "seen": ta.seen, "agree_share": _num(ta.agree_share)}
        for t, per in sorted(table_agreement(visible_votes, table_of).items())
        for s, ta in sorted(per.items())
    ]
    bridging = [_clean({**asdict(b), "idea_id": b.statement}) for b in bridging_statements(visible_votes, table_of)]
    for b in bridging:
        del b["statement"]

    return {
        "participants": participants,
        "groups": groups,
        "consensus": consensus,
        "k": int(om.k),
        "statements": [{"id": i, "text": text, "table_id": table} for i, text, table in visible],
        "tables": {"names": {str(t): n for t, n in names.items()}, "agreement": agreement, "bridging": bridging},
        "breakdown": breakdowns(categories, visible_votes, [i for i, _text, _table in visible]),
    }


def breakdowns(categories: dict[int, dict], votes: list[tuple], idea_ids: list[int]) -> list[dict]:
    """Each idea's agree/disagree/pass counts per category value, cells under 5 people hidden."""
    keys = sorted({k for cats in categories.values() if isinstance(cats, dict) for k in cats})
    names = {1: "agree", -1: "disagree", 0: "pass"}
    answers: dict[int, dict] = {}
    for p, s, v in votes:
        answers.setdefault(s, {})[p] = names[v]
    out = []
    for key in keys:
        of = {p: cats.get(key) for p, cats in categories.items() if isinstance(cats, dict) and cats.get(key) is not None}
        for idea_id in idea_ids:
            given = answers.get(idea_id)
            if not given:
                continue
            b = breakdown(given, of, columns=list(VOTE_VALUES))
            if not b.rows:
                continue
            out.append({"category": key, "idea_id": idea_id, "rows": [str(r) for r in b.rows], "columns": b.columns,
                        "cells": b.cells, "row_totals": b.row_totals, "column_totals": b.column_totals,
                        "total": b.total})
    return out


def _store(meeting_id: int) -> dict:
    """Compute the map now and store it as the meeting's snapshot (not committed); return the row's
    values as written."""
    with _lock(meeting_id):
        data = compute(meeting_id)
        vote_count = db.session.scalar(sa.select(sa.func.count()).select_from(Vote).join(Idea, Idea.id == Vote.idea_id)
                                       .where(Idea.meeting_id == meeting_id))
        row = dict(meeting_id=meeting_id, computed_at=utcnow(), vote_count=vote_count, data=data)
        db.session.execute(upsert(OpinionMapSnapshot, row, ("meeting_id",), ("computed_at", "vote_count", "data")), row)
        return row


def recompute(meeting_id: int) -> OpinionMapSnapshot:
    """Compute the map now and store it as the meeting's snapshot (not committed); return the row
    as the database holds it."""
    _store(meeting_id)
    db.session.expire_all()
    return db.session.scalar(sa.select(OpinionMapSnapshot).where(OpinionMapSnapshot.meeting_id == meeting_id))


def map_event(meeting_id: int, row: dict) -> Event:
    data = row["data"] or {}
    return Event(staff_stream(meeting_id), "opinion_map", {
        "computed_at": iso(row["computed_at"]), "vote_count": row["vote_count"],
        "participants": sum(1 for p in data.get("participants", []) if p.get("in_conv")),
        "groups": len(data.get("groups", []))})


def publish_map(meeting_id: int, _item_ids: set[int]) -> list[Event]:
    """Recompute and store the meeting's map; stamp, commit and return the `opinion_map` event.
    The event is made from what was written: reading the map back decoded all of its JSON again,
    on the event loop, for two counts."""
    if by_id(Meeting, meeting_id) is None:
        return []
    return publish(meeting_id, [map_event(meeting_id, _store(meeting_id))])


register_tally_publisher("map", publish_map, interval_setting="MAP_INTERVAL")


def snapshot(meeting_id: int) -> OpinionMapSnapshot | None:
    """Return the meeting's last computed map, or None before the first vote was counted."""
    return db.session.scalar(sa.select(OpinionMapSnapshot).where(OpinionMapSnapshot.meeting_id == meeting_id))


def staff_snapshot(user, meeting_id: int) -> OpinionMapSnapshot | None:
    """The last map, for staff of this meeting only (pages and map.json)."""
    staff.require_facilitator(user, meeting_id)
    return snapshot(meeting_id)


def recompute_now(user, meeting_id: int) -> list[Event]:
    """Compute the map now at a staff member's request; return the events to broadcast."""
    staff.require_facilitator(user, meeting_id)
    return publish_map(meeting_id, set())


def map_json(meeting_id: int, snap: OpinionMapSnapshot | None) -> dict:
    """The analyze command's JSON shape (participants, groups with repness, consensus, k) and more."""
    data = dict(snap.data) if snap else {"participants": [], "groups": [], "consensus": {"agree": [], "disagree": []},
                                         "k": 0, "statements": [], "tables": {"names": {}, "agreement": [], "bridging": []},
                                         "breakdown": []}
    return {"meeting_id": meeting_id, "computed_at": iso(snap.computed_at) if snap else None,
            "vote_count": snap.vote_count if snap else 0, **data}


def last_map(meeting_id: int) -> OpinionMap | None:
    """This process's last computed map of the meeting (internal ids; for tests and reports)."""
    meeting = db.session.get(Meeting, meeting_id)
    found = offload.cpu(_last, (meeting.id, meeting.created_at)) if meeting else None
    return found[0] if found else None


def _last(key: tuple) -> tuple | None:
    return _previous.get(key)  # in the process that computes (see _previous)

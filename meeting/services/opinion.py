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

import json
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


_VOTES = (sa.select(Vote.participant_id, Vote.idea_id, Vote.value).join(Idea, Idea.id == Vote.idea_id)
          .where(Idea.meeting_id == sa.bindparam("meeting_id")).order_by(Vote.updated_at, Vote.id))
_IDEAS = (sa.select(Idea.id, Idea.text, Idea.table_id, Idea.hidden).where(Idea.meeting_id == sa.bindparam("meeting_id"))
          .order_by(Idea.id))
_SEATS = sa.select(Seat.participant_id, Seat.table_id).where(Seat.round_id == meetings.IN_FORCE)
_NAMES = sa.select(Table.id, Table.name).where(Table.meeting_id == sa.bindparam("meeting_id"))
_CATEGORIES = sa.select(Participant.id, Participant.categories).where(Participant.meeting_id == sa.bindparam("meeting_id"))


def _read(conn: sa.Connection, meeting_id: int) -> tuple:
    """Everything the map is made from, read on one connection: the votes as (participant, idea,
    +1/-1/0) in casting order, the visible ideas as (id, text, table), the hidden ideas' ids, the
    current round's table of each participant, the tables' names and the participants' categories.
    The votes come first: every idea they name is then among the ideas read after them."""
    at = {"meeting_id": meeting_id}
    votes = [(p, i, VALUE[v]) for p, i, v in conn.execute(_VOTES, at)]
    ideas = conn.execute(_IDEAS, at).all()
    visible = [(i, text, table) for i, text, table, hidden in ideas if not hidden]
    hidden = {i for i, _text, _table, is_hidden in ideas if is_hidden}
    table_of = dict(conn.execute(_SEATS, at).all())
    names = dict(conn.execute(_NAMES, at).all())
    # The JSON column's type decodes each participant's categories (a dict).
    categories = dict(conn.execute(_CATEGORIES, at).all())
    return votes, visible, hidden, table_of, names, categories


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


def compute(meeting_id: int) -> tuple[str, dict]:
    """The map, per-table agreement, bridging ideas and breakdowns as JSON text, and the counts its
    event tells (votes counted, participants placed, groups).

    Under gevent all of it runs in the server's helper process (meeting/offload.py), which reads
    the meeting on a database connection of its own, computes and encodes: the loop only waits.
    Read and decoded on the loop, a meeting of 2,000 phones held it for 40-50 ms at a time
    (bench/load.py --runs). Elsewhere (threading mode, tests, commands) it runs here, on the
    session's connection."""
    meeting = by_id(Meeting, meeting_id)
    key = (meeting.id, meeting.created_at)
    url = db.engine.url
    if offload.offloaded() and url.database not in (None, "", ":memory:"):  # a helper cannot open a memory database
        return offload.cpu(_compute_in_helper, url.render_as_string(hide_password=False), key)
    return _encoded(_calculate(key, *_read(db.session.connection(), meeting_id)))


_engines: dict = {}  # in the helper: database URL -> its engine, made on first use


def _compute_in_helper(url: str, key: tuple) -> tuple[str, dict]:
    engine = _engines.get(url)
    if engine is None:
        sqlite = url.startswith("sqlite")
        engine = _engines[url] = sa.create_engine(url, pool_size=1, pool_pre_ping=True,
                                                  connect_args={"timeout": 30} if sqlite else {})
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":  # one snapshot for all the reads
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        data = _calculate(key, *_read(conn, key[0]))
        conn.rollback()
    return _encoded(data)


def _encoded(data: dict) -> tuple[str, dict]:
    counts = {"vote_count": data.pop("vote_count"),
              "participants": sum(1 for p in data["participants"] if p["in_conv"]), "groups": len(data["groups"])}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")), counts


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
        "vote_count": len(votes),
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
    """Compute the map now and store it as the meeting's snapshot (not committed); return the
    counts of its event."""
    with _lock(meeting_id):
        text, counts = compute(meeting_id)
        row = dict(meeting_id=meeting_id, computed_at=utcnow(), vote_count=counts["vote_count"], data=text)
        db.session.execute(upsert(OpinionMapSnapshot, row, ("meeting_id",), ("computed_at", "vote_count", "data"),
                                  encoded=("data",)), row)
        return {**counts, "computed_at": row["computed_at"]}


def recompute(meeting_id: int) -> OpinionMapSnapshot:
    """Compute the map now and store it as the meeting's snapshot (not committed); return the row
    as the database holds it."""
    _store(meeting_id)
    db.session.expire_all()
    return db.session.scalar(sa.select(OpinionMapSnapshot).where(OpinionMapSnapshot.meeting_id == meeting_id))


def map_event(meeting_id: int, stored: dict) -> Event:
    return Event(staff_stream(meeting_id), "opinion_map", {
        "computed_at": iso(stored["computed_at"]), "vote_count": stored["vote_count"],
        "participants": stored["participants"], "groups": stored["groups"]})


def publish_map(meeting_id: int, _item_ids: set[int]) -> list[Event]:
    """Recompute and store the meeting's map; stamp, commit and return the `opinion_map` event,
    made from the counts the computation returned (never by reading the map back)."""
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

"""Agreement at small tables (5-8 people) and the statements that bridge tables."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Hashable, Iterable, Mapping


@dataclass(frozen=True)
class TableAgreement:
    table: Hashable
    statement: Hashable
    agree: int
    disagree: int
    pass_: int
    seen: int
    agree_share: float | None  # agree / seen


@dataclass(frozen=True)
class Bridging:
    statement: Hashable
    tables_agreeing: int  # tables where more than half of those who voted agreed
    tables: int  # tables with at least one member
    share_of_tables: float
    score: float  # geometric mean over tables of (agree + 1) / (seen + 2)


def _latest(votes):
    cells = {}
    for pid, sid, value in votes:
        if value not in (1, -1, 0):
            raise ValueError(f"vote must be 1, -1 or 0, not {value!r}")
        cells[pid, sid] = value
    return cells


def table_agreement(votes: Iterable[tuple], table_of: Mapping) -> dict:
    """Agree/disagree/pass counts per table and statement: {table: {statement: TableAgreement}}.

    votes are (participant, statement, +1/-1/0) triples, later ones replacing earlier ones;
    participants without a table are left out.
    """
    counts: dict = {}
    for (pid, sid), value in _latest(votes).items():
        table = table_of.get(pid)
        if table is None:
            continue
        c = counts.setdefault(table, {}).setdefault(sid, [0, 0, 0])
        c[{1: 0, -1: 1, 0: 2}[value]] += 1
    return {
        t: {s: TableAgreement(t, s, a, d, p, a + d + p, a / (a + d + p)) for s, (a, d, p) in per.items()}
        for t, per in counts.items()
    }


def bridging_statements(votes: Iterable[tuple], table_of: Mapping, min_share: float = 0.5) -> list[Bridging]:
    """Statements that more than ``min_share`` of all tables agree with, best first.

    Ranked by the share of tables, then by the group-informed-consensus style score, so a
    statement every table mildly agrees with beats one some tables love and others reject.
    """
    per_table = table_agreement(votes, table_of)
    tables = sorted(set(table_of.values()), key=str)
    statements = {s for per in per_table.values() for s in per}
    out = []
    for s in statements:
        agreeing, log_score = 0, 0.0
        for t in tables:
            ta = per_table.get(t, {}).get(s)
            a, n = (ta.agree, ta.seen) if ta else (0, 0)
            agreeing += ta is not None and ta.agree_share > 0.5
            log_score += math.log((a + 1) / (n + 2))
        share = agreeing / len(tables)
        if share > min_share:
            out.append(Bridging(s, agreeing, len(tables), share, math.exp(log_score / len(tables))))
    return sorted(out, key=lambda b: (-b.share_of_tables, -b.score, str(b.statement)))

"""The public seating functions: first seating, World Café rotation, late arrivals, rebalance,
and the report of any assignment.

`history` is always the rounds BEFORE the one being seated, most recent last:
- rotate seats the next round, so its history includes the round now running (and `current`
  defaults to history[-1]);
- place_late and rebalance change the round now running, so their history is the rounds before
  it (the pairs seated together now are not "repeats" of themselves).
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

from .model import Person, Plan, Rules, SeatingError, TableSpec
from .problem import Problem, check_id
from .search import BAL, FINE, HARD, POS, REBALANCE_ORDER, REP, Search


def first_seating(people: Iterable[Person], tables: Sequence[TableSpec], rules: Rules = Rules(), *,
                  seed: int = 0, search: bool = True) -> Plan:
    """Split everyone into the tables so that each mirrors the whole group's category mix.

    Hosts sit at their tables; sizes, keep-together and keep-apart hold (else SeatingError).
    `search=False` gives the greedy construction alone (a baseline for the bench).
    """
    prob = Problem(people, tables, rules)
    s = Search(prob, np.zeros((prob.U, prob.T), dtype=np.int64), seed=seed)
    return _solve(prob, s, None, search)


def rotate(people: Iterable[Person], tables: Sequence[TableSpec], history: Sequence[Mapping[int, int]],
           rules: Rules = Rules(), *, current: Mapping[int, int] | None = None, seed: int = 0,
           search: bool = True) -> Plan:
    """The next World Café round: hosts stay, everyone else moves to another table than in
    `current` (where the sizes allow), meeting nobody met in `history` or `current` where
    the arithmetic allows (plan.repeats == plan.repeat_lower_bound), tables balanced."""
    history = list(history)
    if current is None and history:
        current = history[-1]
    prob = Problem(people, tables, rules, history=history, current=current)
    pos = np.zeros((prob.U, prob.T), dtype=np.int64)      # non-hosts who would stay put
    for i in range(prob.n):
        if prob.current[i] >= 0 and prob.fixed[i] < 0:
            pos[prob.unit_of[i], prob.current[i]] += 1
    pos[prob.unit_fixed >= 0] = 0
    pos_lb = int(pos[prob.unit_fixed < 0].min(axis=1).sum()) if prob.T == 1 else 0
    s = Search(prob, pos, seed=seed, pos_lb=pos_lb)
    return _solve(prob, s, current, search)


def place_late(person: Person, people: Iterable[Person], tables: Sequence[TableSpec],
               current: Mapping[int, int], history: Sequence[Mapping[int, int]] = (),
               rules: Rules = Rules()) -> int:
    """The best table now for a late arrival (`people` are everyone present, with or without
    `person`): within size and keep-apart, then balance and the most even sizes, then fewest
    people met in earlier rounds. A host goes to their table, a keep-together member to the
    table of their group."""
    pid = check_id(person.id)
    people = [p for p in people if int(p.id) != pid] + [person]
    current = {k: v for k, v in current.items() if k != pid}
    prob = Problem(people, tables, rules, history=history, check_min_size=False)
    i = prob.index[pid]
    if prob.fixed[i] >= 0:
        return prob.table_ids[prob.fixed[i]]
    s = Search(prob, np.zeros((prob.U, prob.T), dtype=np.int64))
    u = int(prob.unit_of[i])
    _load_current(prob, s, current, skip_unit=u)
    mates = [j for j in prob.units[u] if j != i and prob.ids[j] in current and current[prob.ids[j]] in prob.tindex]
    if mates:
        return int(current[prob.ids[mates[0]]])
    # the unit's other members (if any) are not seated yet: seat the whole group with them
    su = prob.unit_size[u]
    h, b, f = s.table_cost(s.K + s.AU[u], s.s + su, s.all_tables)
    D = np.zeros((5, prob.T))
    D[HARD] = h - s.th + (s.CAt[:, u] if s.has_apart else 0)
    D[BAL] = b - s.tb
    D[REP] = s.CMt[:, u] if s.has_met else 0
    D[FINE] = f - s.tf
    after = s.s + su  # the most even sizes first (POS is unused here: it holds the size delta)
    D[POS] = (np.maximum(0, prob.even_lo - after) + np.maximum(0, after - prob.even_hi)
              - np.maximum(0, prob.even_lo - s.s) - np.maximum(0, s.s - prob.even_hi))
    s.order = (HARD, POS, BAL, REP, FINE)
    c = s.best(D, np.ones(prob.T, dtype=bool))
    if D[HARD, c] > 0:
        full = s.s + su > prob.hi
        if full.all():
            raise SeatingError("capacity", [{"people": prob.n, "seats": int(prob.hi.sum())}])
        raise SeatingError("unsatisfiable", [{"constraint": "apart", "person": pid,
                                              "tables": [prob.table_ids[j] for j in np.flatnonzero(~full)]}])
    return prob.table_ids[c]


def rebalance(people: Iterable[Person], tables: Sequence[TableSpec], current: Mapping[int, int],
              history: Sequence[Mapping[int, int]] = (), rules: Rules = Rules(), *, seed: int = 0) -> Plan:
    """Few moves that restore the size limits, keep-apart and the balance after arrivals and
    leavers: first every constraint, then balance within one person and even sizes, then the
    fewest people moved, then fewest repeats. Hosts never move; plan.moves lists every move
    (people not in `current` are seated, from None)."""
    prob = Problem(people, tables, rules, history=history)
    cur = {pid: tid for pid, tid in current.items() if pid in prob.index and tid in prob.tindex}
    for pid, tid in cur.items():
        prob.current[prob.index[pid]] = prob.tindex[tid]
    pos = np.zeros((prob.U, prob.T), dtype=np.int64)      # people who would move
    for u, mem in enumerate(prob.units):
        for i in mem:
            pos[u] += 1
            if prob.current[i] >= 0:
                pos[u, prob.current[i]] -= 1
    fixed = prob.unit_fixed >= 0
    pos_lb = int(pos[~fixed].min(axis=1).sum() + pos[np.flatnonzero(fixed), prob.unit_fixed[fixed]].sum())
    s = Search(prob, pos, REBALANCE_ORDER, seed=seed, pos_lb=pos_lb)
    unseated = _load_current(prob, s, cur)
    s.construct(unseated)
    tab = s.run()
    return _plan(prob, s, tab, cur)


def evaluate(people: Iterable[Person], tables: Sequence[TableSpec], assignment: Mapping[int, int],
             history: Sequence[Mapping[int, int]] = (), *, current: Mapping[int, int] | None = None,
             rules: Rules = Rules()) -> Plan:
    """The report of any assignment (person id -> table id) against `history` (the rounds before
    it): composition against the proportional share, encounters, moves relative to `current`,
    and the repeat bound for the size limits of `rules` (nothing is enforced: any assignment is
    reported). People not in `assignment` count as not seated; hosts not present are ignored."""
    people = list(people)
    ids = {int(p.id) for p in people if not isinstance(p.id, bool)}
    tables = [TableSpec(t.id, t.host if t.host in ids else None, t.capacity) for t in tables]
    prob = Problem(people, tables, Rules(rules.min_size, rules.max_size), history=history,
                   check_min_size=False)
    tab = np.full(prob.n, -1, dtype=np.int64)
    for pid, tid in assignment.items():
        if pid not in prob.index:
            continue
        if tid not in prob.tindex:
            raise SeatingError("unknown_table", [{"person": pid, "table": tid}])
        tab[prob.index[pid]] = prob.tindex[tid]
    return prob.plan(tab, current)


# ---------------------------------------------------------------------- helpers


def _load_current(prob: Problem, s: Search, current: Mapping[int, int], skip_unit: int = -1) -> list[int]:
    """Place the fixed units at their tables and every other unit where its first seated member
    sits now; return the units with nobody seated."""
    unseated = []
    for u, mem in enumerate(prob.units):
        if u == skip_unit:
            continue
        if prob.unit_fixed[u] >= 0:
            s.place(u, int(prob.unit_fixed[u]))
            continue
        at = [current[prob.ids[i]] for i in mem if prob.ids[i] in current and current[prob.ids[i]] in prob.tindex]
        if at:
            s.place(u, prob.tindex[at[0]])
        else:
            unseated.append(u)
    s.refresh()
    return unseated


def _solve(prob: Problem, s: Search, current, search: bool) -> Plan:
    s.construct()
    tab = s.run() if search else s.tab.copy()
    return _plan(prob, s, tab, current)


def _plan(prob: Problem, s: Search, tab_units: np.ndarray, current) -> Plan:
    _check_hard(prob, s)
    return prob.plan(tab_units[prob.unit_of], current)


def _check_hard(prob: Problem, s: Search) -> None:
    conflicts = []
    for j, tid in enumerate(prob.table_ids):
        if s.s[j] > prob.hi[j]:
            conflicts.append({"constraint": "capacity", "table": tid, "capacity": int(prob.hi[j]), "size": int(s.s[j])})
        if s.s[j] < prob.lo[j]:
            conflicts.append({"constraint": "min_size", "table": tid, "min_size": int(prob.lo[j]), "size": int(s.s[j])})
    tab = s.tab[prob.unit_of]
    for a, b in prob.apart_pairs:
        if tab[a] == tab[b]:
            conflicts.append({"constraint": "apart", "pair": [prob.ids[a], prob.ids[b]], "table": prob.table_ids[tab[a]]})
    if conflicts:
        raise SeatingError("unsatisfiable", conflicts)

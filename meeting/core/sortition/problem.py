"""The panel ILP shared by every method, over groups of interchangeable people.

People with the same value in every quota category and no shared household are
interchangeable: any fair method gives them the same probability, so the ILP
counts how many to take from each group instead of deciding person by person.
This is exact, and it shrinks large pools (n=2000 with 2 categories has 3 groups).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Optional

import highspy
import numpy as np

from .model import Instance, Quota, SolverError, SortitionError, norm

INF = highspy.kHighsInf


@dataclass
class Compiled:
    n: int
    k: int
    quotas: list[Quota]
    member: np.ndarray        # (Q, n) bool: person i has quota q's value
    lo: np.ndarray            # (Q,) int
    hi: np.ndarray            # (Q,) int
    groups: list[np.ndarray]  # person indices per group
    gm: np.ndarray            # (Q, G) 0/1: group g has quota q's value
    size: np.ndarray          # (G,) group sizes
    households: list[list[int]]     # groups (all singletons) sharing an address
    person_household: list[int]     # household index per person or -1

    @property
    def G(self) -> int:
        return len(self.groups)

    @cached_property
    def household_of(self) -> np.ndarray:
        """(G,) the household index of each group, -1 for none."""
        out = np.full(self.G, -1)
        for h, groups in enumerate(self.households):
            out[groups] = h
        return out


def compile_instance(instance: Instance) -> Compiled:
    """Check the pool against the quotas and build the ILP data."""
    pool, quotas, k = instance.pool, instance.quotas, instance.k
    n = len(pool.ids)
    if k < 1:
        raise SortitionError(f"The panel size must be at least 1 (got {k}).")
    if not quotas:
        raise SortitionError("There are no quotas.")
    seen: set[tuple[str, str]] = set()
    for q in quotas:
        key = (norm(q.category), norm(q.value))
        if key in seen:
            raise SortitionError(f"The quota {q.category}={q.value} is listed twice.")
        seen.add(key)
        if q.min < 0 or q.max < 0:
            raise SortitionError(f"The quota {q.category}={q.value} has a negative bound.")
    cats = instance.categories
    lower_features = {norm(c): c for c in pool.features}
    member = np.zeros((len(quotas), n), dtype=bool)
    for c in cats:
        column_name = lower_features.get(norm(c))
        if column_name is None:
            raise SortitionError(f"The pool has no column for the category '{c}'.")
        column = [norm(v) for v in pool.features[column_name]]
        if len(column) != n:
            raise SortitionError(f"The category '{c}' has {len(column)} values for {n} people.")
        rows = {norm(q.value): qi for qi, q in enumerate(quotas) if norm(q.category) == norm(c)}
        for i, v in enumerate(column):
            qi = rows.get(v)
            if qi is None:
                shown = pool.features[column_name][i]
                raise SortitionError(
                    f"Person {pool.ids[i]} has {c}='{shown}', which is not a value in the quotas "
                    f"for {c} (values: {', '.join(quotas[r].value for r in rows.values())}).")
            member[qi, i] = True

    # households: only addresses shared by two or more people constrain anything
    person_household = [-1] * n
    households_people: list[list[int]] = []
    if pool.households is not None:
        by_key: dict[str, list[int]] = {}
        for i, h in enumerate(pool.households):
            key = norm(h)
            if key:
                by_key.setdefault(key, []).append(i)
        for people in by_key.values():
            if len(people) > 1:
                for i in people:
                    person_household[i] = len(households_people)
                households_people.append(people)

    groups: list[list[int]] = []
    index: dict[tuple, int] = {}
    for i in range(n):
        if person_household[i] >= 0:
            groups.append([i])
            continue
        key = tuple(np.flatnonzero(member[:, i]))
        g = index.get(key)
        if g is None:
            index[key] = len(groups)
            groups.append([i])
        else:
            groups[g].append(i)
    group_of = np.empty(n, dtype=int)
    for g, people in enumerate(groups):
        group_of[people] = g
    gm = np.zeros((len(quotas), len(groups)), dtype=float)
    for g, people in enumerate(groups):
        gm[:, g] = member[:, people[0]]
    hh_groups = [[int(group_of[i]) for i in people] for people in households_people]
    return Compiled(
        n=n, k=k, quotas=list(quotas), member=member,
        lo=np.array([q.min for q in quotas], dtype=int),
        hi=np.array([q.max for q in quotas], dtype=int),
        groups=[np.array(p, dtype=int) for p in groups], gm=gm,
        size=np.array([len(p) for p in groups], dtype=int),
        households=hh_groups, person_household=person_household,
    )


def new_highs() -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    return h


def _csr(rows: list[tuple[list[int], list[float]]]):
    starts, idx, vals = [], [], []
    for cols, coefs in rows:
        starts.append(len(idx))
        idx.extend(cols)
        vals.extend(coefs)
    return (np.array(starts, dtype=np.int32), np.array(idx, dtype=np.int32),
            np.array(vals, dtype=float))


def add_panel_rows(h: highspy.Highs, c: Compiled, first_col: int = 0,
                   lo: np.ndarray | None = None, hi: np.ndarray | None = None) -> None:
    """Rows: panel size k, each quota, one per shared household."""
    lo = c.lo if lo is None else lo
    hi = c.hi if hi is None else hi
    rows: list[tuple[list[int], list[float]]] = []
    lower: list[float] = []
    upper: list[float] = []
    G = c.G
    rows.append((list(range(first_col, first_col + G)), [1.0] * G))
    lower.append(c.k)
    upper.append(c.k)
    for q in range(len(c.quotas)):
        cols = np.flatnonzero(c.gm[q])
        rows.append(([first_col + int(g) for g in cols], [1.0] * len(cols)))
        lower.append(float(lo[q]))
        upper.append(float(hi[q]))
    for hh in c.households:
        rows.append(([first_col + g for g in hh], [1.0] * len(hh)))
        lower.append(-INF)
        upper.append(1.0)
    starts, idx, vals = _csr(rows)
    h.addRows(len(rows), np.array(lower), np.array(upper), len(idx), starts, idx, vals)


class PanelOracle:
    """One persistent HiGHS MIP that finds the panel with the largest weight."""

    def __init__(self, c: Compiled):
        self.c = c
        h = new_highs()
        h.setOptionValue("mip_rel_gap", 1e-7)
        h.setOptionValue("mip_abs_gap", 1e-9)
        G = c.G
        ub = c.size.astype(float)
        h.addCols(G, np.zeros(G), np.zeros(G), ub, 0,
                  np.zeros(G, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
        h.changeColsIntegrality(G, np.arange(G, dtype=np.int32),
                                np.full(G, highspy.HighsVarType.kInteger, dtype=np.uint8))
        add_panel_rows(h, c)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.h = h
        self.solves = 0
        self.face_row: Optional[int] = None

    def best(self, weights: np.ndarray) -> tuple[np.ndarray | None, float]:
        """Return (group counts, weight) of the heaviest feasible panel, or (None, -inf)."""
        G = self.c.G
        self.h.changeColsCost(G, np.arange(G, dtype=np.int32), np.asarray(weights, dtype=float))
        self.h.run()
        self.solves += 1
        status = self.h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            if status == highspy.HighsModelStatus.kInfeasible:
                return None, -np.inf
            raise SolverError(f"The panel solver stopped: {self.h.modelStatusToString(status)}")
        counts = np.rint(np.array(self.h.getSolution().col_value[:G])).astype(int)
        check_panel(self.c, counts)
        return counts, float(counts @ weights)

    def restrict(self, weights: Optional[np.ndarray], lower: float) -> None:
        """Keep to panels whose `weights`-weight is at least `lower` (None: lift it again)."""
        if self.face_row is not None:
            self.h.deleteRows(1, np.array([self.face_row], dtype=np.int32))
            self.face_row = None
        if weights is not None:
            nz = np.flatnonzero(weights).astype(np.int32)
            self.face_row = self.h.getNumRow()
            self.h.addRow(lower, INF, len(nz), nz, np.asarray(weights, dtype=float)[nz])

    def dual_bound(self) -> float:
        """An upper bound on the weight of any panel, from the last solve's MIP dual bound."""
        bound = float(self.h.getInfo().mip_dual_bound)
        return bound if np.isfinite(bound) else -np.inf

    def set_bounds(self, g: int, lower: float, upper: float) -> None:
        self.h.changeColBounds(g, lower, upper)


def check_panel(c: Compiled, counts: np.ndarray) -> None:
    """Re-validate solver output: size k, every quota, households (never trust blindly)."""
    if counts.min(initial=0) < 0 or np.any(counts > c.size):
        raise SolverError("The solver returned an impossible group count.")
    if int(counts.sum()) != c.k:
        raise SolverError(f"The solver returned a panel of {int(counts.sum())}, not {c.k}.")
    per_quota = c.gm @ counts
    if np.any(per_quota < c.lo - 1e-9) or np.any(per_quota > c.hi + 1e-9):
        raise SolverError("The solver returned a panel that breaks a quota.")
    if c.households:
        on = c.household_of >= 0
        if np.bincount(c.household_of[on], weights=counts[on], minlength=1).max() > 1:
            raise SolverError("The solver returned a panel with two people of one household.")


def panel_meets_quotas(instance: Instance, members: list[int]) -> bool:
    """True when the concrete panel has size k, meets all quotas and the household rule."""
    c = compile_instance(instance)
    if len(set(members)) != len(members) or len(members) != c.k:
        return False
    counts = c.member[:, members].sum(axis=1)
    if np.any(counts < c.lo) or np.any(counts > c.hi):
        return False
    homes = [c.person_household[i] for i in members if c.person_household[i] >= 0]
    return len(homes) == len(set(homes))

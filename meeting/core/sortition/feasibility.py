"""Can the quotas be met? If not, what is the smallest change that makes them work?"""
from __future__ import annotations

import highspy
import numpy as np

from .model import FeasibilityReport, Instance, QuotaIssue, Relaxation, SolverError
from .problem import INF, Compiled, PanelOracle, add_panel_rows, compile_instance, new_highs


def _simple_issues(c: Compiled) -> list[QuotaIssue]:
    issues: list[QuotaIssue] = []
    if c.n < c.k:
        issues.append(QuotaIssue("pool_too_small",
                                 f"the pool has {c.n} people for a panel of {c.k}",
                                 current=c.n, limit=c.k))
    pool_count = c.member.sum(axis=1)
    cats: dict[str, list[int]] = {}
    for qi, q in enumerate(c.quotas):
        cats.setdefault(q.category, []).append(qi)
        if q.min > q.max:
            issues.append(QuotaIssue("min_above_max",
                                     f"{q.category}={q.value} has minimum {q.min} above maximum {q.max}",
                                     q.category, q.value, q.min, q.max))
        if q.min > pool_count[qi]:
            issues.append(QuotaIssue("min_above_pool",
                                     f"{q.category}={q.value} needs at least {q.min} but the pool "
                                     f"has only {int(pool_count[qi])}",
                                     q.category, q.value, q.min, int(pool_count[qi])))
    for cat, rows in cats.items():
        smin = int(c.lo[rows].sum())
        smax = int(c.hi[rows].sum())
        if smin > c.k:
            issues.append(QuotaIssue("category_min_sum",
                                     f"the minimums for {cat} add up to {smin}, more than the panel size {c.k}",
                                     cat, None, smin, c.k))
        if smax < c.k:
            issues.append(QuotaIssue("category_max_sum",
                                     f"the maximums for {cat} add up to {smax}, less than the panel size {c.k}",
                                     cat, None, smax, c.k))
    return issues


def suggest_relaxation(c: Compiled) -> list[Relaxation] | None:
    """Smallest weighted change of the quota bounds that allows a panel, or None.

    Lowering a minimum costs 1 + 2/min (small minimums are protected), raising a
    maximum costs 1; min_flex/max_flex cap the moves.
    """
    Q, G = len(c.quotas), c.G
    h = new_highs()
    h.setOptionValue("time_limit", 60.0)
    h.addCols(G, np.zeros(G), np.zeros(G), c.size.astype(float), 0,
              np.zeros(G, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
    # slack columns: G..G+Q-1 lower the minimum, G+Q..G+2Q-1 raise the maximum
    lower_cost = np.array([1.0 + 2.0 / max(q.min, 1) for q in c.quotas])
    lower_cap = np.array([q.min - (q.min_flex if q.min_flex is not None else 0) for q in c.quotas],
                         dtype=float).clip(0)
    raise_cap = np.array([(q.max_flex - q.max) if q.max_flex is not None else c.n for q in c.quotas],
                         dtype=float).clip(0)
    h.addCols(2 * Q, np.concatenate([lower_cost, np.ones(Q)]), np.zeros(2 * Q),
              np.concatenate([lower_cap, raise_cap]), 0,
              np.zeros(2 * Q, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
    total = G + 2 * Q
    h.changeColsIntegrality(total, np.arange(total, dtype=np.int32),
                            np.full(total, highspy.HighsVarType.kInteger, dtype=np.uint8))
    # panel rows with the quota bounds opened up; quota rows get their slack below
    add_panel_rows(h, c, lo=np.full(Q, -INF), hi=np.full(Q, INF))
    for q in range(Q):
        row = 1 + q
        h.changeCoeff(row, G + q, 1.0)       # count + lowered >= min
        h.changeRowBounds(row, float(c.lo[q]), INF)
        idx = np.concatenate([np.flatnonzero(c.gm[q]), [G + Q + q]]).astype(np.int32)
        vals = np.concatenate([np.ones(len(idx) - 1), [-1.0]])
        h.addRow(-INF, float(c.hi[q]), len(idx), idx, vals)  # count - raised <= max
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None
    if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
        raise SolverError(f"The relaxation solver stopped: {h.modelStatusToString(status)}")
    x = np.rint(np.array(h.getSolution().col_value)).astype(int)
    out: list[Relaxation] = []
    for q, quota in enumerate(c.quotas):
        down, up = x[G + q], x[G + Q + q]
        if down > 0:
            out.append(Relaxation(quota.category, quota.value, "min", quota.min, quota.min - int(down)))
        if up > 0:
            out.append(Relaxation(quota.category, quota.value, "max", quota.max, quota.max + int(up)))
    return out


def check_feasibility(instance: Instance, compiled: Compiled | None = None) -> FeasibilityReport:
    """Check that some panel meets every quota and the household rule.

    When none does, the report lists the simple conflicts found (issues) and the
    smallest relaxation of quota bounds that makes a panel possible.
    """
    c = compiled or compile_instance(instance)
    issues = _simple_issues(c)
    if not issues:
        counts, _ = PanelOracle(c).best(np.zeros(c.G))
        if counts is not None:
            return FeasibilityReport(feasible=True)
    relax = suggest_relaxation(c)
    if relax is not None and not issues:
        names = sorted({f"{r.category}={r.value}" for r in relax})
        issues.append(QuotaIssue(
            "no_panel", "the quotas for " + ", ".join(names) + " cannot all be met together"
            + (" with one person per household" if c.households else "")))
    if relax is None and not any(i.kind == "pool_too_small" for i in issues):
        issues.append(QuotaIssue(
            "households", "even with other quotas there are not enough eligible people "
            "(counting one person per household)"))
    return FeasibilityReport(feasible=False, issues=issues, relaxations=relax or [],
                             relaxation_found=relax is not None)

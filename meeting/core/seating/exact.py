"""Exact repair of a few tables: a 0-1 program (HiGHS) that re-seats their movable units.

A large-neighbourhood step for the local search: when single moves and swaps stall on a
violation (e.g. a category value whose share is exactly 1 per table, one table with 0 and one
with 2, every fixing swap blocked by a repeat), re-seat all movable units of the violating
tables and a few others at once, table sizes kept:

    x[u, t] in {0, 1}      unit u at table t            sum_t x[u, t] = 1
    sizes kept             sum_u |u| x[u, t] = size_t - fixed_t
    r[u, w] >= x[u, t] + x[w, t] - 1                    per pair met before, per table
    x[u, t] + x[w, t] <= 1                              per keep-apart pair, per table
    count_tf - vp_tf <= ceil(share_tf),  count_tf + vm_tf >= floor(share_tf)
    minimize  W_pos * stays/moves + W_rep * (r + met with hosts) + W_bal * (vp + vm)

with weights that make the objective lexicographic in the search's order.
"""
from __future__ import annotations

import highspy
import numpy as np

INF = highspy.kHighsInf


def reseat_exactly(s, sel: np.ndarray, *, max_nodes: int = 100, time_limit: float = 30.0) -> tuple[bool, bool]:
    """Re-seat the movable units of tables `sel` of Search `s` among those tables; keep the
    result when the whole seating got better (lexicographically). Returns (improved, proved):
    proved means no better re-seating of these tables exists."""
    from .search import BAL, POS, REP

    sel = np.asarray(sel, dtype=np.int64)
    units = np.flatnonzero(s.movable & np.isin(s.tab, sel))
    m, k = len(units), len(sel)
    if m < 2 or k < 2:
        return False, True
    before = s.key(s.totals())
    old = s.tab[units].copy()
    AU, SU = s.AU[units], s.SU[units]
    groups = [units[old == t] for t in sel]
    base_K = s.K[sel] - np.array([s.AU[g].sum(axis=0) for g in groups])
    base_s = s.s[sel] - np.array([s.SU[g].sum() for g in groups])
    size = s.s[sel]

    def with_others(C, M):  # pairs between each unit and the units that stay at each table
        return C[np.ix_(sel, units)] - np.array([M[np.ix_(g, units)].sum(axis=0) for g in groups])

    fixed_met = with_others(s.CMt, s.MU) if s.has_met else np.zeros((k, m))
    fixed_apart = with_others(s.CAt, s.AP) if s.has_apart else np.zeros((k, m))
    MUs = np.triu(s.MU[np.ix_(units, units)], 1) if s.has_met else np.zeros((m, m))
    APs = np.triu(s.AP[np.ix_(units, units)], 1) if s.has_apart else np.zeros((m, m))
    met_pairs = np.argwhere(MUs > 0)
    apart_pairs = np.argwhere(APs > 0)

    # lexicographic weights: each level outweighs the largest possible value of all below it
    ncat = len({c for c, _ in s.prob.features})
    bound = {POS: float(SU.sum()), REP: float((size * (size - 1) // 2).sum() + MUs.sum()),
             BAL: float(2 * ncat * size.sum() + 2 * k)}
    weight, w = {}, 1.0
    for comp in reversed([c for c in s.order if c in bound]):
        weight[comp] = w
        w *= bound[comp] + 1

    nx = m * k
    cost = [(weight[POS] * s.pos[np.ix_(units, sel)] + weight[REP] * fixed_met.T).ravel()]
    upper = [np.where(fixed_apart.T.ravel() > 0, 0.0, 1.0)]
    rows_cols: list[np.ndarray] = []
    rows_vals: list[np.ndarray] = []
    lo: list[float] = []
    hi: list[float] = []

    def row(cols, vals, rl, rh):
        rows_cols.append(np.asarray(cols, dtype=np.int32))
        rows_vals.append(np.asarray(vals, dtype=float))
        lo.append(float(rl))
        hi.append(float(rh))

    for i in range(m):
        row(np.arange(i * k, i * k + k), np.ones(k), 1, 1)
    for j in range(k):
        row(np.arange(j, nx, k), SU, size[j] - base_s[j], size[j] - base_s[j])
    ncol = nx
    for a, b in met_pairs:
        for j in range(k):
            row([a * k + j, b * k + j, ncol], [1, 1, -1], -INF, 1)
        ncol += 1
    cost.append(weight[REP] * MUs[met_pairs[:, 0], met_pairs[:, 1]].astype(float))
    upper.append(np.ones(len(met_pairs)))
    for a, b in apart_pairs:
        for j in range(k):
            row([a * k + j, b * k + j], [1, 1], -INF, 1)
    sNF = size[:, None] * s.NF[None, :]
    fl, ce = sNF // s.N, -((-sNF) // s.N)
    nslack = 0
    present_bal = 0
    for f in np.flatnonzero(AU.sum(axis=0) > 0):
        who = np.flatnonzero(AU[:, f])
        for j in range(k):
            cols = who * k + j
            row(np.append(cols, ncol), np.append(AU[who, f], -1.0), -INF, ce[j, f] - base_K[j, f])
            row(np.append(cols, ncol + 1), np.append(AU[who, f], 1.0), fl[j, f] - base_K[j, f], INF)
            ncol += 2
            nslack += 2
            present_bal += max(0, s.K[sel[j], f] - ce[j, f]) + max(0, fl[j, f] - s.K[sel[j], f])
    cost.append(np.full(nslack, weight[BAL]))
    upper.append(np.full(nslack, INF))

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    h.setOptionValue("mip_max_nodes", max_nodes)
    h.setOptionValue("time_limit", time_limit)   # a guard against a pathological case only: the node limit ends it
    empty_i, empty_f = np.zeros(0, dtype=np.int32), np.zeros(0)
    h.addCols(ncol, np.concatenate(cost), np.zeros(ncol), np.concatenate(upper), 0, empty_i, empty_i, empty_f)
    h.changeColsIntegrality(nx, np.arange(nx, dtype=np.int32), np.full(nx, highspy.HighsVarType.kInteger, dtype=np.uint8))
    lengths = np.array([len(c) for c in rows_cols])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
    h.addRows(len(lo), np.array(lo), np.array(hi), int(lengths.sum()), starts,
              np.concatenate(rows_cols), np.concatenate(rows_vals))
    # only a better re-seating than the present one is of use: stop at the first one found
    costs = np.concatenate(cost)
    now = np.zeros(nx)
    now[np.arange(m) * k + np.searchsorted(sel, old)] = 1.0
    together = sum(float(MUs[a, b]) for a, b in met_pairs if old[a] == old[b])
    present = float(costs[:nx] @ now) + weight[REP] * together + weight[BAL] * present_bal
    h.setOptionValue("objective_bound", present - 0.5)
    h.setOptionValue("mip_max_improving_sols", 1)
    h.run()
    sol = h.getSolution()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return False, True                  # nothing better than the present seating
    if (not sol.value_valid or h.getInfo().objective_function_value > present - 0.5
            or status == highspy.HighsModelStatus.kTimeLimit):  # never depend on the clock
        return False, False
    x = np.array(sol.col_value[:nx]).reshape(m, k)
    new = sel[np.argmax(x, axis=1)]
    if (new == old).all():
        return False, False
    s.reseat(units, new)
    if s.key(s.totals()) < before:
        return True, False
    s.reseat(units, old)
    return False, False


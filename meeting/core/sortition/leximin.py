"""LEXIMIN (and MAXIMIN as its first level) by column generation.

The restricted dual LP (weights y per group, cap z on every known panel's weight)
lives in ONE HiGHS model for the whole run: a new panel is one added row, fixing a
group changes one coefficient and one cost, and every solve starts from the
previous basis (dual simplex). Pricing is the panel MIP (problem.PanelOracle).
A level stops early when its value reaches the best possible share, i.e. k/n on
the first level: then everyone left gets exactly that and nothing is left to prove.
"""
from __future__ import annotations

import time
from typing import Optional

import highspy
import numpy as np
from threadpoolctl import threadpool_limits

from .feasibility import check_feasibility
from .model import InfeasibleQuotas, Instance, Progress, Result, SolverError
from .problem import INF, Compiled, PanelOracle, add_panel_rows, check_panel, compile_instance, new_highs

EPS = 1e-6        # pricing tolerance on the level value (probability units)
SMOOTHING = 0.6   # weight of the stability centre when pricing
FIX_TOL = 1e-7    # fix a group only if it provably cannot exceed the level by more (probability)
GAP_FLOOR = 1e-11  # rounding floor on a proven gap: weights below GAP_FLOOR / FIX_TOL prove nothing
CERT_VIOLATION = 1e-11  # a panel heavier than the cap z by more than this is a new column
DECAY = 0.8  # weight kept by members of a panel already found
PRICINGS = 4  # pricing MIPs per master solve in the decomposition
DECOMPOSE_TOL = 1e-9  # real panels reach the relaxed allocation when t >= 1 - this
REPAIR_TRIES = 8  # people tried as the one to swap out when mending a panel in the walk
WALK_GAP = 0.05  # MIP gap in the walk (its panels need not be the heaviest, only on the face)
WALK_TOL = 1e-9  # a constraint within this of its bound counts as tight in the walk
FACE_TOL = 1e-6  # pricing keeps to panels within this share of the face weight
EXTRA_COLUMNS = 10  # further violated panels per pricing round, from one-person swaps
LP_TRIES = 8  # random objectives over the walk's face before a MIP (a vertex is often a panel)
IPM_COLUMNS = 200  # a first master solve with more columns than this runs by interior point


class _Swaps:
    """Cheap extra columns: panels one swap (a person out, another in) from a priced panel.

    Every candidate is checked against size, quotas and households exactly like a solver
    panel; only those whose weight still exceeds the cap z are kept. Adding several violated
    panels per master solve means fewer master solves, which dominate on large pools.
    """

    def __init__(self, c: Compiled):
        self.c = c
        self.gm = c.gm.astype(float)
        self.hh_of = np.full(c.G, -1)
        for h, groups in enumerate(c.households):
            self.hh_of[groups] = h

    def panels(self, counts: np.ndarray, weight: np.ndarray, cap: float, limit: int) -> list[np.ndarray]:
        c = self.c
        total = float(counts @ weight)
        out_g = np.flatnonzero(counts > 0)
        in_g = np.flatnonzero(counts < c.size)
        # households already on the panel: nobody else from them may join
        used_hh = np.zeros(len(c.households) + 1, dtype=bool)
        on = self.hh_of[out_g]
        used_hh[on[on >= 0]] = True
        q = self.gm @ counts
        gain = weight[in_g][None, :] - weight[out_g][:, None]          # (A, B)
        ok = total + gain > cap + 1e-9
        if not ok.any():
            return []
        newq = q[:, None, None] - self.gm[:, out_g][:, :, None] + self.gm[:, in_g][:, None, :]
        ok &= np.all((newq >= c.lo[:, None, None] - 1e-9) & (newq <= c.hi[:, None, None] + 1e-9), axis=0)
        hb = self.hh_of[in_g]
        ha = self.hh_of[out_g]
        blocked = (hb >= 0)[None, :] & used_hh[np.where(hb >= 0, hb, -1)][None, :] & (ha[:, None] != hb[None, :])
        ok &= ~blocked
        ok &= out_g[:, None] != in_g[None, :]
        result: list[np.ndarray] = []
        used_a: set[int] = set()
        used_b: set[int] = set()
        for flat in np.argsort(-np.where(ok, gain, -np.inf), axis=None):
            a, b = divmod(int(flat), len(in_g))
            if not ok[a, b] or len(result) >= limit:
                break
            if a in used_a or b in used_b:
                continue
            used_a.add(a)
            used_b.add(b)
            new = counts.copy()
            new[out_g[a]] -= 1
            new[in_g[b]] += 1
            check_panel(c, new)
            result.append(new)
        return result


class _Unbounded(Exception):
    pass


class _TimeUp(Exception):
    pass


class _Master:
    """The restricted primal LP with panels as columns (G + 1 rows whatever the panel count):

        max t  s.t.  p_g(lambda) - t >= 0 (free g),  p_g(lambda) >= p_fixed_g (fixed g),
                     sum lambda = 1,  lambda >= 0,
    where p_g(lambda) = sum_P lambda_P counts_P[g] / size_g. A new panel is one added column and
    primal simplex goes on from the previous basis; fixing a group changes one coefficient and
    one row bound, which keeps the current point feasible. The row duals are the weights y of
    the dual (sum over free groups 1) and the cap z of every known panel's y-weight.
    """

    def __init__(self, c: Compiled, coef: np.ndarray):
        """`coef[g]` is group g's factor on t: 1 for a free group in a level, its target share
        when decomposing a known allocation (rows p_g >= t * target_g), 0 for no row."""
        self.c = c
        G = c.G
        h = new_highs()
        h.setOptionValue("presolve", "off")
        h.setOptionValue("simplex_strategy", 4)  # primal simplex: natural after adding columns
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.addRows(G + 1, np.concatenate([np.zeros(G), [1.0]]), np.concatenate([np.full(G, INF), [1.0]]),
                  0, np.zeros(G + 1, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
        idx = np.flatnonzero(coef).astype(np.int32)
        h.addCol(1.0, -INF, INF, len(idx), idx, -np.asarray(coef, dtype=float)[idx])
        self.h = h
        self.G = G
        self.size = c.size.astype(float)
        self.columns: list[np.ndarray] = []

    def add_panel(self, counts: np.ndarray) -> None:
        nz = np.flatnonzero(counts)
        idx = np.concatenate([nz, [self.G]]).astype(np.int32)
        vals = np.concatenate([counts[nz] / self.size[nz], [1.0]])
        self.h.addCol(0.0, 0.0, INF, len(idx), idx, vals)
        self.columns.append(counts)

    def used(self, limit: int) -> list[np.ndarray]:
        """The panels the current solution uses most."""
        lam = np.array(self.h.getSolution().col_value[1:])
        order = np.argsort(-lam)[:limit]
        return [self.columns[j] for j in order if lam[j] > 1e-12]

    def fix(self, g: int, p: float) -> None:
        self.h.changeCoeff(g, 0, 0.0)
        self.h.changeRowBounds(g, p, INF)

    def _duals(self, h: highspy.Highs) -> tuple[np.ndarray, float]:
        d = np.array(h.getSolution().row_dual)
        return -d[:self.G], float(d[self.G])

    def interior_weights(self) -> np.ndarray:
        """Re-solve a copy by interior point without crossover: a dual weight vector with
        as many positive entries as possible, so one level fixes many groups at once."""
        h = new_highs()
        h.passModel(self.h.getLp())
        h.setOptionValue("solver", "ipm")
        h.setOptionValue("run_crossover", "off")
        h.setOptionValue("ipm_optimality_tolerance", 1e-9)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return self._duals(self.h)[0]
        return self._duals(h)[0]

    def solve(self, seconds: Optional[float] = None) -> tuple[np.ndarray, float, float]:
        # HiGHS counts its time limit over all runs of this model, hence the offset
        self.h.setOptionValue("time_limit", INF if seconds is None
                              else self.h.getRunTime() + max(seconds, 0.5))
        self.h.run()
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kTimeLimit:
            raise _TimeUp()
        if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            raise _Unbounded()
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolverError(f"The master LP stopped: {self.h.modelStatusToString(status)}")
        y, z = self._duals(self.h)
        value = float(self.h.getInfo().objective_function_value)
        return y, z, value


class _Relaxation:
    """LEXIMIN over the LP relaxation of the panel polytope (group counts may be fractional).

    Every real panel lies in the relaxation, so its leximin allocation is lexicographically at
    least the true one; when real panels then reach it (`_decompose`), it IS the true one. The
    relaxation is a compact LP (one column per group), so each level costs milliseconds and its
    fixing is proven exactly as in the column generation: an interior dual y, its exact bound
    D(y) by one more LP, and a group is fixed only when (D(y) - level) / y_g <= FIX_TOL.
    """

    def __init__(self, c: Compiled, reachable: np.ndarray):
        self.c = c
        G = c.G
        self.size = c.size.astype(float)
        ub = np.where(reachable, self.size, 0.0)
        self.ub = ub
        # the panel rows as a dense matrix (size, quotas, households) for the weak-duality bound
        A = [np.ones(G), *c.gm]
        lo = [c.k, *c.lo]
        hi = [c.k, *c.hi]
        for hh in c.households:
            row = np.zeros(G)
            row[hh] = 1.0
            A.append(row)
            lo.append(-np.inf)
            hi.append(1.0)
        self.A = np.array(A, dtype=float)
        self.row_lo = np.array(lo, dtype=float)
        self.row_hi = np.array(hi, dtype=float)
        self.pricer = self._polytope(ub)
        self.pricer.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h = self._polytope(ub)
        self.R0 = h.getNumRow()
        h.addCol(1.0, -INF, INF, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
        # row R0 + g: x_g / size_g - t >= 0 while g is free, x_g / size_g >= p_g once fixed
        starts = np.arange(0, 2 * G, 2, dtype=np.int32)
        idx = np.empty(2 * G, dtype=np.int32)
        idx[0::2] = np.arange(G)
        idx[1::2] = G
        vals = np.empty(2 * G)
        vals[0::2] = 1.0 / self.size
        vals[1::2] = np.where(reachable, -1.0, 0.0)
        h.addRows(G, np.zeros(G), np.full(G, INF), 2 * G, starts, idx, vals)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.h = h

    def _polytope(self, ub: np.ndarray) -> highspy.Highs:
        h = new_highs()
        for option in ("primal_feasibility_tolerance", "dual_feasibility_tolerance"):
            h.setOptionValue(option, 1e-10)
        G = self.c.G
        h.addCols(G, np.zeros(G), np.zeros(G), ub, 0, np.zeros(G, dtype=np.int32),
                  np.zeros(0, dtype=np.int32), np.zeros(0))
        add_panel_rows(h, self.c)
        return h

    def _dual_bound(self, cost: np.ndarray, row_dual: np.ndarray) -> float:
        """max cost.x over the relaxation is at most this, for any row multipliers (weak duality),
        so rounding in the LP's own optimum can never make the bound too small."""
        pi = np.where(np.isfinite(self.row_lo), row_dual, np.clip(row_dual, 0.0, None))
        pi = np.where(np.isfinite(self.row_hi), pi, np.clip(pi, None, 0.0))
        d = cost - self.A.T @ pi
        with np.errstate(invalid="ignore"):
            rows = np.where(pi > 0, pi * self.row_hi, np.where(pi < 0, pi * self.row_lo, 0.0))
        return float(rows.sum() + np.where(d > 0, d * self.ub, 0.0).sum())

    def fix(self, g: int, p: float) -> None:
        self.h.changeCoeff(self.R0 + g, self.c.G, 0.0)
        self.h.changeRowBounds(self.R0 + g, p, INF)

    def solve(self) -> float:
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise _Unbounded()
        return float(self.h.getInfo().objective_function_value)

    def _duals(self, h: highspy.Highs, free: np.ndarray) -> np.ndarray:
        y = np.clip(-np.array(h.getSolution().row_dual)[self.R0:], 0.0, None)
        y[~free] = np.clip(y[~free], 0.0, None)
        return y / max(float(y[free].sum()), 1e-300)

    def weights(self, free: np.ndarray) -> list[np.ndarray]:
        """The simplex (vertex) dual and an interior-point dual of the level just solved."""
        out = [self._duals(self.h, free)]
        h = new_highs()
        h.passModel(self.h.getLp())
        h.setOptionValue("solver", "ipm")
        h.setOptionValue("run_crossover", "off")
        h.setOptionValue("ipm_optimality_tolerance", 1e-10)
        h.run()
        if h.getModelStatus() in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kUnknown):
            out.append(self._duals(h, free))
        return out

    def bound(self, y: np.ndarray, fixed: np.ndarray, p_fixed: np.ndarray) -> float:
        """D(y): the largest y-weight of any point of the relaxation minus the fixed part."""
        G = self.c.G
        self.pricer.changeColsCost(G, np.arange(G, dtype=np.int32), y / self.size)
        self.pricer.run()
        if self.pricer.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise SolverError("The relaxed pricing LP failed.")
        top = max(float(self.pricer.getInfo().objective_function_value),
                  self._dual_bound(y / self.size, np.array(self.pricer.getSolution().row_dual)))
        return top - float(p_fixed[fixed] @ y[fixed])

    def leximin(self, reachable: np.ndarray, levels: Optional[int], report: Progress
                ) -> tuple[np.ndarray, int]:
        """The relaxation's leximin shares per group (unreachable groups 0) and its level count."""
        c = self.c
        size, k = self.size, c.k
        fixed = ~reachable
        p = np.zeros(c.G)
        level = 0
        while not fixed.all():
            level += 1
            free = ~fixed
            value = self.solve()
            best_possible = (k - (p * size)[fixed].sum()) / size[free].sum()
            if value >= best_possible - 1e-9 or (levels is not None and level >= levels):
                p[free] = min(value, best_possible)
                fixed[:] = True
                report(level, value, int(size[fixed].sum()))
                break
            slack = np.full(c.G, np.inf)
            for y in self.weights(free):
                gap = max(self.bound(y, fixed, p) - value, GAP_FLOOR)
                pos = free & (y > 0)
                slack[pos] = np.minimum(slack[pos], gap / y[pos])
            newly = np.flatnonzero(free & (slack <= FIX_TOL))
            if len(newly) == 0:
                raise SolverError("The relaxed leximin level fixed nobody.")
            for g in newly:
                fixed[g] = True
                p[g] = value
                self.fix(int(g), value)
            report(level, value, int(size[fixed].sum()))
        return p, level

    def face(self, target: np.ndarray) -> tuple[np.ndarray, float]:
        """Weights w and their maximum W over the relaxation such that every panel of any exact
        decomposition of `target` has weight exactly W (an interior optimal dual of
        max t: x_g / size_g >= t * target_g). Pricing may keep to that face without loss."""
        G = self.c.G
        h = self._polytope(self.ub)
        h.addCol(1.0, -INF, INF, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
        rows = np.flatnonzero(target > 0)
        starts = np.arange(0, 2 * len(rows), 2, dtype=np.int32)
        idx = np.empty(2 * len(rows), dtype=np.int32)
        idx[0::2] = rows
        idx[1::2] = G
        vals = np.empty(2 * len(rows))
        vals[0::2] = 1.0 / self.size[rows]
        vals[1::2] = -target[rows]
        R = h.getNumRow()
        h.addRows(len(rows), np.zeros(len(rows)), np.full(len(rows), INF), len(idx), starts, idx, vals)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.setOptionValue("solver", "ipm")
        h.setOptionValue("run_crossover", "off")
        h.setOptionValue("ipm_optimality_tolerance", 1e-10)
        h.run()
        y = np.zeros(G)
        y[rows] = np.clip(-np.array(h.getSolution().row_dual)[R:], 0.0, None)
        y /= max(float(y @ target), 1e-300)
        return y, self.bound(y, np.zeros(G, dtype=bool), np.zeros(G))




def _decompose(c: Compiled, oracle: PanelOracle, swaps: _Swaps, remember, panels: list[np.ndarray],
               target: np.ndarray, deadline: Optional[float], report,
               face: Optional[tuple[np.ndarray, float]] = None,
               decomposition: Optional[list] = None) -> tuple[str, float]:
    """Column generation for panels whose allocation reaches `target` (max t: p >= t * target).

    Returns ("reached", 1.0) when real panels meet the target (their matrix and probabilities are
    appended to `decomposition`), ("short", t) when the pricing
    proves they cannot (the relaxation was not tight), ("time", t) at the deadline."""
    master = _Master(c, target)
    face_w, face_lo = None, 0.0
    if face is not None:
        face_w, face_lo = face[0] / c.size, face[1] * (1 - FACE_TOL)
        oracle.restrict(face_w, face_lo)
    for counts in panels:
        master.add_panel(counts)
    size = c.size.astype(float)
    if not master.columns:  # the walk was cut short before its first panel
        counts, _ = oracle.best(target)
        if counts is None:
            return "short", 0.0
        remember(counts)
        master.add_panel(counts)
    value = 0.0
    first = True
    while True:
        try:
            # the first solve always runs to the end: at the time limit it is the guarantee
            if first and len(master.columns) > IPM_COLUMNS:
                master.h.setOptionValue("solver", "ipm")  # many columns at once: interior point + crossover
            y, z, value = master.solve(None if deadline is None or first else deadline - time.perf_counter())
            master.h.setOptionValue("solver", "simplex")
        except _TimeUp:
            return "time", value
        first = False
        if value >= 1 - DECOMPOSE_TOL:
            lam = np.clip(np.array(master.h.getSolution().col_value[1:]), 0.0, None)
            lam[lam < 1e-12] = 0.0
            decomposition.extend([np.array(master.columns), lam / lam.sum()])
            return "reached", value
        if deadline is not None and time.perf_counter() > deadline:
            return "time", value
        # several panels per master solve: the best for y, then for y steered away from the
        # members already found (all on the face, each one added only if it beats the cap z)
        added = 0
        steer = y.copy()
        for j in range(PRICINGS):
            counts, w = oracle.best(steer / size)
            if counts is None:
                return "short", value  # no real panel on the face: the relaxation is not tight
            if counts @ (y / size) > z + 1e-9 and remember(counts):
                master.add_panel(counts)
                added += 1
                for extra in swaps.panels(counts, y / size, z, EXTRA_COLUMNS):
                    if (face_w is None or extra @ face_w >= face_lo) and remember(extra):
                        master.add_panel(extra)
            elif j == 0:
                return "short", value  # the best panel does not beat the cap: t < 1 is optimal
            steer = steer * DECAY ** (counts / size)
        report(value, z)


def _initial_panels(c: Compiled, oracle: PanelOracle, rng: np.random.Generator, remember,
                    panels: list[np.ndarray], initial_rounds: Optional[int], report) -> np.ndarray:
    """Panels by multiplicative weights, then one per group not yet covered; returns which
    groups can be on some panel at all (the others get probability 0)."""
    G, size = c.G, c.size.astype(float)
    rounds = initial_rounds if initial_rounds is not None else min(G, 60)
    weight = rng.uniform(0.99, 1.0, G)
    for r in range(rounds):
        counts, _ = oracle.best(weight)
        if counts is None:
            break
        if remember(counts):
            weight *= 0.8 ** (counts / size)
        else:
            weight = 0.9 * weight + 0.1
        weight /= weight.mean()
        report(0.1 * (r + 1) / max(rounds, 1), "Finding first panels")
    covered = np.zeros(G, dtype=bool)
    for p in panels:
        covered |= p > 0
    for g in np.flatnonzero(~covered):
        if covered[g]:
            continue  # on a panel found for another group on the way
        w = np.zeros(G)
        w[g] = 1.0
        w += 1e-3 * (~covered)  # also pick up other uncovered groups on the way
        counts, _ = oracle.best(w)
        if counts is not None and counts[g] > 0:
            remember(counts)
            covered |= counts > 0
    return covered


def _repair(A: np.ndarray, v: np.ndarray, row_lo: np.ndarray, row_hi: np.ndarray,
            col_lo: np.ndarray, col_hi: np.ndarray, rng: np.random.Generator) -> Optional[np.ndarray]:
    """A panel one swap (a person out, another in) from v that meets the given row and column
    bounds, or None. The walk's previous panel breaks only the newly tight constraint, so a
    swap usually mends it without a MIP."""
    av = A @ v
    bad_rows = (av < row_lo - 1e-9) | (av > row_hi + 1e-9)
    bad_cols = (v < col_lo - 1e-9) | (v > col_hi + 1e-9)
    if bad_cols.sum() > 1 or bad_rows.sum() > 2:
        return None
    outs = np.flatnonzero((v >= 1) & (v - 1 >= col_lo - 1e-9))
    if np.any(bad_cols & (v > col_hi)):
        outs = np.intersect1d(outs, np.flatnonzero(bad_cols))
    over = np.flatnonzero(bad_rows & (av > row_hi))
    if len(over):
        outs = outs[np.all(A[np.ix_(over, outs)] > 0, axis=0)]
    ins = np.flatnonzero(v + 1 <= col_hi + 1e-9)
    if bad_cols.any() and np.any(v[bad_cols] < col_lo[bad_cols]):
        ins = np.intersect1d(ins, np.flatnonzero(bad_cols))
    under = np.flatnonzero(bad_rows & (av < row_lo))
    if len(under):
        ins = ins[np.all(A[np.ix_(under, ins)] > 0, axis=0)]
    for a in rng.permutation(outs)[:REPAIR_TRIES]:
        rows = av[:, None] - A[:, [a]] + A[:, ins]
        ok = np.all((rows >= row_lo[:, None] - 1e-9) & (rows <= row_hi[:, None] + 1e-9), axis=0)
        ok &= ins != a
        good = ins[ok]
        if len(good):
            b = int(rng.choice(good))
            new = v.copy()
            new[a] -= 1
            new[b] += 1
            if np.all((new >= col_lo - 1e-9) & (new <= col_hi + 1e-9)):
                return new
    return None


def _walk(c: Compiled, oracle: PanelOracle, relaxation: "_Relaxation", target: np.ndarray,
          rng: np.random.Generator, deadline: Optional[float], report) -> list[np.ndarray]:
    """Panels for `target` by a walk through the faces of the relaxation (Caratheodory).

    x = target * size is a point of the relaxation. Take a real panel v on the smallest face
    holding x (a MIP with the tight rows and bounds as equalities), then move x away from v
    until one more constraint becomes tight: x = a v + (1 - a) x'. Each step shrinks the face,
    so at most about G steps end at a panel. The panels found are used as columns: if the
    relaxation's face has no real panel (it is not integral there), the walk stops and column
    generation finishes from them. Nothing here is trusted: the master LP re-checks it all.
    """
    A, lo, hi, ub = relaxation.A, relaxation.row_lo, relaxation.row_hi, relaxation.ub
    G = c.G
    x = target * c.size
    found: list[np.ndarray] = []
    weights: list[float] = []  # x = sum weights_j found_j + mass * (the point left)
    mass = 1.0
    cols = np.arange(G, dtype=np.int32)
    h = oracle.h
    base_lo = np.where(np.isfinite(lo), lo, -INF)
    base_hi = np.where(np.isfinite(hi), hi, INF)
    current_lo, current_hi = base_lo, base_hi
    previous: Optional[np.ndarray] = None
    # the face's LP with a random objective: its vertex is often integral, i.e. a panel, at a
    # fraction of a MIP's cost (the MIP is asked only when the vertex is fractional)
    lp = new_highs()
    lp.passModel(h.getLp())
    lp.changeColsIntegrality(G, cols, np.full(G, highspy.HighsVarType.kContinuous, dtype=np.uint8))
    h.setOptionValue("mip_rel_gap", WALK_GAP)  # any panel on the face will do: stop early
    try:
        for _ in range(2 * G + 2):
            if deadline is not None and time.perf_counter() > deadline:
                break
            ax = A @ x
            scale_lo = np.maximum(1.0, np.abs(np.nan_to_num(lo, posinf=0.0, neginf=0.0)))
            scale_hi = np.maximum(1.0, np.abs(np.nan_to_num(hi, posinf=0.0, neginf=0.0)))
            at_lo = np.isfinite(lo) & (np.abs(ax - lo) <= WALK_TOL * scale_lo)
            at_hi = np.isfinite(hi) & (np.abs(ax - hi) <= WALK_TOL * scale_hi)
            at_0 = x <= WALK_TOL
            at_ub = x >= ub - WALK_TOL
            row_lo = np.where(at_hi, hi, np.where(np.isfinite(lo), lo, -INF))
            row_hi = np.where(at_lo, lo, np.where(np.isfinite(hi), hi, INF))
            for r in np.flatnonzero((row_lo != current_lo) | (row_hi != current_hi)):
                h.changeRowBounds(int(r), float(row_lo[r]), float(row_hi[r]))
                lp.changeRowBounds(int(r), float(row_lo[r]), float(row_hi[r]))
            current_lo, current_hi = row_lo, row_hi
            col_lo, col_hi = np.where(at_ub, ub, 0.0), np.where(at_0, 0.0, ub)
            v = None if previous is None else _repair(A, previous, row_lo, row_hi, col_lo, col_hi, rng)
            if v is None:
                lp.changeColsBounds(G, cols, col_lo, col_hi)
                for _try in range(LP_TRIES):
                    lp.changeColsCost(G, cols, rng.random(G))
                    lp.run()
                    if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                        break
                    vertex = np.array(lp.getSolution().col_value)
                    rounded = np.rint(vertex)
                    if np.abs(vertex - rounded).max() <= 1e-6:
                        v = rounded.astype(int)
                        break
            if v is None:
                h.changeColsBounds(G, cols, col_lo, col_hi)
                v, _ = oracle.best(rng.random(G))
                if v is None:
                    break  # no real panel on this face
            else:
                check_panel(c, v)
            previous = v
            found.append(v)
            d = x - v
            if np.abs(d).max() <= WALK_TOL:
                weights.append(mass)
                mass = 0.0
                break
            ad = A @ d
            free_row = ~(at_lo | at_hi)
            steps = [np.inf]
            with np.errstate(divide="ignore", invalid="ignore"):
                m = free_row & (ad > 1e-12) & np.isfinite(hi)
                steps.append(((hi - ax)[m] / ad[m]).min(initial=np.inf))
                m = free_row & (ad < -1e-12) & np.isfinite(lo)
                steps.append(((lo - ax)[m] / ad[m]).min(initial=np.inf))
                m = ~at_ub & (d > 1e-12)
                steps.append(((ub - x)[m] / d[m]).min(initial=np.inf))
                m = ~at_0 & (d < -1e-12)
                steps.append(((-x)[m] / d[m]).min(initial=np.inf))
            theta = float(min(steps))
            if theta < 0:
                break  # rounding left x outside the relaxation: column generation goes on from here
            if not np.isfinite(theta):
                break
            weights.append(mass * theta / (1.0 + theta))
            mass *= 1.0 / (1.0 + theta)
            x = np.clip(x + theta * d, 0.0, ub)
            report(1.0 - mass)
    finally:
        for r in np.flatnonzero((base_lo != current_lo) | (base_hi != current_hi)):
            h.changeRowBounds(int(r), float(base_lo[r]), float(base_hi[r]))
        h.setOptionValue("mip_rel_gap", 1e-7)
        h.changeColsBounds(G, cols, np.zeros(G), c.size.astype(float))
    return found, np.array(weights + [0.0] * (len(found) - len(weights))), mass


def _merge(panels: list[np.ndarray], weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct panels and their summed weights (normalised), dropping weight 0."""
    index: dict[bytes, int] = {}
    rows: list[np.ndarray] = []
    lam: list[float] = []
    for counts, w in zip(panels, weights):
        if w <= 0:
            continue
        key = counts.astype(np.int32).tobytes()
        j = index.setdefault(key, len(rows))
        if j == len(rows):
            rows.append(counts)
            lam.append(0.0)
        lam[j] += float(w)
    out = np.array(lam)
    return np.array(rows), out / out.sum()


def _reach(c, oracle, swaps, remember, panels, relaxation, target, rng, walk_deadline, deadline,
           walk_report, decompose_report, decomposition) -> tuple[str, float]:
    """Panels for the relaxed allocation: the walk, then face-restricted column generation."""
    found, weights, mass = _walk(c, oracle, relaxation, target, rng, walk_deadline, walk_report)
    for counts in found:
        remember(counts)
    if found and mass == 0.0:
        # the walk ended at a panel: its own weights are a lottery; if it meets every share
        # (rounding over the steps only), nothing is left to solve
        matrix, lam = _merge(found, weights)
        share = (lam @ matrix) / c.size
        on = target > 0
        if np.all(share[on] >= target[on] * (1 - DECOMPOSE_TOL)) and np.all(share[~on] <= 1e-12):
            decomposition.extend([matrix, lam])
            return "reached", 1.0
    try:
        return _decompose(c, oracle, swaps, remember, panels, target, deadline, decompose_report,
                          relaxation.face(target), decomposition)
    finally:
        oracle.restrict(None, 0.0)


def _distribution(c: Compiled, panels: list[np.ndarray], target: np.ndarray,
                  reachable: np.ndarray) -> np.ndarray:
    """Panel probabilities meeting every group's target share (minimise the worst shortfall)."""
    P = len(panels)
    h = new_highs()
    h.addCols(P + 1, np.concatenate([np.zeros(P), [1.0]]), np.zeros(P + 1), np.full(P + 1, INF),
              0, np.zeros(P + 1, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
    for option in ("primal_feasibility_tolerance", "dual_feasibility_tolerance"):
        h.setOptionValue(option, 1e-10)
    h.addRow(1.0, 1.0, P, np.arange(P, dtype=np.int32), np.ones(P))
    M = np.array(panels, dtype=float) / c.size  # (P, G) shares
    for g in np.flatnonzero(reachable):
        nz = np.flatnonzero(M[:, g])
        idx = np.concatenate([nz, [P]]).astype(np.int32)
        vals = np.concatenate([M[nz, g], [1.0]])
        h.addRow(float(target[g]), INF, len(idx), idx, vals)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise SolverError("The final distribution LP failed.")
    lam = np.array(h.getSolution().col_value[:P]).clip(0)
    lam[lam < 1e-10] = 0
    return lam / lam.sum()


def _lottery(c: Compiled, panels: list[np.ndarray], target: np.ndarray, floor: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, float]:
    """The lottery over `panels` with the largest t such that every group gets at least t times its
    `target` share, and never less than its `floor` (the levels already proven). Returns the panel
    matrix, the panel probabilities and t. A floor missed by rounding is met as closely as possible."""
    P = len(panels)
    M = np.array(panels, dtype=float) / c.size  # (P, G) shares
    h = new_highs()
    for option in ("primal_feasibility_tolerance", "dual_feasibility_tolerance"):
        h.setOptionValue(option, 1e-10)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    # columns: lambda (P), t, shortfall s below the floor (heavily penalised)
    h.addCols(P + 2, np.concatenate([np.zeros(P), [1.0, -1e4]]), np.zeros(P + 2),
              np.concatenate([np.full(P, INF), [1.0, INF]]), 0, np.zeros(P + 2, dtype=np.int32),
              np.zeros(0, dtype=np.int32), np.zeros(0))
    h.addRow(1.0, 1.0, P, np.arange(P, dtype=np.int32), np.ones(P))
    for g in np.flatnonzero((target > 0) | (floor > 0)):
        nz = np.flatnonzero(M[:, g]).astype(np.int32)
        if target[g] > 0:   # p_g - t * target_g >= 0
            idx = np.concatenate([nz, [P]]).astype(np.int32)
            h.addRow(0.0, INF, len(idx), idx, np.concatenate([M[nz, g], [-target[g]]]))
        if floor[g] > 0:    # p_g + s >= floor_g
            idx = np.concatenate([nz, [P + 1]]).astype(np.int32)
            h.addRow(float(floor[g]), INF, len(idx), idx, np.concatenate([M[nz, g], [1.0]]))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise SolverError("The final distribution LP failed.")
    x = np.array(h.getSolution().col_value)
    lam = x[:P].clip(0)
    lam[lam < 1e-12] = 0
    return M * c.size, lam / lam.sum(), float(np.clip(x[P], 0.0, 1.0))


def _levels(c: Compiled, oracle: PanelOracle, swaps: _Swaps, remember, panels: list[np.ndarray],
            fixed: np.ndarray, p_fixed: np.ndarray, levels: Optional[int], deadline: Optional[float],
            maximin_bound: float, report: Progress, notes: list[str]) -> tuple[np.ndarray, int, bool]:
    """Column generation for the leximin levels not yet fixed (`levels`: how many at most).

    The first level runs to its optimum whatever the deadline (it is the MAXIMIN guarantee);
    later ones stop at the deadline, everyone not yet fixed keeping the level reached.
    Returns (shares per group, levels fixed, optimal)."""
    G, size, k = c.G, c.size.astype(float), c.k
    reachable = ~fixed
    fixed = fixed.copy()
    p_fixed = p_fixed.copy()
    level = 0
    optimal = True
    master = _Master(c, (~fixed).astype(float))
    for counts in panels:
        master.add_panel(counts)
    last_value = 0.0
    relaxed = 0.0  # how far the fixed levels were lowered after an unbounded master
    last_fraction = 0.1
    while not fixed.all():
        level += 1
        level_start_gap = None
        center: Optional[np.ndarray] = None   # stability centre (Wentges smoothing)
        best_bound = np.inf
        while True:
            try:
                y, z, value = master.solve(None if deadline is None or level == 1
                                                else deadline - time.perf_counter())
                last_value = value
            except _TimeUp:
                # one master solve ran into the time limit: stop as at the deadline below
                optimal = False
                notes.append(f"Stopped at the time limit in level {level}: everyone not yet fixed "
                             f"has probability at least {last_value:.4f}.")
                p_fixed[~fixed] = last_value
                fixed[:] = True
                break
            except _Unbounded:
                # rounding made the fixed probabilities (just) infeasible together: lower
                # them a little, as the published implementation does, and solve again
                if relaxed >= 1e-5:
                    raise SolverError("The master LP stays unbounded after relaxing the fixed levels.")
                relaxed = 1e-9 if relaxed == 0 else relaxed * 10
                for g in np.flatnonzero(fixed & reachable):
                    p_fixed[g] -= relaxed
                    master.fix(int(g), float(p_fixed[g]))
                continue
            free_people = size[~fixed].sum()
            best_possible = (k - (p_fixed * size)[fixed].sum()) / free_people
            if value >= maximin_bound - 1e-9:
                # the relaxation's first level bounds MAXIMIN from above: reached, so optimal
                p_fixed[~fixed] = value
                fixed[:] = True
                break
            if value >= best_possible - 1e-9:
                # everyone still free can get exactly the best possible share
                p_fixed[~fixed] = best_possible
                fixed[:] = True
                break
            if deadline is not None and level > 1 and time.perf_counter() > deadline:
                optimal = False
                notes.append(f"Stopped at the time limit in level {level}: everyone not yet fixed "
                             f"has probability at least {value:.4f}.")
                p_fixed[~fixed] = value
                fixed[:] = True
                break
            violated = False
            for attempt in (0, 1):
                # price at a point between the best dual so far and the LP dual: this damps
                # the oscillation of the duals, the usual cause of slow column generation
                y_price = y if center is None or attempt == 1 else SMOOTHING * center + (1 - SMOOTHING) * y
                counts, w = oracle.best(y_price / size)
                if counts is None:
                    raise SolverError("The panel solver found no panel after the quotas were checked.")
                bound = w - float(p_fixed[fixed] @ y_price[fixed])
                if bound < best_bound:
                    best_bound, center = bound, y_price
                if counts @ (y / size) > z + 1e-9 and remember(counts):
                    master.add_panel(counts)
                    violated = True
                    if EXTRA_COLUMNS:
                        for extra in swaps.panels(counts, y / size, z, EXTRA_COLUMNS):
                            if remember(extra):
                                master.add_panel(extra)
                    break
                if best_bound - value <= EPS:
                    break
            gap = max(best_bound - value, 0.0)
            if level_start_gap is None:
                level_start_gap = max(gap, 1e-9)
            done_share = (size[fixed].sum() + free_people * max(0.0, 1 - gap / level_start_gap) ** 2) / c.n
            last_fraction = max(last_fraction, 0.1 + 0.85 * done_share)
            report(min(last_fraction, 0.95), f"Refining level {level}: minimum {value:.4f}, gap {gap:.2e}")
            if gap <= EPS:
                # A near-optimal dual y only proves that group g cannot exceed the level by
                # more than (D(y) - value) / y_g, where D(y) is y's exact dual bound. So price
                # y exactly (tight MIP, its dual bound as the certificate): while a panel still
                # beats the cap, add it and continue; then fix only groups whose proven slack
                # is within FIX_TOL. The others stay free for the next level.
                if violated:
                    continue  # y is stale: re-solve the master with the new panels first
                free_idx = np.flatnonzero(~fixed)
                y = np.clip(y, 0.0, None)
                gap_y, counts = _certify(oracle, y, size, fixed, p_fixed, value)
                if counts @ (y / size) > z + CERT_VIOLATION and remember(counts):
                    master.add_panel(counts)
                    for extra in swaps.panels(counts, y / size, z, EXTRA_COLUMNS):
                        if remember(extra):
                            master.add_panel(extra)
                    continue
                slack = np.full(G, np.inf)
                pos = y > 0
                slack[pos] = gap_y / y[pos]
                if levels is None:
                    # the interior dual is optimal for the known panels only: price it too,
                    # and fix by it only if no panel beats it (else it is not a full dual)
                    y_int = np.clip(master.interior_weights(), 0.0, None)
                    y_int /= max(float(y_int[free_idx].sum()), 1e-12)  # sum 1 over free groups, as the bound assumes
                    gap_int, counts = _certify(oracle, y_int, size, fixed, p_fixed, value)
                    z_int = float(counts @ (y_int / size)) - gap_int  # the cap y_int needs
                    if gap_int > FIX_TOL and remember(counts):
                        master.add_panel(counts)
                        for extra in swaps.panels(counts, y_int / size, z_int, EXTRA_COLUMNS):
                            if remember(extra):
                                master.add_panel(extra)
                        continue
                    pos = y_int > 0
                    slack[pos] = np.minimum(slack[pos], gap_int / y_int[pos])
                newly = free_idx[slack[free_idx] <= FIX_TOL]
                if len(newly) == 0:
                    # no improving panel is left, so the gap is only rounding: the heaviest
                    # group is the one the certificate binds most tightly
                    newly = free_idx[[int(np.argmin(slack[free_idx]))]]
                    if slack[newly[0]] > 1e-5:
                        optimal = False
                        notes.append(f"Level {level}: a group was fixed although it might exceed the level by up to "
                                     f"{slack[newly[0]]:.1e}.")
                for g in newly:
                    fixed[g] = True
                    p_fixed[g] = value
                    master.fix(int(g), value)
                break
            if not violated:
                # no new panel although the bound is not reached: numerical trouble; stop safely
                optimal = False
                p_fixed[~fixed] = value
                fixed[:] = True
                notes.append("Column generation stalled; the minimum probability is a lower bound.")
                break
        if levels is not None and level >= levels and not fixed.all():
            # MAXIMIN: everyone else only needs at least the level value
            p_fixed[~fixed] = value
            fixed[:] = True
    return p_fixed, level, optimal


def _certify(oracle: PanelOracle, y: np.ndarray, size: np.ndarray, fixed: np.ndarray,
             p_fixed: np.ndarray, value: float) -> tuple[float, np.ndarray]:
    """Exact pricing of the dual vector y: (an upper bound on D(y) - value, the heaviest panel).

    The MIP runs with a near-zero gap and its dual bound is used, so D(y) is never
    underestimated by the MIP tolerance."""
    h = oracle.h
    h.setOptionValue("mip_rel_gap", 1e-12)
    h.setOptionValue("mip_abs_gap", 1e-13)
    try:
        counts, w = oracle.best(y / size)
        bound = float(h.getInfo().mip_dual_bound)
    finally:
        h.setOptionValue("mip_rel_gap", 1e-7)
        h.setOptionValue("mip_abs_gap", 1e-9)
    if counts is None:
        raise SolverError("The panel solver found no panel after the quotas were checked.")
    upper = max(w, bound) if np.isfinite(bound) else w
    gap = upper - float(p_fixed[fixed] @ y[fixed]) - value
    return max(gap, GAP_FLOOR), counts


def _monotone(progress: Optional[Progress]) -> Progress:
    """The progress callback, never going backwards (the fallback restarts its own scale)."""
    top = [0.0]

    def report(fraction: float, message: str) -> None:
        top[0] = max(top[0], min(float(fraction), 1.0))
        if progress is not None:
            progress(top[0], message)
    return report


def leximin(instance: Instance, *, levels: Optional[int] = None, progress: Optional[Progress] = None,
            seed: int = 0, initial_rounds: Optional[int] = None,
            compiled: Optional[Compiled] = None, method_name: str = "leximin",
            time_limit: Optional[float] = None) -> Result:
    """Distribution over panels whose selection probabilities are leximin-optimal.

    `levels=1` stops after maximising the minimum probability (MAXIMIN).
    Raises InfeasibleQuotas (with the relaxation report) when no panel exists.
    `time_limit` (seconds): stop refining there and return the best lottery found that keeps
    every level proven so far, with `optimal` False. The first level (the MAXIMIN optimum) is
    always proven, past the limit if need be, so a LEXIMIN cut short is never below MAXIMIN.
    """
    # numpy's BLAS threads spin while waiting: on a shared machine (and with HiGHS beside them)
    # they cost several times the work of the small products here, so one thread
    with threadpool_limits(limits=1, user_api="blas"):
        return _leximin(instance, levels=levels, progress=progress, seed=seed, initial_rounds=initial_rounds,
                        compiled=compiled, method_name=method_name, time_limit=time_limit)


def _leximin(instance: Instance, *, levels: Optional[int], progress: Optional[Progress], seed: int,
             initial_rounds: Optional[int], compiled: Optional[Compiled], method_name: str,
             time_limit: Optional[float]) -> Result:
    started = time.perf_counter()
    deadline = None if time_limit is None else started + time_limit
    report = _monotone(progress)
    c = compiled or compile_instance(instance)
    feas = check_feasibility(instance, c)
    if not feas.feasible:
        raise InfeasibleQuotas(feas)
    G, size, k = c.G, c.size.astype(float), c.k
    rng = np.random.default_rng(seed)
    oracle = PanelOracle(c)
    swaps = _Swaps(c)
    panels: list[np.ndarray] = []
    seen: set[bytes] = set()

    def remember(counts: np.ndarray) -> bool:
        key = counts.astype(np.int32).tobytes()
        if key in seen:
            return False
        seen.add(key)
        panels.append(counts)
        return True

    notes: list[str] = []

    # 1. the leximin of the LP relaxation: an upper bound, found level by level in milliseconds
    def level_report(level: int, value: float, fixed_people: int) -> None:
        report(0.2 * fixed_people / c.n, f"Level {level}: minimum {value:.4f}, {fixed_people} of {c.n} people fixed")

    relaxation = _Relaxation(c, np.ones(G, dtype=bool))
    try:
        target, relaxed_levels = relaxation.leximin(np.ones(G, dtype=bool), levels, level_report)
    except (_Unbounded, SolverError):
        # numerical trouble in the relaxation: the level-by-level column generation below decides
        target, relaxed_levels, levels_bound_known = np.zeros(G), 0, False
    else:
        levels_bound_known = True

    # 2. real panels that reach it: then it is the true leximin, every level proven
    #    (MAXIMIN needs only the first level: column generation below, stopped at its bound)
    def walk_report(share: float) -> None:
        report(0.2 + 0.7 * share, f"{relaxed_levels} levels proven; panels for {100 * share:.1f}% of the lottery")

    def decompose_report(value: float, bound: float) -> None:
        report(0.9 + 0.05 * max(0.0, value), f"{relaxed_levels} levels proven; panels reach "
                                              f"{100 * max(0.0, value):.2f}% of every share")

    # leave a fifth of the time to column generation, so a run cut short still has a good lottery
    walk_deadline = None if time_limit is None else started + 0.8 * time_limit
    decomposition: list = []
    if levels == 1 or not levels_bound_known:
        status, reached = "short", 0.0
    else:
        status, reached = _reach(c, oracle, swaps, remember, panels, relaxation, target, rng, walk_deadline,
                                 deadline, walk_report, decompose_report, decomposition)

    reachable = target > 0
    fixed = np.zeros(G, dtype=bool)
    p_fixed = np.zeros(G)
    level = 0
    optimal = True
    if status == "reached":
        p_fixed = target.copy()
        fixed[:] = True
        level = relaxed_levels
    else:
        # cut short: the panels found so far seed the coverage check; else the first panels
        reachable = _initial_panels(c, oracle, rng, remember, panels,
                                    0 if status == "time" and len(panels) >= 60 else initial_rounds, report)
        fixed = ~reachable
    unreachable = int(size[~reachable].sum())
    if unreachable:
        notes.append(f"{unreachable} people cannot be on any panel that meets the quotas; "
                     "their probability is 0.")
    if not fixed.all():
        # 3. column generation, level by level (the first level always to its optimum: a LEXIMIN
        #    cut short never falls below MAXIMIN); after a walk cut short, only the first level
        levels_run = 1 if status == "time" else levels
        # with nobody out of reach, the relaxation's first level bounds MAXIMIN from above
        maximin_bound = (float(target.min()) if levels_run == 1 and levels_bound_known and reachable.all()
                         and target.min() > 0 else np.inf)
        p_fixed, level, optimal = _levels(c, oracle, swaps, remember, panels, fixed, p_fixed, levels_run,
                                          deadline, maximin_bound, report, notes)
        if status == "time":
            # the best lottery over every panel found that keeps the first level for everyone
            optimal = False
            floor = p_fixed * reachable
            matrix, lam, share = _lottery(c, panels, target, floor)
            decomposition[:] = [matrix, lam]
            notes.append(f"Stopped at the time limit: the first level ({floor[reachable].min():.4f}) is proven "
                         f"and kept; everyone has at least {100 * share:.1f}% of their leximin probability.")
    report(0.97, "Computing panel probabilities")
    if decomposition:
        matrix, lam = decomposition  # the master's own solution already meets every share
    else:
        matrix, lam = np.array(panels), _distribution(c, panels, p_fixed * reachable, reachable)
    keep = lam > 0
    matrix = matrix[keep]
    lam = lam[keep]
    group_prob = (lam @ matrix) / size
    probabilities = np.zeros(c.n)
    for g, people in enumerate(c.groups):
        probabilities[people] = group_prob[g]
    report(1.0, "Done")
    return Result(method=method_name, k=k, probabilities=probabilities, groups=c.groups,
                  panels=matrix.astype(int), panel_probabilities=lam,
                  seconds=time.perf_counter() - started, iterations=oracle.solves,
                  levels=level, optimal=optimal, notes=notes)

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

from .feasibility import check_feasibility
from .model import InfeasibleQuotas, Instance, Progress, Result, SolverError
from .problem import INF, Compiled, PanelOracle, check_panel, compile_instance, new_highs

EPS = 1e-6        # pricing tolerance on the level value (probability units)
SMOOTHING = 0.6   # weight of the stability centre when pricing
FIX_TOL = 1e-7    # fix a group only if it provably cannot exceed the level by more (probability)
GAP_FLOOR = 1e-11  # rounding floor on a proven gap: weights below GAP_FLOOR / FIX_TOL prove nothing
CERT_VIOLATION = 1e-11  # a panel heavier than the cap z by more than this is a new column
EXTRA_COLUMNS = 10  # further violated panels per pricing round, from one-person swaps


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
    """The restricted dual LP: min z - sum_fixed p_g y_g, s.t. panel rows, sum_unfixed y = 1."""

    def __init__(self, c: Compiled, active: np.ndarray):
        self.c = c
        G = c.G
        h = new_highs()
        h.setOptionValue("presolve", "off")
        h.setOptionValue("simplex_strategy", 1)  # dual simplex: natural after adding rows
        costs = np.concatenate([np.zeros(G), [1.0]])
        lower = np.concatenate([np.zeros(G), [-INF]])
        upper = np.full(G + 1, INF)
        h.addCols(G + 1, costs, lower, upper, 0, np.zeros(G + 1, dtype=np.int32),
                  np.zeros(0, dtype=np.int32), np.zeros(0))
        idx = np.flatnonzero(active).astype(np.int32)
        h.addRow(1.0, 1.0, len(idx), idx, np.ones(len(idx)))
        self.h = h
        self.G = G

    def add_panel(self, counts: np.ndarray) -> None:
        nz = np.flatnonzero(counts)
        idx = np.concatenate([nz, [self.G]]).astype(np.int32)
        vals = np.concatenate([counts[nz] / self.c.size[nz], [-1.0]])
        self.h.addRow(-INF, 0.0, len(idx), idx, vals)

    def fix(self, g: int, p: float) -> None:
        self.h.changeCoeff(0, g, 0.0)
        self.h.changeColCost(g, -p)

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
            return np.array(self.h.getSolution().col_value[:self.G])
        return np.array(h.getSolution().col_value[:self.G])

    def solve(self, seconds: Optional[float] = None) -> tuple[np.ndarray, float, float]:
        # HiGHS counts its time limit over all runs of this model, hence the offset
        self.h.setOptionValue("time_limit", INF if seconds is None
                              else self.h.getRunTime() + max(seconds, 0.5))
        self.h.run()
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kTimeLimit:
            raise _TimeUp()
        if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            raise _Unbounded()
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolverError(f"The master LP stopped: {self.h.modelStatusToString(status)}")
        x = np.array(self.h.getSolution().col_value)
        value = float(self.h.getInfo().objective_function_value)
        return x[:self.G], float(x[self.G]), value


def _distribution(c: Compiled, panels: list[np.ndarray], target: np.ndarray,
                  reachable: np.ndarray) -> np.ndarray:
    """Panel probabilities meeting every group's target share (minimise the worst shortfall)."""
    P = len(panels)
    h = new_highs()
    h.addCols(P + 1, np.concatenate([np.zeros(P), [1.0]]), np.zeros(P + 1), np.full(P + 1, INF),
              0, np.zeros(P + 1, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
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


def leximin(instance: Instance, *, levels: Optional[int] = None, progress: Optional[Progress] = None,
            seed: int = 0, initial_rounds: Optional[int] = None,
            compiled: Optional[Compiled] = None, method_name: str = "leximin",
            time_limit: Optional[float] = None) -> Result:
    """Distribution over panels whose selection probabilities are leximin-optimal.

    `levels=1` stops after maximising the minimum probability (MAXIMIN).
    Raises InfeasibleQuotas (with the relaxation report) when no panel exists.
    `time_limit` (seconds): stop refining there; people not yet fixed keep the
    level reached so far as a guaranteed minimum, and `optimal` becomes False.
    """
    started = time.perf_counter()
    deadline = None if time_limit is None else started + time_limit
    report = progress or (lambda fraction, message: None)
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

    # 1. initial panels by multiplicative weights (per-person weights, shared in a group)
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
    reachable = covered.copy()
    for g in np.flatnonzero(~covered):
        if covered[g]:
            continue
        w = np.zeros(G)
        w[g] = 1.0
        w += 1e-3 * (~covered)  # also pick up other uncovered groups on the way
        counts, _ = oracle.best(w)
        if counts is not None and counts[g] > 0:
            remember(counts)
            covered |= counts > 0
            reachable[g] = True
    notes: list[str] = []
    unreachable = int(size[~reachable].sum())
    if unreachable:
        notes.append(f"{unreachable} people cannot be on any panel that meets the quotas; "
                     "their probability is 0.")

    # 2. column generation, level by level
    fixed = ~reachable
    p_fixed = np.zeros(G)
    master = _Master(c, ~fixed)
    for counts in panels:
        master.add_panel(counts)
    level = 0
    optimal = True
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
                y, z, value = master.solve(None if deadline is None else deadline - time.perf_counter())
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
            if value >= best_possible - 1e-9:
                # everyone still free can get exactly the best possible share
                p_fixed[~fixed] = best_possible
                fixed[:] = True
                break
            if deadline is not None and time.perf_counter() > deadline:
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
            report(min(last_fraction, 0.95), f"Level {level}: minimum {value:.4f}, gap {gap:.2e}")
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
    report(0.97, "Computing panel probabilities")
    lam = _distribution(c, panels, p_fixed * reachable, reachable)
    keep = lam > 0
    matrix = np.array(panels)[keep]
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

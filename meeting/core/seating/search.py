"""Greedy construction and local search over keep-together units, on a lexicographic objective.

The objective has five components, compared in an order that depends on the task (first
seating and rotation: HARD, REP, POS, BAL, FINE; rebalance: HARD, BAL, POS, REP, FINE). Repeats
rank above stays: with a participant host at every table, staying means meeting the host again,
so the two agree; without hosts (two tables of four, say) moving everyone would force every
pair to meet again.

    HARD   size limits broken + keep-apart pairs seated together     (always first)
    POS    rotation: non-hosts at the table they sit at now ("stays");
           rebalance: people moved from where they sit now
    REP    pairs seated together who met in an earlier round
    BAL    how far each table's size is outside the most even split, weighted above everything
           else in BAL; plus, per table and category value, how far the count is outside
           [floor, ceil] of the proportional share size * N_v / N (0 iff |count - share| < 1)
    FINE   sum of squared (count - share): the balance beyond "within one person"

Moves: a unit to another table, or two units of different tables swapped. All candidate moves of
one unit are scored at once with numpy (incidence counts per table, met and apart pairs between
a unit and each table). When that stalls, a few tables are re-seated exactly (exact.py). The
search stops when the first four components reach their lower bounds (0, or the repeat bound).
Every random choice uses one seeded generator and no choice depends on the clock (the exact step
has a node limit, not a time limit), so a seed gives the same plan.
"""
from __future__ import annotations

import numpy as np

from .exact import reseat_exactly
from .problem import Problem

HARD, POS, REP, BAL, FINE = range(5)
SEATING_ORDER = (HARD, REP, POS, BAL, FINE)     # first seating and rotation
REBALANCE_ORDER = (HARD, BAL, POS, REP, FINE)   # restore limits and balance, then fewest moves


class Search:
    def __init__(self, prob: Problem, pos: np.ndarray, order=SEATING_ORDER, *, seed: int = 0,
                 pos_lb: int = 0):
        self.prob = prob
        self.order = order
        self.rng = np.random.default_rng(seed)
        self.AU, self.MU, self.AP, self.internal = prob.unit_arrays()
        self.SU = prob.unit_size
        self.U, self.T, self.F = prob.U, prob.T, prob.F
        self.N = max(prob.n, 1)
        self.NF = prob.NF
        self.lo, self.hi, self.elo, self.ehi = prob.lo, prob.hi, prob.even_lo, prob.even_hi
        # A size outside the most even split outweighs all of the mix's deviation (at most 2 per
        # person and category): a table of one beside two of three is never "better mixed".
        self.even_weight = 2 * len({c for c, _ in prob.features}) * self.N + 1
        self.pos = pos.astype(np.int64)                          # U x T
        self.movable = prob.unit_fixed < 0
        self.tab = np.full(self.U, -1, dtype=np.int64)
        self.s = np.zeros(self.T, dtype=np.int64)
        self.K = np.zeros((self.T, self.F), dtype=np.int64)
        self.CMt = np.zeros((self.T, self.U), dtype=np.int64)   # [t, u]: met pairs between u and table t
        self.CAt = np.zeros((self.T, self.U), dtype=np.int64)   # [t, u]: apart pairs between u and table t
        self.has_apart = bool(self.AP.any())
        self.has_met = bool(self.MU.any())
        bound = {HARD: 0, POS: pos_lb, REP: prob.repeat_lower_bound(), BAL: 0}
        self.lb = np.array([bound[k] for k in order[:-1]], dtype=np.int64)  # in `order`
        self.all_tables = np.arange(self.T)

    # ------------------------------------------------------------------ state

    def place(self, u: int, b: int) -> None:
        self.tab[u] = b
        self.s[b] += self.SU[u]
        self.K[b] += self.AU[u]
        if self.has_met:
            self.CMt[b] += self.MU[u]
        if self.has_apart:
            self.CAt[b] += self.AP[u]

    def unplace(self, u: int) -> None:
        b = self.tab[u]
        self.tab[u] = -1
        self.s[b] -= self.SU[u]
        self.K[b] -= self.AU[u]
        if self.has_met:
            self.CMt[b] -= self.MU[u]
        if self.has_apart:
            self.CAt[b] -= self.AP[u]

    def load(self, tab: np.ndarray) -> None:
        for u in np.flatnonzero(self.tab >= 0):
            self.unplace(int(u))
        for u in np.flatnonzero(tab >= 0):
            self.place(int(u), int(tab[u]))
        self.refresh()

    def refresh(self) -> None:
        self.th, self.tb, self.tf = self.table_cost(self.K, self.s, self.all_tables)

    def table_cost(self, K: np.ndarray, s: np.ndarray, t: np.ndarray):
        """(hard, bal, fine) of tables t holding s people with feature counts K (rows)."""
        hard = np.maximum(0, s - self.hi[t]) + np.maximum(0, self.lo[t] - s)
        even = (np.maximum(0, self.elo[t] - s) + np.maximum(0, s - self.ehi[t])) * self.even_weight
        if self.F == 0:
            return hard, even, np.zeros(len(s))
        sNF = s[:, None] * self.NF[None, :]
        fl = sNF // self.N
        ce = -((-sNF) // self.N)
        bal = (np.maximum(0, fl - K) + np.maximum(0, K - ce)).sum(axis=1) + even
        d = K - sNF / self.N
        return hard, bal, (d * d).sum(axis=1)

    def totals(self) -> np.ndarray:
        """The five components (float array) of the current seating (every unit placed)."""
        units = np.arange(self.U)
        tab = self.tab
        apart = int(self.CAt[tab, units].sum() // 2) if self.has_apart else 0
        rep = int(self.CMt[tab, units].sum() // 2) + self.internal if self.has_met else self.internal
        pos = int(self.pos[units, tab].sum())
        return np.array([self.th.sum() + apart, pos, rep, self.tb.sum(), self.tf.sum()], dtype=float)

    def key(self, comps: np.ndarray) -> tuple:
        return tuple(round(float(comps[k]), 9) for k in self.order)

    # ------------------------------------------------------------------ candidate moves

    def choose(self, u: int, partners: np.ndarray):
        """The lexicographically best move of unit u (random among ties): a swap with a unit w
        (candidate w, allowed where `partners[w]`) or a move to table b (candidate U + b).
        Returns (candidate, its 5 component deltas) or None. The cheap components (sizes,
        apart, stays/moves, repeats) are scored for every candidate first; balance only for
        those still best on the components ranked above it."""
        a = int(self.tab[u])
        tab, U, T = self.tab, self.U, self.T
        other = np.concatenate([tab, self.all_tables])                       # the other table
        ds = np.concatenate([self.SU - self.SU[u], np.full(T, -self.SU[u])])  # change of a's size
        sa, sb = self.s[a] + ds, self.s[other] - ds
        ok = np.concatenate([partners & self.movable & (tab != a), self.all_tables != a])
        idx = np.flatnonzero(ok)
        if len(idx) == 0:
            return None
        lo, hi, th = self.lo, self.hi, self.th
        hard = (np.maximum(0, sa - hi[a]) + np.maximum(0, lo[a] - sa) - th[a]
                + np.maximum(0, sb - hi[other]) + np.maximum(0, lo[other] - sb) - th[other])
        ar = np.arange(U)
        if self.has_apart:
            CA = self.CAt
            hard[:U] += (CA[tab, u] - 2 * self.AP[u]) - CA[a, u] + CA[a] - CA[tab, ar]
            hard[U:] += CA[:, u] - CA[a, u]
        pos = np.concatenate([self.pos[u, tab] - self.pos[u, a] + self.pos[:, a] - self.pos[ar, tab],
                              self.pos[u] - self.pos[u, a]])
        if self.has_met:
            CM = self.CMt
            rep = np.concatenate([(CM[tab, u] - 2 * self.MU[u]) - CM[a, u] + CM[a] - CM[tab, ar],
                                  CM[:, u] - CM[a, u]])
        else:
            rep = np.zeros(U + T, dtype=np.int64)
        D = {HARD: hard, POS: pos, REP: rep}
        for k in self.order:
            if k not in D:  # balance: the count changes of the surviving candidates only
                D[BAL], D[FINE] = self._balance(u, a, idx, sa, sb, other)
            col = D[k][idx]
            if k == FINE:
                idx = idx[col <= col.min() + 1e-9]
            else:
                idx = idx[col == col.min()]
            if len(idx) == 1:
                break
        if BAL not in D:  # decided before balance: score the winners' balance too
            D[BAL], D[FINE] = self._balance(u, a, idx, sa, sb, other)
        c = int(idx[self.rng.integers(len(idx))]) if len(idx) > 1 else int(idx[0])
        return c, np.array([D[k][c] for k in range(5)], dtype=float)

    def _balance(self, u, a, c, sa, sb, other):
        """BAL and FINE deltas (arrays over all candidates, filled at candidates c)."""
        U = self.U
        dK = np.where((c < U)[:, None], self.AU[np.minimum(c, U - 1)], 0) - self.AU[u]
        t_b = other[c]
        _, ba, fa = self.table_cost(self.K[a] + dK, sa[c], np.full(len(c), a))
        _, bb, fb = self.table_cost(self.K[t_b] - dK, sb[c], t_b)
        bal = np.zeros(U + self.T)
        fine = np.zeros(U + self.T)
        bal[c] = ba - self.tb[a] + bb - self.tb[t_b]
        fine[c] = fa - self.tf[a] + fb - self.tf[t_b]
        return bal, fine

    def best(self, D: np.ndarray, ok: np.ndarray):
        """The lexicographically best allowed column of D (random among ties), or None."""
        idx = np.flatnonzero(ok)
        if len(idx) == 0:
            return None
        for k in self.order[:-1]:
            col = D[k, idx]
            idx = idx[col == col.min()]
        col = D[self.order[-1], idx]
        idx = idx[col <= col.min() + 1e-9]
        return int(idx[self.rng.integers(len(idx))]) if len(idx) > 1 else int(idx[0])

    def apply(self, u: int, c: int) -> int | None:
        """Apply candidate c for unit u; return the partner unit of a swap (or None)."""
        a = int(self.tab[u])
        if c < self.U:
            w = c
            b = int(self.tab[w])
            self.unplace(u)
            self.unplace(w)
            self.place(u, b)
            self.place(w, a)
        else:
            w = None
            b = c - self.U
            self.unplace(u)
            self.place(u, b)
        tabs = np.array([a, b])
        h, bl, f = self.table_cost(self.K[tabs], self.s[tabs], tabs)
        self.th[tabs], self.tb[tabs], self.tf[tabs] = h, bl, f
        return w

    # ------------------------------------------------------------------ construction

    def construct(self, order_units: list[int] | None = None) -> None:
        """Seat fixed units at their tables, then each other unit (largest, then rarest values
        first) where it breaks fewest limits, repeats least and fits the balance best."""
        for u in np.flatnonzero(~self.movable & (self.tab < 0)):
            self.place(int(u), int(self.prob.unit_fixed[u]))
        if order_units is None:
            rarity = (self.AU / np.maximum(self.NF, 1)).sum(axis=1) if self.F else np.zeros(self.U)
            noise = self.rng.random(self.U)
            movable = np.flatnonzero(self.movable)
            order_units = list(movable[np.lexsort((noise[movable], -rarity[movable], -self.SU[movable]))])
        z = self.ehi.astype(float)
        share = z[:, None] * self.NF[None, :] / self.N           # final shares at even sizes
        ceil_share = np.ceil(share - 1e-9)
        for u in order_units:
            su = self.SU[u]
            hard = np.maximum(0, self.s + su - self.hi) + np.maximum(0, self.s + su - self.ehi)
            if self.has_apart:
                hard = hard + self.CAt[:, u]
            pos = self.pos[u]
            rep = self.CMt[:, u] if self.has_met else np.zeros(self.T, dtype=np.int64)
            after = self.K + self.AU[u]
            bal = (np.maximum(0, after - ceil_share) * (self.AU[u] > 0)).sum(axis=1)
            fine = ((self.K - share) * self.AU[u]).sum(axis=1) + (self.s / np.maximum(z, 1))
            D = np.stack([hard, pos, rep, bal, fine]).astype(float)
            self.place(int(u), self.best(D, np.ones(self.T, dtype=bool)))
        self.refresh()

    # ------------------------------------------------------------------ local search

    def violators(self, comp: int) -> np.ndarray:
        tab = self.tab
        units = np.arange(self.U)
        if comp == HARD:
            bad = self.s > self.hi
            if not bad.any() and (self.s < self.lo).any():
                bad = self.s > self.lo
            v = bad[tab]
            if self.has_apart:
                v = v | (self.CAt[tab, units] > 0)
        elif comp == POS:
            v = self.pos[units, tab] > 0
        elif comp == REP:
            v = self.CMt[tab, units] > 0
        else:  # a unit with a value over its table's share, or without one under it
            uneven = (self.s < self.elo) | (self.s > self.ehi)
            v = uneven[tab]
            if (self.s < self.elo).any():
                v = v | (self.s > self.elo)[tab]
            if self.F:
                sNF = self.s[:, None] * self.NF[None, :]
                over = self.K > -((-sNF) // self.N)
                under = self.K < sNF // self.N
                has = self.AU > 0
                v = v | (has & over[tab]).any(axis=1) | (~has & under[tab]).any(axis=1)
        return np.flatnonzero(v & self.movable)

    def at_bound(self, comps: np.ndarray) -> np.ndarray:
        """Positions (in `order`) of the first four components still above their lower bound."""
        ordered = np.array([comps[k] for k in self.order[:-1]])
        return np.flatnonzero(ordered > self.lb)

    def run(self, *, max_iter: int | None = None, walk: float = 0.01, tenure: int = 10,
            stall: int | None = None, exact_steps: int | None = None, patience: int = 10) -> np.ndarray:
        """Improve the constructed seating; return the best unit -> table array found.

        Local search on the first component above its bound (others above it kept); when it
        stalls, an exact re-seating of a few tables around a remaining violation (`reseat_exactly`).
        """
        movable = np.flatnonzero(self.movable)
        if len(movable) == 0 or self.T < 2:
            return self.tab.copy()
        if max_iter is None:
            max_iter = 20 * len(movable) + 2000
        if stall is None:
            stall = 300 + 2 * len(movable)
        if exact_steps is None:
            exact_steps = 20 + self.T
        comps = self.totals()
        best_key, best_tab = self.key(comps), self.tab.copy()
        tabu = np.full(self.U, -1, dtype=np.int64)
        since_best = 0
        failures = 0
        it = 0
        while it < max_iter:
            above = self.at_bound(comps)
            if len(above) == 0:
                break
            if since_best >= stall:
                if exact_steps <= 0:
                    break
                exact_steps -= 1
                if self.key(comps) > best_key:
                    self.load(best_tab)
                sel = self.pick_tables(self.order[int(above[0])], grow=failures)
                improved, proved = reseat_exactly(self, sel)
                if improved:
                    failures = 0
                else:
                    failures += 1             # the next neighbourhood has one table more
                    if failures >= patience or len(sel) == self.T:
                        break                 # the bound is likely not reachable
                comps = self.totals()
                if self.key(comps) < best_key:
                    best_key, best_tab = self.key(comps), self.tab.copy()
                since_best = stall // 2       # a little local search, then the next exact step
                continue
            focus = self.order[int(above[0])]
            cand = self.violators(focus)
            if len(cand) == 0:
                cand = movable
            free = cand[tabu[cand] < it]
            pool = free if len(free) else cand
            u = int(pool[self.rng.integers(len(pool))])
            got = self.choose(u, tabu < it)
            it += 1
            since_best += 1
            if got is None:
                continue
            c, delta = got
            d = delta[list(self.order)]
            head = d[:int(above[0])]
            if (head != 0).any() and head[np.flatnonzero(head != 0)[0]] > 0:
                continue                      # would break a component already at its bound
            nz = np.flatnonzero(np.abs(d) > 1e-9)
            if len(nz) and d[nz[0]] > 0 and self.rng.random() >= walk:
                continue                      # a worsening step, taken only now and then
            w = self.apply(u, c)
            tabu[u] = it + tenure
            if w is not None:
                tabu[w] = it + tenure
            comps = comps + delta
            k = self.key(comps)
            if k < best_key:
                best_key, best_tab = k, self.tab.copy()
                since_best = 0
        if self.key(comps) > best_key:
            self.load(best_tab)
        return self.tab.copy()

    def pick_tables(self, focus: int, grow: int = 0) -> np.ndarray:
        """A few tables (about 16 movable units, plus up to 2 more after `grow` failures) for an exact re-seating:
        one with a violation of `focus`, some others with violations, the rest at random."""
        movers = max(1.0, self.movable.sum() / self.T)
        size = int(np.clip(round(16 / movers) + min(grow, 2), 3, self.T))
        bad_units = self.violators(focus)
        bad = np.unique(self.tab[bad_units]) if len(bad_units) else np.arange(0)
        first = [int(bad[self.rng.integers(len(bad))])] if len(bad) else []
        others_bad = self.rng.permutation(np.setdiff1d(bad, first))[:max(0, size // 2 - 1)]
        chosen = first + [int(t) for t in others_bad]
        rest = self.rng.permutation(np.setdiff1d(np.arange(self.T), chosen))
        chosen += [int(t) for t in rest[:size - len(chosen)]]
        return np.array(sorted(chosen), dtype=np.int64)

    def reseat(self, units: np.ndarray, tables: np.ndarray) -> None:
        for u in units:
            self.unplace(int(u))
        for u, t in zip(units, tables):
            self.place(int(u), int(t))
        self.refresh()

    def person_tables(self) -> np.ndarray:
        return self.tab[self.prob.unit_of]

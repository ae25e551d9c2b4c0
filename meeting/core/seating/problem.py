"""One seating problem as arrays: checks, keep-together units, encounters, bounds, the report.

Everything is indexed: people 0..n-1 (sorted by id, so the result does not depend on the order
they are given in), tables 0..T-1 (in the given order), features 0..F-1 (one per category value,
UNKNOWN included), units 0..U-1 (keep-together groups; a lone person is a unit of one).
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

from .model import UNKNOWN, Person, Plan, Rules, SeatingError, TableReport, TableSpec


def check_id(x) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise SeatingError("bad_id", [{"id": repr(x)}])
    return int(x)


def _value(v) -> str:
    return UNKNOWN if v is None or v == "" else v


class Problem:
    """The checked input of one round, with the arrays the search and the report share."""

    def __init__(self, people: Iterable[Person], tables: Sequence[TableSpec], rules: Rules = Rules(), *,
                 history: Sequence[Mapping[int, int]] = (), current: Mapping[int, int] | None = None,
                 check_min_size: bool = True):
        people = list(people)
        seen: set[int] = set()
        for p in people:
            pid = check_id(p.id)
            if pid in seen:
                raise SeatingError("person_twice", [{"person": pid}])
            seen.add(pid)
        people.sort(key=lambda p: int(p.id))
        self.people = people
        self.ids = [int(p.id) for p in people]
        self.index = {pid: i for i, pid in enumerate(self.ids)}
        self.n = n = len(people)
        self.rules = rules

        tables = list(tables)
        if not tables:
            raise SeatingError("no_tables")
        self.table_ids: list[int] = []
        for t in tables:
            tid = check_id(t.id)
            if tid in self.table_ids:
                raise SeatingError("table_twice", [{"table": tid}])
            self.table_ids.append(tid)
        self.tables = tables
        self.tindex = {tid: j for j, tid in enumerate(self.table_ids)}
        self.T = T = len(tables)

        # hosts
        self.host_of = np.full(T, -1, dtype=np.int64)        # table -> person index or -1
        hosted: dict[int, list[int]] = {}
        for j, t in enumerate(tables):
            if t.host is None:
                continue
            h = check_id(t.host)
            hosted.setdefault(h, []).append(self.table_ids[j])
        for h, tids in hosted.items():
            if len(tids) > 1:
                raise SeatingError("host_twice", [{"person": h, "tables": tids}])
        for j, t in enumerate(tables):
            if t.host is not None:
                if int(t.host) not in self.index:
                    raise SeatingError("host_not_present", [{"table": self.table_ids[j], "host": int(t.host)}])
                self.host_of[j] = self.index[int(t.host)]
        self.fixed = np.full(n, -1, dtype=np.int64)           # person -> table index or -1
        for j in range(T):
            if self.host_of[j] >= 0:
                self.fixed[self.host_of[j]] = j

        # sizes
        if rules.min_size < 0 or (rules.max_size is not None and rules.max_size < 1):
            raise SeatingError("sizes", [{"table": None, "min_size": rules.min_size, "max_size": rules.max_size}])
        caps = [t.capacity for t in tables]
        for c in caps:
            if c is not None:
                check_id(c)
        if rules.max_size is not None:
            default = rules.max_size
        else:  # the smallest size that seats everyone
            fixed_seats = sum(c for c in caps if c is not None)
            free = sum(1 for c in caps if c is None)
            default = max(1, -(-(n - fixed_seats) // free)) if free else 1
        self.hi = np.array([c if c is not None else default for c in caps], dtype=np.int64)
        for j in range(T):
            if rules.min_size > self.hi[j]:
                raise SeatingError("sizes", [{"table": self.table_ids[j], "min_size": rules.min_size,
                                              "max_size": int(self.hi[j])}])
        self.lo = np.full(T, rules.min_size, dtype=np.int64)
        if n > int(self.hi.sum()):
            raise SeatingError("capacity", [{"people": n, "seats": int(self.hi.sum())}])
        if check_min_size and n < int(self.lo.sum()):
            raise SeatingError("min_size", [{"people": n, "tables": T, "min_size": rules.min_size}])
        self.even_lo, self.even_hi = even_sizes(n, self.lo, self.hi)

        # categories -> features (one column per category value)
        cats: dict[str, set] = {}
        for p in people:
            for c in p.categories:
                cats.setdefault(c, set())
        for p in people:
            for c in cats:
                cats[c].add(_value(p.categories.get(c)))
        self.categories: dict[str, list] = {}
        self.features: list[tuple[str, object]] = []
        for c, vals in cats.items():
            ordered = sorted((v for v in vals if v != UNKNOWN), key=str) + ([UNKNOWN] if UNKNOWN in vals else [])
            self.categories[c] = ordered
            self.features.extend((c, v) for v in ordered)
        fidx = {f: k for k, f in enumerate(self.features)}
        self.F = F = len(self.features)
        self.A = np.zeros((n, F), dtype=np.int64)
        for i, p in enumerate(people):
            for c in cats:
                self.A[i, fidx[(c, _value(p.categories.get(c)))]] = 1
        self.NF = self.A.sum(axis=0)                            # people per feature

        # keep-together units (overlapping groups merge)
        parent = list(range(n))

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for g in rules.together:
            members = [self.index[check_id(x)] for x in g if int(x) in self.index]
            for a, b in zip(members, members[1:]):
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
        groups: dict[int, list[int]] = {}
        for i in range(n):
            groups.setdefault(find(i), []).append(i)
        self.units = list(groups.values())                       # sorted by smallest member
        self.U = U = len(self.units)
        self.unit_of = np.empty(n, dtype=np.int64)
        for u, mem in enumerate(self.units):
            self.unit_of[mem] = u
        self.unit_size = np.array([len(m) for m in self.units], dtype=np.int64)
        self.unit_fixed = np.full(U, -1, dtype=np.int64)
        for u, mem in enumerate(self.units):
            fixed_tables = sorted({int(self.fixed[i]) for i in mem if self.fixed[i] >= 0})
            ids = [self.ids[i] for i in mem]
            if len(fixed_tables) > 1:
                raise SeatingError("together_hosts", [{"group": ids, "tables": [self.table_ids[j] for j in fixed_tables]}])
            if fixed_tables:
                self.unit_fixed[u] = fixed_tables[0]
            limit = int(self.hi[fixed_tables[0]]) if fixed_tables else int(self.hi.max())
            if len(mem) > limit:
                raise SeatingError("together_too_big", [{"group": ids, "size": len(mem), "max_size": limit}])

        # keep-apart pairs
        pairs: set[tuple[int, int]] = set()
        for g in rules.apart:
            members = sorted(self.index[check_id(x)] for x in g if int(x) in self.index)
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    pairs.add((members[x], members[y]))
        self.apart_pairs = sorted(pairs)
        for a, b in self.apart_pairs:
            if self.unit_of[a] == self.unit_of[b]:
                raise SeatingError("together_apart", [{"group": [self.ids[i] for i in self.units[self.unit_of[a]]],
                                                       "pair": [self.ids[a], self.ids[b]]}])
        self._check_apart_cliques()

        # encounters so far (a pair "met" when it shared a table in any earlier round)
        rounds = list(history) + ([current] if current is not None else [])
        self.rounds = rounds
        self.met = np.zeros((n, n), dtype=bool)
        for r in rounds:
            by_table: dict[int, list[int]] = {}
            for pid, tid in r.items():
                if pid in self.index:
                    by_table.setdefault(tid, []).append(self.index[pid])
            for mem in by_table.values():
                mem = np.array(mem)
                self.met[np.ix_(mem, mem)] = True
        np.fill_diagonal(self.met, False)

        self.current = np.full(n, -1, dtype=np.int64)            # person -> current table index or -1
        for pid, tid in (current or {}).items():
            if pid in self.index and tid in self.tindex:
                self.current[self.index[pid]] = self.tindex[tid]

    # ------------------------------------------------------------------ checks

    def _check_apart_cliques(self) -> None:
        """Keep-apart people who must all sit at different tables cannot outnumber the tables."""
        if not self.apart_pairs:
            return
        adj: dict[int, set[int]] = {}
        for a, b in self.apart_pairs:
            ua, ub = int(self.unit_of[a]), int(self.unit_of[b])
            adj.setdefault(ua, set()).add(ub)
            adj.setdefault(ub, set()).add(ua)
        best: list[int] = []
        budget = [20000]

        def expand(clique: list[int], cand: set[int]):  # Bron–Kerbosch without pivot, bounded
            nonlocal best
            budget[0] -= 1
            if budget[0] < 0:
                return
            if len(clique) > len(best):
                best = list(clique)
            for v in sorted(cand):
                if len(clique) + len(cand) <= len(best):
                    return
                expand(clique + [v], cand & adj[v])
                cand = cand - {v}

        expand([], set(adj))
        if len(best) > self.T:
            ids = sorted(self.ids[i] for u in best for i in self.units[u])
            raise SeatingError("apart_impossible", [{"people": ids, "tables": self.T}])

    # ------------------------------------------------------------------ unit arrays

    def unit_arrays(self):
        """(features per unit U x F, met pairs between units U x U, apart pairs between units U x U,
        met pairs inside units: a constant of every plan)."""
        U, n = self.U, self.n
        if U == n:  # no keep-together group: unit u is person u
            AU, MU = self.A.copy(), self.met.astype(np.int64)
        else:  # sums over members (float matmul: exact for these small counts, and fast)
            onehot = np.zeros((n, U))
            onehot[np.arange(n), self.unit_of] = 1
            AU = np.rint(onehot.T @ self.A).astype(np.int64)
            MU = np.rint(onehot.T @ self.met.astype(float) @ onehot).astype(np.int64)
        internal = int(np.trace(MU) // 2)
        np.fill_diagonal(MU, 0)
        AP = np.zeros((U, U), dtype=np.int64)
        for a, b in self.apart_pairs:
            ua, ub = self.unit_of[a], self.unit_of[b]
            AP[ua, ub] += 1
            AP[ub, ua] += 1
        return AU, MU, AP, internal

    # ------------------------------------------------------------------ bounds

    def min_table_sizes(self) -> np.ndarray:
        """The smallest size each table can have in any plan within the size limits."""
        others = self.hi.sum() - self.hi
        return np.maximum(self.lo, self.n - others)

    def repeat_lower_bound(self) -> int:
        """A lower bound of the pairs who sit together again, from sizes, hosts and groups.

        Person p sits at a table of at least s people and meets s-1 of them, but has only
        `unmet_p` people left not met: at least (s-1) - unmet_p repeats involve p, and every
        repeat involves two people. A mover who has met every table's host repeats with one.
        Pairs in one keep-together group who met before repeat whatever the plan.
        """
        n = self.n
        if n == 0:
            return 0
        smin = self.min_table_sizes()
        unmet = (n - 1) - self.met.sum(axis=1)
        movable_min = int(smin.min())
        r = np.zeros(n, dtype=np.int64)
        host_forced = 0
        all_hosted = bool((self.host_of >= 0).all())
        for i in range(n):
            s = int(smin[self.fixed[i]]) if self.fixed[i] >= 0 else movable_min
            r[i] = max(0, (s - 1) - int(unmet[i]))
            if self.fixed[i] < 0 and all_hosted and self.met[i, self.host_of].all():
                host_forced += 1
                r[i] = max(r[i], 1)
        internal = 0
        for mem in self.units:
            if len(mem) > 1:
                internal += int(self.met[np.ix_(mem, mem)].sum() // 2)
        return max(int(-(-r.sum() // 2)), host_forced, internal, self._spread_bound())

    def _spread_bound(self) -> int:
        """People who shared a table in one earlier round, spread over T tables as evenly as
        possible, still leave pairs together (pigeonhole): per round, the sum over its tables."""
        best = 0
        T = self.T
        for r in self.rounds:
            groups: dict[int, int] = {}
            for pid, tid in r.items():
                if pid in self.index:
                    groups[tid] = groups.get(tid, 0) + 1
            total = 0
            for g in groups.values():
                q, rem = divmod(g, T)
                total += rem * (q + 1) * q // 2 + (T - rem) * q * (q - 1) // 2
            best = max(best, total)
        return best

    # ------------------------------------------------------------------ report

    def plan(self, tab: np.ndarray, current: Mapping[int, int] | None = None) -> Plan:
        """The report of a seating `tab` (person index -> table index, -1 for not seated)."""
        n, N = self.n, int((tab >= 0).sum())
        seated = tab >= 0
        NF = self.A[seated].sum(axis=0)
        reports: list[TableReport] = []
        repeats = 0
        worst = 0.0
        for j, tid in enumerate(self.table_ids):
            mem = np.flatnonzero(tab == j)
            size = len(mem)
            counts_vec = self.A[mem].sum(axis=0)
            share = size * NF / N if N else np.zeros(self.F)
            dev = float(np.abs(counts_vec - share).max()) if self.F and size else 0.0
            met_pairs = int(self.met[np.ix_(mem, mem)].sum() // 2)
            pairs = size * (size - 1) // 2
            counts: dict[str, dict] = {}
            targets: dict[str, dict] = {}
            for k, (c, v) in enumerate(self.features):
                counts.setdefault(c, {})[v] = int(counts_vec[k])
                targets.setdefault(c, {})[v] = float(share[k])
            host = int(self.host_of[j])
            reports.append(TableReport(tid, [self.ids[i] for i in mem], size, counts, targets, dev,
                                       pairs - met_pairs, met_pairs, self.ids[host] if host >= 0 else None))
            repeats += met_pairs
            worst = max(worst, dev)
        assignment = {self.ids[i]: self.table_ids[tab[i]] for i in range(n) if tab[i] >= 0}
        moves = []
        stays = 0
        cur = current or {}
        for i in range(n):
            if tab[i] < 0:
                continue
            pid, to = self.ids[i], self.table_ids[tab[i]]
            before = cur.get(pid)
            if before != to:
                moves.append((pid, before, to))
            elif self.fixed[i] < 0:
                stays += 1
        return Plan(assignment, reports, repeats, self.repeat_lower_bound(), worst, moves,
                    stays=stays if current is not None else 0, within_one=worst < 1 - 1e-9)


def even_sizes(n: int, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per table, the range of sizes of the most even split of n people within [lo, hi]:
    the largest integer level m with sum(clip(m, lo, hi)) <= n; tables then hold clip(m) or
    clip(m + 1) people (only clip(m) when that already seats everyone)."""
    if len(lo) == 0:
        return lo, hi
    m_lo, m_hi = 0, int(hi.max()) + 1
    while m_lo < m_hi:  # largest m with total(m) <= n
        mid = (m_lo + m_hi + 1) // 2
        if int(np.clip(mid, lo, hi).sum()) <= n:
            m_lo = mid
        else:
            m_hi = mid - 1
    a = np.clip(m_lo, lo, hi)
    b = a if int(a.sum()) == n else np.clip(m_lo + 1, lo, hi)
    return a.astype(np.int64), b.astype(np.int64)

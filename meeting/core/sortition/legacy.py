"""LEGACY: the Sortition Foundation's greedy one-at-a-time method (pre-2020).

Each step takes the quota value whose unmet minimum is most urgent relative to the
people still eligible for it, and picks one of those people uniformly at random.
Its selection probabilities are unknown in closed form; `legacy` estimates them
from many seeded runs, so the result is an empirical distribution.
"""
from __future__ import annotations

import time
from collections import Counter
from typing import Optional

import numpy as np

from .feasibility import check_feasibility
from .model import InfeasibleQuotas, Instance, Progress, Result, SortitionError
from .problem import Compiled, compile_instance


def legacy_panel(c: Compiled, rng: np.random.Generator, max_attempts: int = 100) -> Optional[list[int]]:
    """One greedy panel (person indices), or None when every attempt failed."""
    member = c.member
    homes = np.array(c.person_household)
    for _ in range(max_attempts):
        eligible = np.ones(c.n, dtype=bool)
        # values with max 0 exclude their people from the start
        for q in np.flatnonzero(c.hi == 0):
            eligible &= ~member[q]
        chosen_count = np.zeros(len(c.quotas), dtype=int)
        panel: list[int] = []
        ok = True
        while len(panel) < c.k:
            available = member[:, eligible].sum(axis=1)
            open_values = (available > 0) & (chosen_count < c.hi)
            if not open_values.any():
                ok = False
                break
            ratio = np.where(open_values, (c.lo - chosen_count) / np.maximum(available, 1), -np.inf)
            top = ratio.max()
            if top > 1:
                ok = False
                break
            q = int(rng.choice(np.flatnonzero(ratio == top)))
            person = int(rng.choice(np.flatnonzero(eligible & member[q])))
            panel.append(person)
            eligible[person] = False
            if homes[person] >= 0:
                eligible &= homes != homes[person]
            chosen_count += member[:, person]
            for full in np.flatnonzero(chosen_count >= c.hi):
                eligible &= ~member[full]
        if ok and len(panel) == c.k and np.all(chosen_count >= c.lo) and np.all(chosen_count <= c.hi):
            return sorted(panel)
    return None


def legacy(instance: Instance, *, runs: int = 1000, seed: int = 0,
           progress: Optional[Progress] = None, max_attempts: int = 100) -> Result:
    """Estimate LEGACY's distribution from `runs` seeded greedy draws."""
    started = time.perf_counter()
    report = progress or (lambda fraction, message: None)
    c = compile_instance(instance)
    feas = check_feasibility(instance, c)
    if not feas.feasible:
        raise InfeasibleQuotas(feas)
    rng = np.random.default_rng(seed)
    tally: Counter[tuple[int, ...]] = Counter()
    failures = 0
    step = max(1, runs // 50)
    for r in range(runs):
        panel = legacy_panel(c, rng, max_attempts)
        if panel is None:
            failures += 1
        else:
            tally[tuple(panel)] += 1
        if (r + 1) % step == 0:
            report((r + 1) / runs, f"Greedy draw {r + 1} of {runs}")
    if not tally:
        raise SortitionError("The greedy method failed in every attempt on these quotas; "
                             "use leximin or maximin.")
    panels = list(tally)
    freq = np.array([tally[p] for p in panels], dtype=float)
    lam = freq / freq.sum()
    # every person is their own group: a composition is a concrete panel
    groups = [np.array([i]) for i in range(c.n)]
    matrix = np.zeros((len(panels), c.n), dtype=int)
    for j, p in enumerate(panels):
        matrix[j, list(p)] = 1
    probabilities = lam @ matrix
    notes = [f"Probabilities estimated from {int(freq.sum())} greedy draws."]
    if failures:
        notes.append(f"{failures} of {runs} greedy draws failed after {max_attempts} attempts.")
    report(1.0, "Done")
    return Result(method="legacy", k=c.k, probabilities=probabilities.astype(float), groups=groups,
                  panels=matrix, panel_probabilities=lam, seconds=time.perf_counter() - started,
                  iterations=runs, levels=0, optimal=False, notes=notes)

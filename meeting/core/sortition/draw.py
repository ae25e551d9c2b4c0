"""From a distribution to people: seeded draw, alternates, replacements, public lottery.

Every draw records its seed: the same pool, quotas, method and seed give the same
panel, which lets anyone re-run and audit it.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .feasibility import check_feasibility
from .model import FeasibilityReport, InfeasibleQuotas, Instance, Pool, Progress, Quota, QuotaIssue, Result, SortitionError, norm
from .problem import compile_instance


@dataclass
class Draw:
    """A drawn panel (person indices into the pool) and its ordered alternates."""

    seed: int
    panel: list[int]
    alternates: list[int] = field(default_factory=list)
    composition: int = 0          # index into result.panels
    public_seed: Optional[str] = None


def new_seed() -> int:
    """A fresh seed from the operating system (recorded, so the draw can be re-run)."""
    return secrets.randbits(63)


def _households(instance: Instance) -> list[str]:
    hh = instance.pool.households
    if hh is None:
        return [""] * len(instance.pool.ids)
    return [norm(h) for h in hh]


def draw(instance: Instance, result: Result, *, seed: Optional[int] = None,
         alternates: int = 0) -> Draw:
    """Draw one panel from `result` and `alternates` people in the order to invite them.

    Alternates: further panels are drawn from the same distribution with the same
    random stream; their members who are not on the panel (nor share a household
    with a panel member) are appended in drawn order. So alternates follow the same
    fair probabilities and, taken panel by panel, the same quotas. If the pool runs
    short of such people, the remaining eligible ones follow in random order.
    """
    seed = new_seed() if seed is None else int(seed)
    rng = np.random.default_rng(seed)
    j = int(rng.choice(len(result.panel_probabilities), p=result.panel_probabilities))
    panel = result.panel_members(j, rng)
    return Draw(seed=seed, panel=panel, composition=j,
                alternates=_alternates(instance, result, panel, alternates, rng))


def _alternates(instance: Instance, result: Result, panel: list[int], count: int,
                rng: np.random.Generator) -> list[int]:
    if count <= 0:
        return []
    homes = _households(instance)
    taken_homes = {homes[i] for i in panel if homes[i]}
    used = set(panel)
    out: list[int] = []

    def eligible(i: int) -> bool:
        return i not in used and not (homes[i] and homes[i] in taken_homes)

    for _ in range(200):
        if len(out) >= count:
            break
        j = int(rng.choice(len(result.panel_probabilities), p=result.panel_probabilities))
        for i in rng.permutation(result.panel_members(j, rng)):
            i = int(i)
            if len(out) < count and eligible(i):
                out.append(i)
                used.add(i)
    if len(out) < count:
        rest = [i for i in rng.permutation(result.n).tolist()
                if eligible(i) and result.probabilities[i] > 0]
        out.extend(rest[:count - len(out)])
    return out


@dataclass
class Replacement:
    """Replacements for open seats: `members` are indices into the original pool."""

    seed: int
    members: list[int]
    result: Result
    open_seats: int


def replacement_instance(instance: Instance, confirmed: list[int], excluded: list[int]
                         ) -> tuple[Instance, list[int]]:
    """The sub-problem for open seats: the remaining pool and the quotas minus confirmed members.

    Returns the instance and the map from its pool positions to the original ones.
    Excluded: people who declined or dropped out, plus the housemates of confirmed members.
    """
    pool = instance.pool
    c = compile_instance(instance)
    homes = _households(instance)
    confirmed_homes = {homes[i] for i in confirmed if homes[i]}
    blocked = set(confirmed) | set(excluded)
    keep = [i for i in range(len(pool.ids))
            if i not in blocked and not (homes[i] and homes[i] in confirmed_homes)]
    counts = c.member[:, confirmed].sum(axis=1) if confirmed else np.zeros(len(c.quotas), int)
    quotas: list[Quota] = []
    issues: list[QuotaIssue] = []
    for q, n_conf in zip(instance.quotas, counts):
        n_conf = int(n_conf)
        if n_conf > q.max:
            issues.append(QuotaIssue("confirmed_above_max",
                                     f"the confirmed members already include {n_conf} with "
                                     f"{q.category}={q.value}, above its maximum {q.max}",
                                     q.category, q.value, n_conf, q.max))
        quotas.append(Quota(q.category, q.value, max(0, q.min - n_conf), max(0, q.max - n_conf),
                            None if q.min_flex is None else max(0, q.min_flex - n_conf),
                            None if q.max_flex is None else max(0, q.max_flex - n_conf)))
    open_seats = instance.k - len(confirmed)
    if issues:
        raise InfeasibleQuotas(FeasibilityReport(False, issues, [], False))
    if open_seats < 1:
        raise SortitionError("There are no open seats: the confirmed members fill the panel.")
    sub_pool = Pool([pool.ids[i] for i in keep],
                    {cat: [vals[i] for i in keep] for cat, vals in pool.features.items()},
                    None if pool.households is None else [pool.households[i] for i in keep])
    return Instance(sub_pool, quotas, open_seats), keep


def replace(instance: Instance, confirmed: list[int], excluded: list[int], *,
            method: str = "leximin", seed: Optional[int] = None,
            progress: Optional[Progress] = None) -> Replacement:
    """Draw people for the open seats so that the whole panel keeps every quota.

    `confirmed`: panel members who stay; `excluded`: drop-outs and anyone else
    who must not be drawn. Housemates of confirmed members are never drawn.
    """
    from . import select  # late import: select imports this module

    sub, keep = replacement_instance(instance, confirmed, excluded)
    feas = check_feasibility(sub)
    if not feas.feasible:
        raise InfeasibleQuotas(feas)
    result = select(sub, method=method, progress=progress, seed=0 if seed is None else seed)
    d = draw(sub, result, seed=seed)
    return Replacement(seed=d.seed, members=sorted(keep[i] for i in d.panel), result=result,
                       open_seats=sub.k)


def lottery_tickets(result: Result, m: int = 1000, seed: int = 0) -> np.ndarray:
    """Round the distribution to m equally likely tickets (composition index per ticket).

    Each composition gets floor(m*p) tickets; the leftover tickets go to compositions
    by systematic sampling of the fractional parts, so every composition's expected
    number of tickets is exactly m*p and the total is exactly m.
    """
    target = m * np.asarray(result.panel_probabilities, dtype=float)
    base = np.floor(target + 1e-9).astype(int)
    frac = np.clip(target - base, 0, None)
    leftover = m - int(base.sum())
    if leftover > 0:
        frac = frac * (leftover / frac.sum())
        rng = np.random.default_rng(seed)
        points = rng.uniform() + np.arange(leftover)
        cum = np.cumsum(frac)
        picks = np.searchsorted(cum, points, side="right")
        picks = np.minimum(picks, len(frac) - 1)
        np.add.at(base, picks, 1)
    return np.repeat(np.arange(len(base)), base)


def _seed_from_text(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.strip().encode("utf-8")).digest()[:8], "big") >> 1


def draw_public(instance: Instance, result: Result, tickets: np.ndarray, public_seed: str) -> Draw:
    """Pick a ticket by a seed announced in public (e.g. dice digits "0 4 7").

    Digits only: ticket number = the number mod len(tickets) (three ten-sided dice
    choose among 1,000 tickets). Other text: its SHA-256. The people within each
    group are chosen by a random stream seeded from the same text.
    """
    text = "".join(public_seed.split())
    if not text:
        raise SortitionError("The public seed is empty.")
    number = int(text) if text.isdigit() else _seed_from_text(text)
    ticket = number % len(tickets)
    j = int(tickets[ticket])
    seed = _seed_from_text(text)
    rng = np.random.default_rng(seed)
    return Draw(seed=seed, panel=result.panel_members(j, rng), composition=j, public_seed=text)

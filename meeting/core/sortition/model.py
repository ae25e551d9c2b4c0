"""Plain data for panel selection by lot: the pool, the quotas, the result.

Everything here is pure: no file reading, no printing. Values are matched after
strip + case-folding, so "Female" in the quotas matches " female" in the pool.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np

Progress = Callable[[float, str], None]


def norm(value: object) -> str:
    """Normalise a category value or address part for matching."""
    return str(value if value is not None else "").strip().casefold()


class SortitionError(Exception):
    """Input that cannot be turned into a selection (bad pool, bad quotas)."""


class SolverError(SortitionError):
    """A solver failed or returned an invalid panel (should not happen)."""


@dataclass(frozen=True)
class Quota:
    """Bounds on how many panel members have `value` in `category`.

    `min_flex` / `max_flex` (optional) cap how far a suggested relaxation may move
    the bounds: min is never lowered below `min_flex`, max never raised above `max_flex`.
    """

    category: str
    value: str
    min: int
    max: int
    min_flex: Optional[int] = None
    max_flex: Optional[int] = None


@dataclass
class Pool:
    """The people who can be drawn.

    `features[category][i]` is person i's value in that category. `households[i]`
    is a household key (e.g. the joined address) or None/"" for no constraint:
    at most one person per household may sit on the panel.
    """

    ids: list[str]
    features: dict[str, list[str]]
    households: Optional[list[Optional[str]]] = None

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Instance:
    """A selection problem: pick exactly `k` people from `pool` meeting `quotas`."""

    pool: Pool
    quotas: list[Quota]
    k: int

    @property
    def categories(self) -> list[str]:
        seen: list[str] = []
        for q in self.quotas:
            if q.category not in seen:
                seen.append(q.category)
        return seen


@dataclass(frozen=True)
class QuotaIssue:
    """One problem found by the feasibility check, in structured form.

    `kind` is a stable code for the web app to localise:
    "pool_too_small", "min_above_pool", "category_min_sum", "category_max_sum",
    "min_above_max", "households", "no_panel".
    """

    kind: str
    message: str
    category: Optional[str] = None
    value: Optional[str] = None
    current: Optional[int] = None
    limit: Optional[int] = None


@dataclass(frozen=True)
class Relaxation:
    """Change one quota bound from `current` to `suggested`."""

    category: str
    value: str
    bound: str  # "min" or "max"
    current: int
    suggested: int

    @property
    def message(self) -> str:
        if self.bound == "max":
            return (f"Raise the maximum for {self.category}={self.value} "
                    f"from {self.current} to {self.suggested}")
        return (f"Lower the minimum for {self.category}={self.value} "
                f"from {self.current} to {self.suggested}")


@dataclass
class FeasibilityReport:
    """Whether some panel meets every quota, and if not, what to change."""

    feasible: bool
    issues: list[QuotaIssue] = field(default_factory=list)
    relaxations: list[Relaxation] = field(default_factory=list)
    relaxation_found: bool = False

    @property
    def message(self) -> str:
        """One line of English for the command line."""
        if self.feasible:
            return "The quotas can be met."
        parts = ["No panel meets the quotas"]
        if self.issues:
            parts.append("; ".join(i.message for i in self.issues[:3]))
        if self.relaxations:
            parts.append("smallest change that works: "
                         + "; ".join(r.message for r in self.relaxations))
        elif not self.relaxation_found:
            parts.append("no change of quotas alone makes a panel possible")
        return ". ".join(parts) + "."


class InfeasibleQuotas(SortitionError):
    """Raised by selection when no panel meets the quotas; carries the report."""

    def __init__(self, report: FeasibilityReport):
        super().__init__(report.message)
        self.report = report


@dataclass
class Result:
    """A probability distribution over panels and everyone's selection chance.

    Interchangeable people (same value in every category, no shared household)
    are kept together in `groups`. A panel in the distribution is a composition:
    `panels[j, g]` people are taken from group g. Drawing a panel picks the
    composition by `panel_probabilities`, then that many members of each group
    uniformly at random, so members of one group always have equal chances.
    When every person is their own group, a composition is a plain panel.
    """

    method: str
    k: int
    probabilities: np.ndarray           # per person, sums to k
    groups: list[np.ndarray]            # person indices per group
    panels: np.ndarray                  # (number of panels, number of groups) ints
    panel_probabilities: np.ndarray     # (number of panels,), sums to 1
    seconds: float = 0.0
    iterations: int = 0                 # pricing problems solved
    levels: int = 0                     # leximin levels fixed
    optimal: bool = True                # True when certified (or k/n reached)
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(len(self.probabilities))

    @property
    def min_probability(self) -> float:
        return float(self.probabilities.min()) if self.n else 0.0

    @property
    def max_probability(self) -> float:
        return float(self.probabilities.max()) if self.n else 0.0

    @property
    def gini(self) -> float:
        return gini(self.probabilities)

    @property
    def number_of_panels(self) -> int:
        return int(len(self.panel_probabilities))

    def panel_members(self, j: int, rng: np.random.Generator) -> list[int]:
        """Pick concrete people for composition j (uniform within each group)."""
        members: list[int] = []
        for g, count in enumerate(self.panels[j]):
            if count:
                chosen = rng.choice(self.groups[g], size=int(count), replace=False)
                members.extend(int(i) for i in chosen)
        return sorted(members)


def gini(values: Sequence[float] | np.ndarray) -> float:
    """Gini coefficient of a probability allocation (0 = everyone equal)."""
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0 or x.sum() <= 0:
        return 0.0
    index = np.arange(1, n + 1)
    return float((2 * index - n - 1) @ x / (n * x.sum()))

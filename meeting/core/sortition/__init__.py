"""Panel selection by lot (sortition) under quotas: pure logic, no I/O.

Typical use (the web app and the `select` command do exactly this)::

    instance = Instance(Pool(ids, features, households), quotas, k)
    report = check_feasibility(instance)          # FeasibilityReport
    result = select(instance, method="leximin", progress=cb)   # Result
    drawn = draw(instance, result, seed=None, alternates=10)   # Draw (records its seed)
    again = replace(instance, confirmed, dropped, seed=123)    # Replacement
"""
from __future__ import annotations

from typing import Optional

from .draw import Draw, Replacement, draw, draw_public, lottery_tickets, new_seed, replace, replacement_instance
from .feasibility import check_feasibility
from .legacy import legacy
from .leximin import leximin
from .maximin import maximin
from .model import (
    FeasibilityReport,
    InfeasibleQuotas,
    Instance,
    Pool,
    Progress,
    Quota,
    QuotaIssue,
    Relaxation,
    Result,
    SolverError,
    SortitionError,
    gini,
)
from .problem import panel_meets_quotas

METHODS = ("leximin", "maximin", "legacy")


def select(instance: Instance, *, method: str = "leximin", progress: Optional[Progress] = None,
           seed: int = 0, legacy_runs: int = 1000, time_limit: Optional[float] = None) -> Result:
    """Compute the selection distribution with `method` (leximin, maximin or legacy).

    `progress(fraction, message)` is called while solving. Raises InfeasibleQuotas
    (its `.report` says which quotas conflict and the smallest relaxation) or
    SortitionError for a pool that does not match the quotas. `time_limit` (seconds)
    bounds LEXIMIN's refinement (see `leximin`); `seed` only varies the solver's
    starting panels, the draw has its own seed.
    """
    if method == "leximin":
        return leximin(instance, progress=progress, seed=seed, time_limit=time_limit)
    if method == "maximin":
        return leximin(instance, levels=1, progress=progress, seed=seed, time_limit=time_limit,
                       method_name="maximin")
    if method == "legacy":
        return legacy(instance, runs=legacy_runs, seed=seed, progress=progress)
    raise SortitionError(f"Unknown method '{method}' (use one of {', '.join(METHODS)}).")


__all__ = [
    "METHODS", "Draw", "FeasibilityReport", "InfeasibleQuotas", "Instance", "Pool", "Progress",
    "Quota", "QuotaIssue", "Relaxation", "Replacement", "Result", "SolverError", "SortitionError",
    "check_feasibility", "draw", "draw_public", "gini", "legacy", "leximin", "lottery_tickets",
    "maximin", "new_seed", "panel_meets_quotas", "replace", "replacement_instance", "select",
]

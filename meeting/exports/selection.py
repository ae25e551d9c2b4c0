"""The report of a panel draw (report.json of the `select` command, and the web report page)."""
from __future__ import annotations

from typing import Sequence

from meeting.core.sortition import Instance, Result
from meeting.core.sortition.model import norm


def quota_counts(instance: Instance, members: Sequence[int]) -> list[dict]:
    """Per quota row: category, value, min, max, how many in the pool and among `members`."""
    by_category = {norm(c): [norm(v) for v in vals] for c, vals in instance.pool.features.items()}
    out = []
    for q in instance.quotas:
        values = by_category.get(norm(q.category), [])
        target = norm(q.value)
        out.append({
            "category": q.category, "value": q.value, "min": q.min, "max": q.max,
            "pool": sum(v == target for v in values),
            "panel": sum(values[i] == target for i in members),
        })
    return out


def selection_report(instance: Instance, result: Result, panel: Sequence[int], *, seed: int,
                     seconds: float, alternates: int, households: bool) -> dict:
    """The fields of report.json: method, sizes, seed, fairness figures, quotas met."""
    return {
        "method": result.method, "n": result.n, "k": instance.k, "seed": seed,
        "min_probability": round(result.min_probability, 6),
        "max_probability": round(result.max_probability, 6),
        "gini": round(result.gini, 6),
        "panels": result.number_of_panels,
        "optimal": result.optimal,
        "seconds": round(seconds, 3),
        "alternates": alternates,
        "households": households,
        "notes": result.notes,
        "categories": quota_counts(instance, panel),
    }

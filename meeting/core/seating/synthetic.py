"""Setagaya-like participants for tests, the bench and the demo (no real people)."""
from __future__ import annotations

import numpy as np

from .model import Person, TableSpec

# category -> (values, shares); None is a missing answer. Shapes of a ward panel drawn by lot
# (older residents somewhat over-represented, the five areas of Setagaya by population).
SETAGAYA = {
    "gender": (["女性", "男性", None], [0.53, 0.46, 0.01]),
    "age": (["18-29", "30-39", "40-49", "50-59", "60-69", "70-"], [0.13, 0.15, 0.18, 0.17, 0.14, 0.23]),
    "area": (["世田谷", "北沢", "玉川", "砧", "烏山"], [0.26, 0.16, 0.25, 0.18, 0.15]),
    "tenure": (["5年未満", "5-20年", "20年以上", None], [0.21, 0.33, 0.44, 0.02]),
}


def setagaya_people(n: int = 100, *, seed: int = 0, first_id: int = 1) -> list[Person]:
    rng = np.random.default_rng(seed)
    columns = {c: rng.choice(len(vals), size=n, p=shares) for c, (vals, shares) in SETAGAYA.items()}
    people = []
    for i in range(n):
        cats = {c: SETAGAYA[c][0][columns[c][i]] for c in SETAGAYA}
        people.append(Person(first_id + i, {c: v for c, v in cats.items() if v is not None}))
    return people


def setagaya_tables(people: list[Person], tables: int = 20, *, hosts: bool = True, seed: int = 0,
                    first_id: int = 1, capacity: int | None = None) -> list[TableSpec]:
    """`tables` tables; with `hosts`, a participant drawn at random hosts each."""
    rng = np.random.default_rng(seed + 1)
    chosen = rng.choice(len(people), size=tables, replace=False) if hosts else [None] * tables
    return [TableSpec(first_id + j, None if h is None else people[int(h)].id, capacity)
            for j, h in enumerate(chosen)]

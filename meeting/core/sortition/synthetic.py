"""Synthetic pools for tests and benchmarks (no real people)."""
from __future__ import annotations

import numpy as np

from .model import Instance, Pool, Quota

# category -> (values, population shares, how much more often each value volunteers)
TOWN = {
    "gender": (["female", "male"], [0.51, 0.49], [1.1, 0.9]),
    "age": (["18-29", "30-44", "45-59", "60-69", "70+"],
            [0.18, 0.25, 0.24, 0.14, 0.19], [0.5, 0.8, 1.0, 1.4, 1.6]),
    "district": (["north", "south", "east", "west", "centre"],
                 [0.22, 0.2, 0.18, 0.25, 0.15], [1.0, 0.8, 1.1, 1.0, 1.3]),
    "tenure": (["owner", "renter"], [0.55, 0.45], [1.4, 0.6]),
}
# a fifth category for larger towns
EDUCATION = {"education": (["compulsory", "high school", "vocational", "university"],
                           [0.12, 0.33, 0.2, 0.35], [0.7, 0.9, 1.0, 1.3])}


def town_instance(n: int = 1200, k: int = 90, *, seed: int = 0, households: bool = True,
                  slack: float = 0.15, categories: int = 4) -> Instance:
    """A town's volunteer pool (biased towards older owners) and census-based quotas.

    Quotas: population share * k, widened by `slack` (at least +-1). About a third of
    the pool shares an address with someone else in it (2-3 person households).
    `categories`: 4 (gender, age, district, tenure) or 5 (and education).
    """
    rng = np.random.default_rng(seed)
    table = dict(TOWN, **EDUCATION) if categories >= 5 else TOWN
    features: dict[str, list[str]] = {}
    for cat, (values, shares, bias) in table.items():
        w = np.array(shares) * np.array(bias)
        features[cat] = [values[i] for i in rng.choice(len(values), size=n, p=w / w.sum())]
    homes: list[str] = []
    h = 0
    while len(homes) < n:
        size = int(rng.choice([1, 2, 3], p=[0.7, 0.22, 0.08]))
        homes.extend([f"{h} Sakura-dori"] * size)
        h += 1
    homes = homes[:n]
    quotas: list[Quota] = []
    for cat, (values, shares, _) in table.items():
        for v, s in zip(values, shares):
            target = s * k
            width = max(1.0, slack * target)
            quotas.append(Quota(cat, v, max(0, int(np.floor(target - width))),
                                int(np.ceil(target + width))))
    ids = [f"r{i:05d}" for i in range(n)]
    return Instance(Pool(ids, features, homes if households else None), quotas, k)

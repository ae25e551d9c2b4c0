"""MAXIMIN: maximise the smallest selection probability (the first LEXIMIN level)."""
from __future__ import annotations

from typing import Optional

from .leximin import leximin
from .model import Instance, Progress, Result


def maximin(instance: Instance, *, progress: Optional[Progress] = None, seed: int = 0) -> Result:
    """Distribution over panels that maximises the minimum selection probability."""
    return leximin(instance, levels=1, progress=progress, seed=seed, method_name="maximin")

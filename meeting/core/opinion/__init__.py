"""Polis-style opinion analysis: groups of like-minded participants and what unites them.

Pure numpy/scipy; see docs/opinion.md.
"""
from .cluster import adjusted_rand_index, kmeans, silhouette
from .pipeline import Group, OpinionMap, compute_map, update
from .repness import Consensus, Repness

__all__ = [
    "Consensus", "Group", "OpinionMap", "Repness",
    "adjusted_rand_index", "compute_map", "kmeans",
    "silhouette", "update",
]

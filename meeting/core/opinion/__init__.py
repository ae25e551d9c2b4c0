"""Polis-style opinion analysis: groups of like-minded participants and what unites them.

Pure numpy/scipy; see docs/opinion.md.
"""
from .breakdown import Breakdown, breakdown
from .cluster import adjusted_rand_index, kmeans, silhouette
from .pipeline import Group, OpinionMap, compute_map, update
from .repness import Consensus, Repness
from .tables import Bridging, TableAgreement, bridging_statements, table_agreement

__all__ = [
    "Breakdown", "Bridging", "Consensus", "Group", "OpinionMap", "Repness", "TableAgreement",
    "adjusted_rand_index", "breakdown", "bridging_statements", "compute_map", "kmeans",
    "silhouette", "table_agreement", "update",
]

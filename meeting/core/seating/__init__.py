"""Balanced tables and World Café rotation: pure logic (numpy), no I/O.

    plan = first_seating(people, tables, rules, seed=0)          # Plan
    plan = rotate(people, tables, history, rules, seed=0)        # the next round
    table_id = place_late(person, people, tables, current, history, rules)
    plan = rebalance(people, tables, current, history, rules)    # plan.moves: every move
    plan = evaluate(people, tables, assignment, history)         # the report of any seating

Definitions (shared with bench/seating.py): a table's proportional share of a category value
is size * N_value / N; its deviation |count - share|; "within one person" means every
deviation < 1. People without a value count as the value UNKNOWN. Repeats are pairs seated
together who sat together in an earlier round. Constraint conflicts raise SeatingError
(`code`, `conflicts`).
"""
from .api import evaluate, first_seating, place_late, rebalance, rotate
from .model import UNKNOWN, Person, Plan, Rules, SeatingError, TableReport, TableSpec
from .synthetic import setagaya_people, setagaya_tables

__all__ = [
    "UNKNOWN", "Person", "Plan", "Rules", "SeatingError", "TableReport", "TableSpec",
    "evaluate", "first_seating", "place_late", "rebalance", "rotate", "setagaya_people", "setagaya_tables",
]

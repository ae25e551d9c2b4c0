"""The seating vocabulary: people, tables, rules, the plan and its report, the error."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

# The value a person without a value for a category counts as, so the balance never drops them.
UNKNOWN = ""


@dataclass(frozen=True)
class Person:
    id: int
    categories: Mapping[str, str] = field(default_factory=dict)  # may be empty or partial


@dataclass(frozen=True)
class TableSpec:
    id: int
    host: int | None = None        # participant id who hosts this table and never moves
    capacity: int | None = None    # this table's maximum, overriding Rules.max_size


@dataclass(frozen=True)
class Rules:
    min_size: int = 1
    max_size: int | None = None    # None: the smallest size that seats everyone (ceil(n / tables))
    together: Sequence[frozenset[int]] = ()   # keep-together groups (a resident and their helper)
    apart: Sequence[frozenset[int]] = ()      # keep-apart groups (every pair in one is kept apart)


@dataclass
class TableReport:
    table_id: int
    members: list[int]
    size: int
    counts: dict[str, dict[str, int]]       # category -> value -> people at this table (zeros included)
    targets: dict[str, dict[str, float]]    # category -> value -> size * N_value / N
    deviation: float                        # worst |count - target| at this table
    new_encounters: int                     # pairs at this table who had not met before
    repeat_encounters: int                  # pairs at this table who met in an earlier round
    host: int | None = None


@dataclass
class Plan:
    assignment: dict[int, int]              # person id -> table id (everyone; hosts at their table)
    tables: list[TableReport]               # in the order of the given tables
    repeats: int                            # pairs seated together this round who met before
    repeat_lower_bound: int                 # arithmetic lower bound of `repeats`
    max_deviation: float                    # worst per-table |count - target|, any category value
    moves: list[tuple[int, int | None, int]]  # (person, from table or None, to table) vs `current`
    stays: int = 0                          # non-hosts at the same table as in `current`
    within_one: bool = True                 # max_deviation < 1 (the reference's "within one person")


class SeatingError(ValueError):
    """Constraints that cannot all hold. `code` is stable; `conflicts` names the constraints.

    Codes and the keys of each conflict:

        bad_id            an id that is not an int (or is a bool)        {"id"}
        person_twice      a person listed twice                          {"person"}
        table_twice       a table listed twice                           {"table"}
        no_tables         no table given                                 {}
        unknown_table     an assignment names a table not given          {"person", "table"}
        host_twice        one person hosts two tables                    {"person", "tables"}
        host_not_present  a table's host is not among the people         {"table", "host"}
        sizes             min_size above a table's maximum               {"table", "min_size", "max_size"}
        capacity          more people than seats (or a table over it)    {"people", "seats"} or
                                                                         {"table", "capacity", "size"}
        min_size          too few people to give every table min_size    {"people", "tables", "min_size"}
        together_too_big  a keep-together group larger than any table it may sit at
                                                                         {"group", "size", "max_size"}
        together_hosts    a keep-together group holds two tables' hosts  {"group", "tables"}
        together_apart    a keep-together group holds a keep-apart pair  {"group", "pair"}
        apart_impossible  keep-apart people outnumber the tables         {"people", "tables"}
        unsatisfiable     no seating found that holds every constraint   {"constraint", ...}
    """

    def __init__(self, code: str, conflicts: list[dict] | None = None):
        self.code = code
        self.conflicts = list(conflicts or [])
        super().__init__(f"{code}: {self.conflicts}" if self.conflicts else code)

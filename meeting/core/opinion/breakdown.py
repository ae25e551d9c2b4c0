"""Break any tally down by a demographic category, suppressing small cells."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Mapping, Sequence

MIN_CELL = 5


@dataclass(frozen=True)
class Breakdown:
    """A category x answer table of people counts; None marks a suppressed number.

    ``cells[i][j]`` counts people of category ``rows[i]`` who gave answer ``columns[j]``;
    ``row_totals``/``column_totals``/``total`` are the margins, suppressed the same way.
    """

    rows: list
    columns: list
    cells: list[list[int | None]]
    row_totals: list[int | None]
    column_totals: list[int | None]
    total: int | None


def breakdown(
    answers: Mapping[Hashable, Hashable],
    categories: Mapping[Hashable, Hashable],
    columns: Sequence | None = None,
    min_cell: int = MIN_CELL,
) -> Breakdown:
    """Count people by (category, answer), hiding every count under ``min_cell``.

    ``answers`` maps participant -> the one answer they gave (an option, "agree", a
    score...); for multi-choice polls call once per option with True/False answers.
    People without a category are left out entirely (not shown as a row, not in totals).

    Primary suppression hides counts 0 < n < min_cell (a zero reveals nothing about a
    person in a category of size >= min_cell; a category smaller than min_cell is hidden
    whole). Complementary suppression then hides more cells until every row, column and
    the totals line holding a hidden number holds at least two, so no hidden count can be
    recovered by subtracting the others from a published total.
    """
    people = [(categories[p], a) for p, a in answers.items() if categories.get(p) is not None]
    rows = sorted({c for c, _ in people}, key=str)
    cols = list(columns) if columns is not None else sorted({a for _, a in people}, key=str)
    ri = {r: i for i, r in enumerate(rows)}
    ci = {c: j for j, c in enumerate(cols)}
    R, C = len(rows), len(cols)
    # Full table with margins: index R is the column-totals row, C the row-totals column.
    t = [[0] * (C + 1) for _ in range(R + 1)]
    for cat, a in people:
        if a not in ci:
            raise ValueError(f"answer {a!r} is not among the columns")
        i, j = ri[cat], ci[a]
        t[i][j] += 1
        t[i][C] += 1
        t[R][j] += 1
        t[R][C] += 1
    hidden = [[0 < t[i][j] < min_cell for j in range(C + 1)] for i in range(R + 1)]
    for i in range(R):  # a small category: hide the whole row
        if t[i][C] < min_cell:
            hidden[i] = [True] * (C + 1)
    if t[R][C] < min_cell:
        hidden = [[True] * (C + 1) for _ in range(R + 1)]

    # Each line is one published sum: a row with its total, or a column with its total.
    lines = [(True, [(i, j) for j in range(C + 1)]) for i in range(R + 1)]
    lines += [(False, [(i, j) for i in range(R + 1)]) for j in range(C + 1)]

    def crossing_has_hidden(is_row: bool, i: int, j: int) -> bool:
        if is_row:
            return any(hidden[k][j] for k in range(R + 1))
        return any(hidden[i][k] for k in range(C + 1))

    changed = True
    while changed:
        changed = False
        for is_row, line in lines:
            if sum(hidden[i][j] for i, j in line) != 1:
                continue
            candidates = [(i, j) for i, j in line if not hidden[i][j]]
            if not candidates:
                continue
            # Hide the smallest other count, preferring ordinary cells to the grand total,
            # and cells whose crossing line already hides a number (fewer new exposures).
            i, j = min(candidates, key=lambda c: ((c[0], c[1]) == (R, C),
                                                  not crossing_has_hidden(is_row, *c), t[c[0]][c[1]]))
            hidden[i][j] = True
            changed = True
    show = lambda i, j: None if hidden[i][j] else t[i][j]  # noqa: E731
    return Breakdown(
        rows=rows,
        columns=cols,
        cells=[[show(i, j) for j in range(C)] for i in range(R)],
        row_totals=[show(i, C) for i in range(R)],
        column_totals=[show(R, j) for j in range(C)],
        total=show(R, C),
    )

"""Turn an organizer's quotas and people tables into sortition dataclasses.

Quotas: one row per category value, headers `category,name,min,max` or
`feature,value,min,max` (also `category,feature,...` as in the 2021 replication
files), optional `min_flex,max_flex`; other columns (notes) are ignored.
People: one row per pool member with a column per quota category.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from meeting.core.sortition.model import Pool, Quota, norm
from meeting.imports.tabular import Table


class ImportProblem(ValueError):
    """A row-level problem in an imported file: one English line, plus `code` and `params`
    for a page that speaks the user's language."""

    def __init__(self, message: str, code: str = "invalid", **params):
        super().__init__(message)
        self.code = code
        self.params = params


CATEGORY_HEADERS = ("category", "feature")
VALUE_HEADERS = ("value", "name", "category value", "category_value", "category-value")


def _whole(table: Table, line: int, column: str, text: str, required: bool = True) -> Optional[int]:
    text = text.strip()
    if not text:
        if required:
            raise ImportProblem(f"{table.name}: row {line}: the {column} is empty.", code="cell_empty", row=line, column=column)
        return None
    try:
        number = float(text)
    except ValueError:
        raise ImportProblem(
            f"{table.name}: row {line}: the {column} '{text}' is not a number.",
            code="not_number",
            row=line,
            column=column,
            text=text,
        ) from None
    if not number.is_integer() or number < 0:
        raise ImportProblem(
            f"{table.name}: row {line}: the {column} '{text}' is not a whole number of people.",
            code="not_whole",
            row=line,
            column=column,
            text=text,
        )
    return int(number)


def parse_quotas(table: Table) -> list[Quota]:
    """Read quota rows; raise ImportProblem naming the file and row on bad input."""
    cat_col = next((table.find_column(h) for h in CATEGORY_HEADERS if table.find_column(h)), None)
    value_col = next((table.find_column(h) for h in VALUE_HEADERS if table.find_column(h)), None)
    if cat_col is not None and value_col is None and norm(cat_col) == "category":
        value_col = table.find_column("feature")  # replication format: category,feature,min,max
    min_col, max_col = table.find_column("min"), table.find_column("max")
    missing = [
        name
        for name, col in (("category (or feature)", cat_col), ("value (or name)", value_col), ("min", min_col), ("max", max_col))
        if col is None
    ]
    if missing:
        raise ImportProblem(
            f"{table.name}: missing column(s) {', '.join(missing)}; expected a header "
            "like category,name,min,max or feature,value,min,max.",
            code="quota_columns",
            columns=", ".join(missing),
        )
    assert cat_col and value_col and min_col and max_col
    min_flex_col, max_flex_col = table.find_column("min_flex"), table.find_column("max_flex")
    quotas: list[Quota] = []
    seen: dict[tuple[str, str], int] = {}
    for row, line in zip(table.rows, table.line_numbers):
        category, value = row[cat_col].strip(), row[value_col].strip()
        if not category:
            raise ImportProblem(f"{table.name}: row {line}: the category is empty.", code="cell_empty", row=line, column="category")
        if not value:
            raise ImportProblem(f"{table.name}: row {line}: the value is empty.", code="cell_empty", row=line, column="value")
        key = (norm(category), norm(value))
        if key in seen:
            raise ImportProblem(
                f"{table.name}: row {line}: {category}={value} is already listed in row {seen[key]}.",
                code="quota_twice",
                row=line,
                category=category,
                value=value,
                first=seen[key],
            )
        seen[key] = line
        lo = _whole(table, line, "min", row[min_col])
        hi = _whole(table, line, "max", row[max_col])
        min_flex = _whole(table, line, "min_flex", row[min_flex_col], False) if min_flex_col else None
        max_flex = _whole(table, line, "max_flex", row[max_flex_col], False) if max_flex_col else None
        assert lo is not None and hi is not None
        quotas.append(Quota(category, value, lo, hi, min_flex, max_flex))
    if not quotas:
        raise ImportProblem(f"{table.name}: there are no quota rows.", code="no_quotas")
    return quotas


@dataclass
class People:
    """The pool plus what is needed to write the organizer's copy."""

    pool: Pool
    table: Table
    id_column: Optional[str]  # None: ids are row numbers from 1
    category_columns: dict[str, str]  # quota category -> people column


def parse_people(
    table: Table, categories: Sequence[str], *, id_column: Optional[str] = None, household_columns: Sequence[str] = ()
) -> People:
    """Read the pool: ids, one value per category, and a household key from address columns."""
    if not table.rows:
        raise ImportProblem(f"{table.name}: there are no people in the file.")
    if id_column:
        id_col = table.find_column(id_column)
        if id_col is None:
            raise ImportProblem(f"{table.name}: there is no id column '{id_column}'.")
    else:
        id_col = table.find_column("id")
    if id_col is not None:
        ids = [r[id_col].strip() for r in table.rows]
        seen: dict[str, int] = {}
        for pid, line in zip(ids, table.line_numbers):
            if not pid:
                raise ImportProblem(f"{table.name}: row {line}: the id is empty.")
            if pid in seen:
                raise ImportProblem(f"{table.name}: row {line}: the id '{pid}' is already used in row {seen[pid]}.")
            seen[pid] = line
    else:
        ids = [str(i + 1) for i in range(len(table.rows))]
    columns: dict[str, str] = {}
    for cat in categories:
        col = table.find_column(cat)
        if col is None:
            raise ImportProblem(
                f"{table.name}: there is no column for the quota category '{cat}' (columns: {', '.join(table.header)})."
            )
        columns[cat] = col
    features: dict[str, list[str]] = {}
    for cat, col in columns.items():
        values = [r[col].strip() for r in table.rows]
        for v, line in zip(values, table.line_numbers):
            if not v:
                raise ImportProblem(f"{table.name}: row {line}: the value for '{cat}' is empty.")
        features[cat] = values
    households: Optional[list[Optional[str]]] = None
    if household_columns:
        cols = []
        for name in household_columns:
            col = table.find_column(name)
            if col is None:
                raise ImportProblem(f"{table.name}: there is no address column '{name}'.")
            cols.append(col)
        households = []
        for r in table.rows:
            parts = [norm(r[c]) for c in cols]
            households.append("\x1f".join(parts) if any(parts) else None)
    return People(Pool(ids, features, households), table, id_col, columns)

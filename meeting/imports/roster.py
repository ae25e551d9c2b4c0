"""Check a resident roster row by row before anything is saved.

`parse_people` (imports.quotas) stops at the first problem with an English line, which suits
the command line. An organizer fixing a spreadsheet wants every problem at once, each with a
row, a column and a stable code the web page can put into their language: `check_roster`
collects those, and the roster is only parsed (by `parse_people`) once it is clean.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

from meeting.core.sortition.model import norm
from meeting.imports.tabular import Table

MAX_PROBLEMS = 200

# Headers that name a person's name, address and contact, for the invitation letter.
NAME_HEADERS = ("name", "full name", "fullname", "氏名", "名前", "お名前", "氏名（漢字）")
ADDRESS_HEADERS = ("address", "住所", "所在地", "postcode", "zip", "郵便番号")
CONTACT_HEADERS = ("phone", "tel", "email", "e-mail", "contact", "電話", "電話番号", "メール",
                   "メールアドレス", "連絡先")


@dataclass(frozen=True)
class RowProblem:
    """One problem: `line` is the file row (0 for the whole file), `code` a stable code.

    Codes: no_rows, no_id_column, no_category_column, no_household_column, id_empty,
    id_duplicate (params: first), value_empty, value_unknown (params: value, allowed).
    """

    line: int
    column: str
    code: str
    params: dict = field(default_factory=dict)


def check_roster(table: Table, id_column: str, categories: Sequence[str], *,
                 allowed: Optional[Mapping[str, Sequence[str]]] = None,
                 household_columns: Sequence[str] = ()) -> list[RowProblem]:
    """Every problem of the roster (up to MAX_PROBLEMS); an empty list means it is clean.

    `allowed[category]`: the values the quotas know; a value outside them is a problem.
    """
    problems: list[RowProblem] = []
    if not table.rows:
        return [RowProblem(0, "", "no_rows")]
    id_col = table.find_column(id_column)
    if id_col is None:
        problems.append(RowProblem(0, id_column, "no_id_column"))
    columns: dict[str, str] = {}
    for cat in categories:
        col = table.find_column(cat)
        if col is None:
            problems.append(RowProblem(0, cat, "no_category_column"))
        else:
            columns[cat] = col
    for name in household_columns:
        if table.find_column(name) is None:
            problems.append(RowProblem(0, name, "no_household_column"))
    if problems:
        return problems
    assert id_col is not None
    known = {norm(c): {norm(v) for v in vals} for c, vals in (allowed or {}).items()}
    shown = {norm(c): ", ".join(vals) for c, vals in (allowed or {}).items()}
    seen: dict[str, int] = {}
    for row, line in zip(table.rows, table.line_numbers):
        pid = row[id_col].strip()
        if not pid:
            problems.append(RowProblem(line, id_col, "id_empty"))
        elif pid in seen:
            problems.append(RowProblem(line, id_col, "id_duplicate", {"first": seen[pid]}))
        else:
            seen[pid] = line
        for cat, col in columns.items():
            value = row[col].strip()
            if not value:
                problems.append(RowProblem(line, col, "value_empty"))
            elif norm(cat) in known and norm(value) not in known[norm(cat)]:
                problems.append(RowProblem(line, col, "value_unknown",
                                           {"value": value, "allowed": shown[norm(cat)]}))
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems


def identity_columns(table: Table, used: Sequence[str]) -> dict[str, list[str]]:
    """Sort the remaining columns into name, address, contact and other (for the letter)."""
    taken = {u.strip().casefold() for u in used}
    out: dict[str, list[str]] = {"name": [], "address": [], "contact": [], "other": []}
    for h in table.header:
        key = h.strip().casefold()
        if key in taken:
            continue
        if key in NAME_HEADERS:
            out["name"].append(h)
        elif key in ADDRESS_HEADERS:
            out["address"].append(h)
        elif key in CONTACT_HEADERS:
            out["contact"].append(h)
        else:
            out["other"].append(h)
    return out

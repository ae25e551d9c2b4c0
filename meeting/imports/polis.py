"""Read a Polis openData export folder (comments.csv, votes.csv)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


class PolisFormatError(ValueError):
    """The folder is not a readable Polis export; the message says why in one line."""


@dataclass(frozen=True)
class PolisExport:
    statements: list[int]  # comment ids, ascending
    excluded: frozenset[int]  # comments moderated out (moderated == -1)
    votes: list[tuple[int, int, int]]  # (voter-id, comment-id, vote), oldest first, agree = +1


def _rows(path: Path, required: tuple[str, ...]):
    if not path.is_file():
        raise PolisFormatError(f"{path.name} not found in {path.parent}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise PolisFormatError(f"{path.name}: missing column(s) {', '.join(missing)}")
            yield from enumerate(reader, start=2)
    except UnicodeDecodeError as exc:
        raise PolisFormatError(f"{path.name}: not UTF-8 ({exc.reason})") from None
    except csv.Error as exc:
        raise PolisFormatError(f"{path.name}: {exc}") from None


def _int(value, path: Path, line: int, column: str) -> int:
    try:
        return int(float(value)) if value not in (None, "") and float(value).is_integer() else int(value)
    except (TypeError, ValueError):
        raise PolisFormatError(f"{path.name} line {line}: {column} {value!r} is not an integer") from None


def read_polis_export(folder) -> PolisExport:
    """Read comments and the vote log; keep each person's latest vote per comment."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PolisFormatError(f"{folder} is not a folder")
    comments = folder / "comments.csv"
    statements, excluded = set(), set()
    for line, row in _rows(comments, ("comment-id", "moderated")):
        cid = _int(row["comment-id"], comments, line, "comment-id")
        statements.add(cid)
        if row["moderated"] not in ("", None) and _int(row["moderated"], comments, line, "moderated") < 0:
            excluded.add(cid)
    votes_path = folder / "votes.csv"
    log = []
    for line, row in _rows(votes_path, ("timestamp", "comment-id", "voter-id", "vote")):
        ts = row["timestamp"]
        try:
            ts = float(ts)
        except (TypeError, ValueError):
            raise PolisFormatError(f"votes.csv line {line}: timestamp {ts!r} is not a number") from None
        vote = _int(row["vote"], votes_path, line, "vote")
        if vote not in (-1, 0, 1):
            raise PolisFormatError(f"votes.csv line {line}: vote {vote} is not -1, 0 or 1")
        log.append((ts, line, _int(row["voter-id"], votes_path, line, "voter-id"),
                    _int(row["comment-id"], votes_path, line, "comment-id"), vote))
    if not log:
        raise PolisFormatError("votes.csv holds no votes")
    # Row order of the map follows first appearance in the file (comment, voter) order;
    # the latest vote by timestamp wins.
    latest: dict[tuple[int, int], tuple[float, int, int]] = {}
    for ts, line, pid, cid, vote in log:
        key = (pid, cid)
        if key not in latest or (ts, line) >= latest[key][:2]:
            latest[key] = (ts, line, vote)
    votes = [(pid, cid, latest[(pid, cid)][2]) for (pid, cid) in dict.fromkeys((p, c) for _, _, p, c, _ in log)]
    voted = {c for _, c, _ in votes}
    return PolisExport(sorted(statements | voted), frozenset(excluded), votes)

"""Benchmark the opinion map on Polis open data; compare with Polis's own groups and red-dwarf.

Run: python bench/opinion.py   (MEETING_SHARED_DIR overrides the ../shared folder)

For every conversation: seconds for a full recompute, seconds for an incremental update
after one more vote, and the adjusted Rand index of our groups against the ``group-id``
column Polis exported, over the participants both sides grouped. The same for the
red-dwarf package when it is installed.
"""
from __future__ import annotations

import csv
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from meeting.core.opinion import adjusted_rand_index, compute_map, update  # noqa: E402
from meeting.imports.polis import read_polis_export  # noqa: E402

CONVERSATIONS = ["london.youth.policing", "15-per-hour-seattle", "scoop-hivemind.biodiversity", "vtaiwan.uberx"]
REPEAT = 5


def shared_dir() -> Path:
    env = os.environ.get("MEETING_SHARED_DIR")
    return Path(env) if env else ROOT.parent / "shared"


def polis_groups(folder: Path) -> dict[int, int]:
    name = "participants-votes.csv" if (folder / "participants-votes.csv").exists() else "participant-votes.csv"
    with (folder / name).open(encoding="utf-8") as f:
        return {int(r["participant"]): int(r["group-id"]) for r in csv.DictReader(f) if r["group-id"]}


def ari(ours: dict, theirs: dict) -> tuple[float, int]:
    common = sorted(set(ours) & set(theirs))
    return adjusted_rand_index([ours[p] for p in common], [theirs[p] for p in common]), len(common)


def timed(fn, repeat=REPEAT):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def run_ours(export):
    full_s, om = timed(lambda: compute_map(export.votes, excluded=export.excluded))
    before = compute_map(export.votes[:-1], excluded=export.excluded)
    upd_s, _ = timed(lambda: update(before, export.votes[-1:]))
    groups = {p: int(g) for p, g in zip(om.participants, om.group) if g >= 0}
    return full_s, upd_s, groups, om.k


def run_red_dwarf(export):
    try:
        from reddwarf.implementations.polis import run_pipeline
    except ImportError:
        return None
    votes = [{"participant_id": p, "statement_id": s, "vote": v, "modified": i}
             for i, (p, s, v) in enumerate(export.votes)]
    seconds, result = timed(lambda: run_pipeline(votes=votes, mod_out_statement_ids=sorted(export.excluded),
                                                 random_state=0), repeat=3)
    df = result.participants_df
    groups = {int(p): int(g) for p, g in df["cluster_id"].dropna().items()}
    return seconds, groups, len(set(groups.values()))


def main() -> int:
    data = shared_dir() / "polis-data"
    if not data.is_dir():
        print(f"skipped: Polis open data not found at {data}")
        return 0
    try:
        import importlib.metadata as md
        rd_version = md.version("red-dwarf")
    except Exception:
        rd_version = None
    header = (f"{'conversation':30} {'ptpts':>6} {'grouped':>8} {'k ours/polis':>12} {'full s':>8} "
              f"{'update s':>9} {'ARI':>6}")
    if rd_version:
        header += f" | {'red-dwarf s':>11} {'k':>2} {'ARI':>6}"
    print(header)
    print("-" * len(header))
    for name in CONVERSATIONS:
        folder = data / name
        if not folder.is_dir():
            print(f"{name:30} missing")
            continue
        export = read_polis_export(folder)
        theirs = polis_groups(folder)
        full_s, upd_s, ours, k = run_ours(export)
        score, n_common = ari(ours, theirs)
        n_ptpts = len({p for p, _, _ in export.votes})
        line = (f"{name:30} {n_ptpts:>6} {n_common:>8} {f'{k}/{len(set(theirs.values()))}':>12} "
                f"{full_s:>8.4f} {upd_s:>9.4f} {score:>6.3f}")
        if rd_version:
            rd = run_red_dwarf(export)
            if rd:
                rd_s, rd_groups, rd_k = rd
                rd_score, _ = ari(rd_groups, theirs)
                line += f" | {rd_s:>11.4f} {rd_k:>2} {rd_score:>6.3f}"
        print(line, flush=True)
    print(f"\nmedian of {REPEAT} runs (red-dwarf: 3); 'grouped' = participants grouped by both us and Polis;"
          f" ARI over them. red-dwarf: {rd_version or 'not installed'}. cores: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

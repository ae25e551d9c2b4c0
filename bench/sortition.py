"""Benchmark panel selection: our methods vs the sortition-algorithms library (MAXIMIN, highspy).

    python bench/sortition.py [--quick] [--time-limit S] [--reference-timeout S]

Shared instances are read from <repo>/../shared/sortition-data (or $MEETING_SHARED_DIR/
sortition-data) and skipped when absent. The reference library is GPL-3.0 and needs
highspy>=1.15, so it is never imported here: it runs in a subprocess, with this Python if
it can import `sortition_algorithms`, else with $SORTITION_REFERENCE_PYTHON (a separate venv).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from meeting.core.sortition import Instance, Pool, Quota, legacy, leximin  # noqa: E402
from meeting.core.sortition.synthetic import town_instance  # noqa: E402


def shared_dir() -> Path:
    base = os.environ.get("MEETING_SHARED_DIR")
    return (Path(base) if base else ROOT.parent / "shared") / "sortition-data"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def replication(name: str, k: int) -> Instance | None:
    folder = shared_dir() / "citizensassemblies-replication" / "data" / name
    if not (folder / "respondents.csv").exists():
        return None
    quotas = [Quota(r["category"], r["feature"], int(r["min"]), int(r["max"]))
              for r in _rows(folder / "categories.csv")]
    people = _rows(folder / "respondents.csv")
    cats = list(people[0])
    return Instance(Pool([str(i) for i in range(len(people))],
                         {c: [p[c] for p in people] for c in cats}), quotas, k)


ADDRESS = ["primary_address1", "primary_zip"]


def library_fixture() -> Instance | None:
    folder = shared_dir() / "sortition-algorithms-fixtures"
    if not (folder / "candidates.csv").exists():
        return None
    quotas = [Quota(r["feature"], r["value"], int(r["min"]), int(r["max"]),
                    int(r["min_flex"]), int(r["max_flex"])) for r in _rows(folder / "features.csv")]
    people = _rows(folder / "candidates.csv")
    cats = ["Gender", "age_bracket", "geo_bucket", "edu_level"]
    return Instance(Pool([p["nationbuilder_id"] for p in people], {c: [p[c] for p in people] for c in cats},
                         ["|".join(p[a] for a in ADDRESS) for p in people]), quotas, 22)


REFERENCE = r'''
import csv, json, sys, time
from sortition_algorithms import read_in_features, read_in_people, Settings
from sortition_algorithms.committee_generation.maximin import find_distribution_maximin
feat_path, people_path, k, address = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def rows(p):
    with open(p, encoding="utf-8", newline="") as fh:
        r = csv.DictReader(fh); return r.fieldnames, list(r)
fh, fb = rows(feat_path); ph, pb = rows(people_path)
features = read_in_features(fh, fb)[0]
addr = [a for a in address.split(",") if a]
settings = Settings(id_column="id", columns_to_keep=[], check_same_address=bool(addr),
                    check_same_address_columns=addr, selection_algorithm="maximin",
                    solver_backend="highspy")
people = read_in_people(ph, pb, features, settings)[0]
t = time.perf_counter()
committees, probs, _ = find_distribution_maximin(features, people, k, addr, "highspy")
sec = time.perf_counter() - t
marg = {pid: 0.0 for pid in (r["id"] for r in pb)}
for c, p in zip(committees, probs):
    for pid in c:
        marg[pid] += p
v = sorted(marg.values()); n = len(v)
gini = sum((2 * (i + 1) - n - 1) * x for i, x in enumerate(v)) / (n * sum(v))
print(json.dumps({"min": min(marg.values()), "seconds": sec, "panels": len(committees), "gini": gini}))
'''


def reference_python() -> str | None:
    try:
        import importlib.util
        if importlib.util.find_spec("sortition_algorithms") is not None:
            return sys.executable
    except Exception:  # noqa: BLE001
        pass
    return os.environ.get("SORTITION_REFERENCE_PYTHON") or None


def run_reference(inst: Instance, timeout: float) -> dict | None:
    python = reference_python()
    if python is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        fpath, ppath = Path(tmp, "features.csv"), Path(tmp, "people.csv")
        with open(fpath, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["feature", "value", "min", "max"])
            for q in inst.quotas:
                w.writerow([q.category, q.value, q.min, q.max])
        cats = list(inst.pool.features)
        addr = ["address"] if inst.pool.households is not None else []
        with open(ppath, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["id", *cats, *addr])
            for i, pid in enumerate(inst.pool.ids):
                extra = [inst.pool.households[i] or f"_{i}"] if addr else []
                w.writerow([pid, *(inst.pool.features[c][i] for c in cats), *extra])
        try:
            out = subprocess.run([python, "-c", REFERENCE, str(fpath), str(ppath), str(inst.k),
                                  ",".join(addr)], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"timeout": timeout}
        if out.returncode != 0:
            return {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
        return json.loads(out.stdout.strip().splitlines()[-1])


def row(name: str, inst: Instance, method: str, minimum: float, gini: float, panels: int,
        seconds: float, note: str = "", optimal: str = "") -> None:
    print(f"{name:<26} {len(inst.pool):>5} {inst.k:>4} {method:<22} {optimal:>7} {minimum:>9.6f} {gini:>6.3f} "
          f"{panels:>7} {seconds:>8.2f}  {note}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the slow runs")
    ap.add_argument("--time-limit", type=float, default=120.0, help="LEXIMIN time limit (s)")
    ap.add_argument("--reference-timeout", type=float, default=600.0)
    ap.add_argument("--legacy-runs", type=int, default=1000)
    ap.add_argument("--only", default="", help="comma-separated instance names")
    args = ap.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; reference: {reference_python() or 'not installed'}")
    print(f"# load average at start: {os.getloadavg()[0]:.2f} (1 min)")
    print(f"{'instance':<26} {'n':>5} {'k':>4} {'method':<22} {'optimal':>7} {'min p':>9} {'Gini':>6} "
          f"{'panels':>7} {'seconds':>8}")
    instances: list[tuple[str, Instance | None]] = [
        ("example_small_20", replication("example_small_20", 20)),
        ("library_fixture_150", library_fixture()),
        ("example_large_200", replication("example_large_200", 200)),
        ("town_300_households", town_instance(300, 30, seed=1)),
        ("town_1200_households", town_instance(1200, 90, seed=0)),
        ("town_2000_5cat_households", town_instance(2000, 120, seed=0, categories=5)),
    ]
    if args.only:
        instances = [(name, inst) for name, inst in instances if name in args.only.split(",")]
    summary: list[tuple[str, Instance, dict]] = []
    for name, inst in instances:
        if inst is None:
            print(f"{name:<22} skipped: data not found under {shared_dir()}")
            continue
        big = len(inst.pool) > 500
        found: dict = {}
        summary.append((name, inst, found))
        for method in ("maximin", "leximin"):
            r = leximin(inst, levels=1 if method == "maximin" else None, method_name=method,
                        time_limit=args.time_limit)
            found[method] = r
            note = "" if r.optimal else "stopped at time limit (min guaranteed) "
            row(name, inst, method, r.min_probability, r.gini, r.number_of_panels, r.seconds,
                note + f"levels={r.levels} pricing={r.iterations}", optimal=str(r.optimal).lower())
        if not (args.quick and big) and args.legacy_runs:
            r = legacy(inst, runs=args.legacy_runs)
            row(name, inst, f"legacy ({args.legacy_runs} runs)", r.min_probability, r.gini,
                r.number_of_panels, r.seconds)
        if args.quick and big:
            continue
        t = time.perf_counter()
        ref = run_reference(inst, args.reference_timeout)
        wall = time.perf_counter() - t
        found["reference"] = ref
        if ref is None:
            print(f"{name:<22} reference skipped: sortition-algorithms not installed")
        elif "min" in ref:
            row(name, inst, "sortition-alg. maximin", ref["min"], ref.get("gini", float("nan")), ref["panels"],
                ref["seconds"], f"(subprocess wall {wall:.1f} s)")
        else:
            print(f"{name:<22} reference: {ref}")

    print(f"# load average at end: {os.getloadavg()[0]:.2f} (1 min)")
    print_summary(summary, args.time_limit)


def _secs(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def print_summary(summary: list[tuple[str, Instance, dict]], time_limit: float) -> None:
    """One markdown row per instance: LEXIMIN, MAXIMIN and the reference's MAXIMIN side by side."""
    print()
    print(f"| instance | n | k | LEXIMIN s (limit {time_limit:g}) | optimal | levels | min p | Gini "
          "| MAXIMIN s | min p | Gini | sortition-algorithms MAXIMIN s | min p | Gini |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, inst, found in summary:
        lex, mx, ref = found.get("leximin"), found.get("maximin"), found.get("reference")
        if ref is None:
            ref_cells = "not run | – | –"
        elif "min" in ref:
            ref_cells = f"{_secs(ref['seconds'])} | {ref['min']:.6f} | {ref.get('gini', float('nan')):.3f}"
        elif "timeout" in ref:
            ref_cells = f"> {ref['timeout']:g} (timeout) | – | –"
        else:
            ref_cells = "error | – | –"
        print(f"| {name} | {len(inst.pool)} | {inst.k} | {_secs(lex.seconds)} | {str(lex.optimal).lower()} | "
              f"{lex.levels} | {lex.min_probability:.6f} | {lex.gini:.3f} | {_secs(mx.seconds)} | "
              f"{mx.min_probability:.6f} | {mx.gini:.3f} | {ref_cells} |")


if __name__ == "__main__":
    main()

"""Benchmark table seating and World Café rotation: ours vs a host-keeping random shuffle and a
greedy baseline, on Setagaya-like participants (meeting/core/seating/synthetic.py).

    python bench/seating.py [--quick] [--seed S]

Each case is a day of 4 rounds (a first seating and 3 rotations) with a participant host fixed
at every table. Per method it prints: repeated encounters over the day and the sum of the
per-round arithmetic lower bounds (each method against its own history), the worst per-table
deviation |count - size * N_v / N| per category over all rounds and values, how many rounds are
within one person (every deviation < 1), and the time (wall and CPU: the machine is shared, so
the load average is printed too). Definitions: /work/shared/reference/seating.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from meeting.core.seating import (  # noqa: E402
    evaluate,
    first_seating,
    rotate,
    setagaya_people,
    setagaya_tables,
)

ROUNDS = 4


def seat_sizes(n: int, T: int) -> list[int]:
    q, r = divmod(n, T)
    return [q + 1 if j < r else q for j in range(T)]


def random_round(people, tables, history, rng):
    """Hosts at their tables, everyone else shuffled into the remaining seats."""
    hosts = {t.host for t in tables}
    others = [p.id for p in people if p.id not in hosts]
    rng.shuffle(others)
    out, k = {}, 0
    for t, size in zip(tables, seat_sizes(len(people), len(tables))):
        out[t.host] = t.id
        for p in others[k:k + size - 1]:
            out[p] = t.id
        k += size - 1
    return out


def greedy_round(people, tables, history, rng):
    """People in random order, each to the table (with a free seat) where they have met the
    fewest people so far, then the emptiest: what a careful organizer does by hand."""
    met: dict[int, set[int]] = {p.id: set() for p in people}
    for r in history:
        by: dict[int, list[int]] = {}
        for p, t in r.items():
            by.setdefault(t, []).append(p)
        for mem in by.values():
            for p in mem:
                met[p].update(mem)
    caps = dict(zip((t.id for t in tables), seat_sizes(len(people), len(tables))))
    seated: dict[int, list[int]] = {t.id: [t.host] for t in tables}
    out = {t.host: t.id for t in tables}
    hosts = set(out)
    order = [p.id for p in people if p.id not in hosts]
    rng.shuffle(order)
    for p in order:
        free = [t for t in seated if len(seated[t]) < caps[t]]
        best = min(free, key=lambda t: (sum(q in met[p] for q in seated[t]), len(seated[t])))
        seated[best].append(p)
        out[p] = best
    return out


def ours_round(people, tables, history, seed, search=True):
    if not history:
        return first_seating(people, tables, seed=seed, search=search).assignment
    return rotate(people, tables, history, seed=seed, search=search).assignment


def run_day(method, people, tables, seed):
    rng = np.random.default_rng(seed)
    history: list[dict] = []
    plans = []
    wall = cpu = worst_round = 0.0
    for r in range(ROUNDS):
        t0, c0 = time.perf_counter(), time.process_time()
        if method == "ours":
            a = ours_round(people, tables, history, seed + r)
        elif method == "ours, greedy only":
            a = ours_round(people, tables, history, seed + r, search=False)
        elif method == "greedy (fewest met)":
            a = greedy_round(people, tables, history, rng)
        else:
            a = random_round(people, tables, history, rng)
        dt = time.perf_counter() - t0
        wall += dt
        cpu += time.process_time() - c0
        worst_round = max(worst_round, dt)
        plans.append(evaluate(people, tables, a, history, current=history[-1] if history else None))
        history.append(a)
    return plans, wall, cpu, worst_round


def category_worst(plans) -> dict[str, float]:
    worst: dict[str, float] = {}
    for plan in plans:
        for t in plan.tables:
            for cat, counts in t.counts.items():
                d = max(abs(c - t.targets[cat][v]) for v, c in counts.items())
                worst[cat] = max(worst.get(cat, 0.0), d)
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the 100-person day")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at start")
    cases = [(100, 20)] + ([] if args.quick else [(1000, 100)])
    methods = ["ours", "ours, greedy only", "greedy (fewest met)", "random (hosts kept)"]
    for n, T in cases:
        people = setagaya_people(n, seed=args.seed)
        tables = setagaya_tables(people, T, seed=args.seed)
        print(f"\n{n} participants, {T} tables of {n // T}, {ROUNDS} rounds (first seating + {ROUNDS - 1} "
              f"rotations), a host fixed at every table, seed {args.seed}")
        cats = list(people[0].categories)
        head = (f"{'method':<22}{'repeats':>8}{'bound':>7}{'stays':>7}  "
                + "".join(f"{'dev ' + c:>12}" for c in cats)
                + f"{'within 1':>10}{'wall s':>9}{'cpu s':>8}{'worst rd':>10}")
        print(head)
        print("-" * len(head))
        for m in methods:
            plans, wall, cpu, worst_round = run_day(m, people, tables, args.seed)
            worst = category_worst(plans)
            repeats = sum(p.repeats for p in plans)
            bound = sum(p.repeat_lower_bound for p in plans)
            stays = sum(p.stays for p in plans)
            within = sum(p.within_one for p in plans)
            print(f"{m:<22}{repeats:>8}{bound:>7}{stays:>7}  "
                  + "".join(f"{worst.get(c, 0.0):>12.2f}" for c in cats)
                  + f"{f'{within}/{ROUNDS}':>10}{wall:>9.2f}{cpu:>8.2f}{worst_round:>10.2f}")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end. Goals: repeats = bound (no avoidable "
          "repeat), every deviation < 1 (within one person), under 1 s for 100 and 10 s for 1,000.")


if __name__ == "__main__":
    main()

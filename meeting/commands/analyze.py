"""``analyze``: compute the opinion map of a Polis export folder and write it as JSON."""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict

import click

from meeting.core.opinion import compute_map
from meeting.imports.polis import PolisFormatError, read_polis_export


def _fail(reason: str) -> None:
    click.echo(f"Error: {reason}", err=True)
    raise SystemExit(2)


def _num(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), 6)


def opinion_json(om, seconds: float) -> dict:
    """Plain JSON form of an OpinionMap (ids as given, numbers rounded to 6 places)."""
    def clean(d):
        return {k: _num(v) if isinstance(v, float) else v for k, v in d.items()}

    return {
        "participants": [
            {"pid": pid, "group": None if g < 0 else int(g), "x": _num(x), "y": _num(y)}
            for pid, g, x, y in zip(om.participants, om.group, om.x, om.y)
        ],
        "groups": [
            {"id": g.id, "size": g.size, "center": [_num(c) for c in g.center],
             "repness": [clean(asdict(r)) for r in g.repness]}
            for g in om.groups
        ],
        "consensus": {k: [clean(asdict(c)) for c in v] for k, v in om.consensus.items()},
        "k": om.k,
        "seconds": round(seconds, 4),
    }


@click.command("analyze")
@click.option("--polis-dir", "polis_dir", help="Polis export folder (comments.csv, votes.csv).")
@click.option("--out", "out", help="JSON file to write.")
def analyze(polis_dir: str | None, out: str | None) -> None:
    """Group participants of a Polis conversation and find what each group stands for."""
    if not polis_dir:
        _fail("--polis-dir is required")
    if not out:
        _fail("--out is required")
    try:
        export = read_polis_export(polis_dir)
    except PolisFormatError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot read {polis_dir}: {exc.strerror or exc}")
    start = time.perf_counter()
    om = compute_map(export.votes, statements=(), excluded=export.excluded)
    seconds = time.perf_counter() - start
    try:
        with open(out, "w", encoding="utf-8") as f:
            json.dump(opinion_json(om, seconds), f, ensure_ascii=False)
            f.write("\n")
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror or exc}")
    click.echo(f"{len(om.participants)} participants, {int(om.in_conv.sum())} grouped in {om.k} groups "
               f"({seconds:.3f} s) -> {out}")

"""`select`: draw a citizens' panel by lot from a pool file and a quotas file."""
from __future__ import annotations

import json
import os
import sys
import time
from typing import Optional

import click

from meeting.core.sortition import METHODS, InfeasibleQuotas, Instance, SortitionError, draw, leximin, new_seed
from meeting.core.sortition import select as run_selection
from meeting.core.sortition.model import norm
from meeting.exports.selection import selection_report
from meeting.imports.quotas import ImportProblem, parse_people, parse_quotas
from meeting.imports.tabular import TabularError, read_table, write_csv


def _fail(message: str) -> None:
    click.echo(f"Error: {' '.join(str(message).split())}", err=True)
    raise click.exceptions.Exit(2)


def _fmt(p: float) -> str:
    return f"{p:.6f}"


@click.command("select")
@click.option("--people", "people_file", required=True, type=click.Path(dir_okay=False),
              help="Pool: CSV or XLSX, one row per person, one column per quota category.")
@click.option("--quotas", "quotas_file", required=True, type=click.Path(dir_okay=False),
              help="Quotas: category,name,min,max (or feature,value,min,max).")
@click.option("--size", "k", required=True, type=click.IntRange(min=1), help="Panel size.")
@click.option("--method", type=click.Choice(METHODS), default="leximin", show_default=True)
@click.option("--id-column", default=None, help="Id column (default: 'id', else row numbers).")
@click.option("--household-columns", default="",
              help="Comma-separated address columns: at most one person per address.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed for the draw (recorded in report.json; default: a fresh random one).")
@click.option("--alternates", type=click.IntRange(min=0), default=0, show_default=True,
              help="How many alternates to list, in the order to invite them.")
@click.option("--time-limit", type=click.FloatRange(min=1), default=600.0, show_default=True,
              help="Seconds after which LEXIMIN stops refining (the minimum stays guaranteed).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for panel.csv, alternates.csv, probabilities.csv, report.json.")
@click.option("--json", "as_json", is_flag=True, help="Also print report.json to stdout.")
def select(people_file: str, quotas_file: str, k: int, method: str, id_column: Optional[str],
           household_columns: str, seed: Optional[int], alternates: int, time_limit: float,
           out_dir: str, as_json: bool) -> None:
    """Select a panel by lot that meets the quotas, as fairly as possible."""
    try:
        quotas = parse_quotas(read_table(quotas_file))
        seen_cats: list[str] = []
        for q in quotas:
            if norm(q.category) not in [norm(c) for c in seen_cats]:
                seen_cats.append(q.category)
        hh_cols = [c.strip() for c in household_columns.split(",") if c.strip()]
        people = parse_people(read_table(people_file), seen_cats, id_column=id_column,
                              household_columns=hh_cols)
    except (TabularError, ImportProblem) as exc:
        _fail(str(exc))
        return
    instance = Instance(people.pool, quotas, k)
    seed = new_seed() if seed is None else seed
    started = time.perf_counter()
    with click.progressbar(length=1000, label=f"Selecting ({method})", file=sys.stderr,
                           show_eta=False) as bar:
        done = [0]

        def progress(fraction: float, message: str) -> None:
            target = int(max(0.0, min(1.0, fraction)) * 1000)
            if target > done[0]:
                bar.update(target - done[0])
                done[0] = target

        try:
            # the solver's own seed is fixed, so the same files give the same distribution;
            # the draw seed then decides the panel
            if method == "legacy":
                result = run_selection(instance, method=method, progress=progress, seed=seed)
            else:
                result = leximin(instance, progress=progress, time_limit=time_limit,
                                 levels=1 if method == "maximin" else None, method_name=method)
        except InfeasibleQuotas as exc:
            _fail(exc.report.message)
            return
        except SortitionError as exc:
            _fail(str(exc))
            return
    drawn = draw(instance, result, seed=seed, alternates=alternates)
    seconds = time.perf_counter() - started

    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        _fail(f"cannot create the folder {out_dir} ({exc.strerror}).")
    table = people.table
    header = list(table.header)
    id_header = people.id_column or "id"
    out_header = header if people.id_column else ["id"] + header
    prob = result.probabilities

    def row(i: int) -> list[object]:
        cells = [table.rows[i][h] for h in header]
        return cells if people.id_column else [people.pool.ids[i]] + cells

    write_csv(os.path.join(out_dir, "panel.csv"), out_header + ["probability"],
              [row(i) + [_fmt(prob[i])] for i in drawn.panel])
    write_csv(os.path.join(out_dir, "alternates.csv"), ["rank"] + out_header + ["probability"],
              [[r + 1] + row(i) + [_fmt(prob[i])] for r, i in enumerate(drawn.alternates)])
    write_csv(os.path.join(out_dir, "probabilities.csv"), [id_header, "probability"],
              [[people.pool.ids[i], _fmt(prob[i])] for i in range(result.n)])

    report = selection_report(instance, result, drawn.panel, seed=drawn.seed, seconds=seconds,
                              alternates=len(drawn.alternates), households=bool(hh_cols))
    with open(os.path.join(out_dir, "report.json"), "w", encoding="utf-8") as fh:
        json.dump(report, fh, ensure_ascii=False, indent=2)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(f"Panel of {k} drawn from {result.n} (seed {drawn.seed}); minimum probability "
                   f"{result.min_probability:.4f}, Gini {result.gini:.3f}. Files in {out_dir}.")


if __name__ == "__main__":  # pragma: no cover
    select()

"""python -m meeting backup --out FILE: a consistent copy of the SQLite database, while it runs."""

import json
import os
import sqlite3
from pathlib import Path

import click
from flask.cli import with_appcontext

from meeting.extensions import db


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(2)


def backup_sqlite(source: Path, out: Path) -> int:
    """Copy `source` to `out` with SQLite's online backup API; return the copy's size in bytes.

    One backup step copies every page inside a single read transaction: in WAL mode the
    server keeps writing meanwhile, and the copy is the database as of one moment (a stepwise
    copy would start over after every write of another connection). The copy is checked, made
    a self-contained file (no WAL) and only then renamed into place.
    """
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise click.ClickException("the copy failed PRAGMA integrity_check: " + "; ".join(problems[:5]))
        finally:
            dst.close()
    finally:
        src.close()
    with open(partial, "rb+") as fh:
        os.fsync(fh.fileno())
    partial.replace(out)
    return out.stat().st_size


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the copy.")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_appcontext
def command(out: Path, force: bool, as_json: bool) -> None:
    """Back up the SQLite database while the meeting runs (on PostgreSQL, use pg_dump)."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        _fail(f"the database is {url.get_backend_name()}, not SQLite: back it up with pg_dump "
              f"(e.g. pg_dump --format=custom --file=FILE {url.database or 'DBNAME'}).")
    if not url.database or url.database == ":memory:":
        _fail("the SQLite database is in memory: there is no file to back up.")
    source = Path(url.database)
    if not source.exists():
        _fail(f"there is no database file at {source}.")
    out = out.resolve()
    if out == source.resolve():
        _fail("--out must not be the database itself.")
    if out.exists() and not force:
        _fail(f"{out} exists (use --force to replace it).")
    if not out.parent.is_dir():
        _fail(f"the folder {out.parent} does not exist.")
    size = backup_sqlite(source, out)
    if as_json:
        click.echo(json.dumps({"source": str(source), "out": str(out), "bytes": size, "integrity": "ok"}))
    else:
        click.echo(f"Backed up {source} to {out} ({size / 1e6:.1f} MB, integrity ok).")

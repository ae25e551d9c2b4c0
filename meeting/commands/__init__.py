"""Command-line commands (python -m meeting <command>)."""

import functools
import importlib

import click
import sqlalchemy as sa
from flask import Flask

# Modules that define a click command of the same name; optional ones may be absent.
COMMANDS = ("demo", "staff", "select", "analyze", "run_draw", "purge", "purge_ops", "report", "backup")

UNMIGRATED = "Error: the database has no up-to-date schema; run `python -m meeting db upgrade` first."


def schema_ready() -> bool:
    """Is the database at the newest migration? (Needs an app context.)"""
    from alembic.script import ScriptDirectory
    from flask import current_app

    from meeting.extensions import db

    db.session.rollback()
    try:
        with db.engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return False
            current = set(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    except sa.exc.DBAPIError:
        return False
    heads = set(ScriptDirectory(current_app.extensions["migrate"].directory).get_heads())
    return current == heads


def _refuse_unmigrated(callback):
    """Turn a database error on a database without the schema into one line and exit code 2."""

    @functools.wraps(callback)
    def run(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except sa.exc.DBAPIError:
            if schema_ready():
                raise
            click.echo(UNMIGRATED, err=True)
            raise click.exceptions.Exit(2) from None

    return run


def register_commands(app: Flask) -> None:
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"meeting.commands.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"meeting.commands.{name}":
                continue
            raise
        for attr in ("command", name):
            cmd = getattr(module, attr, None)
            if cmd is not None and hasattr(cmd, "invoke"):
                if not getattr(cmd, "_refuses_unmigrated", False):
                    cmd.callback = _refuse_unmigrated(cmd.callback)
                    cmd._refuses_unmigrated = True  # tests make many apps from the same commands
                app.cli.add_command(cmd)
                break

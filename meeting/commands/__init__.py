"""Command-line commands (python -m meeting <command>)."""

import importlib

from flask import Flask

# Modules that define a click command of the same name; optional ones may be absent.
COMMANDS = ("demo", "staff", "select", "analyze", "run_draw", "purge", "backup")


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
                app.cli.add_command(cmd)
                break

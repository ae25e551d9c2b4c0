"""python -m meeting run-draw ID: do one queued panel selection (started by the web app)."""

import click
from flask.cli import with_appcontext

from meeting.services import panel


@click.command("run-draw")
@click.argument("selection_id", type=int)
@with_appcontext
def command(selection_id: int) -> None:
    """Run a queued quota check, panel draw or replacement draw, writing progress to the database."""
    panel.run(selection_id)

"""python -m meeting purge-ops --meeting ID: delete a meeting's op log (stored answers to clients)."""

import click
from flask.cli import with_appcontext

from meeting.extensions import db
from meeting.models import Meeting
from meeting.services import ops


@click.command("purge-ops")
@click.option("--meeting", "meeting_id", required=True, type=int, help="The meeting whose op log to delete.")
@with_appcontext
def command(meeting_id: int) -> None:
    """Delete the op log of a meeting once it is over (replays of its operations are then new)."""
    if db.session.get(Meeting, meeting_id) is None:
        click.echo(f"Error: there is no meeting {meeting_id}.", err=True)
        raise click.exceptions.Exit(2)
    click.echo(f"Deleted {ops.purge(meeting_id)} op log entries of meeting {meeting_id}.")

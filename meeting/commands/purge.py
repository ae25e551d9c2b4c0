"""python -m meeting purge-identity --meeting ID: delete a roster's names, addresses and contacts."""

import click
from flask.cli import with_appcontext

from meeting.extensions import db
from meeting.models import Meeting
from meeting.services import panel


@click.command("purge-identity")
@click.option("--meeting", "meeting_id", required=True, type=int, help="The meeting whose roster to purge.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def command(meeting_id: int, yes: bool) -> None:
    """Delete all sealed identity and household keys of a meeting's roster (categories stay)."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        click.echo(f"Error: there is no meeting {meeting_id}.", err=True)
        raise click.exceptions.Exit(2)
    if not yes:
        click.confirm(f"Delete the personal data of the roster of meeting {meeting_id} ({meeting.title})?",
                      abort=True)
    count = panel.purge_identity(meeting, via="command")
    click.echo(f"Deleted the identity of {count} people of meeting {meeting_id}.")

"""python -m meeting create-staff: add a staff account."""

import click
from flask.cli import with_appcontext

from meeting.services import staff


@click.command("create-staff")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--organizer", is_flag=True, help="May create meetings.")
@with_appcontext
def command(email: str, password: str, organizer: bool) -> None:
    """Create a staff account (an organizer with --organizer, else a facilitator)."""
    if len(password) < 10:
        raise click.UsageError("the password needs at least 10 characters")
    staff.create_staff(email, password, is_organizer=organizer)
    click.echo(f"created {staff.normalize_email(email)}")

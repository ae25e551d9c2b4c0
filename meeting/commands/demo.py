"""python -m meeting demo: a ready meeting to try, in one step."""

import json
import secrets

import click
from flask import current_app
from flask.cli import with_appcontext

from meeting.extensions import db
from meeting.services import invitations, meetings, staff


@click.command("demo")
@click.option("--participants", "count", type=click.IntRange(1, 5000), default=40, show_default=True)
@click.option("--tables", type=click.IntRange(1, 500), default=5, show_default=True)
@click.option("--title", default="デモ会議 / Demo meeting", show_default=True)
@click.option("--language", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@with_appcontext
def command(count: int, tables: int, title: str, language: str, as_json: bool) -> None:
    """Create a demo meeting with participants, tables, a facilitator and join links."""
    base = current_app.config["BASE_URL"]
    organizer = staff.ensure_admin(None, None)
    email = f"facilitator-{secrets.token_hex(4)}@demo.kurumaza.local"
    password = secrets.token_urlsafe(12)
    facilitator = staff.create_staff(email, password, name="Demo facilitator", is_organizer=True)
    meeting = meetings.create_meeting(title, language, by=facilitator,
                                      purpose="この会議は住民の皆さんの意見を集めるためのデモです。 "
                                              "This demo meeting gathers residents' ideas.")
    people = meetings.add_participants(meeting, count=count, by=facilitator)
    meetings.create_tables(meeting, tables, by=facilitator)
    seating = meetings.seating(meeting)
    table_name = {p.id: t.name for t in meeting.tables for p in seating.get(t.id, [])}
    cards = {c.participant.id: c for c in invitations.printable(meeting)}
    result = {
        "meeting_id": meeting.id,
        "title": meeting.title,
        "participants": [{"number": p.number, "table": table_name.get(p.id),
                          "join_url": f"{base}/j/{cards[p.id].token}", "code": cards[p.id].code_display}
                         for p in people],
        "facilitator": {"email": email, "password": password, "login_url": f"{base}/login",
                        "control_url": f"{base}/staff/meetings/{meeting.id}/control"},
        "join_page": f"{base}/join",
    }
    if organizer:
        result["organizer"] = {"email": organizer[0], "password": organizer[1]}
    db.session.remove()
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=1))
        return
    click.echo(f"Demo meeting {meeting.id}: {title}")
    click.echo(f"Facilitator: {email} / {password}  ({base}/login)")
    click.echo(f"Control room: {result['facilitator']['control_url']}")
    for p in result["participants"]:
        click.echo(f"  #{p['number']:>3} table {p['table']}: {p['join_url']}  code {p['code']}")

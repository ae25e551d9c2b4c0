"""python -m meeting demo: the Setagaya day, ready to run in one step."""

import json
import random
import secrets

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from meeting.extensions import db
from meeting.models import Round, StaffUser
from meeting.services import agenda, invitations, meetings, staff

# Setagaya-like categories: the ward's five districts, gender, age band and how long people lived there.
CATEGORIES = {
    "性別": [("女性", 52), ("男性", 47), ("その他", 1)],
    "年代": [("18-29", 14), ("30-44", 25), ("45-64", 33), ("65-74", 14), ("75-", 14)],
    "地域": [("世田谷", 26), ("北沢", 16), ("玉川", 24), ("砧", 19), ("烏山", 15)],
    "居住年数": [("5年未満", 30), ("5-19年", 35), ("20年以上", 35)],
}
AGENDA = [
    ("table", "第1ラウンド：いまの公園", "家の近くの公園で、よいところと困っていることは？", 20),
    ("table", "第2ラウンド：これからの公園", "10年後、どんな公園があったらうれしいですか？", 20),
    ("table", "第3ラウンド：わたしたちにできること", "区と住民が一緒にできることは何でしょう？", 20),
    ("plenary", "全体会：テーブル発表と投票", "各テーブルから2分ずつ発表し、全体で投票します。", 45),
]


def profiles(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [{"categories": {name: rng.choices([v for v, _ in values], [w for _, w in values])[0]
                            for name, values in CATEGORIES.items()}} for _ in range(count)]


def first_organizer() -> StaffUser | None:
    return db.session.scalar(sa.select(StaffUser).where(StaffUser.is_organizer.is_(True)).order_by(StaffUser.id).limit(1))


@click.command("demo")
@click.option("--participants", "count", type=click.IntRange(1, 5000), default=100, show_default=True)
@click.option("--tables", type=click.IntRange(1, 500), default=20, show_default=True)
@click.option("--title", default="世田谷区 区民ワークショップ（デモ） / Setagaya residents' workshop (demo)", show_default=True)
@click.option("--language", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option("--seed", type=int, default=2026, show_default=True, help="Seed for the participants' categories.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@with_appcontext
def command(count: int, tables: int, title: str, language: str, seed: int, as_json: bool) -> None:
    """Create the demo day: participants with categories, tables, an agenda of three table rounds and a
    plenary, a facilitator login (not an organizer) and the organizer's."""
    base = current_app.config["BASE_URL"]
    created = staff.ensure_admin(None, None)
    organizer = first_organizer()
    email = f"facilitator-{secrets.token_hex(4)}@demo.kurumaza.local"
    password = secrets.token_urlsafe(12)
    facilitator = staff.create_staff(email, password, name="Demo facilitator", is_organizer=False)
    meeting = meetings.create_meeting(title, language, by=organizer,
                                      purpose="この会議は、区民の皆さんの意見を集めるためのデモです。"
                                              "出された意見と投票は、個人が分からない形で記録されます。 "
                                              "This demo meeting gathers residents' ideas; ideas and votes are "
                                              "recorded without names.")
    staff.assign(meeting.id, facilitator, "facilitator", by=organizer)
    people = meetings.new_participants(meeting, profiles(count, seed), staff_id=organizer.id, source="demo")
    db.session.commit()
    meetings.create_tables(meeting, tables, by=organizer)
    first = db.session.scalar(sa.select(Round).where(Round.meeting_id == meeting.id).order_by(Round.position))
    kind, step_title, question, minutes = AGENDA[0]
    agenda.edit_step(organizer, meeting.id, first.id, {"title": step_title, "question": question,
                                                         "duration_s": minutes * 60})
    for kind, step_title, question, minutes in AGENDA[1:]:
        agenda.add_step(organizer, meeting.id, {"kind": kind, "title": step_title, "question": question,
                                                "duration_s": minutes * 60})
    db.session.commit()
    seating = meetings.seating(meeting)
    table_name = {p.id: t.name for t in meeting.tables for p in seating.get(t.id, [])}
    cards = {c.participant.id: c for c in invitations.printable(meeting)}
    result = {
        "meeting_id": meeting.id,
        "title": meeting.title,
        "agenda": [{"title": t, "kind": k, "minutes": m} for k, t, _, m in AGENDA],
        "participants": [{"number": p.number, "table": table_name.get(p.id), "categories": p.categories,
                          "join_url": f"{base}/j/{cards[p.id].token}", "code": cards[p.id].code_display}
                         for p in people],
        "facilitator": {"email": email, "password": password, "login_url": f"{base}/login",
                        "control_url": f"{base}/staff/meetings/{meeting.id}/control"},
        "organizer": {"email": organizer.email, "login_url": f"{base}/login",
                      "meeting_url": f"{base}/staff/meetings/{meeting.id}"},
        "join_page": f"{base}/join",
    }
    if created:
        result["organizer"]["password"] = created[1]

    db.session.remove()
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=1))
        return
    click.echo(f"Demo meeting {meeting.id}: {title}")
    click.echo(f"Facilitator: {email} / {password}  ({base}/login)")
    click.echo(f"Control room: {result['facilitator']['control_url']}")
    organizer_line = f"Organizer: {organizer.email}"
    if created:
        organizer_line += f" / {created[1]}"
    click.echo(organizer_line + f"  ({result['organizer']['meeting_url']})")
    for p in result["participants"]:
        click.echo(f"  #{p['number']:>3} table {p['table']}: {p['join_url']}  code {p['code']}")

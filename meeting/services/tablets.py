"""A table's shared tablet in a hybrid hall: one device serves several residents in turn. Each
taps their nickname, acts as themselves (ideas, votes, ballots), and hands over. Handing over ends
that resident's session on the tablet, so the next person sees nothing of the previous one's
choices, a secret ballot included. A resident whose own phone is connected right now is not
offered: their phone is their device."""

import secrets as pysecrets

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Connection, DeviceLink, Participant, Seat, Table
from meeting.models._base import utcnow
from meeting.services import audit, devices, invitations, meetings, people, secrets, staff, validate
from meeting.services.errors import ServiceError
from meeting.services.events import Changes, Event, staff_stream


def links_view(meeting_id: int) -> list[dict]:
    return devices.links(meeting_id, "tablet")


def create_link(user, meeting_id: int, table_id) -> tuple[dict, Changes]:
    """A secret link for one table's shared tablet; the token reaches the facilitator once."""
    staff.require_facilitator(user, meeting_id)
    table = db.session.get(Table, table_id) if validate.is_id(table_id) else None
    if table is None or table.meeting_id != meeting_id:
        raise ServiceError("not_found")
    link, token = devices.create(user, meeting_id, "tablet", table.id)
    return {"link": devices.view(link), "_once": {"token": token}}, Changes(events=[
        Event(staff_stream(meeting_id), "tablet_links", {"links": links_view(meeting_id)})])


def revoke_link(user, meeting_id: int, link_id) -> tuple[dict, Changes]:
    """Revoke a tablet link: its picker is refused, and whoever is signed in on it is signed out."""
    staff.require_facilitator(user, meeting_id)
    link = devices.revoke(user, meeting_id, "tablet", link_id)
    return {"link": devices.view(link)}, Changes(events=[
        Event(staff_stream(meeting_id), "tablet_links", {"links": links_view(meeting_id)})])


def at_table(link: DeviceLink) -> list[dict]:
    """Who the tablet may serve: the table's residents in the round in force, not removed, each
    marked when their own phone is connected (then they use it)."""
    round_id = meetings.seating_round_id(link.meeting_id)
    seated = list(db.session.scalars(sa.select(Participant).join(Seat, Seat.participant_id == Participant.id).where(
        Seat.round_id == round_id, Seat.table_id == link.table_id, Participant.removed_at.is_(None))
        .order_by(Participant.number))) if round_id else []
    online = people.connected_ids(link.meeting_id)
    return [{"id": p.id, "label": people.label(p), "named": bool(p.nickname), "on_phone": p.id in online}
            for p in seated]


def take(link: DeviceLink, participant_id, nickname=None) -> tuple[Participant, str]:
    """Sign a resident in on the tablet: a fresh session key (their earlier session ends); commit."""
    person = db.session.get(Participant, participant_id) if validate.is_id(participant_id) else None
    offered = {p["id"]: p for p in at_table(link)}
    if person is None or person.id not in offered:
        raise ServiceError("not_found")
    if offered[person.id]["on_phone"]:
        raise ServiceError("tablet_on_phone")
    if not person.nickname:
        name = invitations.clean_nickname(nickname)
        invitations.lock_meeting(person.meeting_id)
        invitations.ensure_free_nickname(person.meeting_id, name, except_id=person.id)
        person.nickname = name
    key = pysecrets.token_urlsafe(24)
    person.session_key_hash = secrets.session_key_hash(key)
    if person.joined_at is None:
        person.joined_at = utcnow()
    audit.record("tablet.take", meeting_id=link.meeting_id, target=f"participant:{person.id}",
                 table_id=link.table_id, device=link.id)
    db.session.commit()
    return person, key


def hand_over(link: DeviceLink, person: Participant | None) -> Changes:
    """End the resident's session on the tablet (the cookie's key stops matching); commit."""
    if person is None:
        return Changes()
    person.session_key_hash = None
    sids = set(db.session.scalars(sa.select(Connection.sid).where(Connection.participant_id == person.id)))
    audit.record("tablet.hand_over", meeting_id=link.meeting_id, target=f"participant:{person.id}",
                 table_id=link.table_id, device=link.id)
    db.session.commit()
    return Changes(disconnect=sids)

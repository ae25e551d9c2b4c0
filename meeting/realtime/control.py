"""Socket.IO events of the control room (help calls, people, moderation, plenary); documented in
docs/protocol.md ("Control room")."""

import segno
import sqlalchemy as sa
from flask import current_app, url_for

from meeting.extensions import db
from meeting.models import Idea, Vote
from meeting.models._base import iso
from meeting.realtime.handlers import _participant, _staff, client_event, snapshot_extensions
from meeting.services import announcements, funnel, help, ideas, merging, moderation, people, proxy, similar, tablets, video


@client_event("table_detail", role="staff")
def table_detail(who, data):
    return people.table_detail(_staff(who), who.meeting_id, data.get("table_id"))


@client_event("call_staff", role="participant")
def call_staff(who, data):
    return help.call_staff(_participant(who))


@client_event("help_cancel", role="participant")
def help_cancel(who, data):
    return help.cancel(_participant(who))


@client_event("help_ack", role="staff")
def help_ack(who, data):
    return help.acknowledge(_staff(who), who.meeting_id, data.get("help_id"))


@client_event("help_resolve", role="staff")
def help_resolve(who, data):
    return help.resolve(_staff(who), who.meeting_id, data.get("help_id"))


def last_activity(meeting_id: int) -> dict[str, str]:
    """Each table's latest idea or vote, for the tiles' "minutes since the last activity"."""
    latest: dict[int, object] = dict(db.session.execute(
        sa.select(Idea.table_id, sa.func.max(Idea.created_at)).where(Idea.meeting_id == meeting_id)
        .group_by(Idea.table_id)).all())
    voted = db.session.execute(sa.select(Idea.table_id, sa.func.max(Vote.updated_at)).join(Vote, Vote.idea_id == Idea.id)
                               .where(Idea.meeting_id == meeting_id).group_by(Idea.table_id))
    for table_id, moment in voted:
        if moment is not None and (latest.get(table_id) is None or moment > latest[table_id]):
            latest[table_id] = moment
    return {str(t): iso(m) for t, m in latest.items() if m is not None}


def extend_snapshot(who, person, snap):
    if who.staff_id:
        snap["activity"] = last_activity(who.meeting_id)
        snap["help"] = help.queue(who.meeting_id)
        snap["announcements"] = announcements.for_staff(who.meeting_id)
        snap["tablet_links"] = tablets.links_view(who.meeting_id)
        snap["video_rooms"] = video.rooms(who.meeting_id)
        return
    # The participant's own stream (joined on connect) is among the snapshot's positions.
    snap["help"] = help.phone_view(help.open_call(who.participant_id))
    snap["video"] = video.for_phone(person.meeting_id, snap["table"]["id"] if snap.get("table") else None)


snapshot_extensions.append(extend_snapshot)


@client_event("person_remove", role="staff")
def person_remove(who, data):
    return people.remove(_staff(who), who.meeting_id, data.get("participant_id"))


@client_event("person_readmit", role="staff")
def person_readmit(who, data):
    result, changes = people.readmit(_staff(who), who.meeting_id, data.get("participant_id"))
    once = result["_once"]
    once["url"] = current_app.config["BASE_URL"] + url_for("join.by_token", token=once.pop("token"))
    once["code_page"] = current_app.config["BASE_URL"] + url_for("join.by_code")
    once["qr"] = segno.make(once["url"], error="m").png_data_uri(scale=6, border=2)
    return result, changes


@client_event("edit_idea", role="staff")
def edit_idea(who, data):
    return moderation.edit_idea(_staff(who), who.meeting_id, data.get("idea_id"), data.get("text"), data.get("reason"))


@client_event("similar_ideas", role="participant")
def similar_ideas(who, data):
    return similar.similar_ideas(_participant(who), data.get("text"))


@client_event("announce_to", role="staff")
def announce_to(who, data):
    return ideas.announce(_staff(who), who.meeting_id, data.get("text"), data.get("table_id"))


@client_event("announcement_clear", role="staff")
def announcement_clear(who, data):
    return announcements.clear(_staff(who), who.meeting_id, data.get("announcement_id"))


@client_event("idea_merge", role="staff")
def idea_merge(who, data):
    return merging.merge_ideas(_staff(who), who.meeting_id, data.get("target_id"), data.get("source_ids"))


@client_event("idea_unmerge", role="staff")
def idea_unmerge(who, data):
    return merging.unmerge_idea(_staff(who), who.meeting_id, data.get("idea_id"))


@client_event("approve_idea", role="staff")
def approve_idea(who, data):
    return moderation.approve_idea(_staff(who), who.meeting_id, data.get("idea_id"))


@client_event("reject_idea", role="staff")
def reject_idea(who, data):
    return moderation.reject_idea(_staff(who), who.meeting_id, data.get("idea_id"), data.get("reason"))


@client_event("proxy_idea", role="staff")
def proxy_idea(who, data):
    return proxy.post_idea(_staff(who), who.meeting_id, data.get("participant_id"), data.get("text"))


@client_event("proxy_vote", role="staff")
def proxy_vote(who, data):
    return proxy.vote(_staff(who), who.meeting_id, data.get("participant_id"), data.get("idea_id"), data.get("value"))


@client_event("funnel", role="staff", read_only=True)
def participation_funnel(who, data):
    return funnel.view(_staff(who), who.meeting_id)


@client_event("tablet_link_create", role="staff")
def tablet_link_create(who, data):
    result, changes = tablets.create_link(_staff(who), who.meeting_id, data.get("table_id"))
    once = result["_once"]
    once["url"] = current_app.config["BASE_URL"] + url_for("tablet.picker", meeting_id=who.meeting_id,
                                                           token=once.pop("token"))
    once["qr"] = segno.make(once["url"], error="m").png_data_uri(scale=6, border=2)
    return result, changes


@client_event("tablet_link_revoke", role="staff")
def tablet_link_revoke(who, data):
    return tablets.revoke_link(_staff(who), who.meeting_id, data.get("link_id"))
@client_event("video_room", role="staff")
def video_room(who, data):
    return video.set_room(_staff(who), who.meeting_id, data.get("table_id"), data.get("url"), data.get("round_id"))

"""Socket.IO events for the agenda, its clock and seating; documented in docs/protocol.md ("Agenda")."""

import sqlalchemy as sa

from meeting.extensions import db
from meeting.models import Meeting, TableHost
from meeting.realtime.clock import DeadlineClock
from meeting.realtime.handlers import _staff, client_event, snapshot_extensions
from meeting.services import agenda, seating

# End steps whose time is up (those set to end by themselves).
clock = DeadlineClock(agenda.end_due, agenda.next_deadline)


def _clocked(result):
    """Wake the clock when a step now runs with an end time."""
    step = result[0].get("step") or {}
    if step.get("state") == "running" and step.get("ends_at") and step.get("auto_end"):
        clock.wake()
    return result


@client_event("agenda_add", role="staff")
def agenda_add(who, data):
    return agenda.add_step(_staff(who), who.meeting_id, data)


@client_event("agenda_edit", role="staff")
def agenda_edit(who, data):
    return agenda.edit_step(_staff(who), who.meeting_id, data.get("step_id"), data)


@client_event("agenda_move", role="staff")
def agenda_move(who, data):
    return agenda.move_step(_staff(who), who.meeting_id, data.get("step_id"), data.get("position"))


@client_event("agenda_delete", role="staff")
def agenda_delete(who, data):
    return agenda.delete_step(_staff(who), who.meeting_id, data.get("step_id"))


@client_event("step_start", role="staff")
def step_start(who, data):
    return _clocked(agenda.start_step(_staff(who), who.meeting_id, data.get("step_id")))


@client_event("step_next", role="staff")
def step_next(who, data):
    return _clocked(agenda.next_step(_staff(who), who.meeting_id))


@client_event("step_pause", role="staff")
def step_pause(who, data):
    return agenda.pause_step(_staff(who), who.meeting_id)


@client_event("step_resume", role="staff")
def step_resume(who, data):
    return _clocked(agenda.resume_step(_staff(who), who.meeting_id))


@client_event("step_extend", role="staff")
def step_extend(who, data):
    return _clocked(agenda.extend_step(_staff(who), who.meeting_id, data.get("seconds")))


@client_event("step_end", role="staff")
def step_end(who, data):
    return agenda.end_step(_staff(who), who.meeting_id)


@client_event("meeting_settings", role="staff")
def meeting_settings(who, data):
    return agenda.settings(_staff(who), who.meeting_id, data)


@client_event("seating_preview", role="staff")
def seating_preview(who, data):
    return seating.preview(_staff(who), who.meeting_id, data.get("mode"), data.get("step_id"),
                           everyone=data.get("everyone") is True)


@client_event("seating_apply", role="staff")
def seating_apply(who, data):
    return seating.apply(_staff(who), who.meeting_id, data.get("step_id"), data.get("assignment"))


@client_event("seat_move", role="staff")
def seat_move(who, data):
    return seating.move(_staff(who), who.meeting_id, data.get("participant_id"), data.get("table_id"))


@client_event("seat_swap", role="staff")
def seat_swap(who, data):
    return seating.swap(_staff(who), who.meeting_id, data.get("participant_id"), data.get("other_id"))


@client_event("seat_leave", role="staff")
def seat_leave(who, data):
    return seating.leave(_staff(who), who.meeting_id, data.get("participant_id"))


@client_event("set_host", role="staff")
def set_host(who, data):
    return seating.set_host(_staff(who), who.meeting_id, data.get("table_id"), data.get("participant_id"),
                            data.get("staff_id"))


@client_event("seating_rule_add", role="staff")
def seating_rule_add(who, data):
    return seating.add_rule(_staff(who), who.meeting_id, data.get("kind"), data.get("participant_ids"))


@client_event("seating_rule_remove", role="staff")
def seating_rule_remove(who, data):
    return seating.remove_rule(_staff(who), who.meeting_id, data.get("rule_id"))


_HOSTS_AT = sa.select(TableHost.table_id).where(TableHost.participant_id == sa.bindparam("participant_id"))


def extend_snapshot(who, person, snap):
    view = agenda.clock_view(who.meeting_id)
    snap["agenda"] = view
    snap["seating_round_id"] = view["seating_round_id"]  # read once, by the clock view
    snap["rounds"] = {str(s["id"]): {"number": s["number"], "title": s["title"], "kind": s["kind"]}
                      for s in view["agenda"]}
    if who.participant_id:
        table = snap.get("table")
        snap["host"] = bool(table and db.session.scalar(_HOSTS_AT, {"participant_id": who.participant_id})
                            == table["id"])
    else:
        meeting = db.session.get(Meeting, who.meeting_id)
        snap["settings"] = agenda.settings_view(meeting)
        snap["seating"] = seating.staff_view(meeting)
    step = view["step"]
    if step and step["state"] == "running" and step["ends_at"] and step["auto_end"]:
        clock.wake()  # e.g. after a restart, the first client to come back restarts the clock


snapshot_extensions.append(extend_snapshot)



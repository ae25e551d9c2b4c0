"""Socket.IO events of the plenary: marking ideas, report-outs with their clock, the plenary poll and
the projector's link; documented in docs/protocol.md ("Plenary and projector")."""

from flask import current_app, url_for

from meeting.broadcast import watchers
from meeting.realtime.clock import DeadlineClock
from meeting.realtime.handlers import _participant, _staff, client_event, snapshot_extensions
from meeting.services import plenary

# End report-outs whose time is up (the same mechanism as the agenda's steps and the polls).
clock = DeadlineClock(plenary.end_due, plenary.next_deadline)
watchers.append(plenary.follow_idea_changes)


def _clocked(result):
    """Wake the clock when a report-out now runs."""
    current = result[0]["reports"]["current"]
    if current and current["state"] == "running":
        clock.wake()
    return result


@client_event("plenary_mark_host", role="participant")
def plenary_mark_host(who, data):
    return plenary.mark_by_host(_participant(who), data.get("idea_id"), data.get("plenary"))


@client_event("plenary_mark", role="staff")
def plenary_mark(who, data):
    return plenary.mark_by_staff(_staff(who), who.meeting_id, data.get("idea_id"), data.get("plenary"))


@client_event("report_queue", role="staff")
def report_queue(who, data):
    return plenary.set_queue(_staff(who), who.meeting_id, data.get("table_ids"))


@client_event("report_start", role="staff")
def report_start(who, data):
    return _clocked(plenary.start_report(_staff(who), who.meeting_id, data.get("report_id")))


@client_event("report_next", role="staff")
def report_next(who, data):
    return _clocked(plenary.next_report(_staff(who), who.meeting_id))


@client_event("report_pause", role="staff")
def report_pause(who, data):
    return plenary.pause_report(_staff(who), who.meeting_id)


@client_event("report_resume", role="staff")
def report_resume(who, data):
    return _clocked(plenary.resume_report(_staff(who), who.meeting_id))


@client_event("report_skip", role="staff")
def report_skip(who, data):
    return plenary.skip_report(_staff(who), who.meeting_id, data.get("report_id"))


@client_event("report_settings", role="staff")
def report_settings(who, data):
    return plenary.report_settings(_staff(who), who.meeting_id, data.get("speak_s"), data.get("questions_s"))


@client_event("plenary_poll", role="staff")
def plenary_poll(who, data):
    return plenary.plenary_poll(_staff(who), who.meeting_id, data)


def projector_url(meeting_id: int, token: str) -> str:
    return current_app.config["BASE_URL"] + url_for("projector.screen", meeting_id=meeting_id, token=token)


@client_event("projector_create", role="staff")
def projector_create(who, data):
    result, changes = plenary.create_projector_link(_staff(who), who.meeting_id)
    result["_once"] = {"url": projector_url(who.meeting_id, result["_once"]["token"])}
    return result, changes


@client_event("projector_revoke", role="staff")
def projector_revoke(who, data):
    return plenary.revoke_projector_link(_staff(who), who.meeting_id, data.get("link_id"))


def extend_snapshot(who, person, snap):
    reports = plenary.reports_view(who.meeting_id)
    snap["reports"] = reports
    if who.staff_id:
        snap["plenary"] = plenary.plenary_view(who.meeting_id, for_staff=True)
        snap["plenary_ids"] = plenary.marked_ids(who.meeting_id)
        snap["projector_links"] = plenary.projector_links(who.meeting_id)
    else:
        table = snap.get("table")
        snap["plenary_ids"] = plenary.marked_ids(who.meeting_id, table["id"]) if table else []
    if reports["current"] and reports["current"]["state"] == "running":
        clock.wake()  # e.g. after a restart, the first client to come back restarts the clock


snapshot_extensions.append(extend_snapshot)

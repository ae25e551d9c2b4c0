"""The facilitator's control room and the meeting's audit log."""

import json

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from meeting.exports.tabular import write_csv
from meeting.services import moderation
from meeting.web.access import meeting_role

bp = Blueprint("control", __name__, url_prefix="/staff")


@bp.route("/meetings/<int:meeting_id>/control")
@meeting_role("organizer", "facilitator")
def room(meeting):
    """Show every table live: connected counts, ideas, moderation and announcements."""
    return render_template("control/room.html", meeting=meeting)


def _log(meeting) -> dict:
    return moderation.audit_log(current_user, meeting.id, action=request.args.get("action") or None,
                                staff_id=request.args.get("staff") or None, table_id=request.args.get("table") or None)


@bp.route("/meetings/<int:meeting_id>/audit")
@meeting_role("organizer", "facilitator")
def audit_log(meeting):
    """Show what staff did in this meeting, newest first, filtered by action, staff member or table."""
    return render_template("control/audit.html", meeting=meeting, log=_log(meeting), query=request.args)


@bp.route("/meetings/<int:meeting_id>/audit.csv")
@meeting_role("organizer", "facilitator")
def audit_csv(meeting):
    """Download the (filtered) audit log as CSV."""
    log = _log(meeting)
    header = [_("Time (UTC)"), _("Action"), _("Staff member"), _("Table"), _("Target"), _("Details")]
    rows = ([r["at"], r["action"], r["staff"], r["table"], r["target"],
             json.dumps(r["detail"], ensure_ascii=False, sort_keys=True)] for r in log["rows"])
    return Response(write_csv(header, rows), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="meeting-{meeting.id}-audit.csv"'})

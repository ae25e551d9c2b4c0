"""The facilitator's control room."""

from flask import Blueprint, render_template

from meeting.web.access import meeting_role

bp = Blueprint("control", __name__, url_prefix="/staff")


@bp.route("/meetings/<int:meeting_id>/control")
@meeting_role("organizer", "facilitator")
def room(meeting):
    """Show every table live: connected counts, ideas, moderation and announcements."""
    return render_template("control/room.html", meeting=meeting)

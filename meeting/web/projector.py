"""The hall's screen: a read-only page opened with a secret, revocable projector link."""

import segno
from flask import Blueprint, current_app, render_template, url_for

from meeting.extensions import db
from meeting.i18n import use_meeting
from meeting.models import Meeting
from meeting.services import plenary, validate
from meeting.services.errors import ServiceError

bp = Blueprint("projector", __name__)


@bp.route("/m/<int:meeting_id>/projector/<token>")
def screen(meeting_id: int, token: str):
    """Show the meeting live for the hall: the step, the report-out, the plenary list, the poll, the join code."""
    link = plenary.projector_link(meeting_id, token) if validate.is_id(meeting_id) else None
    if link is None:
        return render_template("join/refused.html", message=ServiceError("projector_link").message,
                               device=True), 404
    meeting = db.session.get(Meeting, meeting_id)
    use_meeting(meeting)
    join_url = current_app.config["BASE_URL"] + url_for("join.by_code")
    qr = segno.make(join_url, error="m").png_data_uri(scale=8, border=2)
    return render_template("projector/screen.html", meeting=meeting, token=token, join_url=join_url, qr=qr)

"""Downloads of a meeting's ideas and votes."""

import json

from flask import Blueprint, Response
from flask_login import current_user

from meeting.exports import ideas as idea_export
from meeting.extensions import db
from meeting.services import audit
from meeting.web.access import meeting_role

bp = Blueprint("exports", __name__, url_prefix="/staff")


def _download(meeting, body: bytes, name: str, mimetype: str) -> Response:
    audit.record("export", meeting_id=meeting.id, staff_id=current_user.id, target=name)
    db.session.commit()
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="meeting-{meeting.id}-{name}"'})


@bp.route("/meetings/<int:meeting_id>/export/ideas.csv")
@meeting_role("organizer")
def ideas_csv(meeting):
    """Download the ideas with their tallies as CSV."""
    return _download(meeting, idea_export.ideas_csv(meeting), "ideas.csv", "text/csv; charset=utf-8")


@bp.route("/meetings/<int:meeting_id>/export/votes.csv")
@meeting_role("organizer")
def votes_csv(meeting):
    """Download every vote as CSV, one row per participant and idea."""
    return _download(meeting, idea_export.votes_csv(meeting), "votes.csv", "text/csv; charset=utf-8")


@bp.route("/meetings/<int:meeting_id>/export/meeting.json")
@meeting_role("organizer")
def meeting_json(meeting):
    """Download ideas and votes as JSON."""
    body = json.dumps(idea_export.collect(meeting), ensure_ascii=False, indent=1).encode("utf-8")
    return _download(meeting, body, "meeting.json", "application/json")

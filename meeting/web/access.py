"""Who may open which staff page."""

from functools import wraps

from flask import abort, g
from flask_login import current_user, login_required

from meeting.extensions import db
from meeting.models import Meeting
from meeting.services import staff


def meeting_role(*roles: str):
    """Require a logged-in staff member with one of `roles` in the meeting `meeting_id`."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(meeting_id: int, *args, **kwargs):
            meeting = db.session.get(Meeting, meeting_id)
            if meeting is None:
                abort(404)
            if staff.role_in(current_user, meeting_id) not in roles:
                abort(403)
            g.meeting = meeting
            return view(meeting, *args, **kwargs)

        return wrapped

    return decorator

"""Who may open which staff page."""

from functools import wraps

from flask import abort, g
from flask_login import current_user, login_required

from meeting.extensions import db
from meeting.models import Meeting
from meeting.services import staff, validate


def meeting_role(*roles: str):
    """Require a logged-in staff member with one of `roles` in the meeting `meeting_id`.

    A meeting the staff member is not on is "not found", exactly like one that does not exist:
    the answer must not tell which meeting ids exist. Staff on the meeting without the role
    get "forbidden".
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(meeting_id: int, *args, **kwargs):
            if not all(validate.is_id(v) for v in kwargs.values() if isinstance(v, int)):
                abort(404)  # an id in the path beyond 64 bits (or 0) names nothing
            meeting = db.session.get(Meeting, meeting_id) if validate.is_id(meeting_id) else None
            role = staff.role_in(current_user, meeting_id) if meeting is not None else None
            if role is None:
                abort(404)
            if role not in roles:
                abort(403)  # on the meeting, so its existence is no secret to them
            g.meeting = meeting
            return view(meeting, *args, **kwargs)

        return wrapped

    return decorator

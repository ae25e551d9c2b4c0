"""Session cookies of participants and staff, read by both the pages and the realtime handlers."""

import sqlalchemy as sa
from flask import current_app, session
from flask_login import login_user, logout_user

from meeting.extensions import db, socketio
from meeting.models import Connection, Participant, StaffUser
from meeting.services import meetings, staff

PARTICIPANT_KEY = "participant"


def sign_in_participant(person: Participant, key: str) -> None:
    session.pop("pending_invitation", None)
    session[PARTICIPANT_KEY] = {"id": person.id, "key": key}
    session.permanent = True


def current_participant() -> Participant | None:
    value = session.get(PARTICIPANT_KEY)
    if not isinstance(value, dict):
        return None
    return meetings.participant_for_session(value.get("id"), value.get("key"))


def current_seated() -> meetings.Seated | None:
    """Who this participant's cookie names and their table, without loading their row."""
    value = session.get(PARTICIPANT_KEY)
    if not isinstance(value, dict):
        return None
    return meetings.seated(value.get("id"), value.get("key"))


# --------------------------------------------------------------------------- staff

STAFF_KEY = "staff_session"


def sign_in_staff(user: StaffUser) -> None:
    """Log a staff member in with a new server-side session (ended by logout, timeouts, ...)."""
    session_id, key = staff.open_session(user)
    session.pop(STAFF_KEY, None)
    login_user(user)
    session[STAFF_KEY] = {"id": session_id, "key": key}


def staff_session_id() -> int | None:
    value = session.get(STAFF_KEY)
    return value.get("id") if isinstance(value, dict) else None


def sign_out_staff() -> None:
    staff.end_session(staff_session_id(), "logout")
    session.pop(STAFF_KEY, None)
    logout_user()


def load_staff(user_id: str) -> StaffUser | None:
    """Flask-Login's loader: the user only while the cookie's server-side session is live."""
    value = session.get(STAFF_KEY)
    if not isinstance(value, dict):
        return None
    config = current_app.config
    user = staff.session_user(value.get("id"), value.get("key"), idle=config["STAFF_IDLE_TIMEOUT"],
                              absolute=config["STAFF_ABSOLUTE_TIMEOUT"])
    if user is None or str(user.id) != user_id:
        return None
    return user


def disconnect_staff(user_id: int, meeting_id: int | None = None) -> None:
    """Close the live Socket.IO connections of a staff member whose access just ended.

    Connections are found in the shared presence table, so this reaches every worker (the
    message queue forwards the disconnect).
    """
    query = sa.select(Connection.sid).where(Connection.staff_id == user_id)
    if meeting_id is not None:
        query = query.where(Connection.meeting_id == meeting_id)
    for sid in db.session.scalars(query).all():
        socketio.server.disconnect(sid)

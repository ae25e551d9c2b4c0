"""The participant's session cookie, read by both the pages and the realtime handlers."""

from flask import session

from meeting.models import Participant
from meeting.services import invitations

PARTICIPANT_KEY = "participant"


def sign_in_participant(person: Participant, key: str) -> None:
    session.pop("pending_invitation", None)
    session[PARTICIPANT_KEY] = {"id": person.id, "key": key}
    session.permanent = True


def current_participant() -> Participant | None:
    value = session.get(PARTICIPANT_KEY)
    if not isinstance(value, dict):
        return None
    return invitations.participant_for_session(value.get("id"), value.get("key"))

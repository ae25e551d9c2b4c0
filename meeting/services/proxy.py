"""Proxy entry in a hybrid hall: a facilitator enters an idea or a vote for a resident without a
phone. It goes through the resident's own path (their table, the round's rules, pre-moderation),
is recorded as proxy on the idea or vote, and appears in the audit log."""

from meeting.services import audit, ideas, people, staff
from meeting.services.errors import ServiceError
from meeting.services.events import Event, participant_stream


def _resident(meeting_id: int, participant_id):
    person = people._person(meeting_id, participant_id)
    if person.removed_at is not None:
        raise ServiceError("not_found")
    return person


def post_idea(user, meeting_id: int, participant_id, text):
    staff.require_facilitator(user, meeting_id)
    person = _resident(meeting_id, participant_id)
    answer, changes = ideas.post_idea(person, text, proxy_staff_id=user.id)
    audit.record("proxy.idea", meeting_id=meeting_id, staff_id=user.id, target=f"idea:{answer['idea']['id']}",
                 participant_id=person.id, participant=people.label(person))
    return {**answer, "participant_id": person.id}, changes


def vote(user, meeting_id: int, participant_id, idea_id, value):
    staff.require_facilitator(user, meeting_id)
    person = _resident(meeting_id, participant_id)
    answer, changes = ideas.vote(person, idea_id, value, proxy_staff_id=user.id)
    audit.record("proxy.vote", meeting_id=meeting_id, staff_id=user.id, target=f"idea:{answer['idea_id']}",
                 participant_id=person.id, participant=people.label(person), value=answer["value"])
    # The resident's own screens (a shared tablet, a phone found again) show the vote as theirs.
    changes.events.append(Event(participant_stream(person.id), "my_votes",
                                {"votes": {str(answer["idea_id"]): answer["value"]}}))
    return {**answer, "participant_id": person.id}, changes

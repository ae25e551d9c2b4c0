"""The meeting's practical details (date, hours, venue, contact, licence) and publishing it.

Publishing is explicit: only a published meeting is reachable through the read-only API.
The opinion map is recomputed when the meeting is published, so the API serves the final map.
"""
from datetime import date, time

from meeting.exports.bundle import LICENCES
from meeting.extensions import db
from meeting.models import Meeting
from meeting.models._base import utcnow
from meeting.services import audit, staff
from meeting.services.errors import ServiceError

TEXT_MAX = 300


def update_details(user, meeting: Meeting, *, held_on: date | None, starts_at: time | None, ends_at: time | None,
                   venue: str, contact: str, licence: str, language_fixed: bool | None = None) -> Meeting:
    """Set when and where the meeting is held, whom to contact and the licence of its open data."""
    staff.require_organizer(user, meeting.id)
    if licence not in LICENCES:
        raise ServiceError("bad_request")
    if starts_at and ends_at and ends_at <= starts_at:
        raise ServiceError("bad_request")
    meeting.held_on, meeting.starts_at, meeting.ends_at = held_on, starts_at, ends_at
    meeting.venue = (venue or "").strip()[:TEXT_MAX]
    meeting.contact = (contact or "").strip()[:TEXT_MAX]
    meeting.licence = licence
    if language_fixed is not None:
        meeting.language_fixed = bool(language_fixed)
    audit.record("meeting.details", meeting_id=meeting.id, staff_id=user.id, target=f"meeting:{meeting.id}")
    db.session.commit()
    return meeting


def set_published(user, meeting: Meeting, published: bool) -> Meeting:
    """Publish the meeting (the API shows it) or withdraw it."""
    staff.require_organizer(user, meeting.id)
    if published:
        from meeting.exports.datasets import opinion_state

        opinion_state(meeting.id)
    meeting.published_at = utcnow() if published else None
    audit.record("meeting.publish" if published else "meeting.unpublish", meeting_id=meeting.id, staff_id=user.id,
                 target=f"meeting:{meeting.id}")
    db.session.commit()
    return meeting

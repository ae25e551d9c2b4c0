"""Staff accounts: creation, login and who may run which meeting."""

import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from meeting.extensions import db
from meeting.models import MeetingStaff, StaffUser
from meeting.services import audit
from meeting.services.errors import ServiceError

_hasher = PasswordHasher()


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def create_staff(email: str, password: str, *, name: str = "", is_organizer: bool = False) -> StaffUser:
    user = StaffUser(email=normalize_email(email), name=name, is_organizer=is_organizer,
                     password_hash=_hasher.hash(password))
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> StaffUser | None:
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == normalize_email(email)))
    if user is None:
        _hasher.hash(password)  # same work either way: no timing hint that the address exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        db.session.commit()
    return user


def ensure_admin(email: str | None, password: str | None) -> tuple[str, str] | None:
    """Create the first organizer when there is no staff account; return its login once."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(StaffUser)):
        return None
    email = normalize_email(email or "admin@kurumaza.local")
    password = password or secrets.token_urlsafe(12)
    create_staff(email, password, name="Organizer", is_organizer=True)
    return email, password


def role_in(user: StaffUser | None, meeting_id: int) -> str | None:
    """Return 'organizer', 'facilitator' or None for this user in this meeting."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    role = db.session.scalar(sa.select(MeetingStaff.role).where(
        MeetingStaff.meeting_id == meeting_id, MeetingStaff.user_id == user.id))
    return role


def can_facilitate(user, meeting_id: int) -> bool:
    return role_in(user, meeting_id) in ("organizer", "facilitator")


def can_organize(user, meeting_id: int) -> bool:
    return role_in(user, meeting_id) == "organizer"


def require_facilitator(user, meeting_id: int):
    """Return the user if they run this meeting (organizer or facilitator); refuse otherwise.

    Every staff service calls this (or require_organizer) itself, so no page or handler can
    forget the check.
    """
    if not isinstance(meeting_id, int) or isinstance(meeting_id, bool) or not can_facilitate(user, meeting_id):
        raise ServiceError("forbidden")
    return user


def require_organizer(user, meeting_id: int):
    """Return the user if they organize this meeting; refuse otherwise."""
    if not isinstance(meeting_id, int) or isinstance(meeting_id, bool) or not can_organize(user, meeting_id):
        raise ServiceError("forbidden")
    return user


def assign(meeting_id: int, user: StaffUser, role: str, *, by: StaffUser | None = None) -> None:
    existing = db.session.scalar(sa.select(MeetingStaff).where(
        MeetingStaff.meeting_id == meeting_id, MeetingStaff.user_id == user.id))
    if existing:
        existing.role = role
    else:
        db.session.add(MeetingStaff(meeting_id=meeting_id, user_id=user.id, role=role))
    audit.record("staff.assign", meeting_id=meeting_id, staff_id=by.id if by else None,
                 target=f"staff:{user.id}", role=role)
    db.session.commit()


def add_facilitator(meeting_id: int, email: str, password: str | None, *, by: StaffUser) -> tuple[StaffUser, str | None]:
    """Assign a facilitator by e-mail, creating the account if needed; return a new password once."""
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == normalize_email(email)))
    new_password = None
    if user is None:
        new_password = password or secrets.token_urlsafe(10)
        user = create_staff(email, new_password)
    assign(meeting_id, user, "facilitator", by=by)
    return user, new_password


def meetings_of(user: StaffUser) -> list[tuple[int, str]]:
    return list(db.session.execute(sa.select(MeetingStaff.meeting_id, MeetingStaff.role)
                                   .where(MeetingStaff.user_id == user.id)).all())

"""Staff accounts: creation, login and who may run which meeting."""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from meeting.extensions import db
from meeting.models import LoginThrottle, MeetingStaff, StaffSession, StaffUser
from meeting.models._base import utcnow
from meeting.services import audit, validate
from meeting.services.errors import ServiceError

PASSWORD_MIN = 10
PASSWORD_MAX = 200
LOGIN_DELAY_MAX = 15 * 60  # the growing wait between tries stops growing here (seconds)
SEEN_EVERY = timedelta(seconds=60)  # how often a session's last_seen_at is written

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
    if not validate.is_id(meeting_id) or not can_facilitate(user, meeting_id):
        raise ServiceError("forbidden")
    return user


def require_organizer(user, meeting_id: int):
    """Return the user if they organize this meeting; refuse otherwise."""
    if not validate.is_id(meeting_id) or not can_organize(user, meeting_id):
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


# --------------------------------------------------------------------------- login and sessions


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def login(email, password, *, free_failures: int = 5) -> StaffUser:
    """Check a login, with a growing wait per account after `free_failures` wrong passwords.

    The wait is per account, never per address: a venue whose staff share one address is never
    slowed by logging in correctly, and an attacker spreading guesses over many addresses still
    waits 1 s, 2 s, 4 s ... up to 15 minutes between tries. A correct login clears the count.
    """
    if not isinstance(email, str) or not normalize_email(email) or len(email) > 254:
        raise ServiceError("login_email")
    if not isinstance(password, str) or not password or len(password) > PASSWORD_MAX:
        raise ServiceError("login_password", max=PASSWORD_MAX)
    if not validate.encodable(email) or not validate.encodable(password):
        raise ServiceError("login_failed")
    key = _digest(normalize_email(email))
    row = db.session.get(LoginThrottle, key)
    now = utcnow()
    if row is not None and row.blocked_until is not None and row.blocked_until > now:
        raise ServiceError("login_wait", seconds=max(1, int((row.blocked_until - now).total_seconds() + 0.999)))
    user = authenticate(email, password)
    if user is not None:
        if row is not None:
            db.session.delete(row)
            db.session.commit()
        return user
    if row is None:
        row = LoginThrottle(email_hash=key, failures=0)
        db.session.add(row)
    row.failures += 1
    if row.failures >= free_failures:
        row.blocked_until = now + timedelta(seconds=min(LOGIN_DELAY_MAX, 2 ** (row.failures - free_failures)))
    audit.record("staff.login_failed", target=f"email:{key[:12]}", failures=row.failures)
    db.session.commit()
    raise ServiceError("login_failed")


def open_session(user: StaffUser) -> tuple[int, str]:
    """Start a server-side session for a login; return its id and key for the cookie."""
    key = secrets.token_urlsafe(32)
    row = StaffSession(user_id=user.id, key_hash=_digest(key))
    db.session.add(row)
    audit.record("staff.login", staff_id=user.id, target=f"staff:{user.id}")
    db.session.commit()
    return row.id, key


def session_user(session_id, key, *, idle: int, absolute: int) -> StaffUser | None:
    """The staff member of a live session, or None (unknown, revoked, idle or too old)."""
    if not validate.is_id(session_id) or not isinstance(key, str):
        return None
    row = db.session.get(StaffSession, session_id)
    if row is None or row.revoked_at is not None or not secrets.compare_digest(row.key_hash, _digest(key)):
        return None
    now = utcnow()
    if now - row.created_at > timedelta(seconds=absolute) or now - row.last_seen_at > timedelta(seconds=idle):
        row.revoked_at, row.revoked_why = now, "timeout"
        db.session.commit()
        return None
    if now - row.last_seen_at > SEEN_EVERY:
        row.last_seen_at = now
        db.session.commit()
    return db.session.get(StaffUser, row.user_id)


def end_session(session_id, why: str = "logout") -> None:
    if not validate.is_id(session_id):
        return
    db.session.execute(sa.update(StaffSession).where(StaffSession.id == session_id, StaffSession.revoked_at.is_(None))
                       .values(revoked_at=utcnow(), revoked_why=why))
    db.session.commit()


def _end_all(user_id: int, why: str, *, keep: int | None = None) -> int:
    query = sa.update(StaffSession).where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(StaffSession.id != keep)
    return db.session.execute(query.values(revoked_at=utcnow(), revoked_why=why)).rowcount


def change_password(user: StaffUser, current, new, *, keep_session: int | None = None) -> int:
    """Set a new password and end every other session of this account; return how many ended."""
    if not isinstance(current, str) or authenticate(user.email, current) is None:
        raise ServiceError("password_wrong")
    if not isinstance(new, str) or not PASSWORD_MIN <= len(new) <= PASSWORD_MAX or not validate.encodable(new):
        raise ServiceError("password_length", min=PASSWORD_MIN, max=PASSWORD_MAX)
    user.password_hash = _hasher.hash(new)
    ended = _end_all(user.id, "password", keep=keep_session)
    audit.record("staff.password", staff_id=user.id, target=f"staff:{user.id}", sessions_ended=ended)
    db.session.commit()
    return ended


def sign_out_everywhere(target_id, *, by: StaffUser, meeting_id=None, keep_session: int | None = None) -> int:
    """End every session of a staff member: oneself, or (an organizer) someone on their meeting."""
    target_id = validate.require_id(target_id)
    if target_id != by.id:
        require_organizer(by, meeting_id)
        if role_in(db.session.get(StaffUser, target_id), meeting_id) is None:
            raise ServiceError("not_found")
        keep_session = None
    ended = _end_all(target_id, "everywhere", keep=keep_session)
    audit.record("staff.sign_out_everywhere", meeting_id=meeting_id if target_id != by.id else None,
                 staff_id=by.id, target=f"staff:{target_id}", sessions_ended=ended)
    db.session.commit()
    return ended


def remove_from_meeting(meeting_id, target_id, *, by: StaffUser) -> StaffUser:
    """Take a staff member off a meeting (an organizer's action; never oneself)."""
    require_organizer(by, meeting_id)
    target_id = validate.require_id(target_id)
    if target_id == by.id:
        raise ServiceError("staff_self")
    row = db.session.scalar(sa.select(MeetingStaff).where(MeetingStaff.meeting_id == meeting_id,
                                                          MeetingStaff.user_id == target_id))
    if row is None:
        raise ServiceError("not_found")
    db.session.delete(row)
    audit.record("staff.remove", meeting_id=meeting_id, staff_id=by.id, target=f"staff:{target_id}")
    db.session.commit()
    return db.session.get(StaffUser, target_id)

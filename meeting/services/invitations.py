"""Invitations: issue link tokens and short codes, and exchange them for a participant session."""

import secrets as pysecrets
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from meeting.extensions import db
from meeting.models import Invitation, Meeting, Participant
from meeting.models._base import utcnow
from meeting.services import secrets
from meeting.services.errors import ServiceError

NICKNAME_MAX = 20


@dataclass
class PrintedInvitation:
    participant: Participant
    token: str
    code: str

    @property
    def code_display(self) -> str:
        return secrets.format_code(self.code)


def issue(participant: Participant) -> tuple[str, str]:
    """Create the participant's invitation (in the caller's transaction); return (token, code)."""
    for _attempt in range(5):
        token, code = secrets.new_token(), secrets.new_code()
        try:
            with db.session.begin_nested():
                db.session.add(Invitation(participant_id=participant.id, token_hash=secrets.token_hash(token),
                                          code_hash=secrets.code_hash(code),
                                          sealed=secrets.seal({"token": token, "code": code})))
            return token, code
        except IntegrityError:  # a code collision: draw again
            continue
    raise RuntimeError("could not draw a unique invitation code")


def printable(meeting: Meeting) -> list[PrintedInvitation]:
    rows = db.session.execute(sa.select(Participant, Invitation).join(Invitation)
                              .where(Participant.meeting_id == meeting.id).order_by(Participant.number))
    return [_printed(person, inv) for person, inv in rows]


def printable_one(person: Participant) -> PrintedInvitation:
    return _printed(person, person.invitation)


def _printed(person: Participant, inv: Invitation) -> PrintedInvitation:
    values = secrets.unseal(inv.sealed)
    return PrintedInvitation(person, values["token"], values["code"])


def find_by_token(token: str) -> Invitation:
    inv = db.session.scalar(sa.select(Invitation).where(Invitation.token_hash == secrets.token_hash(token or "")))
    if inv is None:
        raise ServiceError("invitation_unknown")
    return inv


def find_by_code(typed: str) -> Invitation:
    code = secrets.normalize_code(typed)
    if len(code) != secrets.CODE_LENGTH:
        raise ServiceError("invitation_unknown")
    inv = db.session.scalar(sa.select(Invitation).where(Invitation.code_hash == secrets.code_hash(code)))
    if inv is None:
        raise ServiceError("invitation_unknown")
    return inv


def clean_nickname(raw: str) -> str:
    name = unicodedata.normalize("NFC", (raw or "")).strip()
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    if not 1 <= len(name) <= NICKNAME_MAX:
        raise ServiceError("nickname_invalid")
    return name


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold().replace(" ", "").replace("\u3000", "")


def taken_nicknames(meeting_id: int, *, except_id: int | None = None) -> set[str]:
    """The meeting's nicknames in use (folded: width, case and spaces do not make a new name)."""
    query = sa.select(Participant.nickname).where(Participant.meeting_id == meeting_id, Participant.nickname != "",
                                                  Participant.removed_at.is_(None))
    if except_id is not None:
        query = query.where(Participant.id != except_id)
    return {_fold(n) for n in db.session.scalars(query)}


def ensure_free_nickname(meeting_id: int, name: str, *, except_id: int | None = None) -> None:
    """Refuse a nickname another resident of the meeting uses, suggesting a free one ("はなこ 2").

    Unique per meeting rather than per table: people change tables between rounds (and arrive
    before they have one), and the control room, the plenary and help calls name them across tables.
    The caller holds the meeting row's lock, so two phones cannot take the same name at once."""
    taken = taken_nicknames(meeting_id, except_id=except_id)
    if _fold(name) not in taken:
        return
    n = 2
    while True:
        tail = f" {n}"
        suggestion = name[:NICKNAME_MAX - len(tail)].rstrip() + tail
        if _fold(suggestion) not in taken:
            break
        n += 1
    raise ServiceError("nickname_taken", name=name, suggestion=suggestion)


def lock_meeting(meeting_id: int) -> None:
    db.session.execute(sa.select(Meeting.id).where(Meeting.id == meeting_id).with_for_update())


def redeem(invitation_id: int, nickname: str) -> tuple[Participant, str]:
    """Use the invitation once: set the nickname and return (participant, session key).

    The update is conditional on the invitation being unused, so two phones racing with the
    same link cannot both get in.
    """
    name = clean_nickname(nickname)
    now = utcnow()
    used = db.session.execute(sa.update(Invitation).where(Invitation.id == invitation_id,
                                                          Invitation.used_at.is_(None))
                              .values(used_at=now))
    if used.rowcount != 1:
        db.session.rollback()
        if db.session.get(Invitation, invitation_id) is None:
            raise ServiceError("invitation_unknown")
        raise ServiceError("invitation_used")
    inv = db.session.get(Invitation, invitation_id)
    person = inv.participant
    lock_meeting(person.meeting_id)
    try:
        ensure_free_nickname(person.meeting_id, name, except_id=person.id)
    except ServiceError:
        db.session.rollback()  # the invitation stays unused: the resident picks another name
        raise
    key = pysecrets.token_urlsafe(24)
    person.nickname = name
    person.joined_at = now
    person.session_key_hash = secrets.session_key_hash(key)
    db.session.commit()
    return person, key

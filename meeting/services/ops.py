"""Run a client operation once: a replayed op_id gets the first answer and changes nothing."""

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from meeting import durability
from meeting.extensions import db
from meeting.models import OpLog
from meeting.models._base import utcnow
from meeting.services import validate
from meeting.services.errors import ServiceError
from meeting.services.events import Changes, stamp


def run(actor: str, op_id, meeting_id: int, action: Callable[[], tuple[dict, Changes]]) -> tuple[dict, Changes]:
    """Run `action` in one transaction with its op log entry; return (ack, changes).

    The caller broadcasts the changes at once and sends the ack only after `durability.settle`:
    an acknowledged operation is on disk (realtime/handlers.py)."""
    if not validate.is_op_id(op_id):
        return ServiceError("op_id").as_ack(), Changes()
    stored = _stored(actor, op_id)
    if stored is not None:
        return stored, Changes()
    once: dict = {}
    try:
        result, changes = action()
        # Fields under "_once" reach this sender now but are never stored (e.g. a voter's
        # secret receipt): a replay gets the stored answer without them.
        once = result.pop("_once", None) or {}
        ack = {"ok": True, **result}
        stamp(meeting_id, changes.events)
    except ServiceError as err:
        db.session.rollback()
        ack, changes, once = err.as_ack(), Changes(), {}
    try:
        # On the session's connection: a Core statement through Session.execute pays for the
        # ORM's execution machinery (autoflush, ORM compile state) it does not use.
        db.session.connection().execute(_LOG, {"actor": actor, "op_id": op_id, "meeting_id": meeting_id,
                                               "response": ack, "created_at": utcnow()})
        db.session.commit()
    except IntegrityError:
        # The same op_id raced in from another connection; its answer stands.
        db.session.rollback()
        stored = _stored(actor, op_id)
        if stored is None:
            raise
        return stored, Changes()
    return ({**ack, **once} if once else ack), changes


_STORED = sa.select(OpLog.response).where(OpLog.actor == sa.bindparam("actor"), OpLog.op_id == sa.bindparam("op_id"))
_LOG = sa.insert(OpLog.__table__)  # Core: no unit of work to flush for a row nobody reads back


def _stored(actor: str, op_id: str) -> dict | None:
    stored = db.session.connection().execute(_STORED, {"actor": actor, "op_id": op_id}).scalar()
    if stored is not None:  # the first run's commit may still be waiting for its fsync
        durability.read_may_be_unsynced(db.session)
    return stored


def purge(meeting_id: int) -> int:
    """Delete a meeting's op log (the stored answers); return how many rows went."""
    result = db.session.execute(sa.delete(OpLog).where(OpLog.meeting_id == meeting_id))
    db.session.commit()
    return result.rowcount

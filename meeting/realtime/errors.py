"""What a Socket.IO event answers when it fails unexpectedly.

A database that went away for a moment (PostgreSQL restarted or failed over, a connection cut,
SQLite busy past its timeout, no pool connection free in time) is worth sending again: the
answer is `{"ok": false, "error": "retry", ...}`, nothing was stored (the transaction rolled
back, or committed with its op log entry, so a resend of the same op_id replays the answer),
and the client resends the same op_id after a moment. The engine's pool_pre_ping then swaps
the dead connections for new ones: the app recovers without a restart.
"""

import sqlalchemy.exc as sa_exc
from flask import current_app, request
from flask_socketio import ConnectionRefusedError

from meeting.extensions import db
from meeting.services.errors import ServiceError, retryable


def retry_ack(exc: BaseException) -> dict | None:
    """The ack asking the client to resend, if `exc` is a database outage; else None."""
    return ServiceError("retry").as_ack() if retryable(exc) else None


def answer_failure(exc: BaseException):
    """Default error handler: roll back, answer "retry" for an outage, "server" otherwise.

    A `connect` that fails on the database is refused with the code "retry" (the browser
    client then connects again after a moment) rather than accepted half-registered.
    """
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone; the session is discarded anyway
        db.session.remove()
    ack = retry_ack(exc)
    event = (getattr(request, "event", None) or {}).get("message")
    if ack is None:
        current_app.logger.exception("Socket.IO event %s failed", event)
        ack = ServiceError("server").as_ack()
    else:
        current_app.logger.warning("Socket.IO event %s: database unavailable, client asked to retry (%s)",
                                   event, type(exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc).__name__)
    if event == "connect":
        raise ConnectionRefusedError(ack["error"])
    return ack

"""Remember a look-up for the rest of the database transaction (the event or request).

A Socket.IO event asks "who is this participant" and "at which table" several times (the role
check, the service, the snapshot); each answer is a query or two. `memo(key, compute)` keeps the
answer in the session's `info` until anything is flushed, committed or rolled back, so a change
made in the same transaction (a seat moved) is never hidden by an older answer.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from meeting.extensions import db

_KEY = "memo"


def memo(key: tuple, compute: Callable[[], Any]) -> Any:
    cache = db.session.info.setdefault(_KEY, {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _forget(session, *_args) -> None:
    session.info.pop(_KEY, None)


for _name in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _name, _forget)

"""Socket.IO handlers: validate, call a service, emit what it returned."""

from meeting.realtime import (
    handlers,  # noqa: F401
    polls,  # noqa: F401
)

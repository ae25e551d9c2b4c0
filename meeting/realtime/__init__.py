"""Socket.IO handlers: validate, call a service, emit what it returned."""

from meeting.realtime import (
    agenda,  # noqa: F401
    control,  # noqa: F401
    handlers,  # noqa: F401
    plenary,  # noqa: F401
    polls,  # noqa: F401
)

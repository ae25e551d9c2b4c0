"""Helpers shared by the model modules."""

from datetime import datetime, timezone

import sqlalchemy as sa


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def now() -> datetime:
    """The current time, timezone-aware (UTC): what new code compares and stores."""
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    """An ISO 8601 UTC timestamp ending in Z (naive datetimes are taken as UTC), or None."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


class AwareDateTime(sa.types.TypeDecorator):
    """A UTC timestamp, stored naive (as every backend can) and read back timezone-aware."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("AwareDateTime needs a timezone-aware datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=timezone.utc) if value is not None else None

"""Helpers shared by the model modules."""

import functools
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



def upsert(model, columns, keys: tuple[str, ...], update: tuple[str, ...] = (), *,
           increment: tuple[str, ...] = (), returning: tuple[str, ...] = (), encoded: tuple[str, ...] = (),
           rows: int = 1):
    """INSERT ... ON CONFLICT (keys) DO UPDATE, on PostgreSQL or SQLite: the one way rows are upserted.

    Execute it with the row (`db.session.execute(upsert(Model, row, ...), row)`); `columns` names
    the inserted columns (the row's keys do). With `rows` > 1 it inserts that many rows in one
    statement, bound as `<column>_<i>` (upsert_rows makes the parameters). On a conflict the columns in `update` take the
    inserted values and those in `increment` are added to. A JSON column named in `encoded` takes
    its value as JSON text already encoded (the opinion map's, encoded off the loop). SQLAlchemy compiles its dialects'
    ON CONFLICT inserts anew on every execution (they have no cache key), which on the hot path
    (a vote, a broadcast's number) cost more than running them; so each shape is compiled once
    per dialect into a textual statement with the columns' types.
    """
    from meeting.extensions import db

    return _upsert(getattr(model, "__table__", model), tuple(columns), tuple(keys), tuple(update), tuple(increment),
                   tuple(returning), db.engine.dialect, tuple(encoded), rows)


def upsert_rows(rows: list[dict]) -> dict:
    """The parameters of a several-row upsert (upsert(..., rows=len(rows))): `<column>_<i>`."""
    return {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}


class _EncodedJSON(sa.types.TypeDecorator):
    """A JSON column's value given as JSON text already encoded: bound as it is (on PostgreSQL
    with the column's cast to json)."""

    impl = sa.JSON
    cache_ok = True

    def bind_processor(self, dialect):
        return None


@functools.lru_cache(maxsize=256)
def _upsert(table, columns, keys, update, increment, returning, dialect, encoded=(), rows=1):
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.engine.interfaces import BindTyping

    def bind(name, key):
        return sa.bindparam(key, type_=_EncodedJSON() if name in encoded else table.c[name].type)

    insert = (postgresql.insert if dialect.name == "postgresql" else sqlite.insert)(table)
    if rows == 1:
        binds = [bind(name, name) for name in columns]
        stmt = insert.values({b.key: b for b in binds})
    else:
        per_row = [{name: bind(name, f"{name}_{i}") for name in columns} for i in range(rows)]
        binds = [b for row in per_row for b in row.values()]
        stmt = insert.values(per_row)
    set_ = {name: stmt.excluded[name] for name in update}
    set_.update({name: table.c[name] + stmt.excluded[name] for name in increment})
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=set_)
    if returning:
        stmt = stmt.returning(*(table.c[name] for name in returning))
    # Named parameters and no casts in the text: executing it renders what the dialect needs.
    plain = type(dialect)(paramstyle="named")
    plain.bind_typing = BindTyping.NONE
    text = sa.text(str(stmt.compile(dialect=plain))).bindparams(*binds)
    return text.columns(*(table.c[name] for name in returning)) if returning else text


_BY_ID: dict = {}


def by_id(model, ident):
    """Session.get for the hot paths: the identity map first, then one prebuilt SELECT by id.

    Session.get builds and caches-keys a new statement on every call; this one is built once per
    model (about half the cost of a look-up on SQLite). What it loads is also kept for the rest of
    the transaction (services/memo.py): the identity map holds objects only weakly, so a meeting
    looked up by three parts of one snapshot was otherwise loaded three times.
    """
    from meeting.extensions import db
    from meeting.services.memo import memo

    found = db.session.identity_map.get(db.session.identity_key(model, ident))
    if found is not None:
        return found
    stmt = _BY_ID.get(model)
    if stmt is None:
        stmt = _BY_ID[model] = sa.select(model).where(model.id == sa.bindparam("ident"))
    return memo(("by_id", model, ident), lambda: db.session.execute(stmt, {"ident": ident}).scalar_one_or_none())

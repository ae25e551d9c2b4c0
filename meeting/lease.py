"""Work that several worker processes share through Redis: short leases and pending sets.

With several workers (`REDIS_URL` set), a periodic job that is per meeting (a tally flush, the
opinion map's recompute, a deadline clock's check) must run in one process only, not once per
worker. A lease is `SET key NX PX ttl`: the process that sets it does the job. Without Redis (one
process) every lease is granted. When Redis is unreachable the caller falls back to acting
alone, as one process does: duplicated work is harmless (publishers re-read the database), lost
work is not.
"""

import logging

import redis
from flask import current_app
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger("meeting.lease")


class Unavailable(Exception):
    """Redis is configured but did not answer."""


def client(app=None):
    """This app's Redis client (None without REDIS_URL), created once per app."""
    app = app or current_app._get_current_object()
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    found = app.extensions.get("meeting_redis")
    if found is None:
        found = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
        app.extensions["meeting_redis"] = found
    return found


def key(app, *parts) -> str:
    namespace = app.config.get("REDIS_NAMESPACE") or ""
    return ":".join(str(p) for p in (namespace, "kurumaza", *parts))


def acquire(app, name: str, ttl_s: float) -> bool:
    """True if this process holds the lease `name` for the next ttl_s seconds (or there is no Redis,
    or Redis does not answer: then each process acts as if alone)."""
    conn = client(app)
    if conn is None:
        return True
    try:
        return bool(conn.set(key(app, "lease", name), "1", nx=True, px=max(1, int(ttl_s * 1000))))
    except redis.RedisError as exc:
        log.warning("lease %s: Redis unavailable (%s), acting alone", name, exc)
        return True


def add_pending(app, name: str, lease_ttl_s: float, items) -> bool:
    """Add items to the shared pending set `name`; True if this process must flush it (it took
    the set's lease). Raises Unavailable when Redis does not answer."""
    conn = client(app)
    pipe = conn.pipeline(transaction=True)
    pipe.sadd(key(app, "pending", name), *items)
    pipe.pexpire(key(app, "pending", name), max(1, int((lease_ttl_s + 60) * 1000)))
    pipe.set(key(app, "lease", name), "1", nx=True, px=max(1, int(lease_ttl_s * 1000)))
    try:
        return bool(pipe.execute()[2])
    except redis.RedisError as exc:
        raise Unavailable(str(exc)) from exc


def take_pending(app, name: str) -> set[int]:
    """Empty the shared pending set and release its lease in one step: a change marked after this
    takes the lease again and is flushed by the next interval's flush."""
    conn = client(app)
    pipe = conn.pipeline(transaction=True)
    pipe.smembers(key(app, "pending", name))
    pipe.delete(key(app, "pending", name))
    pipe.delete(key(app, "lease", name))
    try:
        members = pipe.execute()[0]
    except redis.RedisError as exc:
        raise Unavailable(str(exc)) from exc
    return {int(m) for m in members}

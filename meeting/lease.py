"""Work that several worker processes share through Redis: short leases and pending sets.

With several workers (`REDIS_URL` set), a periodic job that is per meeting (a tally flush, the
opinion map's recompute, a deadline clock's check) must run in one process only, not once per
worker. A lease is `SET key NX PX ttl`: the process that sets it does the job. Without Redis (one
process) every lease is granted. When Redis is unreachable the caller falls back to acting
alone, as one process does: duplicated work is harmless (publishers re-read the database), lost
work is not.

Pending work outlives the process that leased it: a pending set whose lease ran out before it was
flushed (its worker died, or Redis froze or went away at the moment of the flush) is adopted by
whichever worker's watch (`keep_watch`, once a second in every worker) finds it first, once Redis
answers again. After a failure each process leaves Redis alone for a moment (`BACKOFF_S`), so a
frozen Redis costs one timeout per second, not one per vote: events keep answering.
"""

import logging
import threading
import time
from collections.abc import Callable

import redis
from flask import current_app
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger("meeting.lease")

BACKOFF_S = 1.0  # after a failed call, this process acts alone this long before asking Redis again
WATCH_INTERVAL_S = 1.0


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
        return bool(_run(app, lambda: conn.set(key(app, "lease", name), "1", nx=True, px=_ms(ttl_s))))
    except Unavailable as exc:
        log.warning("lease %s: Redis unavailable (%s), acting alone", name, exc)
        return True


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _run(app, call: Callable):
    """call() against Redis; Unavailable at once while this process is backing off after a failure."""
    state = app.extensions.setdefault("meeting_redis_state", {"retry_at": 0.0})
    if time.monotonic() < state["retry_at"]:
        raise Unavailable("backing off after a failure")
    try:
        return call()
    except redis.RedisError as exc:
        state["retry_at"] = time.monotonic() + BACKOFF_S
        raise Unavailable(str(exc)) from exc


def add_pending(app, name: str, lease_ttl_s: float, items) -> bool:
    """Add items to the shared pending set `name`; True if this process must flush it (it took
    the set's lease). Raises Unavailable when Redis does not answer."""
    conn = client(app)

    def add():
        pipe = conn.pipeline(transaction=True)
        pipe.sadd(key(app, "pending", name), *items)
        pipe.pexpire(key(app, "pending", name), _ms(lease_ttl_s + 60))
        pipe.set(key(app, "lease", name), "1", nx=True, px=_ms(lease_ttl_s))
        pipe.sadd(key(app, "pending-index"), name)  # where the watch looks for orphaned sets
        return pipe.execute()[2]

    return bool(_run(app, add))


def take_pending(app, name: str) -> set[int]:
    """Empty the shared pending set and release its lease in one step: a change marked after this
    takes the lease again and is flushed by the next interval's flush. Raises Unavailable when
    Redis does not answer; the set then stays (or comes back with Redis) and, its lease run out,
    is adopted by a worker's watch."""
    conn = client(app)

    def take():
        pipe = conn.pipeline(transaction=True)
        pipe.smembers(key(app, "pending", name))
        pipe.delete(key(app, "pending", name))
        pipe.delete(key(app, "lease", name))
        pipe.srem(key(app, "pending-index"), name)
        return pipe.execute()[0]

    return {int(m) for m in _run(app, take)}


# Atomic, so that a set marked meanwhile can neither lose its index entry nor be adopted twice.
_ADOPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SREM', KEYS[3], ARGV[1]) return 0 end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
return 1
"""


def adopt_orphans(app, lease_ttl_s: Callable[[str], float]) -> list[str]:
    """The pending sets whose lease ran out before anyone flushed them, each now leased to this
    process (flush it with take_pending); index entries of sets already gone are dropped.
    Raises Unavailable when Redis does not answer."""
    conn = client(app)
    index = key(app, "pending-index")

    def adopt():
        script = conn.register_script(_ADOPT)
        adopted = []
        for raw in conn.smembers(index):
            name = raw.decode() if isinstance(raw, bytes) else raw
            keys = [key(app, "lease", name), key(app, "pending", name), index]
            if script(keys=keys, args=[name, _ms(lease_ttl_s(name))]):
                adopted.append(name)
        return adopted

    return _run(app, adopt)


def flag(app, name: str, ttl_s: float | None) -> None:
    """Raise the shared flag `name` for ttl_s seconds (None: lower it); quietly nothing without Redis."""
    conn = client(app)
    if conn is None:
        return
    try:
        _run(app, lambda: conn.set(key(app, "flag", name), "1", px=_ms(ttl_s)) if ttl_s
             else conn.delete(key(app, "flag", name)))
    except Unavailable:
        pass


def flagged(app, names: list[str]) -> set[str]:
    """Which of the shared flags are raised. Raises Unavailable when Redis does not answer."""
    conn = client(app)
    if not names:
        return set()
    values = _run(app, lambda: conn.mget([key(app, "flag", n) for n in names]))
    return {n for n, v in zip(names, values, strict=True) if v is not None}


# --------------------------------------------------------------------------- the watch

# Functions of the app run by every worker's watch, once a WATCH_INTERVAL_S: adopting orphaned
# pending sets (meeting/broadcast.py), waking deadline clocks that another worker started
# (meeting/realtime/clock.py). They may raise Unavailable.
watchers: list[Callable] = []
_watching: set[int] = set()
_watch_lock = threading.Lock()


def keep_watch(app) -> None:
    """Start this process's watch over the shared work of the app, once (with Redis only)."""
    if client(app) is None or id(app) in _watching:
        return
    with _watch_lock:
        if id(app) in _watching:
            return
        _watching.add(id(app))
    from meeting.extensions import socketio

    socketio.start_background_task(_watch, app)


def _watch(app) -> None:
    from meeting.extensions import socketio

    down = False
    while True:
        socketio.sleep(WATCH_INTERVAL_S)
        for watcher in watchers:
            try:
                with app.app_context():
                    watcher(app)
                down = False
            except Unavailable as exc:
                if not down:
                    log.warning("watch: Redis unavailable (%s); pending work is adopted once it is back", exc)
                down = True
            except Exception:  # noqa: BLE001 - the watch must outlive any one failure
                log.exception("watch: %s failed", getattr(watcher, "__qualname__", watcher))

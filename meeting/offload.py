"""CPU-heavy pure computation off the gevent event loop, and long reads that let it breathe.

In a gevent server every greenlet shares one OS thread: a computation of 150 ms (the opinion map
of a meeting of 2,000) holds every connection's ack, broadcast and page for 150 ms. `cpu()` runs
such a function in gevent's native thread pool instead; the loop keeps serving and gets the GIL
back at least every switch interval (5 ms) while the computation runs, and the calling greenlet
waits for the result. Without gevent (threading mode, tests, commands) it simply calls it.

The function must be pure: no database session, no Flask context, no gevent primitive (a
patched lock taken from a native thread belongs to no hub). Give it plain data, take plain data.

Database reads stay in the greenlet (the session and its pool are gevent's). A background read
of a whole meeting (every vote of thousands of phones) calls `breathe()` between its parts, so
waiting acks and broadcasts run between them instead of after all of them.
"""

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _gevent_hub():
    try:
        from gevent import monkey
    except ImportError:
        return None
    if not monkey.is_module_patched("threading"):
        return None
    import gevent

    return gevent.get_hub()


def cpu(fn: Callable[..., T], *args) -> T:
    """fn(*args), in a native thread when this process runs on gevent; its exception propagates."""
    hub = _gevent_hub()
    if hub is None:
        return fn(*args)
    return hub.threadpool.apply(fn, args)


def breathe() -> None:
    """Let every other ready greenlet run now (gevent); nothing without gevent."""
    hub = _gevent_hub()
    if hub is not None:
        import gevent

        gevent.sleep(0)

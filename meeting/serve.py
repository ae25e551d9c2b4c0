"""Start the server: the only module that monkey-patches.

    MEETING_ASYNC_MODE=gevent python -m meeting.serve [--host H] [--port P]
"""

import os
import sys

MODE = os.environ.get("MEETING_ASYNC_MODE", "gevent")

if MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
    # SQLite commits share fsyncs (meeting/durability.py): a gevent process would otherwise stop
    # every connection for one fsync per vote.
    os.environ.setdefault("MEETING_GROUP_COMMIT", "1")
elif MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()


def _tune_gc() -> None:
    """Freeze what startup allocated (the app, its modules, SQLAlchemy's mappers) out of the cyclic
    collector's sight, so a full collection no longer walks hundreds of thousands of objects that
    live as long as the process (with the defaults a busy server froze for 0.3-0.5 s every few
    seconds), and collect a little less often (`MEETING_GC_THRESHOLDS`). A young collection's
    pause grows with the first threshold: 50,000 gave pauses of 100-300 ms, 2,000 a few ms
    (bench/load.py reports the longest loop and GC pauses)."""
    import gc

    gc.collect()
    gc.freeze()
    thresholds = [int(x) for x in os.environ.get("MEETING_GC_THRESHOLDS", "2000,10,100").split(",")]
    gc.set_threshold(*thresholds)


def _handler_class():
    """gevent's WSGI handler with TCP_NODELAY on every accepted socket: an ack written right after a
    broadcast no longer waits ~40 ms for the phone's delayed ACK (Nagle). A connection ends with its
    WebSocket. Its access log (MEETING_ACCESS_LOG=1) shows the address the app saw."""
    import socket

    from gevent import pywsgi

    class NoDelayHandler(pywsgi.WSGIHandler):
        def __init__(self, sock, address, server, rfile=None):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # not TCP (a Unix socket)
                pass
            super().__init__(sock, address, server, rfile)

        def run_application(self):
            try:
                super().run_application()
            finally:
                # A WebSocket never goes back to HTTP: once it has ended, close the connection,
                # rather than read the phone's last frames as a next request (pywsgi then logged
                # "Invalid HTTP method" for every phone that left).
                if (getattr(self, "environ", None) or {}).get("HTTP_UPGRADE", "").lower() == "websocket":
                    self.close_connection = True

        def format_request(self):
            # The access log names the phone: behind a trusted proxy (MEETING_PROXY_HOPS) ProxyFix
            # has put its address into the request's REMOTE_ADDR; otherwise that is the socket's.
            address = (getattr(self, "environ", None) or {}).get("REMOTE_ADDR")
            if not address:
                return super().format_request()
            socket_address, self.client_address = self.client_address, address
            try:
                return super().format_request()
            finally:
                self.client_address = socket_address

    return NoDelayHandler


def main(argv: list[str] | None = None) -> None:
    import argparse

    from meeting import create_app, durability
    from meeting.extensions import db, socketio
    from meeting.services import events, presence, staff

    parser = argparse.ArgumentParser(prog="python -m meeting.serve", description="Serve Kurumaza.")
    parser.add_argument("--host", default=os.environ.get("MEETING_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("MEETING_PORT", "5000")))
    args = parser.parse_args(argv)

    app = create_app()
    with app.app_context():
        if not app.config["REDIS_URL"]:
            presence.clear_all()  # one process: connections from a previous run are gone
        if durability.enabled():  # broadcasts leave before their fsync: start past what may be lost
            events.leap_streams()
            durability.settle(db.session)
        created = staff.ensure_admin(os.environ.get("MEETING_ADMIN_EMAIL"), os.environ.get("MEETING_ADMIN_PASSWORD"))
    if created:
        print("=" * 60)
        print("First start: an organizer account was created.")
        print(f"  login:    {app.config['BASE_URL']}/login")
        print(f"  e-mail:   {created[0]}")
        print(f"  password: {created[1]}")
        print("This is shown once. Keep it safe.")
        print("=" * 60, flush=True)
    print(f"Kurumaza serving on http://{args.host}:{args.port} ({MODE} mode)", flush=True)
    extra = {}
    if MODE == "gevent":
        from meeting import loopstats

        extra["handler_class"] = _handler_class()
        # Only when MEETING_LOOP_STATS names a file (the load benchmark).
        loopstats.start(counters=durability.stats)
    _tune_gc()
    socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=(MODE == "threading"),
                 log_output=os.environ.get("MEETING_ACCESS_LOG") == "1", **extra)


if __name__ == "__main__":
    sys.exit(main())

"""Start the server: the only module that monkey-patches.

    MEETING_ASYNC_MODE=gevent python -m meeting.serve [--host H] [--port P]
"""

import os
import sys

MODE = os.environ.get("MEETING_ASYNC_MODE", "gevent")

if MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
elif MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()


def main(argv: list[str] | None = None) -> None:
    import argparse

    from meeting import create_app
    from meeting.extensions import socketio
    from meeting.services import presence, staff

    parser = argparse.ArgumentParser(prog="python -m meeting.serve", description="Serve Kurumaza.")
    parser.add_argument("--host", default=os.environ.get("MEETING_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("MEETING_PORT", "5000")))
    args = parser.parse_args(argv)

    app = create_app()
    with app.app_context():
        if not app.config["REDIS_URL"]:
            presence.clear_all()  # one process: connections from a previous run are gone
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
    socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=(MODE == "threading"),
                 log_output=os.environ.get("MEETING_ACCESS_LOG") == "1")


if __name__ == "__main__":
    sys.exit(main())

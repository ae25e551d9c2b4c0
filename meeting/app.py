"""The app factory."""

import os

from flask import Flask, g, jsonify, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import get_locale
from sqlalchemy import event
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

# Registers the Socket.IO handlers; before any init_app, so every app's server gets them.
from meeting import (
    assets,
    durability,
    realtime,  # noqa: F401,E402
)
from meeting.config import PROJECT_DIR, build_config
from meeting.extensions import babel, compress, csrf, db, limiter, login_manager, migrate, socketio
from meeting.i18n import CHOICE_NAMES, current_choice, here, keep_choice, select_locale
from meeting.reading import ruby_response
from meeting.realtime import wire
from meeting.realtime.queue import ResilientRedisManager, queue_channel


def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets readers work during a write; FULL sync means an acknowledged vote survives a crash.
    # With group commit (meeting/durability.py) commits are fsynced in batches instead, and each
    # answer still waits for the fsync that covers its commit.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL" if durability.enabled() else "PRAGMA synchronous=FULL")
    if durability.enabled():
        cursor.execute("PRAGMA wal_autocheckpoint=0")  # the group commit's thread checkpoints instead
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class SessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, not decoded again for every Socket.IO event.

    Flask-SocketIO pushes a request context for each event, where Flask opens (verifies and
    decodes) the cookie, only for Flask-SocketIO to swap in the connection's own copy, kept in
    the connection's environ from its first event on. Once that copy exists it is the session.
    """

    def open_session(self, app, request):
        saved = request.environ.get("saved_session")
        return saved if saved is not None else super().open_session(app, request)


def create_app(config: dict | None = None) -> Flask:
    """Create and configure a Kurumaza app."""
    settings = build_config(config)
    app = Flask("meeting", instance_path=settings["INSTANCE_PATH"],
                template_folder=str(PROJECT_DIR / "templates"), static_folder=str(PROJECT_DIR / "static"))
    app.config.update(settings)
    app.session_interface = SessionInterface()

    # Registered first, so it runs last, after every other after_request (furigana, headers). The
    # read-only API answers uncompressed (its schema checks read raw bodies).
    compress.init_app(app)

    @app.after_request
    def compress_pages(response):
        return response if request.blueprint == "api" else compress.after_request(response)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"), render_as_batch=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            path = db.engine.url.database
            if app.config["GROUP_COMMIT"] and path and path != ":memory:" and not path.startswith("file:"):
                durability.enable(os.path.abspath(path))
            event.listen(db.engine, "connect", _sqlite_pragmas)

    @app.after_request
    def _durable(response):
        durability.settle(db.session)  # a page that committed answers once its commit is on disk
        return response
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals.update(language_choice=current_choice, language_names=CHOICE_NAMES, here=here)
    limiter.init_app(app)

    origins = app.config["ALLOWED_ORIGINS"]
    # Several processes share rooms through Redis, with a manager that rides out its outages.
    queue = {}
    if app.config["REDIS_URL"]:
        queue["client_manager"] = ResilientRedisManager(app.config["REDIS_URL"], channel=queue_channel(app.config))
        app.extensions["meeting_queue"] = queue["client_manager"]
    socketio.init_app(
        app,
        async_mode=app.config["MEETING_ASYNC_MODE"],
        message_queue=app.config["REDIS_URL"],
        **queue,
        # None means same-origin only; a list replaces that, so the base URL is always in it.
        cors_allowed_origins=(origins + [app.config["BASE_URL"]]) if origins else None,
        manage_session=True,
        # Frames are decoded with limits (depth, number size) and never raise: see realtime/wire.py.
        json=wire.json_module,
        serializer=wire.GuardedPacket,
        max_http_buffer_size=app.config["SOCKET_MAX_FRAME"],
    )

    hops = app.config["PROXY_HOPS"]
    if hops:
        # Outside the Socket.IO middleware, so pages, rate limits and the WebSocket handshake all
        # see the phone's address and scheme. Host is not taken from X-Forwarded-Host: the proxy
        # sets Host itself, and a client could send that header through it.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)

    from meeting.web import register_blueprints
    register_blueprints(app)

    register_error_pages(app)
    assets.init_app(app)
    app.after_request(ruby_response)
    app.after_request(keep_choice)

    from meeting.commands import register_commands
    register_commands(app)
    return app


ERROR_PAGES = (400, 403, 404, 405, 413, 429, 500)


def register_error_pages(app: Flask) -> None:
    """The app's own pages, in the visitor's language, for every error a visitor can meet."""

    def page(error):
        code = error.code if isinstance(error, HTTPException) and error.code in ERROR_PAGES else 500
        g.error_page = True
        if code == 500:
            db.session.rollback()
        limit_mb = (app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
        # Keep what the error says in headers (405's Allow, 429's Retry-After), not its content type.
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"} \
            if isinstance(error, HTTPException) else {}
        if request.path.startswith("/api/"):
            # The read-only API answers in JSON even where no route matched (a path with a line
            # break escapes its catch-all: werkzeug's path converter stops at newlines).
            return jsonify({"error": "not_found" if code == 404 else "error", "message": f"HTTP {code}."}), code, headers
        return render_template("error.html", code=code, limit_mb=limit_mb), code, headers

    for code in ERROR_PAGES:
        app.register_error_handler(code, page)

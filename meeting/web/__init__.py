"""HTML pages and downloads."""

from flask import Flask, request

from meeting import sessions
from meeting.extensions import login_manager

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


login_manager.user_loader(sessions.load_staff)


def security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "static" and request.blueprint != "api":
        # Pages carry personal session state and staff data: never store them.
        response.headers["Cache-Control"] = "no-store"
    return response


def register_blueprints(app: Flask) -> None:
    from meeting.web import api, auth, control, exports, join, open, opinion, organizer, panel, projector, shell, tablet

    for module in (auth, organizer, control, join, open, exports, opinion, panel, projector, tablet, shell, api):
        app.register_blueprint(module.bp)
    app.after_request(security_headers)

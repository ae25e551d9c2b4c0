"""HTML pages and downloads."""

import secrets

from flask import Flask, current_app, request

from meeting import sessions
from meeting.extensions import login_manager

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


login_manager.user_loader(sessions.load_staff)


# Stylesheets and scripts: the policies below govern the document that a response becomes, so on these
# files they do nothing but weigh about 330 bytes each, and the phone's table page loads 16 of them.
# nosniff is what keeps a script or stylesheet from being run as another type. The service worker's
# script is not a static file (/sw.js): its policy governs the worker, so it keeps every header.
SUBRESOURCE_TYPES = ("text/css", "text/javascript")


def security_headers(response):
    if request.endpoint == "static" and response.mimetype in SUBRESOURCE_TYPES:
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "static" and request.blueprint != "api":
        # Pages carry personal session state and staff data: never store them.
        response.headers["Cache-Control"] = "no-store"
    return response


ROUTE_COOKIE = "kurumaza_route"


def route_cookie(response):
    """A random, stable cookie for the load balancer's sticky sessions (nginx hashes it to pick a
    worker, docs/deploy.md). The session cookie cannot serve: its value changes with the session.
    It is set on the page a phone loads before its Socket.IO connection, so the Engine.IO polling
    handshake and the WebSocket upgrade that follows carry it and reach the same worker."""
    if request.endpoint != "static" and ROUTE_COOKIE not in request.cookies:
        response.set_cookie(ROUTE_COOKIE, secrets.token_hex(8), max_age=30 * 24 * 3600, httponly=True,
                            samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def register_blueprints(app: Flask) -> None:
    from meeting.web import api, auth, control, exports, join, open, opinion, organizer, panel, projector, shell, tablet

    for module in (auth, organizer, control, join, open, exports, opinion, panel, projector, tablet, shell, api):
        app.register_blueprint(module.bp)
    app.after_request(security_headers)
    app.after_request(route_cookie)

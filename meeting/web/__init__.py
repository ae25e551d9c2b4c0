"""HTML pages and downloads."""

from flask import Flask, render_template, request

from meeting.extensions import db, login_manager
from meeting.models import StaffUser

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


@login_manager.user_loader
def load_staff(user_id: str):
    return db.session.get(StaffUser, int(user_id)) if user_id.isdigit() else None


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
    from meeting.web import api, auth, control, exports, join, opinion, organizer, panel

    for module in (auth, organizer, control, join, exports, opinion, panel, api):
        app.register_blueprint(module.bp)
    app.after_request(security_headers)

    @app.errorhandler(404)
    def not_found(_error):
        return render_template("error.html", code=404), 404

    @app.errorhandler(429)
    def too_many(_error):
        return render_template("error.html", code=429), 429

    @app.errorhandler(400)
    def bad_request(_error):
        return render_template("error.html", code=400), 400

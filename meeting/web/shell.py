"""The app shell for a server that is briefly away: the service worker and its "reconnecting" page."""

from flask import Blueprint, current_app, g, render_template, request

from meeting.i18n import CHOICES

bp = Blueprint("shell", __name__)


@bp.route("/sw.js")
def service_worker():
    """The service worker, at the root so that it may answer for every page."""
    response = current_app.send_static_file("js/sw.js")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    return response


@bp.route("/offline")
def offline():
    """The page the service worker shows when a page cannot load: in the visitor's language."""
    choice = request.args.get("catalog")
    if choice in CHOICES:
        g.forced_choice = choice
    return render_template("offline.html")

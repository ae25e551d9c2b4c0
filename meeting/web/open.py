"""Open meetings: the public code's page for residents, and the organizer's poster and settings."""

import secrets as pysecrets

import segno
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from meeting.broadcast import dispatch
from meeting.extensions import db, limiter
from meeting.models import Meeting
from meeting.services import openings
from meeting.services.errors import ServiceError
from meeting.services.events import stamp
from meeting.sessions import current_participant, sign_in_participant
from meeting.web.access import meeting_role
from meeting.web.forms import WelcomeForm

bp = Blueprint("open", __name__)

BROWSER_KEY = "browser"


def browser_id() -> str:
    """A random id for this browser, kept in its session cookie: the unit of "one participant per
    browser" and of the join form's rate limit (a whole venue shares one address)."""
    value = session.get(BROWSER_KEY)
    if not isinstance(value, str) or len(value) != 22:
        value = session[BROWSER_KEY] = pysecrets.token_urlsafe(16)
    return value


def _per_browser() -> str:
    return "browser:" + browser_id()


def public_url(meeting: Meeting) -> str:
    return current_app.config["BASE_URL"] + url_for("open.by_code", code=meeting.open_code)


def _done(meeting_id: int, changes) -> None:
    """Number the events, commit, then broadcast."""
    stamp(meeting_id, changes.events)
    db.session.commit()
    dispatch(changes)


def qr_data_uri(url: str, scale: int = 8) -> str:
    return segno.make(url, error="m").png_data_uri(scale=scale, border=2)


@bp.route("/o/<code>")
@limiter.limit(lambda: current_app.config["OPEN_BROWSER_RATE_LIMIT"], key_func=_per_browser)
def by_code(code: str):
    """The poster's QR code: an open meeting's way in."""
    try:
        meeting = openings.find(code)
    except ServiceError as err:
        return render_template("join/refused.html", message=err.message), 404
    person = current_participant()
    if person is not None and person.meeting_id == meeting.id:  # one participant per browser
        return redirect(url_for("join.table"))
    openings.record_visit(meeting, browser_id())
    session["pending_open"] = {"meeting_id": meeting.id, "code": meeting.open_code}
    return redirect(url_for("open.welcome"))


@bp.route("/open/welcome", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["OPEN_BROWSER_RATE_LIMIT"], key_func=_per_browser, methods=["POST"])
@limiter.limit(lambda: current_app.config["OPEN_ADDRESS_RATE_LIMIT"], methods=["POST"])
def welcome():
    """The purpose, a nickname and the organizer's optional questions; then the table."""
    pending = session.get("pending_open")
    meeting = db.session.get(Meeting, pending.get("meeting_id")) if isinstance(pending, dict) \
        and isinstance(pending.get("meeting_id"), int) else None
    if meeting is None:
        return redirect(url_for("join.index"))
    person = current_participant()
    if person is not None and person.meeting_id == meeting.id:
        return redirect(url_for("join.table"))
    g.meeting_language = meeting.language
    from meeting.web.join import offered_nicknames, suggest_instead

    form = WelcomeForm()
    lang = "en" if (session.get("lang") or meeting.language) == "en" else "ja"
    suggestions = offered_nicknames(meeting.id, lang)
    form.nickname_choice.choices = [(n, n) for n in suggestions]
    answers = {q["category"]: request.form.get(f"category-{i}", "") for i, q in enumerate(meeting.self_report or [])}
    error = None
    if form.validate_on_submit():
        try:
            joined, key, changes = openings.join(meeting.id, pending.get("code"), form.chosen_nickname(), answers)
            session.pop("pending_open", None)
            sign_in_participant(joined, key)
            dispatch(changes)
            return redirect(url_for("join.table"))
        except ServiceError as err:
            db.session.rollback()
            error = err.message
            suggest_instead(form, err)
    elif form.is_submitted():
        error = _("Please choose a nickname.")
    if form.nickname_choice.data is None:
        form.nickname_choice.data = suggestions[0]
    return render_template("join/open_welcome.html", form=form, meeting=meeting, error=error, answers=answers), \
        (400 if error else 200)


# ------------------------------------------------------------------ organizer and facilitator


@bp.route("/staff/meetings/<int:meeting_id>/open", methods=["POST"])
@meeting_role("organizer")
def configure(meeting):
    try:
        _answer, changes = openings.configure(current_user, meeting.id, capacity=request.form.get("capacity", ""),
                                        self_report=openings.parse_self_report(request.form.get("self_report", "")))
        _done(meeting.id, changes)
        flash(_("The meeting is open: anyone with the code can join."), "success")
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
    return redirect(url_for("organizer.meeting", meeting_id=meeting.id) + "#open")


@bp.route("/staff/meetings/<int:meeting_id>/open/rotate", methods=["POST"])
@meeting_role("organizer", "facilitator")
def rotate(meeting):
    try:
        _answer, changes = openings.rotate_code(current_user, meeting.id)
        _done(meeting.id, changes)
        flash(_("A new code is in force. The old one no longer lets anyone in; people already in stay in."), "success")
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
    return redirect(url_for("organizer.meeting", meeting_id=meeting.id) + "#open")


@bp.route("/staff/meetings/<int:meeting_id>/open/close", methods=["POST"])
@meeting_role("organizer")
def close(meeting):
    openings.close(current_user, meeting.id)
    db.session.commit()
    flash(_("Nobody new can join by code now. People already in stay in."), "success")
    return redirect(url_for("organizer.meeting", meeting_id=meeting.id) + "#open")


@bp.route("/staff/meetings/<int:meeting_id>/open/poster")
@meeting_role("organizer", "facilitator")
def poster(meeting):
    """A printable poster (or the hall's screen): the code, its QR code and the address."""
    if meeting.open_code is None:
        return redirect(url_for("organizer.meeting", meeting_id=meeting.id) + "#open")
    url = public_url(meeting)
    return render_template("organizer/open_poster.html", meeting=meeting, url=url, qr=qr_data_uri(url, 12),
                           code=openings.public_code(meeting))


def share_links(url: str, subject: str) -> dict:
    """Share by LINE or e-mail through their URL schemes only: no third-party API, nothing but the
    join address (and, for e-mail, the meeting's title as the subject)."""
    from urllib.parse import quote

    return {"line": "https://line.me/R/share?text=" + quote(url, safe=""),
            "mail": "mailto:?subject=" + quote(subject, safe="") + "&body=" + quote(url, safe="")}


@bp.app_template_global()
def open_panel(meeting: Meeting) -> dict:
    """What the meeting page shows about the open door."""
    info = openings.view(meeting)
    if meeting.open_code:
        url = public_url(meeting)
        info.update(url=url, qr=qr_data_uri(url, 5), share=share_links(url, meeting.title))
    info["self_report_text"] = "\n".join(f"{q['category']}: {', '.join(q['values'])}" for q in meeting.self_report or [])
    return info

"""The participant's way in: link or typed code, purpose notice, nickname, table page."""

import secrets as pysecrets

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from meeting.broadcast import dispatch
from meeting.extensions import db, limiter
from meeting.i18n import choose, current_choice, safe_next, use_meeting
from meeting.models import Invitation, Meeting
from meeting.models._base import now
from meeting.services import invitations, meetings, openings, seating
from meeting.services.errors import ServiceError
from meeting.sessions import current_participant, sign_in_participant
from meeting.web.forms import CodeForm, WelcomeForm

bp = Blueprint("join", __name__)

NICKNAMES = {
    "ja": ["さくら", "もみじ", "すずらん", "ひまわり", "いちょう", "つばき", "あじさい", "たんぽぽ", "かえで", "なでしこ"],
    "en": ["Maple", "Cedar", "Willow", "Iris", "Lotus", "Aspen", "Clover", "Poppy", "Juniper", "Hazel"],
}


def _code_limit() -> str:
    return current_app.config["CODE_RATE_LIMIT"]


@bp.route("/")
def index():
    """The start page: residents type a code, staff log in."""
    if current_participant() is not None:
        return redirect(url_for("join.table"))
    if current_user.is_authenticated:
        return redirect(url_for("organizer.dashboard"))
    return render_template("join/index.html", form=CodeForm())


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"])
def by_code():
    """Join by typing the short code printed on the invitation."""
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        try:
            inv = invitations.find_by_code(form.code.data)
            return _start(inv)
        except ServiceError as err:
            error = err.message
            try:  # an open meeting's public code, typed instead of scanned
                return redirect(url_for("open.by_code", code=openings.find(form.code.data).open_code))
            except ServiceError:
                pass
    elif form.is_submitted():
        error = _("Please type the 8-character code from your invitation.")
    return render_template("join/code.html", form=form, error=error), (400 if error else 200)


@bp.route("/j/<token>")
def by_token(token: str):
    """Open an invitation link (from the QR code); the token leaves the address bar at once."""
    try:
        inv = invitations.find_by_token(token)
    except ServiceError as err:
        return render_template("join/refused.html", message=err.message), 404
    return _start(inv)


def _start(inv: Invitation):
    if inv.opened_at is None:  # the funnel's "opened the link", whether or not they go on to join
        inv.opened_at = now()
        db.session.commit()
    person = current_participant()
    if person is not None and person.id == inv.participant_id:
        return redirect(url_for("join.table"))
    if inv.used_at is not None:
        return render_template("join/refused.html", message=ServiceError("invitation_used").message), 409
    session["pending_invitation"] = inv.id
    return redirect(url_for("join.welcome"))


def offered_nicknames(meeting_id: int, lang: str, *, except_id: int | None = None) -> list[str]:
    """Four nicknames to tap, none of them already used in the meeting."""
    taken = invitations.taken_nicknames(meeting_id, except_id=except_id)
    free = [n for n in NICKNAMES[lang] if n.casefold() not in taken] or NICKNAMES[lang]
    return pysecrets.SystemRandom().sample(free, min(4, len(free)))


def suggest_instead(form, err: ServiceError) -> None:
    """A nickname someone has: the free one the error suggests goes into the "write your own" box."""
    if err.code == "nickname_taken":
        form.nickname.data = err.params["suggestion"]
        form.nickname_choice.data = ""


@bp.route("/welcome", methods=["GET", "POST"])
def welcome():
    """Show the purpose notice and let the resident pick a nickname, then seat them."""
    inv_id = session.get("pending_invitation")
    inv = db.session.get(Invitation, inv_id) if isinstance(inv_id, int) else None
    if inv is None:
        return redirect(url_for("join.index"))
    meeting = db.session.get(Meeting, inv.participant.meeting_id)
    use_meeting(meeting)
    form = WelcomeForm()
    lang = "en" if current_choice() == "en" else "ja"
    suggestions = offered_nicknames(meeting.id, lang, except_id=inv.participant.id)
    if inv.participant.nickname:
        suggestions = [inv.participant.nickname] + suggestions[:3]
    form.nickname_choice.choices = [SelectChoice(n, n) for n in suggestions]
    error = None
    if form.validate_on_submit():
        try:
            person, key = invitations.redeem(inv.id, form.chosen_nickname())
            sign_in_participant(person, key)
            dispatch(seating.seat_arrival(person))  # a late arrival gets the best table now
            return redirect(url_for("join.table"))
        except ServiceError as err:
            if err.code == "invitation_used":
                session.pop("pending_invitation", None)
                return render_template("join/refused.html", message=err.message), 409
            error = err.message
            suggest_instead(form, err)
    elif form.is_submitted():
        error = _("Please choose a nickname.")
    if form.nickname_choice.data is None:
        form.nickname_choice.data = suggestions[0]
    return render_template("join/welcome.html", form=form, meeting=meeting, error=error), (400 if error else 200)


@bp.route("/table")
def table():
    """The participant's table: ideas, votes and announcements, live."""
    person = current_participant()
    if person is None:
        return redirect(url_for("join.index"))
    meeting = db.session.get(Meeting, person.meeting_id)
    use_meeting(meeting)
    return render_template("join/table.html", meeting=meeting, person=person, table=meetings.table_of(person),
                           waiting=openings.waiting_position(person))


@bp.route("/language", methods=["POST"])
@bp.route("/language/<lang>", methods=["POST"])
def language(lang: str | None = None):
    """Switch the page language and come back to the same page (a same-origin `next` path only)."""
    lang = lang or request.form.get("lang")
    choose(lang)
    back = safe_next(request.form.get("next"))
    if back is None:
        back = url_for("join.table") if current_participant() else url_for("join.index")
    return redirect(back)

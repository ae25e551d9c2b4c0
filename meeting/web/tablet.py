"""A table's shared tablet: pick your nickname, take part, hand over to the next resident."""

from flask import Blueprint, redirect, render_template, request, session, url_for

from meeting.broadcast import dispatch
from meeting.extensions import db
from meeting.i18n import use_meeting
from meeting.models import Meeting, Table
from meeting.services import devices, tablets, validate
from meeting.services.errors import ServiceError
from meeting.sessions import PARTICIPANT_KEY, current_participant, sign_in_participant

bp = Blueprint("tablet", __name__)

TABLET_KEY = "tablet"


def _link(meeting_id: int, token: str):
    return devices.find(meeting_id, "tablet", token) if validate.is_id(meeting_id) else None


def _refused():
    return render_template("join/refused.html", message=ServiceError("tablet_link").message, device=True), 404


def _hand_over(link) -> None:
    """Whoever is signed in on this tablet is signed out, and their session ends."""
    person = current_participant()
    if person is not None and session.get(TABLET_KEY):
        dispatch(tablets.hand_over(link, person))
    session.pop(PARTICIPANT_KEY, None)


@bp.route("/m/<int:meeting_id>/tablet/<token>")
def picker(meeting_id: int, token: str):
    """Who is at this table: each resident taps their own name."""
    link = _link(meeting_id, token)
    if link is None:
        return _refused()
    _hand_over(link)  # the picker never shows anything of the previous resident
    session[TABLET_KEY] = {"meeting_id": meeting_id, "token": token}
    meeting = db.session.get(Meeting, meeting_id)
    use_meeting(meeting)
    return render_template("join/tablet.html", meeting=meeting, table=db.session.get(Table, link.table_id),
                           people=tablets.at_table(link), token=token, error=request.args.get("error"))


@bp.route("/m/<int:meeting_id>/tablet/<token>/take", methods=["POST"])
def take(meeting_id: int, token: str):
    link = _link(meeting_id, token)
    if link is None:
        return _refused()
    _hand_over(link)
    raw = request.form.get("participant_id", "")
    try:
        person, key = tablets.take(link, int(raw) if raw.isdigit() else None, request.form.get("nickname"))
    except ServiceError as err:
        db.session.rollback()
        return redirect(url_for("tablet.picker", meeting_id=meeting_id, token=token, error=err.message))
    sign_in_participant(person, key)
    session[TABLET_KEY] = {"meeting_id": meeting_id, "token": token}
    return redirect(url_for("join.table"))


@bp.route("/m/<int:meeting_id>/tablet/<token>/hand-over", methods=["POST"])
def hand_over(meeting_id: int, token: str):
    link = _link(meeting_id, token)
    if link is None:
        session.pop(PARTICIPANT_KEY, None)
        return _refused()
    _hand_over(link)
    return redirect(url_for("tablet.picker", meeting_id=meeting_id, token=token))


@bp.before_app_request
def _tablet_still_valid():
    """A revoked tablet link signs out whoever is using the tablet, on their next page."""
    held = session.get(TABLET_KEY)
    if isinstance(held, dict) and session.get(PARTICIPANT_KEY) and request.endpoint not in ("static", None):
        if _link(held.get("meeting_id"), held.get("token")) is None:
            session.pop(PARTICIPANT_KEY, None)
            session.pop(TABLET_KEY, None)


@bp.app_template_global()
def tablet_session() -> dict | None:
    """On a shared tablet: its meeting and token (for the "hand over" button), else None."""
    held = session.get(TABLET_KEY)
    return held if isinstance(held, dict) and session.get(PARTICIPANT_KEY) else None

"""The organizer's pages: meetings, participants, tables, facilitators, invitations."""

import io
import re

import segno
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from meeting.broadcast import dispatch
from meeting.exports.report import local_datetime
from meeting.exports.report import when as _meeting_when
from meeting.extensions import db
from meeting.models import Meeting, MeetingStaff, Participant, Seat
from meeting.services import audit, invitations, meetings, publishing, staff
from meeting.services.errors import ServiceError
from meeting.web.access import meeting_role
from meeting.web.forms import FacilitatorForm, MeetingDetailsForm, MeetingForm, ParticipantsForm, TablesForm

bp = Blueprint("organizer", __name__, url_prefix="/staff")


def join_url(token: str) -> str:
    """The printed link: on the public base URL, whatever address the organizer uses."""
    return current_app.config["BASE_URL"] + url_for("join.by_token", token=token)


@bp.route("/")
@login_required
def dashboard():
    """List the meetings this staff member works on."""
    rows = db.session.execute(sa.select(Meeting, MeetingStaff.role).join(MeetingStaff)
                              .where(MeetingStaff.user_id == current_user.id).order_by(Meeting.id.desc())).all()
    return render_template("organizer/dashboard.html", rows=rows, form=MeetingForm())


@bp.route("/meetings", methods=["POST"])
@login_required
def create_meeting():
    """Create a meeting; the creator becomes its organizer."""
    if not current_user.is_organizer:
        abort(403)
    form = MeetingForm()
    if not form.validate_on_submit():
        flash(_("Please check the form."), "error")
        return redirect(url_for("organizer.dashboard"))
    meeting = meetings.create_meeting(form.title.data, form.language.data, purpose=form.purpose.data or "",
                                      by=current_user)
    return redirect(url_for("organizer.meeting", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>")
@meeting_role("organizer", "facilitator")
def meeting(meeting):
    """Show a meeting: its tables, participants and staff."""
    return render_template("organizer/meeting.html", meeting=meeting, seating=meetings.seating(meeting),
                           participants=meetings.participants(meeting),
                           is_organizer=staff.can_organize(current_user, meeting.id),
                           participants_form=ParticipantsForm(), tables_form=TablesForm(),
                           facilitator_form=FacilitatorForm(), details_form=MeetingDetailsForm(obj=meeting),
                           action_form=FlaskForm(), when=_meeting_when(meeting))


@bp.route("/meetings/<int:meeting_id>/details", methods=["POST"])
@meeting_role("organizer")
def save_details(meeting):
    """Save the date, hours, venue, contact line and licence."""
    form = MeetingDetailsForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("organizer.meeting", meeting_id=meeting.id))
    try:
        publishing.update_details(current_user, meeting, held_on=form.held_on.data, starts_at=form.starts_at.data,
                                  ends_at=form.ends_at.data, venue=form.venue.data or "",
                                  contact=form.contact.data or "", licence=form.licence.data,
                                  language_fixed=form.language_fixed.data)
        flash(_("The details were saved."), "info")
    except ServiceError as error:
        flash(error.message, "error")
    return redirect(url_for("organizer.meeting", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/publish", methods=["POST"])
@meeting_role("organizer")
def publish(meeting):
    """Publish the meeting (the read-only API shows it), or withdraw it."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    published = request.form.get("publish") == "1"
    publishing.set_published(current_user, meeting, published)
    flash(_("The meeting is published.") if published else _("The meeting is no longer published."), "info")
    return redirect(url_for("organizer.meeting", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/participants", methods=["POST"])
@meeting_role("organizer")
def add_participants(meeting):
    form = ParticipantsForm()
    if form.validate_on_submit():
        names = [line for line in (form.nicknames.data or "").splitlines() if line.strip()]
        people = meetings.add_participants(meeting, count=form.count.data or 0, nicknames=names, by=current_user)
        if meeting.tables:
            dispatch(meetings.seat_newcomers(meeting, by=current_user))
        flash(_("%(n)s participants added.", n=len(people)), "info")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    return redirect(url_for("organizer.meeting", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/tables", methods=["POST"])
@meeting_role("organizer")
def create_tables(meeting):
    form = TablesForm()
    if form.validate_on_submit():
        dispatch(meetings.create_tables(meeting, form.count.data, by=current_user))
        flash(_("%(n)s tables created.", n=form.count.data), "info")
    else:
        flash(_("Give a number of tables from 1 to 200."), "error")
    return redirect(url_for("organizer.meeting", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/facilitators", methods=["POST"])
@meeting_role("organizer")
def add_facilitator(meeting):
    form = FacilitatorForm()
    if form.validate_on_submit():
        user, password = staff.add_facilitator(meeting.id, form.email.data, form.password.data, by=current_user)
        if password and not form.password.data:
            flash(_("Account created for %(email)s with password %(password)s (shown once).",
                    email=user.email, password=password), "info")
        else:
            flash(_("%(email)s can now facilitate this meeting.", email=user.email), "info")
    else:
        flash(_("Please give a valid e-mail address (and a password of at least 10 characters, if any)."), "error")
    return redirect(url_for("organizer.meeting", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/invitations")
@meeting_role("organizer")
def invitation_cards(meeting):
    """Printable invitation cards: link, QR code, typed code and first-round table, one card per participant.

    ``?only=unused`` prints the cards nobody has used yet; ``?table=ID`` the cards of one table.
    """
    first_table = first_round_tables(meeting)
    cards = invitations.printable(meeting)
    only = request.args.get("only", "")
    table_id = request.args.get("table", type=int)
    if only == "unused":
        cards = [c for c in cards if c.participant.invitation.used_at is None]
    if table_id is not None:
        cards = [c for c in cards if first_table.get(c.participant.id) is not None
                 and first_table[c.participant.id].id == table_id]
    audit.record("invitations.view", meeting_id=meeting.id, staff_id=current_user.id, target=f"meeting:{meeting.id}",
                 only=only, table=table_id, cards=len(cards))
    db.session.commit()
    return render_template("organizer/invitations.html", meeting=meeting, cards=cards, join_url=join_url,
                           code_page=current_app.config["BASE_URL"] + url_for("join.by_code"),
                           first_table=first_table, only=only, table_id=table_id, when=_meeting_when(meeting))


def first_round_tables(meeting) -> dict:
    """Participant id -> their table in the meeting's first round."""
    if not meeting.rounds:
        return {}
    first = min(meeting.rounds, key=lambda r: r.number)
    tables = {t.id: t for t in meeting.tables}
    return {pid: tables[tid] for pid, tid in db.session.execute(
        sa.select(Seat.participant_id, Seat.table_id).where(Seat.round_id == first.id)) if tid in tables}


@bp.route("/meetings/<int:meeting_id>/invitations/<int:participant_id>.<any(svg, png):fmt>")
@meeting_role("organizer")
def invitation_qr(meeting, participant_id: int, fmt: str):
    """The QR code of one participant's join link."""
    person = db.session.get(Participant, participant_id)
    if person is None or person.meeting_id != meeting.id or person.invitation is None:
        abort(404)
    token = invitations.printable_one(person).token
    qr = segno.make(join_url(token), error="m")
    buffer = io.BytesIO()
    if fmt == "svg":
        qr.save(buffer, kind="svg", scale=4, border=2, xmldecl=False)
        mimetype = "image/svg+xml"
    else:
        qr.save(buffer, kind="png", scale=8, border=2)
        mimetype = "image/png"
    buffer.seek(0)
    return send_file(buffer, mimetype=mimetype, download_name=f"invitation-{person.number}.{fmt}")


# A postcode at the start of the address (〒 optional) or anywhere after a 〒.
POSTCODE = re.compile(r"^\s*〒?\s*([0-9０-９]{3})\s*[-－ー‐]?\s*([0-9０-９]{4})(?![0-9０-９])|"
                      r"〒\s*([0-9０-９]{3})\s*[-－ー‐]?\s*([0-9０-９]{4})")


@bp.app_template_global()
def postal_address(identity: dict) -> dict:
    """Split a roster address the Japanese way: 〒 and the postcode first, then the address.

    The postcode is taken from a postcode column (郵便番号) when the roster had one, else from
    the address text itself.
    """
    address = (identity or {}).get("address", "") or ""
    other = (identity or {}).get("other") or {}
    found = POSTCODE.search(address)
    code = ""
    if found:
        code = _postcode(found)
        address = (address[:found.start()] + address[found.end():]).strip(" 　,、")
    else:
        for key, value in other.items():
            if any(word in str(key).lower() for word in ("郵便", "postcode", "postal", "zip")):
                match = POSTCODE.search(str(value))
                if match:
                    code = _postcode(match)
    code = code.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return {"postcode": code, "address": address}


def _postcode(match: re.Match) -> str:
    first, last = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
    return f"{first}-{last}"


@bp.app_template_global()
def meeting_when(meeting) -> str:
    """The meeting's date and hours in its language (2026年12月1日(火) 14:00〜16:00)."""
    return _meeting_when(meeting)


@bp.app_template_global()
def meeting_datetime(meeting, moment) -> str:
    """A stored UTC time in the meeting's time zone and language (2026年12月5日(土) 13:30)."""
    return local_datetime(moment, meeting)

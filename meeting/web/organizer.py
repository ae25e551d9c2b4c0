"""The organizer's pages: meetings, participants, tables, facilitators, invitations."""

import io

import segno
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from meeting.broadcast import dispatch
from meeting.extensions import db
from meeting.models import Meeting, MeetingStaff, Participant
from meeting.services import audit, invitations, meetings, staff
from meeting.web.access import meeting_role
from meeting.web.forms import FacilitatorForm, MeetingForm, ParticipantsForm, TablesForm

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
                           facilitator_form=FacilitatorForm())


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
    """Printable invitation cards: link, QR code and typed code, one card per participant."""
    cards = invitations.printable(meeting)
    audit.record("invitations.view", meeting_id=meeting.id, staff_id=current_user.id, target=f"meeting:{meeting.id}")
    db.session.commit()
    return render_template("organizer/invitations.html", meeting=meeting, cards=cards, join_url=join_url,
                           code_page=current_app.config["BASE_URL"] + url_for("join.by_code"))


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

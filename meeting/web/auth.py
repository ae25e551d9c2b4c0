"""Staff login and logout, the account page, and ending other staff members' access."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import PasswordField, SubmitField

from meeting import sessions
from meeting.extensions import db, limiter
from meeting.models import MeetingStaff, StaffUser
from meeting.services import staff
from meeting.services.errors import ServiceError
from meeting.web.access import meeting_role
from meeting.web.forms import LoginForm

bp = Blueprint("auth", __name__)


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"))
    new = PasswordField(_l("New password (at least 10 characters)"))
    submit = SubmitField(_l("Change the password"))


def _failed_login(response) -> bool:
    # Only failed tries count against an address: a venue whose staff share one address can all
    # log in; guessing is slowed per account (services.staff.login).
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"], deduct_when=_failed_login)
def login():
    """Log a staff member in."""
    if current_user.is_authenticated:
        return redirect(url_for("organizer.dashboard"))
    try:
        form = LoginForm()
    except RequestEntityTooLarge:
        flash(_("What you sent is too long. Please check the e-mail and password."), "error")
        return render_template("auth/login.html", form=LoginForm(formdata=None)), 413
    if request.method == "POST":
        form.validate()
        if getattr(form, "csrf_token", None) is not None and form.csrf_token.errors:
            flash(_("The form has expired. Please try again."), "error")
            return render_template("auth/login.html", form=form), 400
        try:
            user = staff.login(form.email.data, form.password.data,
                               free_failures=current_app.config["LOGIN_FREE_FAILURES"])
        except ServiceError as err:
            flash(err.message, "error")
            return render_template("auth/login.html", form=form), 429 if err.code == "login_wait" else 200
        sessions.sign_in_staff(user)
        target = request.args.get("next", "")
        if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
            target = url_for("organizer.dashboard")
        return redirect(target)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out (the session ends on the server too) and return to the start page."""
    user_id = current_user.id if current_user.is_authenticated else None
    sessions.sign_out_staff()
    if user_id is not None:
        sessions.disconnect_staff(user_id)
    return redirect(url_for("join.index"))


@bp.route("/staff/account", methods=["GET", "POST"])
@login_required
def account():
    """Change one's password (ending every other session) or sign out everywhere."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            staff.change_password(current_user, form.current.data, form.new.data,
                                  keep_session=sessions.staff_session_id())
        except ServiceError as err:
            flash(err.message, "error")
            return render_template("auth/account.html", form=form, everywhere=FlaskForm()), 400
        sessions.disconnect_staff(current_user.id)
        flash(_("The password is changed. Every other session of this account has ended."), "info")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, everywhere=FlaskForm())


@bp.route("/staff/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """End every session of one's account, this one included (e.g. after losing a laptop)."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    user_id = current_user.id
    staff.sign_out_everywhere(user_id, by=current_user)
    sessions.sign_out_staff()
    sessions.disconnect_staff(user_id)
    flash(_("You are signed out on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/staff/meetings/<int:meeting_id>/staff")
@meeting_role("organizer")
def meeting_staff(meeting):
    """The meeting's staff, with the organizer's buttons to remove them or sign them out."""
    rows = db.session.execute(sa.select(StaffUser, MeetingStaff.role).join(MeetingStaff)
                              .where(MeetingStaff.meeting_id == meeting.id).order_by(StaffUser.email)).all()
    return render_template("auth/meeting_staff.html", meeting=meeting, rows=rows, form=FlaskForm())


def _staff_action(meeting, user_id: int, action, done: str):
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        action()
    except ServiceError as err:
        flash(err.message, "error")
    else:
        flash(done, "info")
    return redirect(url_for("auth.meeting_staff", meeting_id=meeting.id))


@bp.route("/staff/meetings/<int:meeting_id>/staff/<int:user_id>/remove", methods=["POST"])
@meeting_role("organizer")
def remove_staff(meeting, user_id: int):
    """Take a staff member off this meeting: their pages and connections end at once."""
    def action():
        staff.remove_from_meeting(meeting.id, user_id, by=current_user)
        sessions.disconnect_staff(user_id, meeting.id)

    return _staff_action(meeting, user_id, action, _("The staff member was removed from this meeting."))


@bp.route("/staff/meetings/<int:meeting_id>/staff/<int:user_id>/sign-out", methods=["POST"])
@meeting_role("organizer")
def sign_out_staff(meeting, user_id: int):
    """End every session of a staff member of this meeting (e.g. a lost or stolen laptop)."""
    def action():
        staff.sign_out_everywhere(user_id, by=current_user, meeting_id=meeting.id)
        sessions.disconnect_staff(user_id)

    return _staff_action(meeting, user_id, action, _("Every session of this staff member has ended."))

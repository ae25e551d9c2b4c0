"""The organizer's panel selection pages: roster, quotas, draw, report, letters, check-in, purge."""

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from meeting.broadcast import dispatch
from meeting.extensions import db
from meeting.models import RosterPerson, Selection
from meeting.services import panel
from meeting.services.errors import ServiceError
from meeting.web.access import meeting_role
from meeting.web.organizer import join_url

bp = Blueprint("panel", __name__, url_prefix="/staff")

METHOD_CHOICES = [SelectChoice("leximin", _l("LEXIMIN (fairest, recommended)")),
                  SelectChoice("maximin", _l("MAXIMIN (faster)")),
                  SelectChoice("legacy", _l("Legacy greedy method (for comparison)"))]


class RosterForm(FlaskForm):
    file = FileField(_l("Roster file (CSV or Excel)"), validators=[FileRequired()])
    id_column = StringField(_l("Id column"), default="id", validators=[DataRequired(), Length(max=100)])
    category_columns = StringField(_l("Category columns (comma-separated; empty: the quota categories)"),
                                   validators=[Optional(), Length(max=1000)])
    household_columns = StringField(_l("Address columns for the one-per-household rule (comma-separated, optional)"),
                                    validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Upload the roster"))


class QuotasFileForm(FlaskForm):
    file = FileField(_l("Quotas file (category,value,min,max)"), validators=[FileRequired()])
    submit = SubmitField(_l("Upload the quotas"))


class DrawForm(FlaskForm):
    k = IntegerField(_l("Panel size"), validators=[DataRequired(), NumberRange(min=1, max=100000)])
    method = SelectField(_l("Method"), choices=METHOD_CHOICES, default="leximin")
    alternates = IntegerField(_l("Number of alternates"), default=10,
                              validators=[Optional(), NumberRange(min=0, max=10000)])
    seed = IntegerField(_l("Seed (optional; empty: a new random seed)"),
                        validators=[Optional(), NumberRange(min=0, max=2 ** 63 - 1)])
    check = SubmitField(_l("Check the quotas"))
    submit = SubmitField(_l("Draw the panel"))


class PurgeForm(FlaskForm):
    sure = BooleanField(_l("I understand that names, addresses and contacts will be deleted for good."),
                        validators=[DataRequired()])
    submit = SubmitField(_l("Delete the personal data"))


def _refuse(error: ServiceError) -> None:
    flash(error.message, "error")


def _selection(meeting, selection_id: int) -> Selection:
    sel = db.session.get(Selection, selection_id)
    if sel is None or sel.meeting_id != meeting.id:
        abort(404)
    return sel


def _page(meeting, *, problems=None, roster_form=None, status=200):
    last_check = panel.latest(meeting, "check", "panel")
    roster = panel.roster_of(meeting)
    draw_form = DrawForm()
    if request.method == "GET":
        confirmed = panel.confirmed_selection(meeting)
        draw_form.k.data = (confirmed.k if confirmed else None) or (last_check.k if last_check else None)
    return render_template(
        "organizer/panel.html", meeting=meeting, roster=roster, pool=panel.pool_size(meeting),
        counts=panel.status_counts(meeting), quotas=panel.quotas_of(meeting),
        blank_rows=range(5), problems=problems or [], row_message=panel.row_message,
        roster_form=roster_form or RosterForm(), quotas_form=QuotasFileForm(), edit_form=FlaskForm(),
        draw_form=draw_form, selections=_history(meeting), confirmed=panel.confirmed_selection(meeting),
        status_label=panel.status_label), status


def _history(meeting):
    import sqlalchemy as sa

    return list(db.session.scalars(sa.select(Selection).where(Selection.meeting_id == meeting.id)
                                   .order_by(Selection.id.desc()).limit(10)))


@bp.route("/meetings/<int:meeting_id>/panel")
@meeting_role("organizer")
def page(meeting):
    """Show the roster, the quotas and the draws of a meeting."""
    return _page(meeting)


@bp.route("/meetings/<int:meeting_id>/panel/roster", methods=["POST"])
@meeting_role("organizer")
def upload_roster(meeting):
    """Replace the pool with an uploaded roster; list every problem row if it is not clean."""
    form = RosterForm()
    if not form.validate_on_submit():
        flash(_("Please choose a roster file."), "error")
        return _page(meeting, roster_form=form, status=400)
    data = form.file.data.read()
    try:
        count, problems = panel.upload_roster(
            meeting, data, form.file.data.filename or "roster", id_column=form.id_column.data,
            category_columns=form.category_columns.data or "", household_columns=form.household_columns.data or "",
            by=current_user)
    except ServiceError as error:
        _refuse(error)
        return _page(meeting, roster_form=form, status=400)
    if problems:
        flash(_("The roster was not saved: please correct the rows listed below and upload it again."), "error")
        return _page(meeting, problems=problems, roster_form=form, status=400)
    flash(_("%(n)s people are in the pool.", n=count), "info")
    return redirect(url_for("panel.page", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/panel/quotas", methods=["POST"])
@meeting_role("organizer")
def upload_quotas(meeting):
    """Replace the quotas with an uploaded file."""
    form = QuotasFileForm()
    if not form.validate_on_submit():
        flash(_("Please choose a quotas file."), "error")
        return redirect(url_for("panel.page", meeting_id=meeting.id))
    try:
        rows = panel.upload_quotas(meeting, form.file.data.read(), form.file.data.filename or "quotas",
                                   by=current_user)
        flash(_("%(n)s quota rows saved.", n=len(rows)), "info")
    except ServiceError as error:
        _refuse(error)
        return _page(meeting, status=400)
    return redirect(url_for("panel.page", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/panel/quotas/edit", methods=["POST"])
@meeting_role("organizer")
def edit_quotas(meeting):
    """Replace the quotas with the rows of the table form."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    f = request.form
    rows = list(zip(f.getlist("category"), f.getlist("value"), f.getlist("min"), f.getlist("max")))
    try:
        saved = panel.edit_quotas(meeting, rows, by=current_user)
        flash(_("%(n)s quota rows saved.", n=len(saved)), "info")
    except ServiceError as error:
        _refuse(error)
        return _page(meeting, status=400)
    return redirect(url_for("panel.page", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/panel/draw", methods=["POST"])
@meeting_role("organizer")
def start_draw(meeting):
    """Start a quota check or a panel draw in the background and show its progress."""
    form = DrawForm()
    if not form.validate_on_submit():
        flash(_("Please give a panel size."), "error")
        return redirect(url_for("panel.page", meeting_id=meeting.id))
    kind = "check" if form.check.data else "panel"
    try:
        sel = panel.start(meeting, kind, by=current_user, k=form.k.data, method=form.method.data,
                          alternates=form.alternates.data or 0, seed=form.seed.data)
    except ServiceError as error:
        _refuse(error)
        return redirect(url_for("panel.page", meeting_id=meeting.id))
    return redirect(url_for("panel.selection", meeting_id=meeting.id, selection_id=sel.id))


@bp.route("/meetings/<int:meeting_id>/panel/selections/<int:selection_id>")
@meeting_role("organizer")
def selection(meeting, selection_id: int):
    """Show a draw: live progress while it runs, then the report."""
    sel = _selection(meeting, selection_id)
    members = [db.session.get(RosterPerson, pid) for pid in sel.panel]
    alternates = [db.session.get(RosterPerson, pid) for pid in sel.alternate_ids]
    newest = panel.latest(meeting, "panel")
    can_confirm = (sel.kind == "panel" and sel.status == "done" and newest is not None and newest.id == sel.id
                   and panel.confirmed_selection(meeting) is None)
    return render_template("organizer/panel_selection.html", meeting=meeting, sel=sel, members=members,
                           alternates=alternates, chart=_chart(sel), can_confirm=can_confirm,
                           confirm_form=FlaskForm(), issues=panel.issue_messages(sel.feasibility or {}),
                           relaxations=panel.relaxation_messages(sel.feasibility or {}))


@bp.route("/meetings/<int:meeting_id>/panel/selections/<int:selection_id>.json")
@meeting_role("organizer")
def selection_status(meeting, selection_id: int):
    """The progress of a draw, for the page's polling script."""
    sel = _selection(meeting, selection_id)
    panel.notice_dead_child(sel)
    dispatch(panel.seating_news(meeting, sel))  # phones and the control room see the replacements' seats
    return jsonify({"id": sel.id, "status": sel.status, "progress": round(sel.progress, 3),
                    "message": sel.message, "error": sel.error_code})


@bp.route("/meetings/<int:meeting_id>/panel/selections/<int:selection_id>/confirm", methods=["POST"])
@meeting_role("organizer")
def confirm(meeting, selection_id: int):
    """Make the drawn panel the meeting's participants, with invitations."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    sel = _selection(meeting, selection_id)
    try:
        count, changes = panel.confirm(meeting, sel, by=current_user)
    except ServiceError as error:
        _refuse(error)
        return redirect(url_for("panel.selection", meeting_id=meeting.id, selection_id=sel.id))
    dispatch(changes)  # the new participants' seats
    flash(_("The panel is confirmed: %(n)s participants with invitations.", n=count), "info")
    return redirect(url_for("panel.letters", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/panel/letters")
@meeting_role("organizer")
def letters(meeting):
    """Invitation letters, one A4 page per person, with name and address (organizer only)."""
    only = request.args.get("only", "")
    items = panel.letters(meeting, by=current_user, only=only)
    from flask import current_app

    return render_template("organizer/panel_letters.html", meeting=meeting, letters=items, join_url=join_url,
                           code_page=current_app.config["BASE_URL"] + url_for("join.by_code"))


@bp.route("/meetings/<int:meeting_id>/panel/checkin")
@meeting_role("organizer")
def checkin(meeting):
    """Check-in at the door: who has arrived, and the quotas of those present."""
    sel = panel.confirmed_selection(meeting)
    people = panel.checkin_list(meeting, by=current_user)
    arrived = sum(1 for item in people if item.person.status == "arrived")
    pending = sum(1 for item in people if item.person.status == "replacement")
    return render_template("organizer/panel_checkin.html", meeting=meeting, sel=sel, people=people,
                           arrived=arrived, pending=pending, open_seats=panel.open_seats(meeting),
                           quotas=panel.arrival_table(meeting), form=FlaskForm(),
                           replacement=panel.latest(meeting, "replacement"), status_label=panel.status_label)


@bp.route("/meetings/<int:meeting_id>/panel/checkin/<int:person_id>", methods=["POST"])
@meeting_role("organizer")
def mark_arrived(meeting, person_id: int):
    """Mark one person as arrived (or not)."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        choice = request.form.get("arrived")
        panel.set_arrived(meeting, person_id, None if choice == "absent" else choice == "1", by=current_user)
    except ServiceError as error:
        _refuse(error)
    return redirect(url_for("panel.checkin", meeting_id=meeting.id) + f"#person-{person_id}")


@bp.route("/meetings/<int:meeting_id>/panel/replacements", methods=["POST"])
@meeting_role("organizer")
def replacements(meeting):
    """Draw replacements for the open seats, in the background."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        panel.start_replacements(meeting, by=current_user)
        flash(_("Drawing replacements…"), "info")
    except ServiceError as error:
        _refuse(error)
    return redirect(url_for("panel.checkin", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/panel/purge", methods=["GET", "POST"])
@meeting_role("organizer")
def purge(meeting):
    """Delete the roster's personal data, after a confirmation step."""
    form = PurgeForm()
    if form.validate_on_submit():
        count = panel.purge_identity(meeting, by=current_user)
        flash(_("The personal data of %(n)s people was deleted.", n=count), "info")
        return redirect(url_for("panel.page", meeting_id=meeting.id))
    if request.method == "POST":
        flash(_("Please tick the box to confirm."), "error")
    return render_template("organizer/panel_purge.html", meeting=meeting, form=form,
                           pool=panel.pool_size(meeting))


def _chart(sel: Selection) -> dict | None:
    """A histogram of the selection probabilities, as SVG bars and as table rows."""
    values = sorted(sel.probabilities.values()) if sel.probabilities else []
    if not values:
        return None
    top = max(values[-1], 1e-9)
    bins = 10
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int(v / top * bins))] += 1
    rows = [{"low": top * b / bins, "high": top * (b + 1) / bins, "count": c} for b, c in enumerate(counts)]
    highest = max(counts) or 1
    width, height = 400, 160
    bar = width / bins
    bars = [{"x": round(b * bar + 2, 1), "w": round(bar - 4, 1),
             "h": round(c / highest * (height - 20), 1), "y": round(height - c / highest * (height - 20), 1),
             "count": c, "row": rows[b]} for b, c in enumerate(counts)]
    n = sel.report.get("n") or len(values)
    return {"rows": rows, "bars": bars, "width": width, "height": height,
            "fair": (sel.report.get("k", 0) / n) if n else 0}

"""Downloads of a meeting's data: every dataset as CSV, JSON or XLSX, the open-data ZIP, the
Polis-format files, and the report package (built in the background)."""

import io
import zipfile

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, send_file, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from meeting.exports import bundle, datasets, report
from meeting.exports.polis import polis_files
from meeting.exports.tabular import JSON_TYPE, XLSX_TYPE
from meeting.extensions import db
from meeting.services import audit
from meeting.web.access import meeting_role

bp = Blueprint("exports", __name__, url_prefix="/staff")

ZIP_TYPE = "application/zip"


def _download(meeting, body: bytes, name: str, mimetype: str) -> Response:
    audit.record("export", meeting_id=meeting.id, staff_id=current_user.id, target=name)
    db.session.commit()
    # One Content-Type: the mimetype already says its charset; Flask must not add another.
    response = Response(body, headers={"Content-Disposition": f'attachment; filename="meeting-{meeting.id}-{name}"'})
    response.headers["Content-Type"] = mimetype
    return response


@bp.route("/meetings/<int:meeting_id>/export/ideas.csv")
@meeting_role("organizer")
def ideas_csv(meeting):
    """Download the ideas with their tallies as CSV (hidden ideas without their text)."""
    return dataset(meeting.id, "ideas", "csv")


@bp.route("/meetings/<int:meeting_id>/export/votes.csv")
@meeting_role("organizer")
def votes_csv(meeting):
    """Download every vote as CSV, one row per participant and idea."""
    return dataset(meeting.id, "votes", "csv")


@bp.route("/meetings/<int:meeting_id>/export/meeting.json")
@meeting_role("organizer")
def meeting_json(meeting):
    """Download every dataset as one JSON document."""
    return _download(meeting, bundle.write_json(bundle.meeting_json(datasets.collect(meeting))), "meeting.json",
                     JSON_TYPE)


@bp.route("/meetings/<int:meeting_id>/export/meeting.xlsx")
@meeting_role("organizer")
def meeting_xlsx(meeting):
    """Download every dataset as one Excel workbook, one sheet each."""
    return _download(meeting, bundle.workbook(datasets.collect(meeting)), "meeting.xlsx", XLSX_TYPE)


@bp.route("/meetings/<int:meeting_id>/export/data/<name>.<any(csv, json, xlsx):fmt>")
@meeting_role("organizer")
def dataset(meeting, name: str, fmt: str):
    """Download one dataset in one format."""
    if name not in datasets.DATASET_NAMES:
        abort(404)
    data = datasets.collect(meeting, with_opinion=name.startswith("opinion_") or name == "vote_breakdown")
    return _download(meeting, bundle.dataset_file(data, name, fmt), f"{name}.{fmt}", bundle.FORMATS[fmt])


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for path, body in files.items():
            z.writestr(path, body)
    return buffer.getvalue()


@bp.route("/meetings/<int:meeting_id>/export/open-data.zip")
@meeting_role("organizer")
def open_data(meeting):
    """Download the open data: every dataset as CSV, JSON and XLSX, the Polis files and a README."""
    data = datasets.collect(meeting)
    files = bundle.open_data_files(data, base_url=current_app.config["BASE_URL"])
    files["README.md"] = bundle.readme(data, meeting.language).encode("utf-8")
    return _download(meeting, _zip(files), "open-data.zip", ZIP_TYPE)


@bp.route("/meetings/<int:meeting_id>/export/polis.zip")
@meeting_role("organizer")
def polis(meeting):
    """Download the agree/disagree statements in the format of Polis's open data."""
    files = polis_files(datasets.collect(meeting), current_app.config["BASE_URL"])
    return _download(meeting, _zip(files), "polis.zip", ZIP_TYPE)


# ------------------------------------------------------------------ the report package

@bp.route("/meetings/<int:meeting_id>/report", methods=["POST"])
@meeting_role("organizer")
def start_report(meeting):
    """Start building the report package in a child process; show its progress."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    build = report.start(meeting, by=current_user)
    return redirect(url_for("exports.report_page", meeting_id=meeting.id, build=build))


def _status(meeting, build: str) -> dict:
    status = report.status(meeting.id, build)
    if status is None:
        abort(404)
    return status


@bp.route("/meetings/<int:meeting_id>/report/<build>")
@meeting_role("organizer")
def report_page(meeting, build: str):
    """The report's progress while it builds, then its download link."""
    return render_template("report/progress.html", meeting=meeting, build=build, status=_status(meeting, build),
                           status_url=url_for("exports.report_status", meeting_id=meeting.id, build=build))


@bp.route("/meetings/<int:meeting_id>/report/<build>.json")
@meeting_role("organizer")
def report_status(meeting, build: str):
    """The build's progress, for the page's polling script."""
    return jsonify(_status(meeting, build))


@bp.route("/meetings/<int:meeting_id>/report/<build>.zip")
@meeting_role("organizer")
def report_zip(meeting, build: str):
    """Download the finished report package."""
    path = report.zip_path(meeting.id, build)
    if _status(meeting, build)["status"] != "done" or path is None:
        abort(404)
    audit.record("export", meeting_id=meeting.id, staff_id=current_user.id, target="report.zip")
    db.session.commit()
    return send_file(path, mimetype=ZIP_TYPE, as_attachment=True, download_name=path.name)

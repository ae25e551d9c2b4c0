"""The report package: one ZIP with the report as HTML and PDF, the open data and a README.

:func:`build` does the work and reports progress through a callback; the command line
(``python -m meeting report ID --out DIR``) and the meeting page's button both use it. The
button runs the command in a child process (:func:`start`), as the panel draw does, so a
big meeting's PDF never blocks the server; the child writes ``status.json`` next to the ZIP
and the page polls it (:func:`status`).
"""
from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_date, format_datetime, format_time
from flask import current_app, render_template
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from meeting.config import PROJECT_DIR, child_environment
from meeting.exports import bundle, charts
from meeting.exports.datasets import MIN_STATEMENT_VOTES, OpenData, collect, moderation_category
from meeting.extensions import db
from meeting.models import Idea, Meeting, Poll, Round, Seat, Vote
from meeting.services import audit, staff
from meeting.services.panel import child_alive

Progress = Callable[[float, str], None]
# Issue 7/8 hook: the host's written summary of one table in one round, if there is one.
MINUTES_SUMMARY: list[Callable[[int, int], str | None]] = []
BUILD_ID = re.compile(r"^[0-9a-f]{16}$")
# Headers of the numbers tables beside the charts.
COLUMN_LABELS = {
    "answer": _l("Answer"), "votes": _l("Votes"), "share": _l("Share"), "winner": _l("Winner"),
    "option": _l("Option"), "dots": _l("Dots"), "rank": _l("Rank"), "borda": _l("Borda points"),
    "mean": _l("Mean"), "median": _l("Median"), "answers": _l("Answers"), "no_opinion": _l("No opinion"),
    "question": _l("Question"), "before_mean": _l("Mean before"), "after_mean": _l("Mean after"),
    "mean_change": _l("Change"), "paired": _l("Answered both"), "share_up": _l("Moved up"),
    "share_down": _l("Moved down"), "agree": _l("agree"), "disagree": _l("disagree"), "pass": _l("pass"),
    "1": "1", "2": "2", "3": "3", "4": "4", "5": "5",
}


# ------------------------------------------------------------------ dates, the meeting's way

def zone(meeting: Meeting) -> ZoneInfo:
    try:
        return ZoneInfo(meeting.timezone or "Asia/Tokyo")
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Tokyo")


def local_datetime(moment: datetime | None, meeting: Meeting) -> str:
    """A stored UTC instant in the meeting's time zone: 2026年12月1日(火) 14:05 in Japanese."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if meeting.language == "ja":
        return format_datetime(moment, "y年M月d日(EEE) H:mm", tzinfo=zone(meeting), locale="ja")
    return format_datetime(moment, "d MMM y, HH:mm zzz", tzinfo=zone(meeting), locale="en")


def local_date(day: date | None, meeting: Meeting) -> str:
    if day is None:
        return ""
    return format_date(day, "y年M月d日(EEE)" if meeting.language == "ja" else "EEEE d MMMM y",
                       locale=meeting.language)


def local_time(moment: time | None, meeting: Meeting) -> str:
    if moment is None:
        return ""
    return format_time(moment, "H:mm" if meeting.language == "ja" else "HH:mm", locale=meeting.language)


def when(meeting: Meeting) -> str:
    """The meeting's date and hours as printed on letters: 2026年12月1日(火) 14:00〜16:00."""
    parts = [local_date(meeting.held_on, meeting)]
    start, end = local_time(meeting.starts_at, meeting), local_time(meeting.ends_at, meeting)
    if start or end:
        parts.append(f"{start}〜{end}" if meeting.language == "ja" else f"{start}–{end}")
    return " ".join(p for p in parts if p)


# ------------------------------------------------------------------ the report's content

def _idea_line(idea: Idea) -> dict:
    withheld = idea.hidden or idea.pending
    return {"id": idea.id, "hidden": idea.hidden, "pending": idea.pending and not idea.hidden,
            "text": "" if withheld else idea.text, "merged_into": idea.merged_into_id,
            "category": moderation_category(idea.hidden_reason) if idea.hidden else ""}


def _minutes(meeting: Meeting, data: OpenData) -> list[dict]:
    """Per round, per table: who sat there (how many), its ideas with votes, its polls."""
    seats = dict(((r, t), n) for r, t, n in db.session.execute(
        sa.select(Seat.round_id, Seat.table_id, sa.func.count()).join(Round, Round.id == Seat.round_id)
        .where(Round.meeting_id == meeting.id).group_by(Seat.round_id, Seat.table_id)))
    ideas: dict[tuple, list] = {}
    for idea in db.session.scalars(sa.select(Idea).where(Idea.meeting_id == meeting.id).order_by(Idea.id)):
        ideas.setdefault((idea.round_id, idea.table_id), []).append(idea)
    counts: dict[int, dict] = {}
    for idea_id, value, n in db.session.execute(
            sa.select(Vote.idea_id, Vote.value, sa.func.count()).join(Idea)
            .where(Idea.meeting_id == meeting.id).group_by(Vote.idea_id, Vote.value)):
        counts.setdefault(idea_id, {})[value] = n
    polls = {}
    for p, res in data.polls:
        if p.table_id:
            polls.setdefault((p.round_id, p.table_id), []).append(_poll_block(meeting, p, res))
    rounds = []
    for rnd in meeting.rounds:
        tables = []
        for t in meeting.tables:
            key = (rnd.id, t.id)
            summaries = [s for s in (hook(rnd.id, t.id) for hook in MINUTES_SUMMARY) if s]
            if not (seats.get(key) or ideas.get(key) or polls.get(key) or summaries):
                continue
            tables.append({"table": t, "seated": seats.get(key, 0), "summaries": summaries,
                           "ideas": [{**_idea_line(i), **{v: counts.get(i.id, {}).get(v, 0)
                                                          for v in ("agree", "disagree", "pass")}}
                                     for i in ideas.get(key, [])],
                           "polls": polls.get(key, [])})
        rounds.append({"round": rnd, "tables": tables})
    return rounds


def _number(v, digits=2) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}".rstrip("0").rstrip(".") if not v.is_integer() else str(int(v))
    return str(v)


def _poll_block(meeting: Meeting, poll: Poll, results: dict | None) -> dict:
    """A poll's question, its chart and the rows of its numbers table."""
    block = {"poll": poll, "results": results, "chart": "", "rows": [], "columns": []}
    if results is None:
        return block
    uid = f"p{poll.id}"
    rows = results["rows"]
    if poll.kind == "agree":
        block["columns"] = ["answer", "votes", "share"]
        block["rows"] = [[COLUMN_LABELS[r["id"]], r["value"], f'{r["share"] * 100:.0f}%'] for r in rows]
        bars = [charts.Bar(str(COLUMN_LABELS[r["id"]]), r["value"], f'{r["value"]} ({r["share"] * 100:.0f}%)')
                for r in rows]
    elif poll.kind in ("single", "approval", "dots"):
        block["columns"] = ["option", "dots" if poll.kind == "dots" else "votes", "share", "winner"]
        winners = set(results.get("winners") or [])
        block["rows"] = [[r["label"], r["value"], f'{r["share"] * 100:.0f}%', "★" if r["id"] in winners else ""]
                         for r in rows]
        bars = [charts.Bar(r["label"], r["value"], f'{r["value"]} ({r["share"] * 100:.0f}%)') for r in rows]
    elif poll.kind == "ranking":
        block["columns"] = ["rank", "option", "borda"]
        block["rows"] = [[r["rank"], r["label"], _number(r["value"])] for r in rows]
        bars = [charts.Bar(f'{r["rank"]}. {r["label"]}', r["value"], _number(r["value"])) for r in rows]
    elif poll.kind == "score":
        block["columns"] = ["option", "mean", "median", "answers", "no_opinion", "1", "2", "3", "4", "5"]
        block["rows"] = [[r["label"], _number(r["value"]), _number(r.get("median")), r["answers"], r["no_opinion"],
                          *((r.get("distribution") or {}).get(str(v), 0) for v in range(1, 6))] for r in rows]
        bars = [charts.Bar(r["label"], r["value"] or 0, _number(r["value"])) for r in rows]
        block["maximum"] = 5
    else:  # survey
        paired = poll.before_poll_id is not None
        block["columns"] = (["question", "before_mean", "after_mean", "mean_change", "paired", "share_up", "share_down"]
                            if paired else ["question", "mean", "answers", "no_opinion"])
        block["rows"] = [[r["label"], _number(r.get("before_mean")), _number(r.get("after_mean")),
                          _number(r.get("mean_change")), r.get("paired"), _number(r.get("share_up")),
                          _number(r.get("share_down"))] if paired else
                         [r["label"], _number(r["value"]), r["answers"], r["no_opinion"]] for r in rows]
        bars = [charts.Bar(r["label"], r["value"] or 0, _number(r["value"])) for r in rows]
        block["maximum"] = 5
    block["chart"] = charts.bar_chart(uid, poll.question, bars, maximum=block.get("maximum"))
    return block


def _opinion(meeting: Meeting, data: OpenData) -> dict:
    snap = data.opinion.get("data") or {}
    texts = {s["id"]: s["text"] for s in snap.get("statements", [])}
    hidden = set(db.session.scalars(sa.select(Idea.id).where(Idea.meeting_id == meeting.id, Idea.hidden.is_(True))))

    def keep(r) -> bool:
        return r["n_trials"] >= MIN_STATEMENT_VOTES and r["statement"] not in hidden and r["statement"] in texts

    groups = [{"id": g["id"], "size": g["size"], "marker": charts.marker_name(g["id"]),
               "repness": [{**r, "text": texts[r["statement"]]} for r in g.get("repness", []) if keep(r)]}
              for g in snap.get("groups", [])]
    consensus = {d: [{**c, "text": texts[c["statement"]]} for c in (snap.get("consensus") or {}).get(d, []) if keep(c)]
                 for d in ("agree", "disagree")}
    people = data.get("opinion_participants").rows
    points = [(x, y, g) for _, g, x, y, _ in people]
    legend = [(g["id"], gettext("Group %(n)s: %(size)s people", n=g["id"] + 1, size=g["size"])) for g in groups]
    legend.append((None, gettext("not grouped (too few votes)")))
    chart = charts.scatter("opinion map", points, legend) if points else ""
    return {"groups": groups, "consensus": consensus, "chart": chart, "participants": len(people),
            "grouped": sum(1 for p in people if p[1] is not None), "min_votes": MIN_STATEMENT_VOTES,
            "computed_at": local_datetime(data.opinion.get("computed_at"), meeting)}


def numbers(data: OpenData) -> dict:
    """The report's headline numbers (also served by the API)."""
    meeting_row = data.get("meeting").records()[0]
    ideas = data.get("ideas").records()
    return {"participants": meeting_row["participants"], "joined": meeting_row["joined"],
            "tables": meeting_row["tables"], "rounds": meeting_row["rounds"], "ideas": len(ideas),
            "hidden": sum(1 for r in ideas if r["hidden"]), "votes": len(data.get("votes").rows),
            "polls": len(data.polls)}


def context(meeting: Meeting, data: OpenData) -> dict:
    return {
        "meeting": meeting, "when": when(meeting), "generated": local_datetime(data.exported_at, meeting),
        "numbers": numbers(data),
        "minutes": _minutes(meeting, data),
        "plenary": [_poll_block(meeting, p, res) for p, res in data.polls if not p.table_id],
        "opinion": _opinion(meeting, data),
        "attendance": data.get("attendance"), "selections": data.get("selections"),
        "funnel": data.get("funnel"),
        "moderation": [{"at": local_datetime(_parse(r[0]), meeting), "action": r[1], "idea_id": r[2], "category": r[3]}
                       for r in data.get("moderation").rows],
        "licence": bundle.licence_text(meeting.licence, meeting.language), "datasets": data.datasets,
        "local_datetime": lambda v: local_datetime(_parse(v), meeting), "column_label": COLUMN_LABELS,
    }


def _parse(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


# ------------------------------------------------------------------ HTML, PDF, ZIP

def render_html(meeting: Meeting, data: OpenData) -> str:
    with force_locale(meeting.language):
        return render_template("report/report.html", **context(meeting, data))


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # heavy import, only where a PDF is made

    return HTML(string=html, base_url=str(PROJECT_DIR)).write_pdf()


def zip_name(meeting: Meeting) -> str:
    return f"meeting-{meeting.id}-report.zip"


def build(meeting: Meeting, out_dir: Path, progress: Progress = lambda f, m: None) -> Path:
    """Write the report package into out_dir and return the ZIP's path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    progress(0.05, "collect")
    data = collect(meeting)
    progress(0.3, "html")
    html = render_html(meeting, data)
    progress(0.4, "pdf")
    pdf = render_pdf(html)
    progress(0.85, "open-data")
    files = {"report.html": html.encode("utf-8"), "report.pdf": pdf}
    files.update(bundle.open_data_files(data, base_url=current_app.config["BASE_URL"]))
    files["README.md"] = bundle.readme(data, meeting.language, with_report=True).encode("utf-8")
    path = out_dir / zip_name(meeting)
    partial = path.with_suffix(".part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files.items():
            z.writestr(f"meeting-{meeting.id}/{name}", body)
    partial.replace(path)
    progress(1.0, "done")
    return path


# ------------------------------------------------------------------ in the background

def _folder(meeting_id: int, build_id: str) -> Path | None:
    if not BUILD_ID.match(build_id or ""):
        return None
    return Path(current_app.config["INSTANCE_PATH"]) / "reports" / f"meeting-{meeting_id}" / build_id


def write_status(path: Path, **status) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(status))
    tmp.replace(path)


def start(meeting: Meeting, *, by) -> str:
    """Queue a build and start ``python -m meeting report`` for it; return the build id."""
    staff.require_organizer(by, meeting.id)
    build_id = secrets.token_hex(8)
    folder = _folder(meeting.id, build_id)
    folder.mkdir(parents=True)
    status_file = folder / "status.json"
    write_status(status_file, status="queued", progress=0.0, message="queued")
    cfg = current_app.config
    env = child_environment(cfg)
    with open(folder / "build.log", "ab") as log:
        child = subprocess.Popen([sys.executable, "-m", "meeting", "report", str(meeting.id), "--out", str(folder),
                                  "--status", str(status_file)], cwd=str(PROJECT_DIR), env=env,
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    (folder / "pid").write_text(str(child.pid))
    audit.record("report.start", meeting_id=meeting.id, staff_id=by.id, target=f"report:{build_id}")
    db.session.commit()
    return build_id


def status(meeting_id: int, build_id: str) -> dict | None:
    folder = _folder(meeting_id, build_id)
    if folder is None or not (folder / "status.json").is_file():
        return None
    state = json.loads((folder / "status.json").read_text())
    pid_file = folder / "pid"
    if state.get("status") in ("queued", "running") and pid_file.is_file() and not child_alive(int(pid_file.read_text())):
        state = {**state, "status": "failed", "message": "stopped"}
    return {"build": build_id, **state}


def zip_path(meeting_id: int, build_id: str) -> Path | None:
    folder = _folder(meeting_id, build_id)
    if folder is None:
        return None
    found = sorted(folder.glob("*.zip"))
    return found[0] if found else None


def meeting_by_id(meeting_id: int) -> Meeting | None:
    return db.session.get(Meeting, meeting_id)

"""Panel selection by lot: roster, quotas, the draw, confirmation, check-in, replacements, purge.

One function per organizer action. Identity (name, address, contact, other columns) is sealed
with the data key on upload and unsealed only for the organizer's letters and check-in pages,
each access audited. The household rule uses a keyed hash of the normalized address.

The solver runs in a child process: `start()` records a queued Selection, commits, and spawns
``python -m meeting run-draw <selection id>`` (subprocess.Popen, its own session, no pipes);
the child builds its own app from the environment it is given (database URL and keys), runs
`run()`, writes progress to the Selection row as it goes and the outcome when it ends. HiGHS is
native code that would otherwise freeze the gevent loop; a separate process also survives a
slow LEXIMIN, which stops at the Selection's `time_limit` with its guaranteed minimum. Pages
follow the row through a small JSON endpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from meeting.config import PROJECT_DIR, child_environment
from meeting.core.sortition import (
    METHODS,
    FeasibilityReport,
    InfeasibleQuotas,
    Instance,
    Pool,
    Quota,
    SortitionError,
    check_feasibility,
    draw,
    new_seed,
    panel_meets_quotas,
    replace,
)
from meeting.core.sortition import select as run_selection
from meeting.core.sortition.model import norm
from meeting.exports.selection import quota_counts, selection_report
from meeting.extensions import db
from meeting.imports.quotas import ImportProblem, parse_people, parse_quotas
from meeting.imports.roster import RowProblem, check_roster, identity_columns
from meeting.imports.tabular import Table, TabularError, read_table
from meeting.models import Meeting, PanelQuota, Participant, Roster, RosterPerson, Selection, StaffUser
from meeting.models._base import utcnow
from meeting.services import audit, invitations, meetings, seating, secrets, staff, validate
from meeting.services.errors import ServiceError
from meeting.services.events import Changes, stamp

ON_PANEL = ("confirmed", "arrived", "replacement")  # people who hold an invitation to the panel
STALE_AFTER = 600.0  # seconds past its time limit after which a running draw counts as dead

MESSAGES = {
    "roster_file": _l("The roster file could not be read: %(detail)s"),
    "roster_locked": _l("The panel has been confirmed; the roster can no longer be replaced."),
    "roster_missing": _l("Please upload the roster first."),
    "no_categories": _l("Please upload the quotas first, or name the category columns."),
    "quotas_file": _l("The quotas file could not be read: %(detail)s"),
    "quotas_missing": _l("Please set the quotas first."),
    "quota_row": _l("Quota row %(row)s: please give a category, a value and whole numbers for min and max."),
    "quota_categories": _l("The roster has no column for the quota category “%(category)s”. Please upload the roster again."),
    "quota_value": _l("The roster has the value “%(value)s” for “%(category)s”, which has no quota row."),
    "panel_size": _l("Please give a panel size from 1 to the number of people in the pool."),
    "method": _l("Please choose a method."),
    "busy": _l("A draw is already running. Please wait until it ends."),
    "not_done": _l("This draw has not finished."),
    "already_confirmed": _l("A panel has already been confirmed for this meeting."),
    "superseded": _l("A newer draw exists; only the newest one can be confirmed."),
    "quotas_changed": _l("The roster or the quotas changed after this draw. Please draw again."),
    "not_confirmed": _l("Please confirm a panel first."),
    "no_open_seats": _l("There are no open seats: everyone on the panel has arrived or a replacement is on the way."),
    "purged": _l("The personal data of this roster has been deleted."),
}

# Why a file could not be read (codes of imports.tabular.TabularError and imports.quotas.ImportProblem).
FILE_MESSAGES = {
    "cannot_open": _l("the file cannot be opened."),
    "too_large": _l("the file is larger than %(mb)s MB."),
    "encoding": _l("the text is neither UTF-8 nor Shift_JIS (CP932). Please save it as “CSV UTF-8” in Excel."),
    "empty": _l("the file is empty."),
    "header_empty": _l("row %(row)s (the header) is empty."),
    "column_unnamed": _l("a column in the header (row %(row)s) has no name."),
    "column_twice": _l("the header (row %(row)s) names the column “%(column)s” twice."),
    "cell_count": _l("row %(row)s has a different number of cells than the header."),
    "not_csv": _l("this is not a CSV text file."),
    "not_xlsx": _l("this is not a readable Excel (.xlsx) file."),
    "no_sheet": _l("there is no sheet named “%(sheet)s”."),
    "cell_empty": _l("row %(row)s: the %(column)s is empty."),
    "not_number": _l("row %(row)s: the %(column)s “%(text)s” is not a number."),
    "not_whole": _l("row %(row)s: the %(column)s “%(text)s” is not a whole number of people."),
    "quota_columns": _l("columns are missing (%(columns)s). The header must be category,name,min,max or "
                        "feature,value,min,max."),
    "quota_twice": _l("row %(row)s: %(category)s = %(value)s is already in row %(first)s."),
    "no_quotas": _l("there are no quota rows."),
}


def file_problem(exc: Exception) -> str:
    """Say why a file could not be read, in the organizer's language when the reason is known."""
    template = FILE_MESSAGES.get(getattr(exc, "code", ""))
    if template is None:
        return str(exc)
    try:
        return str(template) % getattr(exc, "params", {})
    except (KeyError, TypeError, ValueError):
        return str(exc)


ROW_MESSAGES = {
    "no_rows": _l("There are no people in the file."),
    "no_id_column": _l("There is no id column “%(column)s”."),
    "no_category_column": _l("There is no column for the category “%(column)s”."),
    "no_household_column": _l("There is no address column “%(column)s”."),
    "id_empty": _l("The id is empty."),
    "id_duplicate": _l("This id is already used in row %(first)s."),
    "value_empty": _l("The value is empty."),
    "value_unknown": _l("“%(value)s” is not one of the quota values (%(allowed)s)."),
}

ISSUE_MESSAGES = {
    "pool_too_small": _l("The pool has %(current)s people, fewer than the panel size %(limit)s."),
    "min_above_pool": _l("%(category)s = %(value)s needs at least %(current)s people, but the pool has only %(limit)s."),
    "category_min_sum": _l("The minimums for %(category)s add up to %(current)s, more than the panel size %(limit)s."),
    "category_max_sum": _l("The maximums for %(category)s add up to %(current)s, less than the panel size %(limit)s."),
    "min_above_max": _l("%(category)s = %(value)s has a minimum (%(current)s) above its maximum (%(limit)s)."),
    "households": _l("There are not enough eligible people, counting one person per household."),
    "no_panel": _l("These quotas cannot all be met at the same time."),
    "confirmed_above_max": _l("The people who arrived already include %(current)s with %(category)s = %(value)s, above its maximum %(limit)s."),  # noqa: E501
}

STATUS_LABELS = {
    "pool": _l("in the pool"), "selected": _l("drawn"), "alternate": _l("alternate"),
    "confirmed": _l("invited"), "arrived": _l("arrived"), "declined": _l("did not come"),
    "replacement": _l("replacement"),
}


class PanelError(ServiceError):
    """A refusal about panel selection, with a message in the organizer's language."""

    @property
    def message(self) -> str:
        template = MESSAGES.get(self.code)
        if template is None:
            return super().message
        return str(template) % self.params if self.params else str(template)


def row_message(problem: RowProblem) -> str:
    params = dict(problem.params, column=problem.column)
    return str(ROW_MESSAGES[problem.code]) % params


def issue_messages(feasibility: dict) -> list[str]:
    out = []
    for issue in feasibility.get("issues", []):
        template = ISSUE_MESSAGES.get(issue.get("kind"))
        if template is not None:
            out.append(str(template) % {k: ("" if v is None else v) for k, v in issue.items()})
    return out


def relaxation_messages(feasibility: dict) -> list[str]:
    out = []
    for r in feasibility.get("relaxations", []):
        if r["bound"] == "max":
            out.append(_("Raise the maximum for %(category)s = %(value)s from %(current)s to %(suggested)s.", **r))
        else:
            out.append(_("Lower the minimum for %(category)s = %(value)s from %(current)s to %(suggested)s.", **r))
    if not feasibility.get("feasible", True) and not out and not feasibility.get("relaxation_found", False):
        out.append(_("No change of the quotas alone makes a panel possible."))
    return out


def _feasibility_json(report: FeasibilityReport) -> dict:
    return {
        "feasible": report.feasible,
        "issues": [{"kind": i.kind, "category": i.category, "value": i.value, "current": i.current,
                    "limit": i.limit} for i in report.issues],
        "relaxations": [{"category": r.category, "value": r.value, "bound": r.bound, "current": r.current,
                         "suggested": r.suggested} for r in report.relaxations],
        "relaxation_found": report.relaxation_found,
    }


# ---------------------------------------------------------------- reading state

def roster_of(meeting: Meeting) -> Roster | None:
    return db.session.scalar(sa.select(Roster).where(Roster.meeting_id == meeting.id))


def quotas_of(meeting: Meeting) -> list[PanelQuota]:
    return list(db.session.scalars(sa.select(PanelQuota).where(PanelQuota.meeting_id == meeting.id)
                                   .order_by(PanelQuota.position, PanelQuota.id)))


def people_of(meeting: Meeting, *statuses: str) -> list[RosterPerson]:
    query = sa.select(RosterPerson).where(RosterPerson.meeting_id == meeting.id)
    if statuses:
        query = query.where(RosterPerson.status.in_(statuses))
    return list(db.session.scalars(query.order_by(RosterPerson.position)))


def pool_size(meeting: Meeting) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RosterPerson)
                             .where(RosterPerson.meeting_id == meeting.id)) or 0


def latest(meeting: Meeting, *kinds: str) -> Selection | None:
    query = sa.select(Selection).where(Selection.meeting_id == meeting.id)
    if kinds:
        query = query.where(Selection.kind.in_(kinds))
    return db.session.scalar(query.order_by(Selection.id.desc()).limit(1))


def confirmed_selection(meeting: Meeting) -> Selection | None:
    return db.session.scalar(sa.select(Selection).where(Selection.meeting_id == meeting.id,
                                                        Selection.confirmed_at.is_not(None))
                             .order_by(Selection.id.desc()).limit(1))


def status_counts(meeting: Meeting) -> dict[str, int]:
    rows = db.session.execute(sa.select(RosterPerson.status, sa.func.count())
                              .where(RosterPerson.meeting_id == meeting.id).group_by(RosterPerson.status))
    return dict(rows.all())


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


# ---------------------------------------------------------------- uploads

def household_key(parts: str) -> str:
    """Keyed hash of a normalized address: equal addresses match, the address is not kept."""
    key = current_app.config["DATA_KEY"].encode()
    return hmac.new(key, b"household:" + parts.encode(), hashlib.sha256).hexdigest()


def _allowed_values(meeting: Meeting) -> dict[str, list[str]]:
    allowed: dict[str, list[str]] = {}
    for q in quotas_of(meeting):
        allowed.setdefault(q.category, []).append(q.value)
    return allowed


def _split(text: str) -> list[str]:
    return [c.strip() for c in (text or "").replace("、", ",").split(",") if c.strip()]


def upload_roster(meeting: Meeting, data: bytes, filename: str, *, id_column: str = "id",
                  category_columns: str = "", household_columns: str = "",
                  by: StaffUser) -> tuple[int, list[RowProblem]]:
    """Replace the pool with the file's people; on any problem save nothing and return them all.

    Returns (people saved, problems). Category columns are the quota categories unless named.
    """
    staff.require_organizer(by, meeting.id)
    if confirmed_selection(meeting) is not None:
        raise PanelError("roster_locked")
    _refuse_while_running(meeting)
    try:
        table = read_table(data, filename or "roster")
    except TabularError as exc:
        raise PanelError("roster_file", detail=file_problem(exc)) from None
    allowed = _allowed_values(meeting)
    categories = _split(category_columns) or list(allowed)
    if not categories:
        raise PanelError("no_categories")
    id_column = (id_column or "id").strip()
    hh_cols = _split(household_columns)
    problems = check_roster(table, id_column, categories, allowed=allowed, household_columns=hh_cols)
    if problems:
        return 0, problems
    try:
        people = parse_people(table, categories, id_column=id_column, household_columns=hh_cols)
    except ImportProblem as exc:  # check_roster should have caught it; never save a bad file
        raise PanelError("roster_file", detail=file_problem(exc)) from None
    _replace_pool(meeting, table, people, categories, hh_cols, filename, by)
    return len(people.pool.ids), []


def _replace_pool(meeting, table: Table, people, categories, hh_cols, filename, by) -> None:
    db.session.execute(sa.delete(RosterPerson).where(RosterPerson.meeting_id == meeting.id))
    db.session.execute(sa.delete(Selection).where(Selection.meeting_id == meeting.id))
    roster = roster_of(meeting) or Roster(meeting_id=meeting.id)
    id_col = people.id_column
    groups = identity_columns(table, [id_col, *people.category_columns.values()])
    hh_headers = [table.find_column(h) for h in hh_cols]
    for h in hh_headers:  # the address always goes with the address, whatever its header
        for group in ("name", "contact", "other"):
            if h in groups[group]:
                groups[group].remove(h)
                groups["address"].append(h)
    roster.filename = (filename or "")[:200]
    roster.id_column = id_col or ""
    roster.category_columns = dict(people.category_columns)
    roster.household_columns = hh_headers
    roster.identity_columns = [h for g in groups.values() for h in g]
    roster.uploaded_at = utcnow()
    roster.purged_at = None
    db.session.add(roster)
    pool = people.pool
    for i, row in enumerate(table.rows):
        identity = {
            "name": " ".join(row[h] for h in groups["name"] if row[h]),
            "address": " ".join(row[h] for h in groups["address"] if row[h]),
            "contact": " ".join(row[h] for h in groups["contact"] if row[h]),
            "other": {h: row[h] for h in groups["other"] if row[h]},
        }
        hh = pool.households[i] if pool.households else None
        db.session.add(RosterPerson(
            meeting_id=meeting.id, position=i, line=table.line_numbers[i], external_id=pool.ids[i][:100],
            categories={cat: pool.features[cat][i] for cat in categories},
            household_key=household_key(hh) if hh else None,
            identity_sealed=secrets.seal(identity), status="pool"))
    audit.record("roster.upload", meeting_id=meeting.id, staff_id=by.id, target=f"meeting:{meeting.id}",
                 people=len(pool.ids), columns=len(table.header))
    db.session.commit()


def upload_quotas(meeting: Meeting, data: bytes, filename: str, *, by: StaffUser) -> list[PanelQuota]:
    """Replace the quotas with a file in the `select` command's format."""
    staff.require_organizer(by, meeting.id)
    try:
        quotas = parse_quotas(read_table(data, filename or "quotas"))
    except (TabularError, ImportProblem) as exc:
        raise PanelError("quotas_file", detail=file_problem(exc)) from None
    return _save_quotas(meeting, quotas, by, source="file")


QUOTA_MAX = 1_000_000  # no panel is larger; keeps every quota inside the database's integers


def edit_quotas(meeting: Meeting, rows: list[tuple[str, str, str, str]], *, by: StaffUser) -> list[PanelQuota]:
    """Replace the quotas with the rows of the form (blank rows are skipped)."""
    staff.require_organizer(by, meeting.id)
    quotas: list[Quota] = []
    seen: set[tuple[str, str]] = set()
    for number, (category, value, lo, hi) in enumerate(rows, start=1):
        category, value, lo, hi = (x.strip() for x in (category, value, lo, hi))
        if not (category or value or lo or hi):
            continue
        if not (category and value) or (norm(category), norm(value)) in seen:
            raise PanelError("quota_row", row=number)
        try:
            lo, hi = (validate.bounded_int(n, 0, QUOTA_MAX, "quota_row") for n in (lo, hi))
            category, value = (validate.clean_text(t, 100, "quota_row") for t in (category, value))
        except ServiceError:
            raise PanelError("quota_row", row=number) from None
        seen.add((norm(category), norm(value)))
        quotas.append(Quota(category, value, lo, hi))
    if not quotas:
        raise PanelError("quotas_missing")
    return _save_quotas(meeting, quotas, by, source="form")


def _save_quotas(meeting: Meeting, quotas: list[Quota], by: StaffUser, source: str) -> list[PanelQuota]:
    if confirmed_selection(meeting) is not None:
        raise PanelError("roster_locked")
    _refuse_while_running(meeting)
    roster = roster_of(meeting)
    if roster is not None:
        _check_quotas_fit_roster(meeting, roster, quotas)
    db.session.execute(sa.delete(PanelQuota).where(PanelQuota.meeting_id == meeting.id))
    rows = [PanelQuota(meeting_id=meeting.id, position=i, category=q.category, value=q.value, min=q.min, max=q.max)
            for i, q in enumerate(quotas)]
    db.session.add_all(rows)
    audit.record("quotas.save", meeting_id=meeting.id, staff_id=by.id, target=f"meeting:{meeting.id}",
                 rows=len(rows), source=source)
    db.session.commit()
    return rows


def _check_quotas_fit_roster(meeting: Meeting, roster: Roster, quotas: list[Quota]) -> None:
    have = {norm(c): c for c in roster.category_columns}
    values: dict[str, set[str]] = {}
    for q in quotas:
        if norm(q.category) not in have:
            raise PanelError("quota_categories", category=q.category)
        values.setdefault(norm(q.category), set()).add(norm(q.value))
    for person in people_of(meeting):
        for cat, value in person.categories.items():
            if norm(cat) in values and norm(value) not in values[norm(cat)]:
                raise PanelError("quota_value", category=cat, value=value)


# ---------------------------------------------------------------- the draw (child process)

def start(meeting: Meeting, kind: str, *, by: StaffUser, k: int = 0, method: str = "leximin",
          alternates: int = 0, seed: int | None = None, params: dict | None = None) -> Selection:
    """Queue a check, a draw or replacements, and start its child process."""
    staff.require_organizer(by, meeting.id)
    if roster_of(meeting) is None or pool_size(meeting) == 0:
        raise PanelError("roster_missing")
    if not quotas_of(meeting):
        raise PanelError("quotas_missing")
    if method not in METHODS:
        raise PanelError("method")
    if kind in ("check", "panel"):
        if confirmed_selection(meeting) is not None:
            raise PanelError("already_confirmed")
        if not 1 <= k <= pool_size(meeting):
            raise PanelError("panel_size")
    _refuse_while_running(meeting)
    params = dict(params or {}, quotas=_quota_snapshot(meeting))
    sel = Selection(meeting_id=meeting.id, kind=kind, method=method, k=k, alternates=max(0, alternates),
                    seed=new_seed() if seed is None else seed, params=params,
                    time_limit=float(current_app.config.get("PANEL_TIME_LIMIT", 120.0)),
                    status="queued", created_by=by.id)
    db.session.add(sel)
    db.session.flush()
    audit.record(f"panel.{kind}.start", meeting_id=meeting.id, staff_id=by.id, target=f"selection:{sel.id}",
                 k=k, method=method, seed=str(sel.seed))
    db.session.commit()
    sel.pid = spawn(sel.id)
    db.session.commit()
    return sel


def _refuse_while_running(meeting: Meeting) -> None:
    running = latest(meeting)
    if running is not None:
        notice_dead_child(running)
    if running is not None and running.status in ("queued", "running") and not _stale(running):
        raise PanelError("busy")


def child_alive(pid: int) -> bool:
    """Is the draw's child process still working? Reaps it when it has ended."""
    try:
        ended, _status = os.waitpid(pid, os.WNOHANG)
        return ended == 0
    except ChildProcessError:  # not this process's child (another worker, or a restart)
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def notice_dead_child(sel: Selection) -> None:
    """A draw whose process is gone (killed, out of memory) fails now instead of staying 'running'."""
    if sel.status not in ("queued", "running") or not sel.pid or child_alive(sel.pid):
        return
    db.session.refresh(sel)  # it may have written its outcome just before it ended
    if sel.status in ("queued", "running"):
        sel.status, sel.error_code = "failed", "crash"
        db.session.commit()


def _quota_snapshot(meeting: Meeting) -> list[list]:
    return [[q.category, q.value, q.min, q.max] for q in quotas_of(meeting)]


def _stale(sel: Selection) -> bool:
    age = (utcnow() - sel.created_at).total_seconds()
    return age > sel.time_limit + STALE_AFTER


def spawn(selection_id: int) -> int:
    """Start ``python -m meeting run-draw <id>`` with this app's database and keys; return its pid."""
    cfg = current_app.config
    env = child_environment(cfg)
    log_path = os.path.join(cfg["INSTANCE_PATH"], f"panel-draw-{selection_id}.log")
    with open(log_path, "ab") as log:
        child = subprocess.Popen([sys.executable, "-m", "meeting", "run-draw", str(selection_id)],
                                 cwd=str(PROJECT_DIR), env=env, stdin=subprocess.DEVNULL,
                                 stdout=log, stderr=log, start_new_session=True)
    return child.pid


def build_instance(meeting: Meeting, k: int) -> tuple[Instance, list[RosterPerson]]:
    """The whole roster as a sortition instance (household keys, never addresses)."""
    people = people_of(meeting)
    quotas = [Quota(q.category, q.value, q.min, q.max) for q in quotas_of(meeting)]
    cats: list[str] = []
    for q in quotas:
        if q.category not in cats:
            cats.append(q.category)
    features = {}
    for cat in cats:
        column = []
        for p in people:
            match = next((v for c, v in p.categories.items() if norm(c) == norm(cat)), "")
            column.append(match)
        features[cat] = column
    households = [p.household_key for p in people] if any(p.household_key for p in people) else None
    return Instance(Pool([p.external_id for p in people], features, households), quotas, k), people


def run(selection_id: int) -> None:
    """Do the work of one Selection (in the child process), recording progress and outcome."""
    sel = db.session.get(Selection, selection_id)
    if sel is None or sel.status != "queued":
        return
    sel.status, sel.started_at, sel.pid = "running", utcnow(), os.getpid()
    db.session.commit()
    last = [0.0]

    def progress(fraction: float, message: str) -> None:
        # at most two writes a second, but every LEXIMIN level is written as it is proven
        now = time.monotonic()
        if now - last[0] >= 0.5 or (message or "").startswith("Level "):
            last[0] = now
            sel.progress = max(0.0, min(1.0, float(fraction)))
            sel.message = (message or "")[:200]
            db.session.commit()

    meeting = db.session.get(Meeting, sel.meeting_id)
    try:
        if sel.kind == "replacement":
            _run_replacement(meeting, sel, progress)
        else:
            _run_panel(meeting, sel, progress)
        sel.status = "done"
    except InfeasibleQuotas as exc:
        db.session.rollback()
        sel.status, sel.error_code, sel.feasibility = "failed", "infeasible", _feasibility_json(exc.report)
    except SortitionError as exc:
        db.session.rollback()
        sel.status, sel.error_code, sel.error_detail = "failed", "sortition", str(exc)[:2000]
    except Exception:  # noqa: BLE001 - the page must learn that the draw died
        db.session.rollback()
        traceback.print_exc()
        sel.status, sel.error_code = "failed", "crash"
    sel.progress = 1.0
    sel.finished_at = utcnow()
    audit.record(f"panel.{sel.kind}.{sel.status}", meeting_id=sel.meeting_id, staff_id=sel.created_by,
                 target=f"selection:{sel.id}", seed=str(sel.seed), error=sel.error_code)
    db.session.commit()


def _run_panel(meeting: Meeting, sel: Selection, progress) -> None:
    instance, people = build_instance(meeting, sel.k)
    started = time.perf_counter()
    progress(0.0, "check")
    feas = check_feasibility(instance)
    sel.feasibility = _feasibility_json(feas)
    if not feas.feasible:
        raise InfeasibleQuotas(feas)
    if sel.kind == "check":
        return
    solver_seed = sel.seed if sel.method == "legacy" else 0
    result = run_selection(instance, method=sel.method, progress=progress, seed=solver_seed,
                           time_limit=sel.time_limit)
    drawn = draw(instance, result, seed=sel.seed, alternates=sel.alternates)
    seconds = time.perf_counter() - started
    sel.report = selection_report(instance, result, drawn.panel, seed=drawn.seed, seconds=seconds,
                                  alternates=len(drawn.alternates), households=instance.pool.households is not None)
    sel.probabilities = {str(p.id): round(float(result.probabilities[i]), 6) for i, p in enumerate(people)}
    sel.panel = [people[i].id for i in drawn.panel]
    sel.alternate_ids = [people[i].id for i in drawn.alternates]
    # the newest draw is the one shown: everyone else goes back to the pool
    for p in people:
        p.status, p.alternate_rank = "pool", None
    for i in drawn.panel:
        people[i].status = "selected"
    for rank, i in enumerate(drawn.alternates, start=1):
        people[i].status, people[i].alternate_rank = "alternate", rank


def _run_replacement(meeting: Meeting, sel: Selection, progress) -> None:
    """Fill the open seats: in the alternates' order if that meets the quotas, else fairly
    among the alternates, else among the rest of the pool."""
    instance, people = build_instance(meeting, meeting_k(meeting))
    index = {p.id: i for i, p in enumerate(people)}
    arrived = [index[pid] for pid in sel.params.get("arrived", []) if pid in index]
    absent = [index[pid] for pid in sel.params.get("absent", []) if pid in index]
    alternates = [index[p.id] for p in sorted((p for p in people if p.status == "alternate"),
                                              key=lambda p: p.alternate_rank or 0)]
    open_seats = instance.k - len(arrived)
    if open_seats < 1:
        raise SortitionError("no open seats")
    unavailable = set(absent) | {i for i, p in enumerate(people)
                                 if p.status in ("declined", "replacement", "confirmed") and i not in arrived}
    homes = instance.pool.households or [None] * len(people)
    taken = {homes[i] for i in arrived if homes[i]}
    in_order = []
    for i in alternates:
        if len(in_order) == open_seats:
            break
        if i not in unavailable and not (homes[i] and homes[i] in taken):
            in_order.append(i)
            if homes[i]:
                taken.add(homes[i])
    members: list[int] | None = None
    how = "alternates_in_order"
    if len(in_order) == open_seats and panel_meets_quotas(instance, sorted(arrived + in_order)):
        members = in_order
    if members is None:
        only_alternates = sorted(set(range(len(people))) - set(alternates) - set(arrived) | unavailable)
        try:
            members = replace(instance, arrived, only_alternates, method=sel.method, seed=sel.seed,
                              progress=progress).members
            how = "alternates"
        except SortitionError:
            members = None
    if members is None:
        members = replace(instance, arrived, sorted(unavailable), method=sel.method, seed=sel.seed,
                          progress=progress).members
        how = "pool"
    panel = sorted(arrived + members)
    sel.k = instance.k
    sel.panel = [people[i].id for i in members]
    sel.report = {"k": instance.k, "arrived": len(arrived), "open_seats": open_seats, "from": how,
                  "seed": sel.seed, "categories": quota_counts(instance, panel)}
    for i in absent:
        people[i].status = "declined"
    for i in members:
        people[i].status, people[i].is_replacement, people[i].alternate_rank = "replacement", True, None
    _make_participants(meeting, [people[i] for i in members], staff_id=sel.created_by)


def meeting_k(meeting: Meeting) -> int:
    sel = confirmed_selection(meeting)
    return sel.k if sel is not None else 0


def _make_participants(meeting: Meeting, persons: list[RosterPerson], staff_id: int | None) -> None:
    """Each person becomes a pseudonymous participant with an invitation; only categories go along."""
    created = meetings.new_participants(meeting, [{"categories": person.categories} for person in persons],
                                        staff_id=staff_id, source="panel")
    for person, participant in zip(persons, created, strict=True):
        person.participant_id = participant.id
    if meeting.tables:
        seating.seat_newcomers(meeting)


# ---------------------------------------------------------------- after the draw

def confirm(meeting: Meeting, sel: Selection, *, by: StaffUser) -> tuple[int, Changes]:
    """Make the drawn panel the meeting's participants, with invitations; keep the alternates.

    Return how many, and the seating change to broadcast (the new participants have seats).
    """
    staff.require_organizer(by, meeting.id)
    if sel.kind != "panel" or sel.status != "done":
        raise PanelError("not_done")
    if confirmed_selection(meeting) is not None:
        raise PanelError("already_confirmed")
    newest = latest(meeting, "panel")
    if newest is None or newest.id != sel.id:
        raise PanelError("superseded")
    if sel.params.get("quotas") != _quota_snapshot(meeting):
        raise PanelError("quotas_changed")
    members = [db.session.get(RosterPerson, pid) for pid in sel.panel]
    for person in members:
        person.status = "confirmed"
    sel.confirmed_at = utcnow()
    _make_participants(meeting, members, staff_id=by.id)
    audit.record("panel.confirm", meeting_id=meeting.id, staff_id=by.id, target=f"selection:{sel.id}",
                 panel=len(members), alternates=len(sel.alternate_ids))
    changes = seating.seating_changed(meeting.id)
    stamp(meeting.id, changes.events)
    db.session.commit()
    return len(members), changes


def seating_news(meeting: Meeting, sel: Selection) -> Changes:
    """The seating change of a finished replacement draw (made in the child process), announced once."""
    if sel.kind != "replacement" or sel.status != "done" or (sel.report or {}).get("seating_announced"):
        return Changes()
    sel.report = {**(sel.report or {}), "seating_announced": True}
    changes = seating.seating_changed(meeting.id)
    stamp(meeting.id, changes.events)
    db.session.commit()
    return changes


@dataclass
class Letter:
    person: RosterPerson
    identity: dict
    card: invitations.PrintedInvitation | None


def _identity(person: RosterPerson) -> dict:
    if not person.identity_sealed:
        return {}
    return secrets.unseal(person.identity_sealed)


def letters(meeting: Meeting, *, by: StaffUser, only: str = "") -> list[Letter]:
    """Invitation letters with name and address (personal data: audited)."""
    staff.require_organizer(by, meeting.id)
    statuses = ("replacement",) if only == "replacements" else ON_PANEL
    persons = [p for p in people_of(meeting, *statuses) if p.participant_id]
    out = []
    for p in persons:
        participant = db.session.get(Participant, p.participant_id)
        card = invitations.printable_one(participant) if participant and participant.invitation else None
        out.append(Letter(p, _identity(p), card))
    audit.record("roster.identity.view", meeting_id=meeting.id, staff_id=by.id, target=f"meeting:{meeting.id}",
                 page="letters", people=len(out))
    db.session.commit()
    return out


def checkin_list(meeting: Meeting, *, by: StaffUser) -> list[Letter]:
    """The panel for check-in at the door, with names (personal data: audited).

    People counted as not coming stay on the list: a late arrival can still be checked in.
    """
    staff.require_organizer(by, meeting.id)
    persons = people_of(meeting, *ON_PANEL, "declined")
    out = [Letter(p, _identity(p), None) for p in persons]
    audit.record("roster.identity.view", meeting_id=meeting.id, staff_id=by.id, target=f"meeting:{meeting.id}",
                 page="checkin", people=len(out))
    db.session.commit()
    return out


def set_arrived(meeting: Meeting, person_id: int, arrived: bool | None, *, by: StaffUser) -> RosterPerson:
    """Check a panel member in (True), undo it (False), or mark them as not coming (None).

    A replacement who has not arrived still holds their seat until marked as not coming.
    """
    staff.require_organizer(by, meeting.id)
    person = db.session.get(RosterPerson, person_id)
    if person is None or person.meeting_id != meeting.id or person.status not in (*ON_PANEL, "declined"):
        raise PanelError("not_found")
    if arrived:
        person.status = "arrived"
    elif arrived is None:
        person.status = "declined"
    else:
        person.status = "replacement" if person.is_replacement else "confirmed"
    audit.record("panel.checkin", meeting_id=meeting.id, staff_id=by.id, target=f"roster:{person.id}",
                 arrived=arrived, status=person.status)
    db.session.commit()
    return person


def open_seats(meeting: Meeting) -> int:
    """Seats to fill: the panel size less those who arrived and replacements still on their way."""
    sel = confirmed_selection(meeting)
    if sel is None:
        return 0
    return max(0, sel.k - len(people_of(meeting, "arrived", "replacement")))


def arrival_table(meeting: Meeting) -> list[dict]:
    """Per quota: min, max, how many arrived, how many are invited, and whether it is short."""
    arrived = people_of(meeting, "arrived")
    invited = people_of(meeting, *ON_PANEL)
    out = []
    for q in quotas_of(meeting):
        def count(persons):
            return sum(1 for p in persons
                       if any(norm(c) == norm(q.category) and norm(v) == norm(q.value) for c, v in p.categories.items()))
        n = count(arrived)
        out.append({"category": q.category, "value": q.value, "min": q.min, "max": q.max, "arrived": n,
                    "invited": count(invited), "short": n < q.min, "over": n > q.max})
    return out


def start_replacements(meeting: Meeting, *, by: StaffUser) -> Selection:
    """Draw people for the seats of those who did not come (arrived people stay)."""
    staff.require_organizer(by, meeting.id)
    sel = confirmed_selection(meeting)
    if sel is None:
        raise PanelError("not_confirmed")
    # Replacements already drawn fill their seats until someone marks them as not coming.
    arrived = [p.id for p in people_of(meeting, "arrived", "replacement")]
    absent = [p.id for p in people_of(meeting, "confirmed")]
    if open_seats(meeting) < 1 or not people_of(meeting, "arrived"):
        raise PanelError("no_open_seats")
    return start(meeting, "replacement", by=by, k=sel.k, method=sel.method,
                 params={"arrived": arrived, "absent": absent})


# ---------------------------------------------------------------- purge

def purge_identity(meeting: Meeting, *, by: StaffUser | None = None, via: str = "page") -> int:
    """Delete every sealed identity and household key of the roster; keep categories and statuses."""
    if by is not None:  # None: the purge command, run by whoever runs the server
        staff.require_organizer(by, meeting.id)
    result = db.session.execute(sa.update(RosterPerson).where(RosterPerson.meeting_id == meeting.id)
                                .values(identity_sealed=None, household_key=None))
    roster = roster_of(meeting)
    if roster is not None:
        roster.purged_at = utcnow()
        roster.household_columns = []
    audit.record("roster.identity.purge", meeting_id=meeting.id, staff_id=by.id if by else None,
                 target=f"meeting:{meeting.id}", people=result.rowcount, via=via)
    db.session.commit()
    return result.rowcount

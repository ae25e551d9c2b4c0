"""The plenary: ideas the tables bring to it, the tables' report-outs with their own clock, the
plenary poll over the list, and the hall's projector link.

A table's host (on their phone) or a facilitator marks an idea of that table for the plenary. The
plenary list holds every marked idea that is visible (not hidden, not waiting for approval) and not
merged away; an idea that other ideas were merged into stands for its group, lists its sources
with their tables, and is on the list as soon as it or one of its sources is marked.

Report-outs are a queue of tables, each with its own clock owned by the server, like the agenda's
steps: a running report-out has `ends_at` (speaking time, then questions), a paused one keeps
`remaining_s`. A report-out whose time is up ends by itself (the clock in realtime/plenary.py);
the next one starts when the facilitator says so.

The projector follows the meeting on `meeting:<id>` (agenda, report-outs, plenary polls) and
`plenary:<id>` (the plenary list). Nothing it receives names a participant.
"""

from datetime import timedelta

import sqlalchemy as sa

from meeting.core import similarity
from meeting.extensions import db
from meeting.models import Connection, DeviceLink, Idea, Meeting, Participant, Poll, ReportOut, Table, TableHost
from meeting.models._base import by_id, iso, now
from meeting.services import audit, devices, polls, staff, validate
from meeting.services.errors import ServiceError
from meeting.services.events import (
    Changes,
    Dirty,
    Event,
    meeting_stream,
    publish,
    register_tally_publisher,
    staff_stream,
    stream_positions,
    table_stream,
)

REPORT_MAX_S = 3600
PLENARY_POLL_KINDS = ("approval", "dots", "ranking")
LIVE = ("running", "paused")


def plenary_stream(meeting_id: int) -> str:
    """The plenary list as the hall's screen shows it (no participant identifier)."""
    return f"plenary:{meeting_id}"


# --------------------------------------------------------------------------- the plenary list


def _visible(idea: Idea) -> bool:
    return not idea.hidden and not idea.pending


def plenary_ideas(meeting_id: int) -> list[dict]:
    """The plenary list, in table order then by id: each idea with its table and, once others were
    merged into it, its sources with their tables."""
    rows = list(db.session.scalars(sa.select(Idea).where(Idea.meeting_id == meeting_id)))
    tables = {t.id: t for t in db.session.scalars(sa.select(Table).where(Table.meeting_id == meeting_id))}
    sources: dict[int, list[Idea]] = {}
    for idea in rows:
        if idea.merged_into_id is not None:
            sources.setdefault(idea.merged_into_id, []).append(idea)
    listed = []
    for idea in rows:
        if idea.merged_into_id is not None or not _visible(idea):
            continue
        group = sorted((s for s in sources.get(idea.id, []) if not s.hidden), key=lambda s: s.id)
        marks = [m for m in [idea.plenary_at] + [s.plenary_at for s in group] if m is not None]
        if not marks:
            continue
        table = tables.get(idea.table_id)
        provenance = [idea.table_id] + [s.table_id for s in group if s.table_id != idea.table_id]
        listed.append({
            "id": idea.id, "text": idea.text, "table_id": idea.table_id, "table": table.name if table else "",
            "marked_at": iso(min(marks)), "table_ids": list(dict.fromkeys(provenance)),
            "sources": [{"id": s.id, "table_id": s.table_id,
                         "table": tables[s.table_id].name if s.table_id in tables else "", "text": s.text}
                        for s in group],
        })
    order = {t.id: (t.position, t.id) for t in tables.values()}
    listed.sort(key=lambda v: (order.get(v["table_id"], (0, 0)), v["id"]))
    return listed


def duplicate_groups(listed: list[dict]) -> list[list[int]]:
    """Near-duplicate groups of the plenary list across tables (for a one-click merge), largest first.

    A group whose ideas all come from one table is left out: that table chose to bring them both.
    """
    if len(listed) < 2:
        return []
    corpus = similarity.Corpus({v["id"]: v["text"] for v in listed})
    table_of = {v["id"]: v["table_id"] for v in listed}
    return [g for g in similarity.near_duplicate_groups(corpus) if len({table_of[i] for i in g}) > 1]


def plenary_view(meeting_id: int, *, for_staff: bool) -> dict:
    listed = plenary_ideas(meeting_id)
    view = {"ideas": listed}
    if for_staff:
        view["groups"] = duplicate_groups(listed)
    return view


_MARKED = sa.select(Idea.id).where(Idea.meeting_id == sa.bindparam("meeting_id"), Idea.plenary_at.is_not(None))
_MARKED_AT = _MARKED.where(Idea.table_id == sa.bindparam("table_id")).order_by(Idea.id)
_MARKED = _MARKED.order_by(Idea.id)


def marked_ids(meeting_id: int, table_id: int | None = None) -> list[int]:
    """Ids of the ideas marked for the plenary (of one table, or of the meeting)."""
    if table_id is None:
        return list(db.session.scalars(_MARKED, {"meeting_id": meeting_id}))
    return list(db.session.scalars(_MARKED_AT, {"meeting_id": meeting_id, "table_id": table_id}))


def list_events(meeting_id: int) -> list[Event]:
    """The plenary list as it is now, for the control room and the projector."""
    return [Event(staff_stream(meeting_id), "plenary_changed", {"plenary": plenary_view(meeting_id, for_staff=True)}),
            Event(plenary_stream(meeting_id), "plenary_changed", {"plenary": plenary_view(meeting_id, for_staff=False)})]


def host_table(person: Participant) -> int | None:
    """The table this participant hosts, or None."""
    return db.session.scalar(sa.select(TableHost.table_id).where(TableHost.participant_id == person.id))


def _idea(meeting_id: int, idea_id) -> Idea:
    idea = db.session.get(Idea, idea_id) if validate.is_id(idea_id) else None
    if idea is None or idea.meeting_id != meeting_id:
        raise ServiceError("not_found")
    if not _visible(idea) or idea.merged_into_id is not None:
        raise ServiceError("plenary_not_visible")
    return idea


def _mark(idea: Idea, plenary, *, staff_id: int | None, by: str) -> tuple[dict, Changes]:
    if not isinstance(plenary, bool):
        raise ServiceError("bad_request")
    changed = (idea.plenary_at is not None) != plenary
    if changed:
        idea.plenary_at = now() if plenary else None
        audit.record("plenary.mark" if plenary else "plenary.unmark", meeting_id=idea.meeting_id, staff_id=staff_id,
                     target=f"idea:{idea.id}", table_id=idea.table_id, by=by)
    answer = {"idea_id": idea.id, "table_id": idea.table_id, "plenary": plenary}
    if not changed:
        return answer, Changes()
    db.session.flush()
    events = [Event(table_stream(idea.table_id), "plenary_marked", answer),
              Event(staff_stream(idea.meeting_id), "plenary_marked", answer)] + list_events(idea.meeting_id)
    return answer, Changes(events=events)


def mark_by_host(person: Participant, idea_id, plenary) -> tuple[dict, Changes]:
    """The table's host marks (or unmarks) one of the table's ideas for the plenary."""
    idea = _idea(person.meeting_id, idea_id)
    if person.removed_at is not None or host_table(person) != idea.table_id:
        raise ServiceError("forbidden")
    return _mark(idea, plenary, staff_id=None, by=f"participant:{person.id}")


def mark_by_staff(user, meeting_id: int, idea_id, plenary) -> tuple[dict, Changes]:
    """A facilitator marks (or unmarks) an idea for the plenary."""
    staff.require_facilitator(user, meeting_id)
    return _mark(_idea(meeting_id, idea_id), plenary, staff_id=user.id, by="staff")


# The list also changes when staff hide, edit, approve or merge ideas (other services): the
# control room and the projector get it again, coalesced, whenever staff are told an idea changed.
IDEA_CHANGES = ("idea_updated", "idea_hidden", "idea_merged", "idea_unmerged", "idea_approved", "idea_rejected")


def publish_list(meeting_id: int, _items: set[int]) -> list[Event]:
    """Stamp and commit the plenary list's events; return them for broadcasting."""
    return publish(meeting_id, list_events(meeting_id))


register_tally_publisher("plenary", publish_list)


def follow_idea_changes(changes: Changes) -> set[Dirty]:
    """The plenary lists to send again after these committed changes: of every meeting whose staff
    were told an idea changed (coalesced, like tallies)."""
    found = set()
    for event in changes.events:
        if event.name in IDEA_CHANGES and event.stream.startswith("staff:"):
            found.add(Dirty("plenary", int(event.stream.split(":", 1)[1]), 0))
    return found


# --------------------------------------------------------------------------- report-outs


def _report_left(report: ReportOut, at) -> float:
    """Seconds left on the report-out's clock (speaking and questions together)."""
    if report.state == "running":
        return max(0.0, (report.ends_at - at).total_seconds()) if report.ends_at else 0.0
    if report.state == "paused":
        return report.remaining_s or 0.0
    if report.state == "waiting":
        return float(report.speak_s + report.questions_s)
    return 0.0


def report_view(report: ReportOut, tables: dict[int, Table], at) -> dict:
    left = _report_left(report, at)
    if report.state in LIVE:
        phase = "speaking" if left > report.questions_s else ("questions" if left > 0 else "over")
    else:
        phase = None
    table = tables.get(report.table_id)
    return {"id": report.id, "table_id": report.table_id, "table": table.name if table else "",
            "position": report.position, "state": report.state, "speak_s": report.speak_s,
            "questions_s": report.questions_s, "started_at": iso(report.started_at),
            "ends_at": iso(report.ends_at) if report.state == "running" else None,
            "remaining_s": left, "phase": phase, "ended_at": iso(report.ended_at),
            "skipped": report.state == "done" and report.started_at is None}


_QUEUE = (sa.select(ReportOut).where(ReportOut.meeting_id == sa.bindparam("meeting_id"))
          .order_by(ReportOut.position, ReportOut.id))


def _queue(meeting_id: int) -> list[ReportOut]:
    return list(db.session.scalars(_QUEUE, {"meeting_id": meeting_id}))


def current_report(queue: list[ReportOut]) -> ReportOut | None:
    """The running or paused report-out; else the one that ended last (the screen shows "time is up")."""
    live = [r for r in queue if r.state in LIVE]
    if live:
        return live[0]
    ended = [r for r in queue if r.state == "done" and r.started_at is not None and r.ended_at is not None]
    return max(ended, key=lambda r: (r.ended_at, r.id)) if ended else None


def reports_view(meeting_id: int) -> dict:
    """What every client shows of the report-outs: the queue, the current one and the server's time."""
    at = now()
    meeting = by_id(Meeting, meeting_id)
    queue = _queue(meeting_id)
    # Only the tables in the queue (every phone's snapshot asks; a big meeting has a hundred tables).
    named = {r.table_id for r in queue}
    tables = {t.id: t for t in db.session.scalars(sa.select(Table).where(Table.meeting_id == meeting_id,
                                                                         Table.id.in_(named)))} if named else {}
    current = current_report(queue)
    return {"queue": [report_view(r, tables, at) for r in queue],
            "current": report_view(current, tables, at) if current else None,
            "speak_s": meeting.report_speak_s, "questions_s": meeting.report_questions_s, "server_time": iso(at)}


def _reports_changed(meeting_id: int) -> Changes:
    view = reports_view(meeting_id)
    return Changes(events=[Event(meeting_stream(meeting_id), "report_changed", {"reports": view}),
                           Event(staff_stream(meeting_id), "report_changed", {"reports": view})])


def default_tables(meeting_id: int) -> list[int]:
    """Every table that brings an idea to the plenary, in table order."""
    bringing = {t for v in plenary_ideas(meeting_id) for t in v["table_ids"]}
    tables = db.session.scalars(sa.select(Table).where(Table.meeting_id == meeting_id)
                                .order_by(Table.position, Table.id))
    return [t.id for t in tables if t.id in bringing]


def set_queue(user, meeting_id: int, table_ids=None) -> tuple[dict, Changes]:
    """Set the order of the tables still to report (reorder, add, take out); without `table_ids`,
    every table that brings an idea, in table order. Report-outs that ran stay as they ran."""
    staff.require_facilitator(user, meeting_id)
    if table_ids is None:
        table_ids = default_tables(meeting_id)
    if not isinstance(table_ids, list) or len(table_ids) > 500 or not all(validate.is_id(t) for t in table_ids) \
            or len(set(table_ids)) != len(table_ids):
        raise ServiceError("bad_request")
    known = set(db.session.scalars(sa.select(Table.id).where(Table.meeting_id == meeting_id)))
    if not set(table_ids) <= known:
        raise ServiceError("not_found")
    meeting = db.session.get(Meeting, meeting_id)
    queue = _queue(meeting_id)
    by_table = {r.table_id: r for r in queue}
    kept = [r for r in queue if r.state != "waiting"]
    if any(by_table[t].state != "waiting" for t in table_ids if t in by_table):
        raise ServiceError("report_started")
    for report in queue:
        if report.state == "waiting" and report.table_id not in table_ids:
            db.session.delete(report)
    order = list(kept)
    for table_id in table_ids:
        report = by_table.get(table_id)
        if report is None:
            report = ReportOut(meeting_id=meeting_id, table_id=table_id, state="waiting",
                               speak_s=meeting.report_speak_s, questions_s=meeting.report_questions_s)
            db.session.add(report)
        order.append(report)
    for position, report in enumerate(order, start=1):
        report.position = position
    db.session.flush()
    audit.record("report.queue", meeting_id=meeting_id, staff_id=user.id, target=f"meeting:{meeting_id}",
                 table_ids=table_ids)
    return {"reports": reports_view(meeting_id)}, _reports_changed(meeting_id)


def _report(meeting_id: int, report_id) -> ReportOut:
    report = db.session.get(ReportOut, report_id) if validate.is_id(report_id) else None
    if report is None or report.meeting_id != meeting_id:
        raise ServiceError("not_found")
    return report


def _finish(report: ReportOut, at) -> None:
    report.state = "done"
    report.ends_at = None
    report.remaining_s = None
    report.ended_at = at


def start_report(user, meeting_id: int, report_id=None) -> tuple[dict, Changes]:
    """Start a waiting report-out (the next in the queue when none is given); one still live ends first."""
    staff.require_facilitator(user, meeting_id)
    queue = _queue(meeting_id)
    if report_id is None:
        report = next((r for r in queue if r.state == "waiting"), None)
        if report is None:
            raise ServiceError("report_queue_over")
    else:
        report = _report(meeting_id, report_id)
        if report.state != "waiting":
            raise ServiceError("report_started")
    at = now()
    for other in queue:
        if other.state in LIVE:
            _finish(other, at)
    report.state = "running"
    report.started_at = at
    report.ends_at = at + timedelta(seconds=report.speak_s + report.questions_s)
    report.remaining_s = None
    report.ended_at = None
    audit.record("report.start", meeting_id=meeting_id, staff_id=user.id, target=f"report:{report.id}",
                 table_id=report.table_id, speak_s=report.speak_s, questions_s=report.questions_s)
    return {"reports": reports_view(meeting_id)}, _reports_changed(meeting_id)


def _live(meeting_id: int) -> ReportOut:
    report = next((r for r in _queue(meeting_id) if r.state in LIVE), None)
    if report is None:
        raise ServiceError("no_report")
    return report


def pause_report(user, meeting_id: int) -> tuple[dict, Changes]:
    staff.require_facilitator(user, meeting_id)
    report = _live(meeting_id)
    if report.state != "running":
        raise ServiceError("report_not_running")
    at = now()
    report.remaining_s = _report_left(report, at)
    report.ends_at = None
    report.state = "paused"
    audit.record("report.pause", meeting_id=meeting_id, staff_id=user.id, target=f"report:{report.id}",
                 table_id=report.table_id, remaining_s=report.remaining_s)
    return {"reports": reports_view(meeting_id)}, _reports_changed(meeting_id)


def resume_report(user, meeting_id: int) -> tuple[dict, Changes]:
    staff.require_facilitator(user, meeting_id)
    report = _live(meeting_id)
    if report.state != "paused":
        raise ServiceError("report_not_paused")
    at = now()
    report.ends_at = at + timedelta(seconds=report.remaining_s or 0.0)
    report.remaining_s = None
    report.state = "running"
    audit.record("report.resume", meeting_id=meeting_id, staff_id=user.id, target=f"report:{report.id}",
                 table_id=report.table_id)
    return {"reports": reports_view(meeting_id)}, _reports_changed(meeting_id)


def next_report(user, meeting_id: int) -> tuple[dict, Changes]:
    """End the current report-out (if any) and start the next waiting table."""
    return start_report(user, meeting_id, None)


def skip_report(user, meeting_id: int, report_id) -> tuple[dict, Changes]:
    """Take a waiting table's turn out (it stays in the queue as skipped), or end a live one now."""
    staff.require_facilitator(user, meeting_id)
    report = _report(meeting_id, report_id)
    if report.state == "done":
        raise ServiceError("report_done")
    at = now()
    _finish(report, at)
    audit.record("report.skip", meeting_id=meeting_id, staff_id=user.id, target=f"report:{report.id}",
                 table_id=report.table_id)
    return {"reports": reports_view(meeting_id)}, _reports_changed(meeting_id)


def report_settings(user, meeting_id: int, speak_s, questions_s) -> tuple[dict, Changes]:
    """The meeting's speaking and question times for a report-out; waiting report-outs take them too."""
    staff.require_facilitator(user, meeting_id)
    speak = validate.bounded_int(speak_s, 1, REPORT_MAX_S, "report_time", max=REPORT_MAX_S // 60)
    questions = validate.bounded_int(questions_s, 0, REPORT_MAX_S, "report_time", max=REPORT_MAX_S // 60)
    meeting = db.session.get(Meeting, meeting_id)
    meeting.report_speak_s, meeting.report_questions_s = speak, questions
    db.session.execute(sa.update(ReportOut).where(ReportOut.meeting_id == meeting_id, ReportOut.state == "waiting")
                       .values(speak_s=speak, questions_s=questions))
    audit.record("report.settings", meeting_id=meeting_id, staff_id=user.id, target=f"meeting:{meeting_id}",
                 speak_s=speak, questions_s=questions)
    return {"reports": reports_view(meeting_id)}, _reports_changed(meeting_id)


def end_due() -> list:
    """End every running report-out whose time is up; return the committed events.

    The update is conditional, so when several server processes race only one ends it.
    """
    at = now()
    due = list(db.session.execute(sa.select(ReportOut.id, ReportOut.meeting_id).where(
        ReportOut.state == "running", ReportOut.ends_at.is_not(None), ReportOut.ends_at <= at)).all())
    events: list[Event] = []
    for report_id, meeting_id in due:
        ended = db.session.execute(sa.update(ReportOut).where(ReportOut.id == report_id, ReportOut.state == "running",
                                                              ReportOut.ends_at <= at)
                                   .values(state="done", ended_at=ReportOut.ends_at, ends_at=None, remaining_s=None))
        if ended.rowcount != 1:
            db.session.rollback()
            continue
        audit.record("report.timeout", meeting_id=meeting_id, target=f"report:{report_id}")
        events.extend(publish(meeting_id, _reports_changed(meeting_id).events))
    db.session.commit()
    return events


def next_deadline():
    """The earliest end time of a running report-out, or None."""
    return db.session.scalar(sa.select(sa.func.min(ReportOut.ends_at)).where(
        ReportOut.state == "running", ReportOut.ends_at.is_not(None)))


# --------------------------------------------------------------------------- the plenary poll


def _labels(listed: list[dict]) -> list[str]:
    """One poll choice per idea of the list: its text cut to a choice's length, told apart by its
    table when two read the same."""
    cut = [v["text"] if len(v["text"]) <= polls.LABEL_MAX else v["text"][:polls.LABEL_MAX - 1] + "…"
           for v in listed]
    labels = []
    for label, view in zip(cut, listed, strict=True):
        if cut.count(label) > 1:
            suffix = f" ({view['table']})"
            label = label[:polls.LABEL_MAX - len(suffix)] + suffix
        labels.append(label)
    return labels


def plenary_poll(user, meeting_id: int, data: dict) -> tuple[dict, Changes]:
    """Create the plenary poll (approval, dots or ranking) over the plenary list, and open it when asked."""
    staff.require_facilitator(user, meeting_id)
    kind = data.get("kind")
    if kind not in PLENARY_POLL_KINDS:
        raise ServiceError("poll_kind")
    listed = plenary_ideas(meeting_id)
    if len(listed) < 2:
        raise ServiceError("plenary_too_few")
    if len(listed) > polls.MAX_OPTIONS:
        raise ServiceError("poll_options", max=polls.MAX_OPTIONS)
    spec = {"kind": kind, "question": data.get("question"), "options": _labels(listed), "rules": data.get("rules"),
            "visibility": data.get("visibility") or "live"}
    if data.get("secret") is True:
        spec["secret"] = True
    result, changes = polls.create_poll(user, meeting_id, spec)
    poll_id = result["poll"]["id"]
    audit.record("plenary.poll", meeting_id=meeting_id, staff_id=user.id, target=f"poll:{poll_id}", kind=kind,
                 idea_ids=[v["id"] for v in listed])
    if data.get("open") is True:
        result, opened = polls.open_poll(user, meeting_id, poll_id)
        changes.extend(opened)
    return result, changes


def projector_poll(meeting_id: int) -> dict | None:
    """The open plenary-wide poll, else the last one that ran, with the results the hall may see."""
    poll = db.session.scalar(sa.select(Poll).where(Poll.meeting_id == meeting_id, Poll.table_id.is_(None),
                                                   Poll.state != "draft")
                             .order_by(sa.case((Poll.state == "open", 0), else_=1), Poll.id.desc()).limit(1))
    if poll is None:
        return None
    return {**polls.poll_view(poll), "results": polls.results_view(poll) if polls.participants_see_results(poll) else None}


# --------------------------------------------------------------------------- the projector link


def projector_links(meeting_id: int) -> list[dict]:
    return devices.links(meeting_id, "projector")


def create_projector_link(user, meeting_id: int) -> tuple[dict, Changes]:
    """A new secret link for the hall's screen. Only its hash is kept: the token reaches the
    facilitator once (in `_once`), never the op log."""
    staff.require_facilitator(user, meeting_id)
    link, token = devices.create(user, meeting_id, "projector")
    return {"link": devices.view(link), "_once": {"token": token}}, Changes(events=[
        Event(staff_stream(meeting_id), "projector_links", {"links": projector_links(meeting_id)})])


def revoke_projector_link(user, meeting_id: int, link_id) -> tuple[dict, Changes]:
    """Revoke a projector link: its page is refused and its screen's connection closes at once.

    Connections do not say which link they came through, so every projector connection of the
    meeting is closed; those whose link still holds connect again by themselves.
    """
    staff.require_facilitator(user, meeting_id)
    link = devices.revoke(user, meeting_id, "projector", link_id)
    sids = set(db.session.scalars(sa.select(Connection.sid).where(
        Connection.meeting_id == meeting_id, Connection.participant_id.is_(None), Connection.staff_id.is_(None))))
    return {"link": devices.view(link)}, Changes(
        events=[Event(staff_stream(meeting_id), "projector_links", {"links": projector_links(meeting_id)})],
        disconnect=sids)


def projector_link(meeting_id: int | None, token) -> DeviceLink | None:
    """The projector link this token opens (of this meeting, when given), if it is not revoked."""
    return devices.find(meeting_id, "projector", token)


def link_holds(link_id: int) -> bool:
    link = db.session.get(DeviceLink, link_id)
    return link is not None and link.revoked_at is None


def projector_snapshot(meeting_id: int) -> dict:
    """Everything the hall's screen shows, and its stream positions; never a participant identifier."""
    from meeting.services import agenda

    positions = stream_positions(meeting_id, [meeting_stream(meeting_id), plenary_stream(meeting_id)])  # first
    meeting = db.session.get(Meeting, meeting_id)
    return {"meeting": {"id": meeting.id, "title": meeting.title}, "agenda": agenda.clock_view(meeting_id),
            "reports": reports_view(meeting_id), "plenary": plenary_view(meeting_id, for_staff=False),
            "poll": projector_poll(meeting_id), "streams": positions}

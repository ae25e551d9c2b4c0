"""Polls: create, open and close them (staff), cast ballots (participants), count and show results.

A poll is put to the plenary (`table_id` NULL: every participant, stream `meeting:<id>`) or to
one table (its participants, stream `table:<id>`); staff always follow it on `staff:<id>`.
A before/after survey is two polls: the "after" wave is created with `follow_up_of` the
"before" wave, copies its questions, and its results show how opinion moved.
"""

import hashlib
import random
import secrets
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from meeting.core import tally as core
from meeting.core.opinion.breakdown import breakdown
from meeting.extensions import db
from meeting.models import Ballot, Meeting, Participant, Poll, Table
from meeting.models._base import iso, upsert, utcnow
from meeting.models.poll import POLL_KINDS, POLL_VISIBILITY
from meeting.services import audit, meetings, staff, validate
from meeting.services.errors import ServiceError
from meeting.services.events import (
    Changes,
    Dirty,
    Event,
    hold_meeting,
    meeting_stream,
    publish,
    register_tally_publisher,
    staff_stream,
    stamp,
    table_stream,
)

QUESTION_MAX = 500
LABEL_MAX = 200
MAX_OPTIONS = 30
MAX_DURATION = 24 * 3600
CHOICE_KINDS = ("single", "approval", "dots", "ranking", "score", "survey")


# --------------------------------------------------------------------------- views


def poll_view(poll: Poll) -> dict:
    return {"id": poll.id, "kind": poll.kind, "question": poll.question, "options": poll.options,
            "rules": {k: v for k, v in (poll.rules or {}).items()}, "state": poll.state,
            "visibility": poll.visibility, "secret": poll.secret, "table_id": poll.table_id,
            "round_id": poll.round_id, "phase": poll.phase, "before_poll_id": poll.before_poll_id,
            "closes_at": iso(poll.closes_at), "opened_at": iso(poll.opened_at), "closed_at": iso(poll.closed_at)}


def audience_stream(poll: Poll) -> str:
    return table_stream(poll.table_id) if poll.table_id else meeting_stream(poll.meeting_id)


def participants_see_results(poll: Poll) -> bool:
    if poll.state == "draft" or poll.visibility == "organizers":
        return False
    return poll.visibility == "live" or poll.state == "closed"


def _ballots(poll: Poll) -> list[tuple[int | None, int, dict]]:
    return list(db.session.execute(sa.select(Ballot.participant_id, Ballot.id, Ballot.data)
                                   .where(Ballot.poll_id == poll.id).order_by(Ballot.id)).all())


def _share(n, total) -> float:
    return n / total if total else 0.0


def results_view(poll: Poll, *, staff: bool = False) -> dict:
    """Count the poll's ballots; every kind gives `rows` of {id, label, value, share} to draw bars."""
    ballots = [data for _, _, data in _ballots(poll)]
    ids = [o["id"] for o in poll.options]
    label = {o["id"]: o["label"] for o in poll.options}
    rules = poll.rules or {}
    out: dict = {"poll_id": poll.id, "kind": poll.kind, "ballots": len(ballots), "rows": []}
    if poll.kind == "agree":
        t = core.tally_agree(ballots)
        counts = {"agree": t.agree, "disagree": t.disagree, "pass": t.pass_}
        out["rows"] = [{"id": v, "label": None, "value": counts[v], "share": _share(counts[v], t.total)}
                       for v in core.AGREE_VALUES]
        out["agree_share_decided"] = t.agree_share_decided
    elif poll.kind in ("single", "approval", "dots"):
        t = core.tally(poll.kind, ids, ballots, rules)
        out["rows"] = [{"id": o, "label": label[o], "value": t.counts[o], "share": t.shares[o]} for o in ids]
        out["winners"] = t.winners
        if poll.kind == "dots":
            out["dots_total"] = sum(t.counts.values())
    elif poll.kind == "ranking":
        t = core.tally_ranking(ids, ballots)
        top = len(ballots) * (len(ids) - 1)
        rows = []
        for rank, tier in enumerate(t.order, start=1):
            for o in tier:
                rows.append({"id": o, "label": label[o], "rank": rank, "value": round(t.borda[o], 2),
                             "share": _share(t.borda[o], top)})
        out["rows"] = rows
        out["winners"] = t.winners
        out["condorcet_winner"] = t.condorcet_winner
    elif poll.kind == "score":
        lo, hi = rules.get("min", 1), rules.get("max", 5)
        t = core.tally_score(ids, ballots, lo, hi)
        out["rows"] = [{"id": o, "label": label[o], "value": round(t[o].mean, 2) if t[o].mean is not None else None,
                        "share": _share(t[o].mean or 0, hi), "median": t[o].median, "answers": t[o].n,
                        "no_opinion": t[o].no_opinion,
                        "distribution": {str(k): v for k, v in t[o].distribution.items()}} for o in ids]
    elif poll.kind == "survey":
        out["rows"] = _survey_rows(poll, ids, label)
    elif poll.kind == "text":
        out["themes"] = _themes(poll, staff=staff)
    return out


THEMES_MAX = 8
TYPICAL = 3


def _themes(poll: Poll, *, staff: bool) -> list[dict]:
    """The answers grouped by theme (meeting.core.similarity, on this machine: nothing is sent
    anywhere), largest first, each with its size and label words; staff also see its most typical
    answers. Residents see only the themes: an answer may say more than its author meant to share."""
    from meeting.core import similarity

    answers = {bid: data.get("text", "") for _, bid, data in _ballots(poll)}
    groups = similarity.theme_groups(answers, max_groups=THEMES_MAX) if answers else []
    out = []
    for g in groups:
        theme = {"size": g.size, "terms": list(g.label_terms)}
        if staff:
            theme["typical"] = [{"ballot_id": b, "text": answers[b]} for b in g.typical[:TYPICAL]]
            theme["ballot_ids"] = list(g.ids)
        out.append(theme)
    return out


def _respondents(rows) -> dict:
    # Secret waves have lost their participant links, so they cannot be paired.
    return {(pid if pid is not None else f"ballot{bid}"): data for pid, bid, data in rows}


def _survey_rows(poll: Poll, ids: list, label: dict) -> list[dict]:
    lo, hi = (poll.rules or {}).get("min", 1), (poll.rules or {}).get("max", 5)
    before_poll = db.session.get(Poll, poll.before_poll_id) if poll.before_poll_id else None
    if before_poll is None:
        now = core.tally_survey(ids, _respondents(_ballots(poll)), {}, lo, hi)
        return [{"id": q, "label": label[q], "value": _round(now[q].before.mean), "share": _share(now[q].before.mean or 0, hi),
                 "answers": now[q].before.n, "no_opinion": now[q].before.no_opinion} for q in ids]
    change = core.tally_survey(ids, _respondents(_ballots(before_poll)), _respondents(_ballots(poll)), lo, hi)
    rows = []
    for q in ids:
        c = change[q]
        rows.append({"id": q, "label": label[q], "value": _round(c.after.mean), "share": _share(c.after.mean or 0, hi),
                     "answers": c.after.n, "no_opinion": c.after.no_opinion,
                     "before_mean": _round(c.before.mean), "after_mean": _round(c.after.mean),
                     "mean_change": _round(c.mean_change), "paired": c.paired,
                     "share_up": _round(c.share_up), "share_down": _round(c.share_down),
                     "share_moved": _round(c.share_moved)})
    return rows


def _round(x):
    return round(x, 2) if x is not None else None


# --------------------------------------------------------------------------- staff actions


def _clean(raw, max_length: int, code: str) -> str:
    return validate.clean_text(raw, max_length, code, max=max_length)


def _int_rule(rules: dict, key: str, lo: int, hi: int) -> int | None:
    value = rules.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ServiceError("poll_rules")
    return value


def _rules(kind: str, raw, n_options: int) -> dict:
    raw = raw if isinstance(raw, dict) else {}
    rules: dict = {}
    if kind == "approval":
        rules["min_approvals"] = _int_rule(raw, "min_approvals", 1, n_options) or 1
        hi = _int_rule(raw, "max_approvals", 1, n_options)
        if hi is not None:
            if hi < rules["min_approvals"]:
                raise ServiceError("poll_rules")
            rules["max_approvals"] = hi
    elif kind == "dots":
        rules["dots"] = _int_rule(raw, "dots", 1, 100) or 5
        cap = _int_rule(raw, "max_per_option", 1, 100)
        if cap is not None:
            rules["max_per_option"] = cap
        rules["exact"] = raw.get("exact") is True
    elif kind == "ranking":
        rules["min_ranked"] = _int_rule(raw, "min_ranked", 1, n_options) or 1
        hi = _int_rule(raw, "max_ranked", 1, n_options)
        if hi is not None:
            if hi < rules["min_ranked"]:
                raise ServiceError("poll_rules")
            rules["max_ranked"] = hi
    elif kind in ("score", "survey"):
        rules.update({"min": 1, "max": 5})
    duration = _int_rule(raw, "duration", 1, MAX_DURATION)
    if duration is not None:
        rules["duration"] = duration
    return rules


def _closes_at(raw) -> datetime | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > 40:
        raise ServiceError("poll_closes_at")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):  # not a time, or beyond the calendar's edge once in UTC
        raise ServiceError("poll_closes_at") from None
    if moment <= utcnow():
        raise ServiceError("poll_closes_at")
    return moment


def _staff_poll(meeting_id: int, poll_id) -> Poll:
    poll = db.session.get(Poll, poll_id) if validate.is_id(poll_id) else None
    if poll is None or poll.meeting_id != meeting_id:
        raise ServiceError("not_found")
    return poll


def create_poll(user, meeting_id: int, data: dict) -> tuple[dict, Changes]:
    """Create a draft poll from the control room's form."""
    staff.require_facilitator(user, meeting_id)
    meeting = db.session.get(Meeting, meeting_id)
    before = None
    if data.get("follow_up_of") is not None:
        before = _staff_poll(meeting_id, data.get("follow_up_of"))
        if before.kind != "survey" or before.phase != "before" or db.session.scalar(
                sa.select(Poll.id).where(Poll.before_poll_id == before.id)) is not None:
            raise ServiceError("poll_survey_link")
        kind, question, options = "survey", before.question, list(before.options)
        table_id = before.table_id
    else:
        kind = data.get("kind")
        if kind not in POLL_KINDS:
            raise ServiceError("poll_kind")
        question = _clean(data.get("question"), QUESTION_MAX, "poll_question")
        options = []
        if kind in CHOICE_KINDS:
            raw = data.get("options")
            if not isinstance(raw, list):
                raise ServiceError("poll_options", max=MAX_OPTIONS)
            labels = [_clean(x, LABEL_MAX, "poll_option_label") for x in raw if isinstance(x, str) and x.strip()]
            least = 1 if kind in ("score", "survey") else 2
            if not least <= len(labels) <= MAX_OPTIONS or len(set(labels)) != len(labels):
                raise ServiceError("poll_options", max=MAX_OPTIONS)
            options = [{"id": f"o{i + 1}", "label": text} for i, text in enumerate(labels)]
        table_id = data.get("table_id")
        if table_id is not None:
            table = db.session.get(Table, table_id) if validate.is_id(table_id) else None
            if table is None or table.meeting_id != meeting_id:
                raise ServiceError("poll_table")
    visibility = data.get("visibility") or (before.visibility if before else "live")
    if visibility not in POLL_VISIBILITY:
        raise ServiceError("bad_request")
    poll = Poll(meeting_id=meeting_id, table_id=table_id, round_id=meeting.current_round.id if meeting.current_round else None,
                kind=kind, question=question, options=options, rules=_rules(kind, data.get("rules"), len(options)),
                state="draft", visibility=visibility, secret=data.get("secret") is True,
                phase=("after" if before else "before") if kind == "survey" else None,
                before_poll_id=before.id if before else None, closes_at=_closes_at(data.get("closes_at")),
                created_by=user.id)
    if before is not None:
        poll.rules = dict(before.rules, **({"duration": poll.rules["duration"]} if "duration" in poll.rules else {}))
        poll.secret = before.secret
    db.session.add(poll)
    db.session.flush()
    audit.record("poll.create", meeting_id=meeting_id, staff_id=user.id, target=f"poll:{poll.id}", kind=kind)
    view = poll_view(poll)
    return {"poll": view}, Changes(events=[Event(staff_stream(meeting_id), "poll_created", {"poll": view})])


def open_poll(user, meeting_id: int, poll_id) -> tuple[dict, Changes]:
    staff.require_facilitator(user, meeting_id)
    poll = _staff_poll(meeting_id, poll_id)
    now = utcnow()
    closes_at = poll.closes_at
    if "duration" in (poll.rules or {}):
        closes_at = now + timedelta(seconds=poll.rules["duration"])
    done = db.session.execute(sa.update(Poll).where(Poll.id == poll.id, Poll.state == "draft")
                              .values(state="open", opened_at=now, closes_at=closes_at))
    if done.rowcount != 1:
        raise ServiceError("poll_state")
    db.session.refresh(poll)
    if poll.closes_at is not None and poll.closes_at <= now:
        raise ServiceError("poll_closes_at")
    audit.record("poll.open", meeting_id=meeting_id, staff_id=user.id, target=f"poll:{poll.id}")
    view = poll_view(poll)
    events = [Event(audience_stream(poll), "poll_opened",
                    {"poll": view, "results": results_view(poll) if participants_see_results(poll) else None}),
              Event(staff_stream(meeting_id), "poll_opened", {"poll": view, "results": results_view(poll, staff=True)})]
    return {"poll": view}, Changes(events=events)


def close_poll(user, meeting_id: int, poll_id) -> tuple[dict, Changes]:
    staff.require_facilitator(user, meeting_id)
    poll = _staff_poll(meeting_id, poll_id)
    changes = _close(poll)
    if changes is None:
        raise ServiceError("poll_state")
    audit.record("poll.close", meeting_id=meeting_id, staff_id=user.id, target=f"poll:{poll.id}")
    return {"poll": poll_view(poll)}, changes


def _close(poll: Poll) -> Changes | None:
    """Close an open poll in the current transaction; None if it was not open any more."""
    now = utcnow()
    done = db.session.execute(sa.update(Poll).where(Poll.id == poll.id, Poll.state == "open")
                              .values(state="closed", closed_at=now))
    if done.rowcount != 1:
        return None
    db.session.refresh(poll)
    if poll.secret:
        _anonymize(poll, now)
    view = poll_view(poll)
    return Changes(events=[
        Event(audience_stream(poll), "poll_closed",
              {"poll": view, "results": results_view(poll) if participants_see_results(poll) else None}),
        Event(staff_stream(poll.meeting_id), "poll_closed", {"poll": view, "results": results_view(poll, staff=True)}),
    ])


def _anonymize(poll: Poll, now: datetime) -> None:
    """Cut every ballot of a secret poll from its voter, and from the order and time it came in."""
    rows = list(db.session.execute(sa.select(Ballot.data, Ballot.receipt).where(Ballot.poll_id == poll.id)).all())
    db.session.execute(sa.delete(Ballot).where(Ballot.poll_id == poll.id))
    random.SystemRandom().shuffle(rows)
    if rows:
        db.session.execute(sa.insert(Ballot), [{"poll_id": poll.id, "participant_id": None, "data": data,
                                                "receipt": receipt, "updated_at": now} for data, receipt in rows])


def close_due(now: datetime | None = None) -> list[Event]:
    """Close every open poll whose closing time has passed; commit; return the events to send."""
    now = now or utcnow()
    due = list(db.session.scalars(sa.select(Poll).where(Poll.state == "open", Poll.closes_at.is_not(None),
                                                        Poll.closes_at <= now).order_by(Poll.id)))
    sent: list[Event] = []
    for poll in due:
        changes = _close(poll)
        if changes is None:  # another worker closed it first
            db.session.rollback()
            continue
        audit.record("poll.close", meeting_id=poll.meeting_id, target=f"poll:{poll.id}", reason="closes_at")
        stamp(poll.meeting_id, changes.events)
        db.session.commit()
        sent.extend(changes.events)
    db.session.commit()
    return sent


def next_deadline() -> datetime | None:
    return db.session.scalar(sa.select(sa.func.min(Poll.closes_at)).where(Poll.state == "open",
                                                                        Poll.closes_at.is_not(None)))


# --------------------------------------------------------------------------- participants


def _in_scope(person: Participant, poll: Poll) -> bool:
    if poll.meeting_id != person.meeting_id or poll.state == "draft":
        return False
    if poll.table_id is None:
        return True
    table = meetings.table_of(person)
    return table is not None and table.id == poll.table_id


def _receipt_hash(receipt: str) -> str:
    return hashlib.sha256(receipt.encode()).hexdigest()


def _short(value):
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def cast_ballot(person: Participant, poll_id, ballot) -> tuple[dict, Changes]:
    """Store the participant's ballot (the last one counts); in a secret poll, give them a receipt."""
    poll = db.session.get(Poll, poll_id) if validate.is_id(poll_id) else None
    if poll is None or not _in_scope(person, poll):
        raise ServiceError("not_found")
    now = utcnow()
    # Lock the poll row while it is open, so a close cannot slip between the check and the write.
    still_open = db.session.execute(
        sa.update(Poll).where(Poll.id == poll.id, Poll.state == "open",
                              sa.or_(Poll.closes_at.is_(None), Poll.closes_at > now))
        .values(state="open"))
    if still_open.rowcount != 1:
        raise ServiceError("poll_not_open")
    ids = [o["id"] for o in poll.options]
    if poll.kind == "text":  # words typed by a resident: refused like any other text they type
        ballot = {"text": validate.clean_text(ballot.get("text") if isinstance(ballot, dict) else None,
                                              (poll.rules or {}).get("max_length", core.TEXT_MAX), "text_answer_empty",
                                              too_long_code="too_long", multiline=True)}
    try:
        core.validate_ballot(poll.kind, ids, poll.rules, ballot)
    except core.BallotError as err:
        params = dict(err.params)
        label = {o["id"]: o["label"] for o in poll.options}
        if "option" in params:
            params["option"] = label.get(params["option"]) if _hashable(params["option"]) and params["option"] in label \
                else _short(params["option"])
        if "value" in params:
            params["value"] = _short(params["value"])
        raise ServiceError(err.code, **params) from None
    data = _normalized(poll.kind, ballot)
    # A receipt serves only where the ballot is later cut from its voter (secret polls): an ordinary
    # poll's voter sees their own ballot on the phone, so it gets (and the database keeps) none.
    receipt = secrets.token_urlsafe(18) if poll.secret else None
    row = dict(poll_id=poll.id, participant_id=person.id, data=data,
               receipt=_receipt_hash(receipt) if receipt else None, updated_at=now)
    db.session.execute(upsert(Ballot, row, ("poll_id", "participant_id"), ("data", "receipt", "updated_at")), row)
    if poll.secret:  # the code and the choice reach the voter once, never the op log
        result = {"poll_id": poll.id, "receipt_issued": True, "_once": {"receipt": receipt, "ballot": data}}
    else:
        result = {"poll_id": poll.id, "ballot": data}
    return result, Changes(dirty={Dirty("poll", poll.meeting_id, poll.id)})


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _normalized(kind: str, ballot: dict) -> dict:
    """Keep only the ballot's documented field (clients may send more)."""
    key = {"agree": "vote", "single": "option", "approval": "options", "dots": "dots", "ranking": "ranking",
           "score": "scores", "survey": "answers", "text": "text"}[kind]
    value = ballot[key]
    if kind == "text":
        value = value.strip()
    if kind == "dots":
        value = {o: n for o, n in value.items() if n}
    return {key: value}


def check_receipt(person: Participant, receipt, poll_id=None) -> tuple[dict, Changes]:
    """Find the ballot a receipt belongs to: proof that it is stored and counted.

    With `poll_id`, only that poll's ballots; a poll that is not secret gives no receipts, and says so.
    """
    poll = None
    if poll_id is not None:
        poll = db.session.get(Poll, poll_id) if validate.is_id(poll_id) else None
        if poll is None or not _in_scope(person, poll):
            raise ServiceError("not_found")
        if not poll.secret:
            raise ServiceError("receipt_not_issued")
    if not isinstance(receipt, str) or not 8 <= len(receipt) <= 100:
        raise ServiceError("receipt_unknown")
    query = sa.select(Ballot, Poll).join(Poll, Poll.id == Ballot.poll_id).where(
        Ballot.receipt == _receipt_hash(receipt.strip()))
    if poll is not None:
        query = query.where(Ballot.poll_id == poll.id)
    row = db.session.execute(query).first()
    if row is None or row.Poll.meeting_id != person.meeting_id:
        raise ServiceError("receipt_unknown")
    return {"poll_id": row.Poll.id, "question": row.Poll.question, "ballot": row.Ballot.data,
            "state": row.Poll.state, "counted": True}, Changes()


_MY_BALLOTS = sa.select(Ballot.poll_id, Ballot.data).where(Ballot.participant_id == sa.bindparam("participant_id"),
                                                         Ballot.poll_id.in_(sa.bindparam("ids", expanding=True)))
# The meeting's polls and those of one table (none: "= NULL" is never true).
_SHOWN_POLLS = (sa.select(Poll).where(Poll.meeting_id == sa.bindparam("meeting_id"), Poll.state != "draft",
                                      sa.or_(Poll.table_id.is_(None), Poll.table_id == sa.bindparam("table_id")))
                .order_by(Poll.id))


def _my_ballots(person: Participant, poll_ids: list[int]) -> dict[int, dict]:
    if not poll_ids:
        return {}
    return dict(db.session.execute(_MY_BALLOTS, {"participant_id": person.id, "ids": list(poll_ids)}).all())


def participant_polls(person: Participant) -> list[dict]:
    """The polls this participant may see now, with their own ballot and the results they may see."""
    table = meetings.table_of(person)
    polls = list(db.session.scalars(_SHOWN_POLLS, {"meeting_id": person.meeting_id,
                                                   "table_id": table.id if table else None}))
    mine = _my_ballots(person, [p.id for p in polls])
    return [{**poll_view(p), "my_ballot": mine.get(p.id),
             "results": results_view(p) if participants_see_results(p) else None} for p in polls]


def staff_polls(meeting_id: int) -> list[dict]:
    polls = db.session.scalars(sa.select(Poll).where(Poll.meeting_id == meeting_id).order_by(Poll.id))
    return [{**poll_view(p), "results": results_view(p, staff=True)} for p in polls]


# --------------------------------------------------------------------------- live tallies


def result_events(meeting_id: int, poll_ids: set[int]) -> list[Event]:
    """Current results of these polls: always to staff, to participants only when they may see them."""
    events = []
    for poll in db.session.scalars(sa.select(Poll).where(Poll.id.in_(poll_ids), Poll.meeting_id == meeting_id)
                                   .order_by(Poll.id)):
        if poll.state == "draft":
            continue
        results = results_view(poll, staff=True)
        events.append(Event(staff_stream(meeting_id), "poll_results", {"poll_id": poll.id, "results": results}))
        if participants_see_results(poll):
            public = results_view(poll) if poll.kind == "text" else results
            events.append(Event(audience_stream(poll), "poll_results", {"poll_id": poll.id, "results": public}))
    return events


def publish_results(meeting_id: int, poll_ids: set[int]) -> list[Event]:
    hold_meeting(meeting_id)  # as ideas.publish_tallies
    return publish(meeting_id, result_events(meeting_id, poll_ids))


register_tally_publisher("poll", publish_results)


# --------------------------------------------------------------------------- breakdown


def _answers(poll: Poll, rows) -> list[tuple[str, dict, list]]:
    """One (title, participant -> answer, columns) per table to break down."""
    label = {o["id"]: o["label"] for o in poll.options}
    data = {pid: d for pid, _, d in rows if pid is not None}
    if poll.kind == "agree":
        return [(poll.question, {p: d["vote"] for p, d in data.items()}, list(core.AGREE_VALUES))]
    if poll.kind == "single":
        return [(poll.question, {p: label[d["option"]] for p, d in data.items()}, [o["label"] for o in poll.options])]
    if poll.kind == "ranking":
        first = {}
        for p, d in data.items():
            top = d["ranking"][0]
            if isinstance(top, list):
                top = top[0] if len(top) == 1 else None
            first[p] = label[top] if top is not None else "tie"
        return [(poll.question, first, [o["label"] for o in poll.options] + ["tie"])]
    tables = []
    for o in poll.options:
        if poll.kind == "approval":
            answers = {p: "yes" if o["id"] in d["options"] else "no" for p, d in data.items()}
            columns = ["yes", "no"]
        elif poll.kind == "dots":
            answers = {p: "yes" if d["dots"].get(o["id"], 0) > 0 else "no" for p, d in data.items()}
            columns = ["yes", "no"]
        else:
            key = "scores" if poll.kind == "score" else "answers"
            answers = {p: str(d[key][o["id"]]) if d[key].get(o["id"]) is not None else "none"
                       for p, d in data.items() if o["id"] in d[key]}
            columns = [str(v) for v in range(1, 6)] + ["none"]
        tables.append((o["label"], answers, columns))
    return tables


def poll_breakdown(user, meeting_id: int, poll_id, category) -> tuple[dict, Changes]:
    """Break a closed poll's answers down by one participant category, hiding cells under 5."""
    staff.require_facilitator(user, meeting_id)
    poll = _staff_poll(meeting_id, poll_id)
    if poll.state != "closed":
        raise ServiceError("breakdown_open")
    if poll.secret:
        raise ServiceError("breakdown_secret")
    rows = _ballots(poll)
    people = dict(db.session.execute(sa.select(Participant.id, Participant.categories)
                                     .where(Participant.meeting_id == meeting_id)).all())
    keys = sorted({k for c in people.values() for k in (c or {})})
    if category not in keys:
        return {"categories": keys, "tables": []}, Changes()
    groups = {p: (c or {}).get(category) for p, c in people.items()}
    tables = []
    for title, answers, columns in _answers(poll, rows):
        b = breakdown(answers, groups, columns)
        tables.append({"title": title, "rows": [str(r) for r in b.rows], "columns": b.columns, "cells": b.cells,
                       "row_totals": b.row_totals, "column_totals": b.column_totals, "total": b.total})
    return {"categories": keys, "category": category, "tables": tables}, Changes()


# --------------------------------------------------------------------------- free-text answers


def promote_answer(user, meeting_id: int, poll_id, ballot_id, table_id=None) -> tuple[dict, Changes]:
    """Make a free-text answer an idea (a statement the tables and the opinion map vote on), at the
    given table, else its author's table, else the first table. The author keeps it (their idea),
    unless the poll was secret."""
    from meeting.models import Idea
    from meeting.services import ideas as idea_service

    staff.require_facilitator(user, meeting_id)
    poll = _staff_poll(meeting_id, poll_id)
    ballot = db.session.get(Ballot, ballot_id) if validate.is_id(ballot_id) else None
    if poll.kind != "text" or ballot is None or ballot.poll_id != poll.id:
        raise ServiceError("not_found")
    meeting = db.session.get(Meeting, meeting_id)
    if meeting.current_round is None or not meeting.tables:
        raise ServiceError("no_tables")
    author = db.session.get(Participant, ballot.participant_id) if ballot.participant_id and not poll.secret else None
    if table_id is not None:
        table = db.session.get(Table, table_id) if validate.is_id(table_id) else None
        if table is None or table.meeting_id != meeting_id:
            raise ServiceError("not_found")
    else:
        table = (meetings.table_of(author) if author else None) or meeting.tables[0]
    idea = Idea(meeting_id=meeting_id, table_id=table.id, round_id=meeting.current_round.id,
                participant_id=author.id if author else None, text=ballot.data["text"][:500])
    db.session.add(idea)
    db.session.flush()
    audit.record("poll.promote", meeting_id=meeting_id, staff_id=user.id, target=f"idea:{idea.id}",
                 table_id=table.id, poll_id=poll.id)
    view = idea_service.idea_view(idea)
    return {"idea": view}, Changes(events=[Event(table_stream(table.id), "idea_posted", {"idea": view}),
                                           Event(staff_stream(meeting_id), "idea_posted", {"idea": view})])

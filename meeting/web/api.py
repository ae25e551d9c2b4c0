"""The read-only public API, /api/v1/...: published meetings only, nothing personal.

Every response is validated against the pydantic model that also generates the OpenAPI 3
document at /api/v1/openapi.json (spectree), so the document cannot drift from what is
served. Lists are paginated (``page``, ``per_page``); every answer carries an ETag and
answers ``If-None-Match`` with 304; GETs may be read from any origin (CORS).
"""
from __future__ import annotations

import hashlib
import math
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response, SpecTree

from meeting.exports import datasets
from meeting.exports.report import numbers as report_numbers
from meeting.extensions import csrf, db
from meeting.models import Meeting
from meeting.services import opinion

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

spec = SpecTree("flask", title="Kurumaza read-only API", version="1.0.0", mode="strict", page_templates={},
                # The document is served by the view below, inside /api/v1 itself.
                path="api/v1/_spectree", annotations=True,
                description="Published meetings of Kurumaza: agenda, tables, ideas, polls and results, "
                            "opinion groups and the report's numbers. No personal data.")


# ------------------------------------------------------------------ schemas

class Error(BaseModel):
    error: str
    message: str


class PageQuery(BaseModel):
    page: int = Field(1, ge=1, le=100000)
    per_page: int = Field(50, ge=1, le=200)


class PageInfo(BaseModel):
    page: int
    per_page: int
    total: int
    pages: int


class Round(BaseModel):
    model_config = ConfigDict(extra="allow")  # the agenda grows columns (kind, question, times...)
    round_id: int
    number: int
    title: str | None = None


class MeetingOut(BaseModel):
    meeting_id: int
    title: str
    language: str
    purpose: str | None = None
    held_on: str | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    timezone: str
    venue: str | None = None
    contact: str | None = None
    licence: str
    published_at: str | None = None
    rounds: list[Round]


class MeetingSummary(BaseModel):
    meeting_id: int
    title: str
    language: str
    held_on: str | None = None
    published_at: str | None = None


class MeetingList(BaseModel):
    meetings: list[MeetingSummary]
    pagination: PageInfo


class TableOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    table_id: int
    name: str
    position: int
    seated: dict[str, int] = Field(description="People seated per round number")


class TableList(BaseModel):
    tables: list[TableOut]


class IdeaOut(BaseModel):
    idea_id: int
    table_id: int
    table: str
    round: int
    text: str = Field(description="Empty when the idea was hidden")
    hidden: bool
    moderation: str = Field(description="Why it was hidden, as a category; empty when not hidden")
    created_at: str
    merged_into: int | None = Field(None, description="The idea it was merged into as a duplicate; null when not merged")
    pending: bool = Field(False, description="Still waiting for approval at the end (its text is then empty)")
    agree: int
    disagree: int
    pass_: int = Field(alias="pass")
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)


class IdeaList(BaseModel):
    ideas: list[IdeaOut]
    pagination: PageInfo


class Option(BaseModel):
    id: str
    label: str


class ResultRow(BaseModel):
    option_id: str
    label: str
    rank: int | None = None
    value: float | None = None
    share: float | None = None
    borda: float | None = None
    dots: float | None = None
    mean: float | None = None
    median: float | None = None
    answers: int | None = None
    no_opinion: int | None = None
    score_1: int | None = None
    score_2: int | None = None
    score_3: int | None = None
    score_4: int | None = None
    score_5: int | None = None
    before_mean: float | None = None
    after_mean: float | None = None
    mean_change: float | None = None
    paired: int | None = None
    share_up: float | None = None
    share_down: float | None = None
    share_moved: float | None = None
    winner: bool | None = None


class PollOut(BaseModel):
    poll_id: int
    kind: str
    question: str
    scope: str
    table_id: int | None = None
    round_id: int | None = None
    state: str
    secret: bool
    phase: str | None = None
    before_poll_id: int | None = None
    opened_at: str | None = None
    closed_at: str | None = None
    ballots: int | None = Field(None, description="Null when the results are not published")
    options: list[Option]
    results: list[ResultRow] | None = Field(None, description="Null when the results were for organizers only")


class PollList(BaseModel):
    polls: list[PollOut]
    pagination: PageInfo


class Statement(BaseModel):
    idea_id: int
    text: str
    direction: str
    n_success: int
    n_trials: int
    p_success: float | None = None


class Group(BaseModel):
    group_id: int
    size: int
    representative: list[Statement]


class OpinionOut(BaseModel):
    computed_at: str | None = None
    min_votes: int = Field(description="Statements with fewer votes are left out")
    groups: list[Group]
    consensus: list[Statement]


class Numbers(BaseModel):
    participants: int
    joined: int
    tables: int
    rounds: int
    ideas: int
    hidden: int
    votes: int
    polls: int


NOT_FOUND = {"HTTP_404": Error}
NOT_MODIFIED = {"HTTP_304": None}


# ------------------------------------------------------------------ helpers

def _published(meeting_id: int) -> Meeting | None:
    meeting = db.session.get(Meeting, meeting_id) if -2**63 <= meeting_id < 2**63 else None
    return meeting if meeting is not None and meeting.published_at is not None else None


def _missing():
    return jsonify({"error": "not_found", "message": "No published meeting with this number."}), 404


def _page(rows: list, query: PageQuery) -> tuple[list, dict]:
    total = len(rows)
    start = (query.page - 1) * query.per_page
    return rows[start:start + query.per_page], {"page": query.page, "per_page": query.per_page, "total": total,
                                                 "pages": max(1, math.ceil(total / query.per_page))}


def _data(meeting: Meeting) -> datasets.OpenData:
    return datasets.collect(meeting, with_opinion=False)


def _clean(record: dict, drop=()) -> dict:
    return {k: v for k, v in record.items() if k not in drop}


@bp.after_request
def _cache_and_cors(response):
    if request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
        response.headers["Access-Control-Expose-Headers"] = "ETag"
    if request.method in ("GET", "HEAD") and response.status_code == 200 and not response.direct_passthrough:
        response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
        response.headers["Cache-Control"] = "no-cache"
        response.make_conditional(request)
    return response


# ------------------------------------------------------------------ endpoints

@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of this API."""
    return jsonify(spec.spec)


@bp.get("/meetings")
@spec.validate(query=PageQuery, resp=Response(HTTP_200=MeetingList, **NOT_MODIFIED), tags=["meetings"])
def list_meetings(query: PageQuery):
    """List the published meetings, newest first."""
    rows = db.session.scalars(sa.select(Meeting).where(Meeting.published_at.is_not(None)).order_by(Meeting.id.desc()))
    items = [{"meeting_id": m.id, "title": m.title, "language": m.language,
              "held_on": m.held_on.isoformat() if m.held_on else None,
              "published_at": datasets.plain(m.published_at)} for m in rows]
    page, info = _page(items, query)
    return MeetingList(meetings=page, pagination=info)


@bp.get("/meetings/<int(signed=True):meeting_id>")
@spec.validate(resp=Response(HTTP_200=MeetingOut, **NOT_FOUND, **NOT_MODIFIED), tags=["meetings"])
def get_meeting(meeting_id: int):
    """A published meeting with its agenda (rounds)."""
    meeting = _published(meeting_id)
    if meeting is None:
        return _missing()
    data = _data(meeting)
    record = _clean(data.get("meeting").records()[0], drop=("participants", "joined", "tables", "rounds"))
    return MeetingOut(**record, rounds=data.get("rounds").records())


@bp.get("/meetings/<int(signed=True):meeting_id>/tables")
@spec.validate(resp=Response(HTTP_200=TableList, **NOT_FOUND, **NOT_MODIFIED), tags=["meetings"])
def get_tables(meeting_id: int):
    """The tables and how many people sat at each in each round."""
    meeting = _published(meeting_id)
    if meeting is None:
        return _missing()
    data = _data(meeting)
    seated: dict[int, dict[str, int]] = {}
    for rnd, table_id, _name, _label in data.get("seating").rows:
        per = seated.setdefault(table_id, {})
        per[str(rnd)] = per.get(str(rnd), 0) + 1
    return TableList(tables=[{**t, "seated": seated.get(t["table_id"], {})} for t in data.get("tables").records()])


@bp.get("/meetings/<int(signed=True):meeting_id>/ideas")
@spec.validate(query=PageQuery, resp=Response(HTTP_200=IdeaList, **NOT_FOUND, **NOT_MODIFIED), tags=["ideas"])
def get_ideas(meeting_id: int, query: PageQuery):
    """The ideas with their agree/disagree/pass counts; a hidden idea shows only its category."""
    meeting = _published(meeting_id)
    if meeting is None:
        return _missing()
    items = [_clean(r, drop=("author",)) for r in _data(meeting).get("ideas").records()]
    page, info = _page(items, query)
    return IdeaList(ideas=page, pagination=info)


@bp.get("/meetings/<int(signed=True):meeting_id>/polls")
@spec.validate(query=PageQuery, resp=Response(HTTP_200=PollList, **NOT_FOUND, **NOT_MODIFIED), tags=["polls"])
def get_polls(meeting_id: int, query: PageQuery):
    """The polls with their results (the same count as the live tallies)."""
    meeting = _published(meeting_id)
    if meeting is None:
        return _missing()
    data = _data(meeting)
    results: dict[int, list] = {}
    for r in data.get("poll_results").records():
        results.setdefault(r["poll_id"], []).append(_clean(r, drop=("poll_id", "kind")))
    items = []
    for p, res in data.polls:
        items.append({"poll_id": p.id, "kind": p.kind, "question": p.question,
                      "scope": "table" if p.table_id else "plenary", "table_id": p.table_id, "round_id": p.round_id,
                      "state": p.state, "secret": p.secret, "phase": p.phase, "before_poll_id": p.before_poll_id,
                      "opened_at": datasets.plain(p.opened_at), "closed_at": datasets.plain(p.closed_at),
                      "ballots": res["ballots"] if res else None,
                      "options": [{"id": str(o["id"]), "label": str(o["label"])} for o in p.options],
                      "results": [{**r, "option_id": str(r["option_id"]), "label": str(r["label"])}
                                  for r in results.get(p.id, [])] if res else None})
    page, info = _page(items, query)
    return PollList(polls=page, pagination=info)


@bp.get("/meetings/<int(signed=True):meeting_id>/opinion")
@spec.validate(resp=Response(HTTP_200=OpinionOut, **NOT_FOUND, **NOT_MODIFIED), tags=["opinion"])
def get_opinion(meeting_id: int):
    """The opinion groups with their representative statements, and the consensus statements."""
    meeting = _published(meeting_id)
    if meeting is None:
        return _missing()
    snap = opinion.snapshot(meeting.id)
    data: dict[str, Any] = snap.data if snap else {}
    texts = {s["id"]: s["text"] for s in data.get("statements", [])}

    def statements(items):
        return [{"idea_id": r["statement"], "text": texts[r["statement"]], "direction": r["direction"],
                 "n_success": r["n_success"], "n_trials": r["n_trials"], "p_success": r.get("p_success")}
                for r in items if r["statement"] in texts and r["n_trials"] >= datasets.MIN_STATEMENT_VOTES]

    return OpinionOut(computed_at=datasets.plain(snap.computed_at) if snap else None,
                      min_votes=datasets.MIN_STATEMENT_VOTES,
                      groups=[{"group_id": g["id"], "size": g["size"], "representative": statements(g.get("repness", []))}
                              for g in data.get("groups", [])],
                      consensus=statements([c for d in ("agree", "disagree")
                                            for c in (data.get("consensus") or {}).get(d, [])]))


@bp.get("/meetings/<int(signed=True):meeting_id>/report")
@spec.validate(resp=Response(HTTP_200=Numbers, **NOT_FOUND, **NOT_MODIFIED), tags=["report"])
def get_report(meeting_id: int):
    """The report's headline numbers."""
    meeting = _published(meeting_id)
    if meeting is None:
        return _missing()
    return Numbers(**report_numbers(_data(meeting)))


@bp.get("/<path:_rest>")
def unknown(_rest: str):
    """Anything else under /api/v1 (a malformed id too) answers in JSON, never with an HTML page."""
    return jsonify({"error": "not_found", "message": "No such resource."}), 404

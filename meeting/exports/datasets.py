"""Every entity of a meeting as a table of public columns: the one source of all exports.

:func:`collect` reads the meeting once and returns :class:`Dataset` objects (a name, described
fields and rows). CSV, JSON, XLSX, the open-data ZIP, the report and the README are all
written from them, so a column added here shows up in every format with its description.

What never leaves (DESIGN.md, "Data and privacy"): roster identity, tokens and codes,
session keys, nicknames, the text of hidden ideas and moderation reasons in free text.
Participants appear only as labels drawn at random for every export (``P017``), the same
label across the datasets of one export and a different one in the next export.
"""
from __future__ import annotations

import json
import math
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timezone

import sqlalchemy as sa

from meeting.exports.fields import Field, denied, model_fields, model_row
from meeting.extensions import db
from meeting.models import (
    AuditEvent,
    Ballot,
    Idea,
    Meeting,
    PanelQuota,
    Participant,
    Poll,
    RosterPerson,
    Round,
    Seat,
    Selection,
    Table,
    Vote,
)
from meeting.models.idea import VOTE_VALUES

# Moderation reasons are free text (they may name the person an idea named); the public
# files show one of these categories instead. A reason that is one of the codes keeps it.
MODERATION_CATEGORIES = ("personal_data", "offensive", "off_topic", "duplicate", "spam", "other")
# Representative and consensus statements with fewer votes than this are left out of the report.
MIN_STATEMENT_VOTES = 5
SCORE_VALUES = (1, 2, 3, 4, 5)


def moderation_category(reason: str | None) -> str:
    code = (reason or "").strip().lower()
    return code if code in MODERATION_CATEGORIES else "other"


@dataclass
class Dataset:
    name: str
    ja: str
    en: str
    fields: list[Field]
    rows: list[list] = field(default_factory=list)

    @property
    def header(self) -> list[str]:
        return [f.name for f in self.fields]

    def records(self) -> list[dict]:
        return [dict(zip(self.header, row)) for row in self.rows]

    def title(self, language: str) -> str:
        return self.ja if language == "ja" else self.en


class Labels:
    """Random participant labels, new for every export, so two exports cannot be joined on them."""

    def __init__(self, participant_ids):
        ids = list(participant_ids)
        secrets.SystemRandom().shuffle(ids)
        self.width = max(3, len(str(len(ids))))
        self.number = {pid: n for n, pid in enumerate(ids, start=1)}

    def __call__(self, participant_id) -> str:
        n = self.number.get(participant_id)
        return f"P{n:0{self.width}d}" if n is not None else ""


# Issue 8 (edits, merges, pre-moderation) adds idea columns here: each hook takes the meeting
# id and returns (fields, {idea_id: [values]}); the values must follow the privacy rules above.
IdeaColumns = Callable[[int], tuple[list[Field], dict[int, list]]]
IDEA_COLUMN_HOOKS: list[IdeaColumns] = []
# ...and whole datasets (e.g. an idea edit history): each takes (meeting, labels) -> Dataset.
DATASET_HOOKS: list[Callable[[Meeting, Labels], Dataset]] = []


def plain(value):
    """A JSON- and CSV-ready value: datetimes as ISO 8601 UTC, dicts/lists as JSON text kept as is."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, (date, time)):
        return value.isoformat(timespec="minutes") if isinstance(value, time) else value.isoformat()
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 6)
    return value


def _f(name: str, ja: str, en: str) -> Field:
    return Field(name, ja, en)


PARTICIPANT = _f("participant", "参加者の仮名（書き出しごとに無作為）", "Participant label (random for every export)")


# ------------------------------------------------------------------ agenda

def _meeting(m: Meeting) -> Dataset:
    fields = model_fields(Meeting)
    extra = [_f("participants", "参加者数", "Number of participants"),
             _f("joined", "参加した人数（招待を使った人）", "Participants who joined (used their invitation)"),
             _f("tables", "テーブル数", "Number of tables"), _f("rounds", "ラウンド数", "Number of rounds")]
    joined = db.session.scalar(sa.select(sa.func.count()).select_from(Participant)
                               .where(Participant.meeting_id == m.id, Participant.joined_at.is_not(None)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Participant).where(Participant.meeting_id == m.id))
    row = model_row(m, fields) + [total, joined, len(m.tables), len(m.rounds)]
    return Dataset("meeting", "会議", "Meeting", fields + extra, [row])


def _rounds(m: Meeting) -> Dataset:
    fields = model_fields(Round)
    return Dataset("rounds", "議事（ラウンド）", "Agenda (rounds)", fields, [model_row(r, fields) for r in m.rounds])


def _tables(m: Meeting) -> Dataset:
    fields = model_fields(Table)
    return Dataset("tables", "テーブル", "Tables", fields, [model_row(t, fields) for t in m.tables])


def _seating(m: Meeting, labels: Labels) -> Dataset:
    fields = [_f("round", "ラウンドの順番", "Round (position in the agenda)"),
              _f("table_id", "テーブルの番号", "Table id"), _f("table", "テーブルの名前", "Table name"), PARTICIPANT]
    rows = db.session.execute(sa.select(Round.number, Table.id, Table.name, Seat.participant_id)
                              .join(Round, Round.id == Seat.round_id).join(Table, Table.id == Seat.table_id)
                              .where(Round.meeting_id == m.id).order_by(Round.number, Table.position, Seat.id)).all()
    return Dataset("seating", "席（ラウンドごと）", "Seating per round", fields,
                   sorted(([n, t, name, labels(p)] for n, t, name, p in rows), key=lambda r: (r[0], r[1], r[3])))


# ------------------------------------------------------------------ ideas

IDEA_FIELDS = [
    _f("idea_id", "意見の番号", "Idea id"),
    _f("table_id", "出したテーブルの番号", "Table it was posted at (id)"),
    _f("table", "出したテーブルの名前", "Table it was posted at (name)"),
    _f("round", "出したラウンド", "Round it was posted in"),
    _f("author", "書いた人の仮名", "Author's label"),
    _f("text", "意見の文（非表示の意見は空）", "Text of the idea (empty when hidden)"),
    _f("hidden", "非表示にされたか", "Hidden by a moderator"),
    _f("moderation", "非表示の理由の区分（personal_data, offensive, off_topic, duplicate, spam, other）",
       "Why it was hidden, as a category (personal_data, offensive, off_topic, duplicate, spam, other)"),
    _f("created_at", "出した日時（UTC）", "When it was posted (UTC)"),
    _f("edited_at", "読みやすく直された日時（UTC、直されていなければ空）",
       "When staff edited it for readability (UTC; empty when never edited; the original is not published)"),
    _f("merged_into", "似た意見としてまとめられた先の意見の番号（まとめられていなければ空）",
       "Idea it was merged into as a duplicate (id; empty when not merged). Its own votes stay on this row"),
    _f("pending", "事前確認で承認も却下もされないまま終わったか（そのときは文は空）",
       "Still waiting for approval at the end (pre-moderation; the text is then empty)"),
    _f("proxy", "スタッフが代理で入力したか", "Entered by staff on behalf of a resident without a phone"),
    _f("agree", "賛成の数", "Agree votes"), _f("disagree", "反対の数", "Disagree votes"),
    _f("pass", "どちらでもないの数", "Pass votes"),
]


def _ideas(m: Meeting, labels: Labels) -> Dataset:
    rows = db.session.execute(sa.select(Idea, Table.name, Round.number).join(Table, Table.id == Idea.table_id)
                              .join(Round, Round.id == Idea.round_id)
                              .where(Idea.meeting_id == m.id).order_by(Idea.id)).all()
    counts: dict[int, dict] = {}
    for idea_id, value, n in db.session.execute(
            sa.select(Vote.idea_id, Vote.value, sa.func.count()).join(Idea)
            .where(Idea.meeting_id == m.id).group_by(Vote.idea_id, Vote.value)):
        counts.setdefault(idea_id, {})[value] = n
    fields = list(IDEA_FIELDS)
    extra: list[tuple[dict[int, list], int]] = []
    for hook in IDEA_COLUMN_HOOKS:
        more, values = hook(m.id)
        fields += more
        extra.append((values, len(more)))
    out = []
    for idea, table, rnd in rows:
        row = [idea.id, idea.table_id, table, rnd, labels(idea.participant_id),
               "" if idea.hidden or idea.pending else idea.text, idea.hidden,
               moderation_category(idea.hidden_reason) if idea.hidden else "", idea.created_at, idea.edited_at,
               idea.merged_into_id, idea.pending, idea.proxy_staff_id is not None,
               *(counts.get(idea.id, {}).get(v, 0) for v in VOTE_VALUES)]
        for values, width in extra:
            row += values.get(idea.id, [None] * width)
        out.append(row)
    return Dataset("ideas", "意見", "Ideas", fields, out)


def _votes(m: Meeting, labels: Labels) -> Dataset:
    fields = [_f("idea_id", "意見の番号", "Idea id"), _f("participant", PARTICIPANT.ja, PARTICIPANT.en),
              _f("vote", "賛否（agree / disagree / pass）", "Vote (agree / disagree / pass)"),
              _f("updated_at", "最後に投票した日時（UTC）", "When the vote was last cast (UTC)")]
    rows = db.session.execute(sa.select(Vote.idea_id, Vote.participant_id, Vote.value, Vote.updated_at)
                              .join(Idea).where(Idea.meeting_id == m.id).order_by(Vote.idea_id, Vote.id))
    return Dataset("votes", "意見への投票", "Votes on ideas", fields, [[i, labels(p), v, t] for i, p, v, t in rows])


# ------------------------------------------------------------------ polls

POLL_FIELDS = [
    _f("poll_id", "投票の番号", "Poll id"), _f("kind", "投票の種類", "Kind of poll"),
    _f("question", "問い", "Question"), _f("scope", "対象（plenary 全体 / table テーブル）", "Scope (plenary / table)"),
    _f("table_id", "テーブルの番号（テーブルの投票）", "Table id (table polls)"),
    _f("round_id", "ラウンドの番号", "Round id"), _f("state", "状態", "State (open / closed)"),
    _f("visibility", "結果の見せ方", "Who saw the results (live / after_close / organizers)"),
    _f("secret", "無記名投票か", "Secret ballot"), _f("phase", "事前・事後（アンケート）", "Survey wave (before / after)"),
    _f("before_poll_id", "事前アンケートの番号", "The before wave of this after wave"),
    _f("opened_at", "開始（UTC）", "Opened (UTC)"), _f("closed_at", "終了（UTC）", "Closed (UTC)"),
    _f("ballots", "投票数", "Ballots cast"),
    _f("results_published", "結果を公開しているか", "Results included in this export"),
    _f("options", "選択肢（JSON）", "Options (JSON: id and label)"), _f("rules", "ルール（JSON）", "Rules (JSON)"),
]

RESULT_FIELDS = [
    _f("poll_id", "投票の番号", "Poll id"), _f("kind", "投票の種類", "Kind of poll"),
    _f("option_id", "選択肢の番号（賛否は agree/disagree/pass）", "Option id (agree/disagree/pass for agree polls)"),
    _f("label", "選択肢", "Option label"),
    _f("rank", "順位（順位付け: シュルツ法の順位）", "Rank (ranking: Schulze order; ties share a rank)"),
    _f("value", "棒グラフの値（票数・点数・平均）", "The bar's value (votes, points or mean)"),
    _f("share", "割合（0〜1）", "Share (0 to 1)"),
    _f("borda", "ボルダ得点（順位付け）", "Borda points (ranking)"),
    _f("dots", "シールの数（シール投票）", "Dots (dot voting)"),
    _f("mean", "平均（点数・アンケート）", "Mean (score, survey)"), _f("median", "中央値（点数）", "Median (score)"),
    _f("answers", "答えた人数", "Answers"), _f("no_opinion", "「わからない」の数", "No opinion"),
    *(_f(f"score_{v}", f"{v}点をつけた人数", f"Answers of {v}") for v in SCORE_VALUES),
    _f("before_mean", "事前の平均", "Mean before"), _f("after_mean", "事後の平均", "Mean after"),
    _f("mean_change", "平均の変化", "Change of the mean"), _f("paired", "事前と事後の両方に答えた人数", "Answered both waves"),
    _f("share_up", "上がった人の割合", "Share who moved up"), _f("share_down", "下がった人の割合", "Share who moved down"),
    _f("share_moved", "変わった人の割合", "Share who moved"),
    _f("winner", "勝ち（同点なら複数）", "Winner (several on a tie)"),
]


def results_public(poll: Poll) -> bool:
    """Results of polls whose results were for organizers only are withheld from public files."""
    return poll.state != "draft" and poll.visibility != "organizers"


def result_rows(poll: Poll, results: dict) -> list[list]:
    """Flatten services.polls.results_view (the live count) into RESULT_FIELDS rows."""
    winners = set(results.get("winners") or [])
    out = []
    for r in results["rows"]:
        dist = r.get("distribution") or {}
        value = r.get("value")
        out.append([
            poll.id, poll.kind, r["id"], r.get("label") if r.get("label") is not None else r["id"], r.get("rank"),
            value, r.get("share"),
            value if poll.kind == "ranking" else None, value if poll.kind == "dots" else None,
            value if poll.kind in ("score", "survey") else None, r.get("median"), r.get("answers"), r.get("no_opinion"),
            *(dist.get(str(v)) if poll.kind == "score" else None for v in SCORE_VALUES),
            r.get("before_mean"), r.get("after_mean"), r.get("mean_change"), r.get("paired"),
            r.get("share_up"), r.get("share_down"), r.get("share_moved"),
            (r["id"] in winners) if results.get("winners") is not None else None,
        ])
    return out


def _polls(m: Meeting, labels: Labels) -> tuple[Dataset, Dataset, Dataset, list[tuple[Poll, dict | None]]]:
    from meeting.services.polls import results_view

    polls = list(db.session.scalars(sa.select(Poll).where(Poll.meeting_id == m.id, Poll.state != "draft")
                                    .order_by(Poll.id)))
    counted = [(p, results_view(p) if results_public(p) else None) for p in polls]
    poll_rows = [[p.id, p.kind, p.question, "table" if p.table_id else "plenary", p.table_id, p.round_id, p.state,
                  p.visibility, p.secret, p.phase, p.before_poll_id, p.opened_at, p.closed_at,
                  res["ballots"] if res else None, res is not None,
                  json.dumps(p.options, ensure_ascii=False), json.dumps(p.rules, ensure_ascii=False)]
                 for p, res in counted]
    results = [row for p, res in counted if res for row in result_rows(p, res)]
    ballot_fields = [_f("poll_id", "投票の番号", "Poll id"), PARTICIPANT,
                     _f("ballot", "票の中身（JSON）", "The ballot (JSON)"),
                     _f("updated_at", "最後に投票した日時（UTC）", "When it was last cast (UTC)")]
    open_polls = [p.id for p, res in counted if res and not p.secret]
    ballots = [] if not open_polls else [
        [poll_id, labels(pid), json.dumps(data, ensure_ascii=False, sort_keys=True), at]
        for poll_id, pid, data, at in db.session.execute(
            sa.select(Ballot.poll_id, Ballot.participant_id, Ballot.data, Ballot.updated_at)
            .where(Ballot.poll_id.in_(open_polls)).order_by(Ballot.poll_id, Ballot.id))]
    return (Dataset("polls", "投票", "Polls", POLL_FIELDS, poll_rows),
            Dataset("poll_results", "投票の結果", "Poll results", RESULT_FIELDS, results),
            Dataset("ballots", "票（仮名。無記名投票の票は含めない）", "Ballots (pseudonymous; none of secret polls)",
                    ballot_fields, ballots),
            counted)


# ------------------------------------------------------------------ moderation, audit

def _target(target: str, labels: Labels) -> str:
    """Targets name ideas, polls, tables...; a participant becomes its label; roster rows stay unnamed."""
    kind, _, ident = (target or "").partition(":")
    if kind == "participant" and ident.isdigit():
        return labels(int(ident))
    if kind in ("roster", "staff", "user"):
        return kind
    return target


MODERATION_ACTIONS_JA = ("操作（idea.hide 非表示 / idea.restore 再表示 / idea.edit 修正 / idea.merge まとめ / "
                         "idea.unmerge まとめの取り消し / idea.approve 承認 / idea.reject 却下）")
MODERATION_ACTIONS_EN = ("Action (idea.hide / idea.restore / idea.edit / idea.merge / idea.unmerge / idea.approve / "
                         "idea.reject)")


def _moderation(m: Meeting) -> Dataset:
    fields = [_f("at", "日時（UTC）", "When (UTC)"), _f("action", MODERATION_ACTIONS_JA, MODERATION_ACTIONS_EN),
              _f("idea_id", "意見の番号", "Idea id"), _f("category", "理由の区分", "Reason, as a category")]
    rows = db.session.execute(sa.select(AuditEvent).where(AuditEvent.meeting_id == m.id,
                                                          AuditEvent.action.like("idea.%"))
                              .order_by(AuditEvent.created_at, AuditEvent.id)).scalars()
    out = []
    for e in rows:
        kind, _, ident = e.target.partition(":")
        out.append([e.created_at, e.action, int(ident) if ident.isdigit() else None,
                    "duplicate" if e.action in ("idea.merge", "idea.unmerge")
                    else moderation_category((e.detail or {}).get("reason"))])
    return Dataset("moderation", "モデレーションの記録", "Moderation log", fields, out)


def _audit(m: Meeting, labels: Labels) -> Dataset:
    fields = [_f("at", "日時（UTC）", "When (UTC)"), _f("action", "操作", "Action"),
              _f("target", "対象（参加者は仮名）", "Target (participants as labels)"),
              _f("by_staff", "スタッフの操作か", "Done by a staff member (no names)")]
    rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.meeting_id == m.id)
                              .order_by(AuditEvent.created_at, AuditEvent.id))
    return Dataset("audit", "操作の記録", "Audit log", fields,
                   [[e.created_at, e.action, _target(e.target, labels), e.staff_id is not None] for e in rows])


# ------------------------------------------------------------------ selection and attendance

ON_PANEL = ("selected", "confirmed", "arrived", "replacement", "declined")


def _attendance(m: Meeting) -> Dataset:
    """Per quota: the bounds, the pool, the drawn panel, who came, the replacements."""
    fields = [_f("category", "区分", "Category"), _f("value", "値", "Value"),
              _f("min", "最小", "Quota minimum"), _f("max", "最大", "Quota maximum"),
              _f("pool", "名簿の人数", "In the pool (roster)"),
              _f("drawn", "抽選で選ばれた人数（補欠を除く）", "Drawn for the panel (without replacements)"),
              _f("replacements", "繰り上げで選ばれた人数", "Drawn as replacements"),
              _f("arrived", "当日来た人数", "Arrived on the day"),
              _f("short", "最小に届かない", "Arrivals under the minimum"),
              _f("over", "最大を超えた", "Arrivals over the maximum")]
    people = list(db.session.execute(sa.select(RosterPerson.categories, RosterPerson.status, RosterPerson.is_replacement)
                                     .where(RosterPerson.meeting_id == m.id)).all())
    out = []
    for q in db.session.scalars(sa.select(PanelQuota).where(PanelQuota.meeting_id == m.id).order_by(PanelQuota.position)):
        def has(cats, q=q):
            return any(str(c).strip().casefold() == q.category.strip().casefold()
                       and str(v).strip().casefold() == q.value.strip().casefold() for c, v in (cats or {}).items())
        mine = [(s, r) for c, s, r in people if has(c)]
        arrived = sum(1 for s, _ in mine if s == "arrived")
        out.append([q.category, q.value, q.min, q.max, len(mine),
                    sum(1 for s, r in mine if s in ON_PANEL and not r), sum(1 for s, r in mine if r),
                    arrived, arrived < q.min, arrived > q.max])
    return Dataset("attendance", "割り当てと出席", "Attendance against the quotas", fields, out)


def _selections(m: Meeting) -> Dataset:
    fields = [_f("selection_id", "抽選の番号", "Draw id"), _f("kind", "種類（check / panel / replacement）",
                                                          "Kind (check / panel / replacement)"),
              _f("method", "方法", "Method"), _f("k", "選ぶ人数", "Panel size"), _f("status", "結果", "Status"),
              _f("pool", "名簿の人数", "Pool size"), _f("seed", "乱数の種", "Random seed"),
              _f("min_probability", "最小の選ばれる確率", "Lowest selection probability"),
              _f("max_probability", "最大の選ばれる確率", "Highest selection probability"),
              _f("gini", "確率のジニ係数", "Gini coefficient of the probabilities"),
              _f("created_at", "実行した日時（UTC）", "When it ran (UTC)"),
              _f("confirmed_at", "確定した日時（UTC）", "When it was confirmed (UTC)")]
    rows = db.session.scalars(sa.select(Selection).where(Selection.meeting_id == m.id).order_by(Selection.id))
    return Dataset("selections", "抽選の記録", "Panel draws", fields,
                   [[s.id, s.kind, s.method, s.k, s.status, (s.report or {}).get("n"), s.seed,
                     (s.report or {}).get("min_probability"), (s.report or {}).get("max_probability"),
                     (s.report or {}).get("gini"), s.created_at, s.confirmed_at] for s in rows])


# ------------------------------------------------------------------ opinion map

def _opinion(m: Meeting, labels: Labels, opinion: dict) -> list[Dataset]:
    data, om = opinion.get("data") or {}, opinion.get("map")
    groups = Dataset("opinion_groups", "意見のグループ", "Opinion groups",
                     [_f("group_id", "グループの番号", "Group id"), _f("size", "人数", "Size"),
                      _f("center_x", "中心（横）", "Centre (x)"), _f("center_y", "中心（縦）", "Centre (y)")],
                     [[g["id"], g["size"], *(g.get("center") or [None, None])] for g in data.get("groups", [])])
    people = Dataset("opinion_participants", "意見の地図の参加者", "Participants on the opinion map",
                     [PARTICIPANT, _f("group_id", "グループ（空: まだ入らない）", "Group (empty: not grouped yet)"),
                      _f("x", "位置（横）", "Position (x)"), _f("y", "位置（縦）", "Position (y)"),
                      _f("n_votes", "投票した数", "Votes cast")], [])
    if om is not None:
        for pid, g, x, y, nv in zip(om.participants, om.group, om.x, om.y, om.n_votes):
            people.rows.append([labels(pid), None if g < 0 else int(g), plain(float(x)), plain(float(y)), int(nv)])
        people.rows.sort(key=lambda r: r[0])
    stat = [_f("idea_id", "意見の番号", "Idea id"), _f("direction", "向き（agree / disagree）", "Direction"),
            _f("n_success", "その向きの票", "Votes in that direction"), _f("n_trials", "投票数（パスを除く）",
                                                                         "Votes (pass not counted)"),
            _f("p_success", "その向きの割合（補正後）", "Share in that direction (smoothed)"),
            _f("p_test", "割合の検定統計量 z", "z statistic of the share")]
    repness = Dataset("opinion_repness", "グループを代表する意見", "Representative statements of each group",
                      [_f("group_id", "グループの番号", "Group id"), *stat,
                       _f("repness", "他のグループとの比", "Ratio to the other groups"),
                       _f("repness_test", "他のグループとの差の検定統計量 z", "z statistic against the other groups")],
                      [[g["id"], r["statement"], r["direction"], r["n_success"], r["n_trials"], r["p_success"],
                        r["p_test"], r["repness"], r["repness_test"]]
                       for g in data.get("groups", []) for r in g.get("repness", [])])
    consensus = Dataset("opinion_consensus", "全体で一致した意見", "Consensus statements", stat,
                        [[c["statement"], c["direction"], c["n_success"], c["n_trials"], c["p_success"], c["p_test"]]
                         for direction in ("agree", "disagree") for c in (data.get("consensus") or {}).get(direction, [])])
    breakdown = Dataset("vote_breakdown", "属性ごとの賛否（5人未満は空欄）",
                        "Votes by category (cells under 5 people left empty)",
                        [_f("category", "区分", "Category"), _f("idea_id", "意見の番号", "Idea id"),
                         _f("value", "区分の値", "Value of the category"),
                         *(_f(v, f"{v} の人数", f"People who voted {v}") for v in VOTE_VALUES),
                         _f("total", "合計", "Total")],
                        [[b["category"], b["idea_id"], value, *cells, total]
                         for b in data.get("breakdown", []) for value, cells, total in
                         zip(b["rows"], b["cells"], b["row_totals"])])
    return [groups, people, repness, consensus, breakdown]


def opinion_state(meeting_id: int) -> dict:
    """Recompute the meeting's map now (the record's final map) and return snapshot data and map."""
    from meeting.services import opinion

    has_votes = db.session.scalar(sa.select(Vote.id).join(Idea).where(Idea.meeting_id == meeting_id).limit(1))
    if has_votes is None:
        snap = opinion.snapshot(meeting_id)
        return {"data": snap.data if snap else {}, "map": None, "computed_at": snap.computed_at if snap else None}
    snap = opinion.recompute(meeting_id)
    db.session.commit()
    return {"data": snap.data, "map": opinion.last_map(meeting_id), "computed_at": snap.computed_at}


# ------------------------------------------------------------------ all of it

@dataclass
class OpenData:
    meeting: Meeting
    labels: Labels
    datasets: list[Dataset]
    polls: list[tuple[Poll, dict | None]]
    opinion: dict
    exported_at: datetime

    def get(self, name: str) -> Dataset:
        return next(d for d in self.datasets if d.name == name)


DATASET_NAMES = ("meeting", "rounds", "tables", "seating", "ideas", "votes", "polls", "poll_results", "ballots",
                 "moderation", "audit", "attendance", "selections", "opinion_groups", "opinion_participants",
                 "opinion_repness", "opinion_consensus", "vote_breakdown", "funnel")


def collect(meeting: Meeting, *, with_opinion: bool = True) -> OpenData:
    """Every dataset of the meeting, with one set of random participant labels."""
    labels = Labels(db.session.scalars(sa.select(Participant.id).where(Participant.meeting_id == meeting.id)))
    opinion = opinion_state(meeting.id) if with_opinion else {"data": {}, "map": None, "computed_at": None}
    polls, results, ballots, counted = _polls(meeting, labels)
    datasets = [_meeting(meeting), _rounds(meeting), _tables(meeting), _seating(meeting, labels),
                _ideas(meeting, labels), _votes(meeting, labels), polls, results, ballots,
                _moderation(meeting), _audit(meeting, labels), _attendance(meeting), _selections(meeting),
                *_opinion(meeting, labels, opinion)]
    datasets += [hook(meeting, labels) for hook in DATASET_HOOKS]
    for d in datasets:
        d.rows = [[plain(v) for v in row] for row in d.rows]
        assert not any(denied(f.name) for f in d.fields if f.name not in ("contact",)), d.name
    return OpenData(meeting, labels, datasets, counted, opinion, datetime.now(timezone.utc))


def repness_dict(r) -> dict:
    return {k: plain(v) if isinstance(v, float) else v for k, v in asdict(r).items()}


# ------------------------------------------------------------------ the participation funnel

FUNNEL_STAGES_JA = {"invited": "招待された", "opened": "リンクを開いた", "joined": "参加した", "posted": "意見を出した",
                    "voted": "投票した", "stayed": "最後までいた"}
FUNNEL_STAGES_EN = {"invited": "Invited", "opened": "Opened the link", "joined": "Joined", "posted": "Posted an idea",
                    "voted": "Voted", "stayed": "Stayed to the end"}


def _funnel(m: Meeting, labels: Labels) -> Dataset:
    """One row per line of the funnel: everyone, each table, each group value, each quota (counts
    under 5 empty, see services/funnel.py)."""
    from meeting.services import funnel

    data = funnel.funnel(m.id)
    fields = [_f("scope", "範囲（overall 全体 / table テーブル / category 属性 / quota 割り当て）",
                 "Scope (overall / table / category / quota)"),
              _f("group", "テーブル名または属性の名前", "Table name or category"),
              _f("value", "属性の値", "Category value"),
              _f("quota_min", "割り当ての最小", "Quota minimum"), _f("quota_max", "割り当ての最大", "Quota maximum")]
    fields += [_f(s, f"{FUNNEL_STAGES_JA[s]}（人数、5人未満は空）", f"{FUNNEL_STAGES_EN[s]} (people; empty under 5)")
               for s in funnel.STAGES]
    rows = [["overall", "", "", None, None, *(data["overall"][s] for s in funnel.STAGES)]]
    rows += [["table", r["table"], "", None, None, *(r[s] for s in funnel.STAGES)] for r in data["tables"]]
    rows += [["category", r["category"], r["value"], None, None, *(r[s] for s in funnel.STAGES)]
             for r in data["categories"]]
    rows += [["quota", r["category"], r["value"], r["min"], r["max"], *(r[s] for s in funnel.STAGES)]
             for r in data["quotas"]]
    return Dataset("funnel", "参加の流れ", "Participation funnel", fields, rows)


DATASET_HOOKS.append(_funnel)

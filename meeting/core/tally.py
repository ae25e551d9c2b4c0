"""Count ballots for every poll kind, and check a ballot before it is stored.

Pure functions over plain data; no I/O. Option ids are any hashable values (str or int).

Ballot forms (one ballot = one participant's answer to one poll)::

    agree     {"vote": "agree" | "disagree" | "pass"}        one statement
    single    {"option": id}
    approval  {"options": [id, ...]}                          each id at most once
    dots      {"dots": {id: n, ...}}                          n >= 0 integers
    ranking   {"ranking": [id, [id, id], id, ...]}            best first; a nested list is
                                                              a tie; unranked options tie last
    score     {"scores": {id: 1..5 | None, ...}}              None = "no opinion"
    survey    {"answers": {question: 1..5 | None, ...}}       one wave (before or after)
    text      {"text": "..."}                                 an answer in the resident's words

Rules (per poll, all optional)::

    approval  {"max_approvals": N, "min_approvals": 1}
    dots      {"dots": N, "max_per_option": M, "exact": False}  (exact: all N must be spent)
    ranking   {"min_ranked": 1, "max_ranked": None}
    score     {"min": 1, "max": 5}
    survey    {"min": 1, "max": 5}
    text      {"max_length": 500}

Error codes raised by :func:`validate_ballot` as ``BallotError(code, params)``:

    malformed           ballot is not of the documented form      {"field"}
    empty               nothing chosen / ranked / scored          {}
    unknown_option      an id not among the options               {"option"}
    duplicate_option    the same id twice in an approval          {"option"}
    duplicate_rank      the same id twice in a ranking            {"option"}
    invalid_vote        agree vote not agree/disagree/pass        {"value"}
    out_of_range        score, answer or dot count outside range  {"option", "value", "min", "max"}
    too_many_approvals  more approvals than allowed               {"max", "count"}
    too_few_approvals   fewer approvals than required             {"min", "count"}
    too_many_dots       more dots than the voter has              {"max", "count"}
    too_few_dots        not all dots spent when "exact"           {"required", "count"}
    too_many_on_one     more dots on one option than allowed      {"option", "max", "count"}
    too_few_ranked      fewer options ranked than required        {"min", "count"}
    too_many_ranked     more options ranked than allowed          {"max", "count"}
    too_long            a text answer beyond its length           {"max", "count"}
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Mapping, Sequence

KINDS = ("agree", "single", "approval", "dots", "ranking", "score", "survey", "text")
TEXT_MAX = 500
AGREE_VALUES = ("agree", "disagree", "pass")


class BallotError(ValueError):
    """A ballot breaks the poll's rules; ``code`` is stable, ``params`` fill the message."""

    def __init__(self, code: str, **params):
        super().__init__(f"{code} {params}" if params else code)
        self.code = code
        self.params = params


# --------------------------------------------------------------------------- validation


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _known(option, options: Sequence) -> None:
    if option not in options:
        raise BallotError("unknown_option", option=option)


def validate_ballot(kind: str, options: Sequence[Hashable], rules: Mapping | None, ballot) -> None:
    """Raise BallotError if ballot is not a valid ballot of this kind for these options."""
    rules = rules or {}
    if not isinstance(ballot, Mapping):
        raise BallotError("malformed", field="ballot")
    check = _VALIDATORS.get(kind)
    if check is None:
        raise ValueError(f"unknown poll kind {kind!r}")
    check(list(options), rules, ballot)


def _v_text(options, rules, ballot):
    text = ballot.get("text")
    if text is None:
        raise BallotError("empty")
    if not isinstance(text, str):
        raise BallotError("malformed", field="text")
    if not text.strip():
        raise BallotError("empty")
    hi = rules.get("max_length", TEXT_MAX)
    if len(text.strip()) > hi:
        raise BallotError("too_long", max=hi, count=len(text.strip()))


def _v_agree(options, rules, ballot):
    value = ballot.get("vote")
    if value is None:
        raise BallotError("empty")
    if value not in AGREE_VALUES:
        raise BallotError("invalid_vote", value=value)


def _v_single(options, rules, ballot):
    option = ballot.get("option")
    if option is None:
        raise BallotError("empty")
    _known(option, options)


def _v_approval(options, rules, ballot):
    chosen = ballot.get("options")
    if chosen is None:
        raise BallotError("empty")
    if not isinstance(chosen, (list, tuple)):
        raise BallotError("malformed", field="options")
    seen = set()
    for o in chosen:
        _known(o, options)
        if o in seen:
            raise BallotError("duplicate_option", option=o)
        seen.add(o)
    lo = rules.get("min_approvals", 1)
    hi = rules.get("max_approvals")
    if not chosen and lo > 0:
        raise BallotError("empty")
    if len(chosen) < lo:
        raise BallotError("too_few_approvals", min=lo, count=len(chosen))
    if hi is not None and len(chosen) > hi:
        raise BallotError("too_many_approvals", max=hi, count=len(chosen))


def _v_dots(options, rules, ballot):
    dots = ballot.get("dots")
    if dots is None:
        raise BallotError("empty")
    if not isinstance(dots, Mapping):
        raise BallotError("malformed", field="dots")
    total = 0
    cap = rules.get("max_per_option")
    budget = rules.get("dots")
    for o, n in dots.items():
        _known(o, options)
        if not _is_int(n) or n < 0:
            raise BallotError("out_of_range", option=o, value=n, min=0, max=cap if cap is not None else budget)
        if cap is not None and n > cap:
            raise BallotError("too_many_on_one", option=o, max=cap, count=n)
        total += n
    if total == 0:
        raise BallotError("empty")
    if budget is not None and total > budget:
        raise BallotError("too_many_dots", max=budget, count=total)
    if budget is not None and rules.get("exact") and total < budget:
        raise BallotError("too_few_dots", required=budget, count=total)


def _ranking_tiers(ranking) -> list[list]:
    return [list(item) if isinstance(item, (list, tuple)) else [item] for item in ranking]


def _v_ranking(options, rules, ballot):
    ranking = ballot.get("ranking")
    if ranking is None:
        raise BallotError("empty")
    if not isinstance(ranking, (list, tuple)):
        raise BallotError("malformed", field="ranking")
    seen = set()
    for tier in _ranking_tiers(ranking):
        if not tier:
            raise BallotError("malformed", field="ranking")
        for o in tier:
            _known(o, options)
            if o in seen:
                raise BallotError("duplicate_rank", option=o)
            seen.add(o)
    if not seen:
        raise BallotError("empty")
    lo = rules.get("min_ranked", 1)
    hi = rules.get("max_ranked")
    if len(seen) < lo:
        raise BallotError("too_few_ranked", min=lo, count=len(seen))
    if hi is not None and len(seen) > hi:
        raise BallotError("too_many_ranked", max=hi, count=len(seen))


def _v_scale(key):
    def check(options, rules, ballot):
        values = ballot.get(key)
        if values is None or (isinstance(values, Mapping) and not values):
            raise BallotError("empty")
        if not isinstance(values, Mapping):
            raise BallotError("malformed", field=key)
        lo, hi = rules.get("min", 1), rules.get("max", 5)
        for o, v in values.items():
            _known(o, options)
            if v is not None and (not _is_int(v) or not lo <= v <= hi):
                raise BallotError("out_of_range", option=o, value=v, min=lo, max=hi)
    return check


_VALIDATORS = {
    "agree": _v_agree,
    "single": _v_single,
    "approval": _v_approval,
    "dots": _v_dots,
    "ranking": _v_ranking,
    "score": _v_scale("scores"),
    "survey": _v_scale("answers"),
    "text": _v_text,
}

# --------------------------------------------------------------------------- results


def _winners(counts: Mapping) -> list:
    if not counts:
        return []
    top = max(counts.values())
    return [o for o, n in counts.items() if n == top] if top > 0 else []


@dataclass(frozen=True)
class AgreeTally:
    agree: int
    disagree: int
    pass_: int
    total: int  # everyone who voted, passes included
    agree_share: float | None  # agree / total
    agree_share_decided: float | None  # agree / (agree + disagree)


def tally_agree(ballots: Iterable[Mapping]) -> AgreeTally:
    """Count agree / disagree / pass votes on one statement."""
    n = {v: 0 for v in AGREE_VALUES}
    for b in ballots:
        n[b["vote"]] += 1
    total = sum(n.values())
    decided = n["agree"] + n["disagree"]
    return AgreeTally(n["agree"], n["disagree"], n["pass"], total,
                      n["agree"] / total if total else None,
                      n["agree"] / decided if decided else None)


@dataclass(frozen=True)
class CountTally:
    """Counts per option (votes, approvals or dots), with shares and the winners (ties kept)."""

    counts: dict
    ballots: int
    shares: dict  # count / ballots (single, approval) or count / all dots (dots)
    winners: list
    voters: dict = field(default_factory=dict)  # dots: people who put at least one dot


def tally_single(options: Sequence, ballots: Iterable[Mapping]) -> CountTally:
    counts = {o: 0 for o in options}
    n = 0
    for b in ballots:
        counts[b["option"]] += 1
        n += 1
    return CountTally(counts, n, {o: c / n if n else 0.0 for o, c in counts.items()}, _winners(counts))


def tally_approval(options: Sequence, ballots: Iterable[Mapping]) -> CountTally:
    """Approvals per option; share = share of ballots approving it."""
    counts = {o: 0 for o in options}
    n = 0
    for b in ballots:
        for o in set(b["options"]):
            counts[o] += 1
        n += 1
    return CountTally(counts, n, {o: c / n if n else 0.0 for o, c in counts.items()}, _winners(counts))


def tally_dots(options: Sequence, ballots: Iterable[Mapping]) -> CountTally:
    """Dots per option; share = share of all dots placed."""
    counts = {o: 0 for o in options}
    voters = {o: 0 for o in options}
    n = 0
    for b in ballots:
        for o, k in b["dots"].items():
            counts[o] += k
            voters[o] += k > 0
        n += 1
    total = sum(counts.values())
    return CountTally(counts, n, {o: c / total if total else 0.0 for o, c in counts.items()},
                      _winners(counts), voters)


@dataclass(frozen=True)
class RankingTally:
    options: list
    ballots: int
    pairwise: dict  # (a, b) -> voters preferring a to b
    strongest: dict  # (a, b) -> strength of the strongest path from a to b (Schulze)
    order: list[list]  # Schulze result, best first; options in one inner list are tied
    winners: list  # first tier of order
    condorcet_winner: object | None  # beats every other option head to head, if any
    borda: dict  # option -> Borda points (n-1 for first ... 0 for last; ties share)
    borda_order: list[list]


def tally_ranking(options: Sequence, ballots: Iterable[Mapping]) -> RankingTally:
    """Schulze (winning votes) with Borda beside it.

    A ballot's unranked options tie below every ranked option. Ties in the result are
    reported, never broken: ``order`` is a list of tiers.
    """
    opts = list(options)
    idx = {o: i for i, o in enumerate(opts)}
    m = len(opts)
    d = [[0] * m for _ in range(m)]
    borda = [0.0] * m
    n = 0
    for b in ballots:
        n += 1
        tiers = [[idx[o] for o in t] for t in _ranking_tiers(b["ranking"])]
        ranked = {i for t in tiers for i in t}
        rest = [i for i in range(m) if i not in ranked]
        if rest:
            tiers.append(rest)
        pos = 0
        above: list[int] = []
        for t in tiers:
            # A tier occupying positions pos..pos+len-1 shares their points equally.
            pts = sum(m - 1 - p for p in range(pos, pos + len(t))) / len(t)
            for i in t:
                borda[i] += pts
                for a in above:
                    d[a][i] += 1
            above.extend(t)
            pos += len(t)
    p = [[d[i][j] if d[i][j] > d[j][i] else 0 for j in range(m)] for i in range(m)]
    for i in range(m):
        for j in range(m):
            if i == j:
                continue
            for k in range(m):
                if k not in (i, j):
                    p[j][k] = max(p[j][k], min(p[j][i], p[i][k]))
    beats = lambda a, b: p[a][b] > p[b][a]  # noqa: E731 - transitive for Schulze
    order = _tiers(range(m), beats)
    condorcet = [i for i in range(m) if all(d[i][j] > d[j][i] for j in range(m) if j != i)]
    borda_order = _tiers(range(m), lambda a, b: borda[a] > borda[b])
    name = lambda tiers: [[opts[i] for i in t] for t in tiers]  # noqa: E731
    return RankingTally(
        options=opts,
        ballots=n,
        pairwise={(opts[i], opts[j]): d[i][j] for i in range(m) for j in range(m) if i != j},
        strongest={(opts[i], opts[j]): p[i][j] for i in range(m) for j in range(m) if i != j},
        order=name(order),
        winners=name(order[:1])[0] if order else [],
        condorcet_winner=opts[condorcet[0]] if len(condorcet) == 1 and m > 1 else None,
        borda={opts[i]: borda[i] for i in range(m)},
        borda_order=name(borda_order),
    )


def _tiers(items, beats) -> list[list[int]]:
    """Split items into tiers: each tier holds those not beaten by anything left."""
    left = list(items)
    tiers = []
    while left:
        top = [a for a in left if not any(beats(b, a) for b in left if b != a)]
        if not top:  # only possible if `beats` is not transitive; keep the rest tied
            top = left
        tiers.append(top)
        left = [a for a in left if a not in top]
    return tiers


@dataclass(frozen=True)
class ScaleSummary:
    n: int  # answers on the scale
    no_opinion: int
    mean: float | None
    median: float | None
    distribution: dict  # value -> count, every value of the scale present


def _summary(values: list, no_opinion: int, lo: int, hi: int) -> ScaleSummary:
    dist = {v: 0 for v in range(lo, hi + 1)}
    for v in values:
        dist[v] += 1
    return ScaleSummary(len(values), no_opinion,
                        statistics.fmean(values) if values else None,
                        float(statistics.median(values)) if values else None, dist)


def tally_score(options: Sequence, ballots: Iterable[Mapping], lo: int = 1, hi: int = 5) -> dict:
    """Per option: mean, median and distribution of scores; "no opinion" is counted apart."""
    values = {o: [] for o in options}
    none = {o: 0 for o in options}
    for b in ballots:
        for o, v in b["scores"].items():
            if v is None:
                none[o] += 1
            else:
                values[o].append(v)
    return {o: _summary(values[o], none[o], lo, hi) for o in options}


@dataclass(frozen=True)
class SurveyChange:
    """One question asked before and after deliberation (Deliberative Polling)."""

    before: ScaleSummary
    after: ScaleSummary
    mean_change: float | None  # mean after - mean before, over everyone who answered
    paired: int  # respondents with an answer on the scale both times
    paired_mean_change: float | None  # mean of (after - before) over them
    share_moved: float | None  # share of them whose answer changed
    share_up: float | None
    share_down: float | None
    changes: dict  # respondent -> after - before


def tally_survey(
    questions: Sequence,
    before: Mapping[Hashable, Mapping],
    after: Mapping[Hashable, Mapping],
    lo: int = 1,
    hi: int = 5,
) -> dict:
    """Compare two waves of the same questions; ``before``/``after`` map respondent -> ballot."""
    out = {}
    for q in questions:
        def wave(w):
            vals, none, by = [], 0, {}
            for r, b in w.items():
                if q not in b["answers"]:
                    continue
                v = b["answers"][q]
                if v is None:
                    none += 1
                else:
                    vals.append(v)
                    by[r] = v
            return _summary(vals, none, lo, hi), by
        s0, b0 = wave(before)
        s1, b1 = wave(after)
        changes = {r: b1[r] - b0[r] for r in b0 if r in b1}
        k = len(changes)
        out[q] = SurveyChange(
            before=s0,
            after=s1,
            mean_change=s1.mean - s0.mean if s0.n and s1.n else None,
            paired=k,
            paired_mean_change=statistics.fmean(changes.values()) if k else None,
            share_moved=sum(c != 0 for c in changes.values()) / k if k else None,
            share_up=sum(c > 0 for c in changes.values()) / k if k else None,
            share_down=sum(c < 0 for c in changes.values()) / k if k else None,
            changes=changes,
        )
    return out


def tally(kind: str, options: Sequence, ballots: Iterable[Mapping], rules: Mapping | None = None):
    """Tally valid ballots of one poll (survey: pass ``ballots=(before, after)`` mappings)."""
    rules = rules or {}
    if kind == "agree":
        return tally_agree(ballots)
    if kind == "single":
        return tally_single(options, ballots)
    if kind == "approval":
        return tally_approval(options, ballots)
    if kind == "dots":
        return tally_dots(options, ballots)
    if kind == "ranking":
        return tally_ranking(options, ballots)
    if kind == "score":
        return tally_score(options, ballots, rules.get("min", 1), rules.get("max", 5))
    if kind == "survey":
        before, after = ballots
        return tally_survey(options, before, after, rules.get("min", 1), rules.get("max", 5))
    raise ValueError(f"unknown poll kind {kind!r}")

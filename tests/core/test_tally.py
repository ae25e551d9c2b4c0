"""Hand-worked examples for every poll kind and every ballot error code."""
import pytest

from meeting.core.tally import (
    BallotError,
    tally,
    tally_agree,
    tally_approval,
    tally_dots,
    tally_ranking,
    tally_score,
    tally_single,
    tally_survey,
    validate_ballot,
)


def rank(*order, times=1):
    return [{"ranking": list(order)}] * times


def error(kind, options, rules, ballot):
    with pytest.raises(BallotError) as exc:
        validate_ballot(kind, options, rules, ballot)
    return exc.value.code, exc.value.params


# --------------------------------------------------------------------------- agree


def test_agree_counts_and_shares():
    t = tally_agree([{"vote": "agree"}, {"vote": "agree"}, {"vote": "disagree"}, {"vote": "pass"}])
    assert (t.agree, t.disagree, t.pass_, t.total) == (2, 1, 1, 4)
    assert t.agree_share == 0.5
    assert t.agree_share_decided == pytest.approx(2 / 3)


def test_agree_empty_tally_has_no_share():
    t = tally_agree([])
    assert t.total == 0 and t.agree_share is None


def test_agree_validation():
    validate_ballot("agree", [], None, {"vote": "pass"})
    assert error("agree", [], None, {"vote": "maybe"}) == ("invalid_vote", {"value": "maybe"})
    assert error("agree", [], None, {})[0] == "empty"
    assert error("agree", [], None, "agree")[0] == "malformed"


# --------------------------------------------------------------------------- single


def test_single_counts_winner_and_tie():
    t = tally_single(["a", "b", "c"], [{"option": "a"}, {"option": "b"}, {"option": "a"}])
    assert t.counts == {"a": 2, "b": 1, "c": 0}
    assert t.shares["a"] == pytest.approx(2 / 3)
    assert t.winners == ["a"]
    assert tally_single(["a", "b"], [{"option": "a"}, {"option": "b"}]).winners == ["a", "b"]
    assert tally_single(["a", "b"], []).winners == []


def test_single_validation():
    validate_ballot("single", ["a", "b"], {}, {"option": "b"})
    assert error("single", ["a", "b"], {}, {"option": "z"}) == ("unknown_option", {"option": "z"})
    assert error("single", ["a", "b"], {}, {})[0] == "empty"


# --------------------------------------------------------------------------- approval


def test_approval_counts():
    ballots = [{"options": ["a", "b"]}, {"options": ["a"]}, {"options": ["c", "b"]}, {"options": ["b"]}]
    t = tally_approval(["a", "b", "c"], ballots)
    assert t.counts == {"a": 2, "b": 3, "c": 1}
    assert t.ballots == 4
    assert t.shares["b"] == 0.75
    assert t.winners == ["b"]


def test_approval_limits():
    rules = {"max_approvals": 2}
    validate_ballot("approval", "abc", rules, {"options": ["a", "c"]})
    assert error("approval", "abc", rules, {"options": ["a", "b", "c"]}) == (
        "too_many_approvals", {"max": 2, "count": 3})
    assert error("approval", "abc", rules, {"options": ["a", "a"]}) == ("duplicate_option", {"option": "a"})
    assert error("approval", "abc", rules, {"options": []})[0] == "empty"
    assert error("approval", "abc", rules, {"options": ["x"]})[0] == "unknown_option"
    assert error("approval", "abc", {"min_approvals": 2}, {"options": ["a"]}) == (
        "too_few_approvals", {"min": 2, "count": 1})
    assert error("approval", "abc", rules, {"options": "a"})[0] == "malformed"


# --------------------------------------------------------------------------- dots


def test_dots_counts_shares_and_voters():
    ballots = [{"dots": {"a": 3, "b": 2}}, {"dots": {"a": 1, "c": 3}}, {"dots": {"b": 2}}]
    t = tally_dots(["a", "b", "c"], ballots)
    assert t.counts == {"a": 4, "b": 4, "c": 3}
    assert t.shares["c"] == pytest.approx(3 / 11)
    assert t.voters == {"a": 2, "b": 2, "c": 1}
    assert t.winners == ["a", "b"]


def test_dots_limits():
    rules = {"dots": 5, "max_per_option": 3}
    validate_ballot("dots", "abc", rules, {"dots": {"a": 3, "b": 2}})
    validate_ballot("dots", "abc", rules, {"dots": {"a": 1, "b": 0}})  # unspent dots are fine
    assert error("dots", "abc", rules, {"dots": {"a": 4}}) == (
        "too_many_on_one", {"option": "a", "max": 3, "count": 4})
    assert error("dots", "abc", rules, {"dots": {"a": 3, "b": 3}}) == ("too_many_dots", {"max": 5, "count": 6})
    assert error("dots", "abc", rules, {"dots": {"a": -1}})[0] == "out_of_range"
    assert error("dots", "abc", rules, {"dots": {"a": 1.5}})[0] == "out_of_range"
    assert error("dots", "abc", rules, {"dots": {"z": 1}})[0] == "unknown_option"
    assert error("dots", "abc", rules, {"dots": {}})[0] == "empty"
    assert error("dots", "abc", rules, {"dots": {"a": 0}})[0] == "empty"
    assert error("dots", "abc", {**rules, "exact": True}, {"dots": {"a": 2}}) == (
        "too_few_dots", {"required": 5, "count": 2})


# --------------------------------------------------------------------------- ranking

# The 45-voter, 5-option example that is the standard illustration of the Schulze method.
SCHULZE_45 = (
    rank(*"ACBED", times=5) + rank(*"ADECB", times=5) + rank(*"BEDAC", times=8)
    + rank(*"CABED", times=3) + rank(*"CAEBD", times=7) + rank(*"CBADE", times=2)
    + rank(*"DCEBA", times=7) + rank(*"EBADC", times=8)
)


def test_schulze_standard_example():
    t = tally_ranking("ABCDE", SCHULZE_45)
    assert t.ballots == 45
    d = t.pairwise
    assert [d["A", x] for x in "BCDE"] == [20, 26, 30, 22]
    assert [d["E", x] for x in "ABCD"] == [23, 27, 21, 31]
    p = t.strongest
    assert [p["A", x] for x in "BCDE"] == [28, 28, 30, 24]
    assert [p["E", x] for x in "ABCD"] == [25, 28, 28, 31]
    assert t.order == [["E"], ["A"], ["C"], ["B"], ["D"]]
    assert t.winners == ["E"]
    assert t.condorcet_winner is None


def test_condorcet_cycle_resolved_by_strength():
    # 4 A>B>C, 3 B>C>A, 2 C>A>B: A beats B 6-3, B beats C 7-2, C beats A 5-4: a cycle.
    t = tally_ranking("ABC", rank(*"ABC", times=4) + rank(*"BCA", times=3) + rank(*"CAB", times=2))
    assert (t.pairwise["A", "B"], t.pairwise["B", "C"], t.pairwise["C", "A"]) == (6, 7, 5)
    assert t.condorcet_winner is None
    # Strongest paths: A->C via B is min(6, 7) = 6 > C->A 5; B->A via C is min(7, 5) = 5 < 6.
    assert t.strongest["A", "C"] == 6 and t.strongest["B", "A"] == 5
    assert t.order == [["A"], ["B"], ["C"]]
    # Borda: A 4*2 + 2*1 = 10, B 4*1 + 3*2 = 10, C 3*1 + 2*2 = 7.
    assert t.borda == {"A": 10, "B": 10, "C": 7}
    assert t.borda_order == [["A", "B"], ["C"]]


def test_symmetric_cycle_is_a_three_way_tie():
    t = tally_ranking("ABC", rank(*"ABC") + rank(*"BCA") + rank(*"CAB"))
    assert t.order == [["A", "B", "C"]]
    assert t.winners == ["A", "B", "C"]
    assert t.condorcet_winner is None
    assert t.borda == {"A": 3, "B": 3, "C": 3}


def test_condorcet_winner_found():
    t = tally_ranking("ABC", rank("B", "A", "C", times=2) + rank("A", "B", "C"))
    assert t.condorcet_winner == "B"
    assert t.order == [["B"], ["A"], ["C"]]


def test_partial_rankings_leave_unranked_tied_last():
    # Two voters rank only A, two rank only B. 4 options: a lone ranked option gets 3 Borda
    # points, the three unranked share positions 2..4: (2 + 1 + 0) / 3 = 1 each.
    t = tally_ranking("ABCD", [{"ranking": ["A"]}] * 2 + [{"ranking": ["B"]}] * 2)
    assert t.pairwise["A", "C"] == 2 and t.pairwise["C", "A"] == 0
    assert t.pairwise["A", "B"] == 2 and t.pairwise["B", "A"] == 2
    assert t.order == [["A", "B"], ["C", "D"]]
    assert t.borda == {"A": 8, "B": 8, "C": 4, "D": 4}


def test_tied_options_within_a_ballot():
    t = tally_ranking("ABC", [{"ranking": [["A", "B"], "C"]}])
    assert t.borda == {"A": 1.5, "B": 1.5, "C": 0}
    assert t.pairwise["A", "B"] == 0 and t.pairwise["A", "C"] == 1
    assert t.order == [["A", "B"], ["C"]]


def test_ranking_validation():
    validate_ballot("ranking", "ABC", {}, {"ranking": ["A", ["B", "C"]]})
    assert error("ranking", "ABC", {}, {"ranking": ["A", "B", "A"]}) == ("duplicate_rank", {"option": "A"})
    assert error("ranking", "ABC", {}, {"ranking": ["A", ["A", "B"]]})[0] == "duplicate_rank"
    assert error("ranking", "ABC", {}, {"ranking": ["Z"]}) == ("unknown_option", {"option": "Z"})
    assert error("ranking", "ABC", {}, {"ranking": []})[0] == "empty"
    assert error("ranking", "ABC", {"min_ranked": 2}, {"ranking": ["A"]}) == (
        "too_few_ranked", {"min": 2, "count": 1})
    assert error("ranking", "ABC", {"max_ranked": 2}, {"ranking": list("ABC")})[0] == "too_many_ranked"


# --------------------------------------------------------------------------- score


def test_score_excludes_no_opinion():
    ballots = [
        {"scores": {"x": 5, "y": None}},
        {"scores": {"x": 4, "y": 2}},
        {"scores": {"x": None, "y": None}},
        {"scores": {"x": 1}},
    ]
    t = tally_score(["x", "y"], ballots)
    x, y = t["x"], t["y"]
    assert (x.n, x.no_opinion) == (3, 1)
    assert x.mean == pytest.approx(10 / 3)
    assert x.median == 4
    assert x.distribution == {1: 1, 2: 0, 3: 0, 4: 1, 5: 1}
    assert (y.n, y.no_opinion, y.mean, y.median) == (1, 2, 2, 2)


def test_score_even_count_median_and_empty():
    t = tally_score(["x"], [{"scores": {"x": 2}}, {"scores": {"x": 5}}, {"scores": {"x": None}}])
    assert t["x"].median == 3.5 and t["x"].mean == 3.5
    assert tally_score(["x"], [{"scores": {"x": None}}])["x"].mean is None


def test_score_validation():
    validate_ballot("score", "xy", {}, {"scores": {"x": 1, "y": None}})
    assert error("score", "xy", {}, {"scores": {"x": 6}}) == (
        "out_of_range", {"option": "x", "value": 6, "min": 1, "max": 5})
    assert error("score", "xy", {}, {"scores": {"x": 0}})[0] == "out_of_range"
    assert error("score", "xy", {}, {"scores": {"x": True}})[0] == "out_of_range"
    assert error("score", "xy", {}, {"scores": {"z": 3}})[0] == "unknown_option"
    assert error("score", "xy", {}, {"scores": {}})[0] == "empty"


# --------------------------------------------------------------------------- survey


def test_survey_before_after_change():
    before = {
        "r1": {"answers": {"q": 2}},
        "r2": {"answers": {"q": 3}},
        "r3": {"answers": {"q": 4}},
        "r4": {"answers": {"q": None}},
        "r5": {"answers": {"q": 5}},  # left before the second wave
    }
    after = {
        "r1": {"answers": {"q": 4}},
        "r2": {"answers": {"q": 3}},
        "r3": {"answers": {"q": 3}},
        "r4": {"answers": {"q": 2}},  # no opinion before: not paired
        "r6": {"answers": {"q": 1}},  # joined later
    }
    c = tally_survey(["q"], before, after)["q"]
    # Before: 2, 3, 4, 5 -> mean 3.5; after: 4, 3, 3, 2, 1 -> mean 2.6.
    assert c.before.mean == 3.5 and c.before.no_opinion == 1
    assert c.after.mean == pytest.approx(2.6)
    assert c.after.distribution == {1: 1, 2: 1, 3: 2, 4: 1, 5: 0}
    assert c.mean_change == pytest.approx(-0.9)
    # Paired: r1 +2, r2 0, r3 -1.
    assert c.paired == 3
    assert c.changes == {"r1": 2, "r2": 0, "r3": -1}
    assert c.paired_mean_change == pytest.approx(1 / 3)
    assert c.share_moved == pytest.approx(2 / 3)
    assert c.share_up == pytest.approx(1 / 3) and c.share_down == pytest.approx(1 / 3)


def test_survey_question_nobody_answered_twice():
    c = tally_survey(["q"], {"a": {"answers": {"q": 3}}}, {"b": {"answers": {"q": 4}}})["q"]
    assert c.paired == 0 and c.paired_mean_change is None and c.share_moved is None
    assert c.mean_change == 1


def test_survey_validation():
    assert error("survey", ["q"], {"max": 7}, {"answers": {"q": 8}})[0] == "out_of_range"
    validate_ballot("survey", ["q"], {"max": 7}, {"answers": {"q": 7}})


# --------------------------------------------------------------------------- dispatch


def test_tally_dispatches_every_kind():
    assert tally("agree", [], [{"vote": "agree"}]).agree == 1
    assert tally("single", "ab", [{"option": "b"}]).winners == ["b"]
    assert tally("approval", "ab", [{"options": ["a"]}]).counts["a"] == 1
    assert tally("dots", "ab", [{"dots": {"b": 2}}]).counts["b"] == 2
    assert tally("ranking", "ab", [{"ranking": ["b"]}]).winners == ["b"]
    assert tally("score", "ab", [{"scores": {"a": 7}}], {"max": 7})["a"].distribution[7] == 1
    before, after = {"r": {"answers": {"q": 1}}}, {"r": {"answers": {"q": 2}}}
    assert tally("survey", ["q"], (before, after))["q"].paired_mean_change == 1
    with pytest.raises(ValueError):
        tally("lottery", "ab", [])
    with pytest.raises(ValueError):
        validate_ballot("lottery", "ab", {}, {})

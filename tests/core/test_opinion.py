"""Opinion map: groups, repness, consensus, warm updates, tables and breakdowns."""
import csv
import os
from pathlib import Path

import numpy as np
import pytest

from meeting.core.opinion import (
    adjusted_rand_index,
    breakdown,
    bridging_statements,
    compute_map,
    kmeans,
    silhouette,
    table_agreement,
    update,
)
from meeting.core.opinion.repness import prop_test, two_prop_test


def two_camps(n_per_camp=20, n_statements=12, seed=1, noise=0.1):
    """Camp A agrees with statements 0-5 and rejects 6-10, camp B the reverse; all agree with 11."""
    rng = np.random.default_rng(seed)
    votes = []
    for p in range(2 * n_per_camp):
        camp = p < n_per_camp
        for s in range(n_statements):
            if s == n_statements - 1:
                v = 1
            else:
                v = 1 if (s < 6) == camp else -1
                if rng.random() < noise:
                    v = 0
            votes.append((f"p{p}", s, v))
    return votes


def camp_labels(om):
    return [int(p[1:]) < 20 for p in om.participants]


def test_two_camps_are_found():
    om = compute_map(two_camps())
    assert om.k == 2
    assert om.in_conv.all()
    assert adjusted_rand_index(om.group, camp_labels(om)) == 1.0
    assert sorted(g.size for g in om.groups) == [20, 20]
    # Each group is represented by statements it agrees with more than the other group.
    for g in om.groups:
        camp_a = int(g.members[0][1:]) < 20
        for r in g.repness:
            favoured = (r.statement < 6) == camp_a
            assert r.direction == ("agree" if favoured else "disagree")
            assert r.repness > 1 and r.repness_test > 1.2816
    assert [c.statement for c in om.consensus["agree"]] == [11]
    assert om.consensus["disagree"] == []
    assert max(om.gac, key=om.gac.get) == 11


def test_camps_sit_apart_on_the_map():
    om = compute_map(two_camps())
    xy = np.c_[om.x, om.y]
    a = xy[np.array(camp_labels(om))]
    b = xy[~np.array(camp_labels(om))]
    assert np.linalg.norm(a.mean(0) - b.mean(0)) > 3 * max(a.std(0).max(), b.std(0).max())


def test_few_votes_are_not_grouped_but_are_placed_with_scaling():
    votes = two_camps() + [("newcomer", 0, 1), ("newcomer", 6, -1)]
    om = compute_map(votes)
    i = om.participants.index("newcomer")
    assert not om.in_conv[i] and om.group[i] == -1 and om.group_of("newcomer") is None
    # Two camp-A votes: scaled by sqrt(12/2) it lands on camp A's side, not at the origin.
    camp_a_x = om.x[:20].mean()
    assert np.sign(om.x[i]) == np.sign(camp_a_x)
    # Sparsity-aware scaling: sum over voted statements of (vote - mean) * loading, times
    # sqrt(12 statements / 2 votes).
    c0, c6 = om.statements.index(0), om.statements.index(6)
    raw = (1 - om.center[c0]) * om.components[:, c0] + (-1 - om.center[c6]) * om.components[:, c6]
    assert np.allclose([om.x[i], om.y[i]], raw * np.sqrt(12 / 2))
    assert abs(om.x[i]) > 0.4 * abs(camp_a_x)


def test_latest_vote_wins():
    votes = two_camps()
    om = compute_map(votes + [("p0", 0, -1)])
    assert om.state.raw[om.state.pindex["p0"], om.state.sindex[0]] == -1


def test_excluded_statements_are_never_reported():
    om = compute_map(two_camps(), excluded=[11, 0])
    assert om.consensus["agree"] == []
    assert all(r.statement not in (0, 11) for g in om.groups for r in g.repness)
    assert om.k == 2


def test_update_is_warm_stable_and_pure():
    votes = two_camps()
    om = compute_map(votes[:-12])  # the last participant not yet there
    before_group = om.group.copy()
    om2 = update(om, votes[-12:] + [("p0", 1, -1)])
    assert len(om.participants) == 39  # previous map unchanged
    assert np.array_equal(om.group, before_group)
    assert len(om2.participants) == 40
    # Same ids for the same people; result equal to a cold recompute up to label names.
    assert np.array_equal(om2.group[:39], before_group)
    cold = compute_map(votes + [("p0", 1, -1)])
    assert adjusted_rand_index(om2.group, cold.group) == 1.0
    assert np.allclose(np.abs(om2.x), np.abs(cold.x), atol=1e-6)


def test_inclusion_is_sticky():
    # 40 people vote on all 5 statements: the bar is min(7, 5) = 5, so all are in.
    votes = two_camps(n_statements=5)
    om = compute_map(votes)
    assert om.in_conv.sum() == 40
    # A newcomer votes on 8 new statements: the bar rises to 7, yet the 40 stay in.
    more = [("new", s, 1) for s in range(100, 108)]
    om2 = update(om, more)
    assert om2.in_conv.all()
    # A cold recompute lets in only the newcomer, then the 14 heaviest voters to reach 15.
    assert compute_map(votes + more).in_conv.sum() == 15


def test_k_smoother_waits_for_four_updates():
    om = compute_map(two_camps())
    st = om.state
    assert st.smoothed_k == 2
    st.last_k, st.k_count = 3, 3  # pretend 3 won the last 3 updates
    om2 = update(om, [("p0", 0, 1)])
    assert om2.state.k_count == 1 and om2.k == 2  # 2 won again: counter restarts


def test_empty_and_tiny_inputs():
    om = compute_map([])
    assert om.participants == [] and om.groups == [] and om.k == 0
    om = compute_map([("a", 1, 1), ("b", 1, -1)])
    assert om.in_conv.all()  # greedy fill up to 15 people
    assert sum(g.size for g in om.groups) == 2
    with pytest.raises(ValueError):
        compute_map([("a", 1, 2)])


def test_prop_and_two_prop_tests_by_hand():
    # 2*sqrt(11)*(10/11 - 1/2) = 2.71360
    assert prop_test(9.0, 10.0) == pytest.approx(2.71360, abs=1e-5)
    # pi1 = 10/11, pi2 = 2/11, pooled 12/22; z = (8/11) / sqrt(12/22 * 10/22 * 2/11) = 3.42540
    assert float(two_prop_test(9.0, 10.0, 1.0, 10.0)) == pytest.approx(3.42540, abs=1e-5)
    assert float(two_prop_test(5.0, 5.0, 5.0, 5.0)) == 0.0  # pooled share 1


def test_kmeans_first_distinct_init_and_weights():
    pts = np.array([[0.0, 0], [0, 0], [1, 0], [10, 0], [11, 0]])
    centers, labels = kmeans(pts, 2)
    assert labels.tolist() == [0, 0, 0, 1, 1]
    assert np.allclose(centers, [[1 / 3, 0], [10.5, 0]])
    c, lab = kmeans(np.array([[0.0, 0], [2, 0]]), 1, weights=np.array([3.0, 1.0]))
    assert np.allclose(c, [[0.5, 0]])


def test_silhouette_and_ari_by_hand():
    pts = np.array([[0.0, 0], [1, 0], [10, 0], [11, 0]])
    # s = (10.5-1)/10.5 and (9.5-1)/9.5, twice each.
    assert silhouette(pts, np.array([0, 0, 1, 1])) == pytest.approx((9.5 / 10.5 + 8.5 / 9.5) / 2)
    assert silhouette(pts, np.array([0, 1, 1, 1])) == pytest.approx((0 + (1 - 9.5) / 9.5 + 0.5 + 0.5) / 4)
    assert adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0]) == 1.0
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 0, 1]) == 0.0


# --------------------------------------------------------------------------- tables


def test_table_agreement_and_bridging():
    table_of = {f"p{i}": f"T{i // 5}" for i in range(15)}  # three tables of five
    votes = []
    for i in range(15):
        t = i // 5
        votes.append((f"p{i}", "bridge", 1 if i % 5 < 4 else -1))  # 4 of 5 agree everywhere
        votes.append((f"p{i}", "split", 1 if t == 0 else -1))  # only table 0 agrees
        votes.append((f"p{i}", "mostly", 1 if t < 2 else 0))  # two tables of three
    votes.append(("p0", "split", -1))  # a changed vote replaces the first one
    ta = table_agreement(votes, table_of)
    t0 = ta["T0"]["split"]
    assert (t0.agree, t0.disagree, t0.pass_, t0.seen) == (4, 1, 0, 5)
    assert ta["T2"]["mostly"].pass_ == 5 and ta["T2"]["mostly"].agree_share == 0
    bridges = bridging_statements(votes, table_of)
    assert [b.statement for b in bridges] == ["bridge", "mostly"]
    assert bridges[0].tables_agreeing == 3 and bridges[0].share_of_tables == 1.0
    assert bridges[0].score == pytest.approx(5 / 7)  # (4+1)/(5+2) at every table
    assert bridges[1].tables_agreeing == 2


# --------------------------------------------------------------------------- breakdown


def people(spec):
    answers, categories = {}, {}
    for cat, answer, n in spec:
        for _ in range(n):
            k = len(answers)
            answers[k], categories[k] = answer, cat
    return answers, categories


def assert_no_line_with_one_hidden(b):
    rows = [r + [t] for r, t in zip(b.cells, b.row_totals)] + [b.column_totals + [b.total]]
    for line in rows + [list(c) for c in zip(*rows)]:
        assert sum(v is None for v in line) != 1, line


def test_breakdown_suppresses_small_cells_and_their_complements():
    answers, categories = people([("20s", "yes", 10), ("20s", "no", 3), ("30s", "yes", 8),
                                  ("30s", "no", 9), ("40s", "yes", 12), ("40s", "no", 6)])
    b = breakdown(answers, categories)
    assert b.rows == ["20s", "30s", "40s"] and b.columns == ["no", "yes"]
    assert b.cells[0] == [None, None]  # 3 hidden, so 10 too (row total 13 is published)
    assert b.cells[1] == [9, 8]
    assert b.cells[2][0] is None  # complement in the "no" column (total 18 is published)
    assert b.row_totals == [13, 17, 18] and b.total == 48
    assert_no_line_with_one_hidden(b)


def test_breakdown_hides_small_categories_whole():
    answers, categories = people([("a", "yes", 20), ("a", "no", 20), ("b", "yes", 6), ("b", "no", 6),
                                  ("rare", "yes", 2)])
    categories[999] = None  # no category: left out
    answers[999] = "yes"
    b = breakdown(answers, categories, columns=["yes", "no", "pass"])
    i = b.rows.index("rare")
    assert b.cells[i] == [None, None, None] and b.row_totals[i] is None
    assert b.total == 54
    assert all(c[2] == 0 or c[2] is None for c in b.cells)
    for r in b.cells:
        assert all(v is None or v == 0 or v >= 5 for v in r)
    assert_no_line_with_one_hidden(b)


def test_breakdown_of_a_tiny_room_hides_everything():
    answers, categories = people([("a", "yes", 2), ("b", "no", 1)])
    b = breakdown(answers, categories)
    assert b.total is None and all(v is None for r in b.cells for v in r)


# --------------------------------------------------------------------------- Polis data


def shared_dir() -> Path:
    env = os.environ.get("MEETING_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared"


BIODIVERSITY = shared_dir() / "polis-data" / "scoop-hivemind.biodiversity"


@pytest.mark.skipif(not BIODIVERSITY.is_dir(), reason=f"Polis open data not found at {BIODIVERSITY}")
def test_biodiversity_matches_polis_groups():
    from meeting.imports.polis import read_polis_export

    export = read_polis_export(BIODIVERSITY)
    om = compute_map(export.votes, excluded=export.excluded)
    assert int(om.in_conv.sum()) == 441
    assert om.k == 2
    with (BIODIVERSITY / "participants-votes.csv").open() as f:
        polis = {int(r["participant"]): int(r["group-id"]) for r in csv.DictReader(f) if r["group-id"]}
    ours = {p: int(g) for p, g in zip(om.participants, om.group) if g >= 0}
    common = sorted(set(ours) & set(polis))
    assert len(common) == 441  # Polis also kept 2 sticky early voters we cannot know of
    assert adjusted_rand_index([ours[p] for p in common], [polis[p] for p in common]) >= 0.95

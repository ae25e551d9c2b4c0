"""Panel selection by lot: quotas, households, fairness, seeds, replacements."""
import csv
import itertools
import os
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog

from meeting.core.sortition import (
    InfeasibleQuotas,
    Instance,
    Pool,
    Quota,
    SortitionError,
    check_feasibility,
    draw,
    draw_public,
    legacy,
    leximin,
    lottery_tickets,
    maximin,
    panel_meets_quotas,
    replace,
    select,
)
from meeting.core.sortition.problem import compile_instance
from meeting.core.sortition.synthetic import town_instance


def small_town(n=40, k=8, seed=3, households=True):
    """A pool skewed to older people, with a few shared addresses."""
    rng = np.random.default_rng(seed)
    gender = rng.choice(["female", "male"], size=n, p=[0.6, 0.4]).tolist()
    age = rng.choice(["young", "middle", "old"], size=n, p=[0.15, 0.35, 0.5]).tolist()
    homes = [f"{i // 2} Main St" if i < 12 else f"{i} Elm St" for i in range(n)]
    quotas = [Quota("gender", "female", 4, 4), Quota("gender", "male", 4, 4),
              Quota("age", "young", 2, 3), Quota("age", "middle", 2, 3), Quota("age", "old", 2, 4)]
    return Instance(Pool([f"p{i}" for i in range(n)], {"gender": gender, "age": age},
                         homes if households else None), quotas, k)


def quota_counts(inst, members):
    c = compile_instance(inst)
    return c.member[:, members].sum(axis=1), c.lo, c.hi


@pytest.fixture(scope="module")
def town():
    return small_town()


@pytest.fixture(scope="module")
def town_leximin(town):
    return leximin(town)


def test_probabilities_sum_to_k_and_match_the_panels(town, town_leximin):
    r = town_leximin
    assert r.probabilities.sum() == pytest.approx(town.k, abs=1e-6)
    assert r.panel_probabilities.sum() == pytest.approx(1.0, abs=1e-9)
    assert np.all(r.panel_probabilities > 0)
    # each person's probability is the chance their group is picked times count/size
    for g, people in enumerate(r.groups):
        share = r.panel_probabilities @ r.panels[:, g] / len(people)
        assert np.allclose(r.probabilities[people], share, atol=1e-9)


def test_every_panel_in_the_distribution_meets_the_quotas(town, town_leximin):
    c = compile_instance(town)
    for counts in town_leximin.panels:
        members = [int(people[0]) for people, n_ in zip(town_leximin.groups, counts) for _ in range(n_)]
        assert counts.sum() == town.k
        per_quota = c.gm @ counts
        assert np.all(per_quota >= c.lo) and np.all(per_quota <= c.hi)
        assert members  # non-empty compositions


def test_quotas_and_households_hold_over_many_seeded_draws(town, town_leximin):
    homes = town.pool.households
    for seed in range(300):
        d = draw(town, town_leximin, seed=seed, alternates=3)
        counts, lo, hi = quota_counts(town, d.panel)
        assert len(set(d.panel)) == town.k
        assert np.all(counts >= lo) and np.all(counts <= hi), seed
        addresses = [homes[i] for i in d.panel]
        assert len(addresses) == len(set(addresses)), f"shared household with seed {seed}"
        assert not set(d.alternates) & set(d.panel)
        assert not {homes[i] for i in d.alternates} & set(addresses)
        assert panel_meets_quotas(town, d.panel)


def test_same_seed_same_panel_and_seeds_differ(town, town_leximin):
    a = draw(town, town_leximin, seed=42, alternates=5)
    b = draw(town, leximin(town), seed=42, alternates=5)  # recomputed from the same input
    assert a.panel == b.panel and a.alternates == b.alternates
    panels = {tuple(draw(town, town_leximin, seed=s).panel) for s in range(30)}
    assert len(panels) > 5


def test_draw_frequencies_follow_the_probabilities(town, town_leximin):
    hits = np.zeros(len(town.pool))
    runs = 2000
    for s in range(runs):
        hits[draw(town, town_leximin, seed=s).panel] += 1
    assert np.abs(hits / runs - town_leximin.probabilities).max() < 0.06


def feasible_panels(inst):
    """Every feasible panel of a tiny pool, as columns of a person x panel 0/1 matrix."""
    c = compile_instance(inst)
    homes = c.person_household
    panels = []
    for combo in itertools.combinations(range(c.n), c.k):
        counts = c.member[:, combo].sum(axis=1)
        hh = [homes[i] for i in combo if homes[i] >= 0]
        if np.all(counts >= c.lo) and np.all(counts <= c.hi) and len(hh) == len(set(hh)):
            panels.append(combo)
    A = np.zeros((c.n, len(panels)))
    for j, p in enumerate(panels):
        A[list(p), j] = 1
    return c, A


def brute_force_maximin(inst):
    c, A = feasible_panels(inst)
    # max t: A lam >= t, sum lam = 1
    P = A.shape[1]
    res = linprog(np.r_[np.zeros(P), -1], A_ub=np.c_[-A, np.ones(c.n)], b_ub=np.zeros(c.n),
                  A_eq=np.r_[np.ones(P), 0][None, :], b_eq=[1], bounds=[(0, None)] * P + [(None, None)])
    return -res.fun


def test_maximin_equals_brute_force_on_a_tiny_pool():
    inst = Instance(Pool([str(i) for i in range(9)],
                         {"g": list("aaaaaabbb"), "h": list("xyxyxyxyy")},
                         ["h1", "h1", "h2", "", "", "", "", "h3", "h3"]),
                    [Quota("g", "a", 1, 2), Quota("g", "b", 1, 2),
                     Quota("h", "x", 1, 3), Quota("h", "y", 1, 3)], 3)
    exact = brute_force_maximin(inst)
    assert maximin(inst).min_probability == pytest.approx(exact, abs=1e-5)
    lex = leximin(inst)
    assert lex.min_probability == pytest.approx(exact, abs=1e-5)


def test_leximin_raises_the_second_level_above_maximin():
    # Person 0 is the only "rare" one and must sit on every panel with probability <= ...:
    # quotas force exactly one rare person, so the rare pair shares probability 1.
    inst = Instance(Pool([str(i) for i in range(6)], {"t": ["rare", "rare", "c", "c", "c", "c"]}),
                    [Quota("t", "rare", 1, 1), Quota("t", "c", 1, 1)], 2)
    r = leximin(inst)
    assert np.allclose(r.probabilities, [0.5, 0.5, 0.25, 0.25, 0.25, 0.25], atol=1e-6)


def test_leximin_reaches_k_over_n_on_the_alternate_instance():
    # generated like the paper's "Alternate(200, 20)": one female conservative, 99 female
    # liberals, 100 male conservatives; every value needs at least 9 of 20
    values = [("female", "conservative")] + [("female", "liberal")] * 99 + [("male", "conservative")] * 100
    inst = Instance(Pool([str(i) for i in range(200)], {"gender": [v[0] for v in values],
                                                          "leaning": [v[1] for v in values]}),
                    [Quota("gender", "female", 9, 20), Quota("gender", "male", 9, 20),
                     Quota("leaning", "liberal", 9, 20), Quota("leaning", "conservative", 9, 20)], 20)
    r = leximin(inst)
    assert r.min_probability == pytest.approx(0.1, abs=1e-6)
    assert r.gini == pytest.approx(0.0, abs=1e-6)
    assert r.optimal
    legacy_result = legacy(inst, runs=300, seed=1)
    assert legacy_result.probabilities[0] < 0.05  # the greedy method starves the rare person
    assert legacy_result.probabilities.sum() == pytest.approx(20)


def test_groups_of_identical_people_get_equal_probabilities(town_leximin, town):
    c = compile_instance(town)
    for people in c.groups:
        assert np.ptp(town_leximin.probabilities[people]) < 1e-9


def test_progress_is_reported_in_order():
    calls = []
    r = leximin(small_town(seed=5), progress=lambda f, m: calls.append((f, m)))
    fractions = [f for f, _ in calls]
    assert fractions and fractions[-1] == 1.0
    assert all(0 <= f <= 1 for f in fractions)
    assert fractions == sorted(fractions)
    assert all(isinstance(m, str) and m for _, m in calls)
    # every level is announced once it is proven, in order, with how many people it fixed
    levels = [int(m.split()[1].rstrip(":")) for _, m in calls if m.startswith("Level ")]
    assert levels == list(range(1, r.levels + 1))
    last_level = [m for _, m in calls if m.startswith(f"Level {r.levels}:")][-1]
    assert f"{len(r.probabilities)} of {len(r.probabilities)} people fixed" in last_level


def test_infeasible_quotas_name_the_conflict_and_a_relaxation_that_works():
    inst = town_instance(200, 20, seed=2)
    tight = [Quota(q.category, q.value, q.min, q.max) for q in inst.quotas]
    # ask for at most 1 person over 60 although both minimums need more
    tight = [Quota(q.category, q.value, 0 if q.value in ("60-69", "70+") else q.min,
                   1 if q.value in ("60-69", "70+") else q.max) for q in tight]
    tight = [Quota(q.category, q.value, max(q.min, 7) if q.value in ("18-29",) else q.min,
                   q.max) for q in tight]
    bad = Instance(inst.pool, tight, inst.k)
    report = check_feasibility(bad)
    assert not report.feasible and report.relaxation_found
    assert report.relaxations
    for r in report.relaxations:
        assert r.bound in ("min", "max")
        assert r.message.startswith("Raise the maximum for" if r.bound == "max" else "Lower the minimum for")
    fixed = []
    by_key = {(r.category, r.value, r.bound): r.suggested for r in report.relaxations}
    for q in tight:
        fixed.append(Quota(q.category, q.value, by_key.get((q.category, q.value, "min"), q.min),
                           by_key.get((q.category, q.value, "max"), q.max)))
    assert check_feasibility(Instance(inst.pool, fixed, inst.k)).feasible
    with pytest.raises(InfeasibleQuotas) as exc:
        select(bad)
    assert "No panel meets the quotas" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_infeasible_sum_of_minimums_is_reported_in_words():
    inst = small_town()
    quotas = [Quota("gender", "female", 5, 6), Quota("gender", "male", 5, 6)] + inst.quotas[2:]
    report = check_feasibility(Instance(inst.pool, quotas, inst.k))
    assert not report.feasible
    assert any(i.kind == "category_min_sum" and i.category == "gender" for i in report.issues)
    assert {(r.category, r.bound) for r in report.relaxations} <= {("gender", "min")}
    assert "Lower the minimum for gender=" in report.message


def test_flex_limits_are_respected_by_the_relaxation():
    inst = small_town()
    quotas = [Quota("gender", "female", 5, 6, min_flex=5), Quota("gender", "male", 5, 6, min_flex=3)] \
        + inst.quotas[2:]
    report = check_feasibility(Instance(inst.pool, quotas, inst.k))
    assert [(r.value, r.bound, r.suggested) for r in report.relaxations] == [("male", "min", 3)]


def test_unknown_value_in_the_pool_is_a_clear_error():
    inst = small_town()
    inst.pool.features["age"][3] = "teen"
    with pytest.raises(SortitionError, match="teen"):
        leximin(inst)


def test_replacement_keeps_quotas_and_skips_confirmed_households(town, town_leximin):
    homes = town.pool.households
    for seed in range(15):
        d = draw(town, town_leximin, seed=seed)
        dropped = d.panel[:2]
        confirmed = d.panel[2:]
        rep = replace(town, confirmed, dropped, seed=seed)
        assert len(rep.members) == 2 == rep.open_seats
        assert not set(rep.members) & (set(confirmed) | set(dropped))
        full = confirmed + rep.members
        assert panel_meets_quotas(town, full), seed
        confirmed_homes = {homes[i] for i in confirmed}
        assert not {homes[i] for i in rep.members} & confirmed_homes
        assert replace(town, confirmed, dropped, seed=seed).members == rep.members


def test_replacement_with_too_many_confirmed_is_infeasible(town):
    females = [i for i, g in enumerate(town.pool.features["gender"]) if g == "female"]
    homes = town.pool.households
    picked, seen = [], set()
    for i in females:
        if homes[i] not in seen:
            picked.append(i)
            seen.add(homes[i])
        if len(picked) == 5:
            break
    with pytest.raises(InfeasibleQuotas) as exc:
        replace(town, picked, [])
    assert exc.value.report.issues[0].kind == "confirmed_above_max"


def test_legacy_panels_meet_quotas(town):
    r = legacy(town, runs=200, seed=4)
    assert r.probabilities.sum() == pytest.approx(town.k)
    for j in range(r.number_of_panels):
        assert panel_meets_quotas(town, [int(i) for i in np.flatnonzero(r.panels[j])])


def test_lottery_of_1000_tickets_and_public_draw(town, town_leximin):
    tickets = lottery_tickets(town_leximin, 1000, seed=1)
    assert len(tickets) == 1000
    counts = np.bincount(tickets, minlength=town_leximin.number_of_panels)
    expected = 1000 * town_leximin.panel_probabilities
    assert np.all(counts >= np.floor(expected - 1e-9)) and np.all(counts <= np.ceil(expected + 1e-9))
    a = draw_public(town, town_leximin, tickets, "3 1 4")
    b = draw_public(town, town_leximin, tickets, "314")
    assert a.panel == b.panel and a.composition == tickets[314]
    assert panel_meets_quotas(town, a.panel)


def test_generated_town_of_1200_meets_quotas_and_households():
    inst = town_instance(1200, 90, seed=0)
    r = maximin(inst)
    assert r.probabilities.sum() == pytest.approx(90, abs=1e-5)
    d = draw(inst, r, seed=11)
    assert panel_meets_quotas(inst, d.panel)
    homes = [inst.pool.households[i] for i in d.panel]
    assert len(homes) == len(set(homes))


def shared_data() -> Path:
    base = os.environ.get("MEETING_SHARED_DIR")
    root = Path(base) if base else Path(__file__).resolve().parents[2].parent / "shared"
    return root / "sortition-data"


def test_example_small_20_from_the_paper_reaches_0_1():
    folder = shared_data() / "citizensassemblies-replication" / "data" / "example_small_20"
    if not (folder / "respondents.csv").exists():
        pytest.skip(f"shared sortition data not found at {folder}")
    with open(folder / "categories.csv", encoding="utf-8") as fh:
        quotas = [Quota(r["category"], r["feature"], int(r["min"]), int(r["max"]))
                  for r in csv.DictReader(fh)]
    with open(folder / "respondents.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    pool = Pool([str(i) for i in range(len(rows))], {c: [r[c] for r in rows] for c in rows[0]})
    r = leximin(Instance(pool, quotas, 20))
    assert len(rows) == 200
    assert r.min_probability == pytest.approx(0.100, abs=1e-4)


def brute_force_leximin(inst):
    """Exact LEXIMIN over all feasible panels: per level, max t; then fix each free person
    whose own maximum (with every free person kept at t) is t."""
    c, A = feasible_panels(inst)
    P = A.shape[1]
    fixed = np.full(c.n, np.nan)
    fixed[A.sum(axis=1) == 0] = 0.0
    levels = 0
    while np.isnan(fixed).any():
        levels += 1
        free = np.isnan(fixed)
        A_ub = np.r_[np.c_[-A[free], np.ones(free.sum())], np.c_[-A[~free], np.zeros((~free).sum())]]
        b_ub = np.r_[np.zeros(free.sum()), -fixed[~free] + 1e-10]
        res = linprog(np.r_[np.zeros(P), -1], A_ub=A_ub, b_ub=b_ub, A_eq=np.r_[np.ones(P), 0][None, :],
                      b_eq=[1], bounds=[(0, None)] * P + [(None, None)], method="highs")
        t = -res.fun
        for i in np.flatnonzero(free):
            r2 = linprog(-A[i], A_ub=np.r_[-A[free], -A[~free]],
                         b_ub=np.r_[np.full(free.sum(), -t + 1e-10), -fixed[~free] + 1e-10],
                         A_eq=np.ones((1, P)), b_eq=[1], bounds=[(0, None)] * P, method="highs")
            if -r2.fun <= t + 1e-8:
                fixed[i] = t
    return np.sort(fixed), levels


def tiny_pool(seed, n=11, k=4):
    rng = np.random.default_rng(seed)
    a = rng.choice(list("abc"), size=n, p=[0.55, 0.3, 0.15]).tolist()
    b = rng.choice(list("xy"), size=n, p=[0.7, 0.3]).tolist()
    d = rng.choice(list("uv"), size=n, p=[0.6, 0.4]).tolist()
    homes = [f"h{i // 2}" if i < 4 else "" for i in range(n)]
    quotas = [Quota("a", "a", 1, 2), Quota("a", "b", 1, 2), Quota("a", "c", 0, 2),
              Quota("b", "x", 1, 3), Quota("b", "y", 1, 3), Quota("d", "u", 2, 2), Quota("d", "v", 2, 2)]
    return Instance(Pool([str(i) for i in range(n)], {"a": a, "b": b, "d": d}, homes), quotas, k)


@pytest.mark.parametrize("seed", [1, 3, 5])
def test_leximin_equals_brute_force_on_tiny_pools_with_several_levels(seed):
    inst = tiny_pool(seed)
    exact, levels = brute_force_leximin(inst)
    assert levels >= 3
    got = np.sort(leximin(inst).probabilities)
    assert np.abs(got - exact).max() < 1e-6


def feasible_panels_fast(inst):
    """Every feasible panel as a person x panel 0/1 matrix, enumerated with numpy (n ~ 30)."""
    c = compile_instance(inst)
    combos = np.array(list(itertools.combinations(range(c.n), c.k)), dtype=np.int32)
    counts = c.member[:, combos].sum(axis=2)                        # (quotas, subsets)
    ok = np.all((counts >= c.lo[:, None]) & (counts <= c.hi[:, None]), axis=0)
    homes = np.sort(np.array(c.person_household)[combos], axis=1)
    ok &= ~np.any((homes[:, 1:] == homes[:, :-1]) & (homes[:, 1:] >= 0), axis=1)
    chosen = combos[ok]
    A = np.zeros((c.n, len(chosen)))
    A[chosen.T, np.arange(len(chosen))[None, :]] = 1
    return c, A


def brute_force_leximin_by_class(inst):
    """Exact LEXIMIN over all feasible panels. Per level: max t; then a free person is fixed when
    their own maximum (every free person kept at >= t) is t. People with equal values and no
    housemate are interchangeable, and the leximin allocation is unique, so one of each is asked."""
    c, A = feasible_panels_fast(inst)
    P = A.shape[1]
    fixed = np.full(c.n, np.nan)
    fixed[A.sum(axis=1) == 0] = 0.0
    key = [tuple(c.member[:, i]) if c.person_household[i] < 0 else ("home", i) for i in range(c.n)]
    levels = 0
    while np.isnan(fixed).any():
        levels += 1
        free = np.isnan(fixed)
        A_ub = np.r_[np.c_[-A[free], np.ones(free.sum())], np.c_[-A[~free], np.zeros((~free).sum())]]
        b_ub = np.r_[np.zeros(free.sum()), -fixed[~free] + 1e-10]
        res = linprog(np.r_[np.zeros(P), -1], A_ub=sparse.csr_matrix(A_ub), b_ub=b_ub,
                      A_eq=np.r_[np.ones(P), 0][None, :], b_eq=[1], bounds=[(0, None)] * P + [(None, None)],
                      method="highs")
        t = -res.fun
        # one LP first: whoever it lifts above t is not fixed (the solution is the witness)
        rest = sparse.csr_matrix(np.r_[-A[free], -A[~free]])
        rest_b = np.r_[np.full(free.sum(), -t + 1e-10), -fixed[~free] + 1e-10]
        lift = linprog(-np.random.default_rng(0).uniform(1, 2, free.sum()) @ A[free], A_ub=rest, b_ub=rest_b,
                       A_eq=np.ones((1, P)), b_eq=[1], bounds=[(0, None)] * P, method="highs")
        asked: dict = {key[i]: False for i in np.flatnonzero(free) if A[i] @ lift.x > t + 1e-7}
        for i in np.flatnonzero(free):
            if key[i] not in asked:
                r2 = linprog(-A[i], A_ub=rest, b_ub=rest_b, A_eq=np.ones((1, P)), b_eq=[1],
                             bounds=[(0, None)] * P, method="highs")
                asked[key[i]] = -r2.fun <= t + 1e-8
            if asked[key[i]]:
                fixed[i] = t
    return np.sort(fixed), levels


def pool_of_30(seed):
    """30 people, 3 categories, 5 two-person households; quotas tight enough for several levels."""
    rng = np.random.default_rng(seed)
    n = 30
    age = rng.choice(["young", "middle", "old"], size=n, p=[0.2, 0.3, 0.5]).tolist()
    gender = rng.choice(["f", "m"], size=n, p=[0.6, 0.4]).tolist()
    area = rng.choice(["north", "south"], size=n, p=[0.7, 0.3]).tolist()
    homes = [f"h{i // 2}" if i < 10 else "" for i in range(n)]
    quotas = [Quota("age", "young", 1, 2), Quota("age", "middle", 1, 2), Quota("age", "old", 1, 2),
              Quota("gender", "f", 2, 3), Quota("gender", "m", 2, 3),
              Quota("area", "north", 2, 3), Quota("area", "south", 2, 3)]
    return Instance(Pool([str(i) for i in range(n)], {"age": age, "gender": gender, "area": area}, homes),
                    quotas, 5)


@pytest.mark.parametrize("seed", [7, 8, 9, 15])
def test_leximin_equals_brute_force_on_30_people_with_households(seed):
    inst = pool_of_30(seed)
    exact, levels = brute_force_leximin_by_class(inst)
    assert levels >= 3
    r = leximin(inst)
    assert r.optimal
    assert np.abs(np.sort(r.probabilities) - exact).max() < 1e-6
    assert r.probabilities.sum() == pytest.approx(5, abs=1e-6)


@pytest.mark.parametrize("time_limit", [0.001, 0.3])
def test_leximin_cut_short_by_its_time_limit_never_falls_below_maximin(time_limit):
    """A LEXIMIN stopped early keeps the first level (the MAXIMIN optimum) for everyone."""
    inst = town_instance(300, 30, seed=1)
    best = maximin(inst)
    r = leximin(inst, time_limit=time_limit)
    assert r.min_probability >= best.min_probability - 1e-9
    assert r.probabilities.sum() == pytest.approx(30, abs=1e-6)
    rng = np.random.default_rng(0)
    for j in range(r.number_of_panels):
        assert panel_meets_quotas(inst, r.panel_members(j, rng))

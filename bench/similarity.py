"""Benchmark the text similarity on the hand-labelled sets in tests/data/similarity.

Run: python bench/similarity.py

1. Duplicate pairs (Japanese, English): precision, recall and F1 of "score >= threshold" over
   the labelled pairs, scored in a corpus of every text of that language's file (a meeting's
   whole idea list), for a sweep of thresholds; the chosen ones are marked.
2. The hint before posting: each pair's second text sits at a table of 10 ideas (9 others
   drawn from the other pairs); the first text is the draft. A duplicate pair is found when
   ``similar`` lists its partner among its 3 hints; a non-duplicate pair is a false hint
   when it does.
3. Near-duplicate groups over each whole file: a pair counts as predicted duplicate when
   ``near_duplicate_groups`` puts both texts in one group.
4. Themes: adjusted Rand index of ``theme_groups`` against the labelled themes, per seed.
5. Seconds for 1,000 texts: build, update, a hint, near-duplicate groups, theme groups.
"""
from __future__ import annotations

import csv
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from meeting.core.opinion import adjusted_rand_index  # noqa: E402
from meeting.core.similarity import (  # noqa: E402
    DUPLICATE_THRESHOLD,
    SIMILAR_THRESHOLD,
    Corpus,
    near_duplicate_groups,
    score,
    similar,
    theme_groups,
)

DATA = ROOT / "tests" / "data" / "similarity"
SWEEP = [round(0.20 + 0.05 * i, 2) for i in range(11)]
TABLE_SIZE = 10
DRAWS = 5


def read_tsv(name: str) -> list[dict]:
    with (DATA / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def read_pairs(name: str) -> list[tuple[bool, str, str, str]]:
    return [(r["label"] == "1", r["kind"], r["a"], r["b"]) for r in read_tsv(name)]


def prf(predicted: list[bool], gold: list[bool]) -> tuple[float, float, float]:
    tp = sum(p and g for p, g in zip(predicted, gold))
    fp = sum(p and not g for p, g in zip(predicted, gold))
    fn = sum(g and not p for p, g in zip(predicted, gold))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def fmt(p: float, r: float, f: float) -> str:
    return f"P {p:.2f}  R {r:.2f}  F1 {f:.2f}"


def texts_of(pairs) -> dict[int, str]:
    return dict(enumerate(sorted({t for _, _, a, b in pairs for t in (a, b)})))


def pair_scores(pairs) -> list[float]:
    corpus = Corpus(texts_of(pairs))
    return [score(corpus, a, b) for _, _, a, b in pairs]


LANG = {"Japanese": "ja", "English": "en"}


def sweep(sets: dict[str, list]) -> None:
    print("1. Duplicate pairs, score >= threshold (corpus: every text of the file)")
    print("   (* = SIMILAR_THRESHOLD, # = DUPLICATE_THRESHOLD of that language)")
    scored = {name: (pair_scores(pairs), [g for g, *_ in pairs]) for name, pairs in sets.items()}
    print("   threshold  " + "  ".join(f"{name:<27}" for name in scored))
    for t in SWEEP:
        cells = []
        for name, (s, gold) in scored.items():
            lang = LANG[name]
            mark = "*" if abs(t - SIMILAR_THRESHOLD[lang]) < 1e-9 else "#" if abs(t - DUPLICATE_THRESHOLD[lang]) < 1e-9 else " "
            cells.append(fmt(*prf([v >= t for v in s], gold)) + " " + mark)
        print(f"   {t:.2f}       " + "  ".join(f"{c:<27}" for c in cells))
    for label, table in (("similar", SIMILAR_THRESHOLD), ("duplicates", DUPLICATE_THRESHOLD)):
        predicted, gold = [], []
        for name, (s, g) in scored.items():
            predicted += [v >= table[LANG[name]] for v in s]
            gold += g
        print(f"   both languages at the {label} thresholds: {fmt(*prf(predicted, gold))}")
    for name, pairs in sets.items():
        s, gold = scored[name]
        t = SIMILAR_THRESHOLD[LANG[name]]
        parts = []
        for kind in sorted({k for _, k, _, _ in pairs}):
            sel = [i for i, p in enumerate(pairs) if p[1] == kind]
            parts.append(f"{kind} {sum((s[i] >= t) == gold[i] for i in sel)}/{len(sel)}")
        print(f"   {name} right at {t} by kind: " + ", ".join(parts))
    print("   2-fold check (threshold of best F1 on even pairs, measured on odd, and back):")
    grid = [round(0.15 + 0.01 * i, 2) for i in range(60)]
    for name, (s, gold) in scored.items():
        folds = [[i for i in range(len(s)) if i % 2 == f] for f in (0, 1)]
        predicted, truth, chosen = [], [], []
        for train, test in (folds, folds[::-1]):
            f1 = {t: prf([s[i] >= t for i in train], [gold[i] for i in train])[2] for t in grid}
            top = [t for t in grid if f1[t] == max(f1.values())]
            best = top[len(top) // 2]  # the middle of the best plateau
            chosen.append(best)
            predicted += [s[i] >= best for i in test]
            truth += [gold[i] for i in test]
        print(f"   {name:<10} held out: {fmt(*prf(predicted, truth))}   (thresholds {chosen[0]}, {chosen[1]})")


def hint_at_a_table(sets: dict[str, list]) -> None:
    print(f"\n2. The hint before posting: partner among similar(draft, limit=3) at a table of {TABLE_SIZE}")
    rng = random.Random(0)
    for name, pairs in sets.items():
        predicted, gold = [], []
        for _ in range(DRAWS):
            for i, (dup, _, a, b) in enumerate(pairs):
                related = {t for _, _, x, y in pairs if a in (x, y) or b in (x, y) for t in (x, y)}
                pool = sorted({t for _, _, x, y in pairs for t in (x, y)} - related)
                table = {0: b, **{j + 1: t for j, t in enumerate(rng.sample(pool, TABLE_SIZE - 1))}}
                hints = similar(Corpus(table), a, limit=3)
                predicted.append(any(h == 0 for h, _ in hints))
                gold.append(dup)
        print(f"   {name:<10} {fmt(*prf(predicted, gold))}   ({len(pairs)} pairs x {DRAWS} tables)")


def groups_on_pairs(sets: dict[str, list]) -> None:
    at = ", ".join(f"{lang} {t}" for lang, t in DUPLICATE_THRESHOLD.items())
    print(f"\n3. near_duplicate_groups over each whole file at the duplicate thresholds ({at})")
    for name, pairs in sets.items():
        texts = texts_of(pairs)
        id_of = {t: i for i, t in texts.items()}
        corpus = Corpus(texts)
        groups = near_duplicate_groups(corpus)
        group_of = {i: g for g, members in enumerate(groups) for i in members}
        predicted = [
            id_of[a] in group_of and group_of.get(id_of[a]) == group_of.get(id_of[b]) for _, _, a, b in pairs
        ]
        sizes = sorted((len(g) for g in groups), reverse=True)
        print(f"   {name:<10} {fmt(*prf(predicted, [g for g, *_ in pairs]))}   "
              f"({len(groups)} groups of {len(texts)} texts, sizes {sizes[:8]})")


def themes() -> None:
    rows = read_tsv("answers_ja.tsv")
    texts = {i + 1: r["text"] for i, r in enumerate(rows)}
    gold = {i + 1: r["theme"] for i, r in enumerate(rows)}
    n_themes = len(set(gold.values()))
    print(f"\n4. theme_groups on {len(texts)} answers labelled with {n_themes} themes")
    scores = []
    for seed in range(5):
        groups = theme_groups(texts, seed=seed)
        label = {i: g for g, group in enumerate(groups) for i in group.ids}
        scores.append(adjusted_rand_index([gold[i] for i in texts], [label[i] for i in texts]))
        if seed == 0:
            for group in groups:
                themes_in = [gold[i] for i in group.ids]
                top = max(set(themes_in), key=lambda t: (themes_in.count(t), t))
                print(f"   {group.size:3d} answers, {themes_in.count(top):2d} of them '{top}', "
                      f"terms {group.label_terms}, most typical: {texts[group.typical[0]]}")
    print(f"   adjusted Rand index, seeds 0-4: {' '.join(f'{s:.3f}' for s in scores)}  "
          f"(mean {statistics.mean(scores):.3f}; 0 = chance, 1 = the labels)")


def synthetic(n: int, seed: int = 0) -> dict[int, str]:
    """n idea-like texts: a labelled text followed by a clause of another, and a number."""
    rng = random.Random(seed)
    base = sorted({t for name in ("pairs_ja.tsv", "pairs_en.tsv") for _, _, a, b in read_pairs(name) for t in (a, b)})
    base += [r["text"] for r in read_tsv("answers_ja.tsv")]
    return {i: f"{rng.choice(base)} {rng.choice(base)[:12]} {rng.randrange(100)}" for i in range(n)}


def timed(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def timings(n: int = 1000) -> None:
    texts = synthetic(n)
    print(f"\n5. Seconds for {n} texts (median of 5; {os.cpu_count()} cores, shared)")
    corpus = Corpus(texts)
    print(f"   build Corpus              {timed(lambda: Corpus(texts)):.3f}")
    print(f"   add + remove one text     {timed(lambda: (corpus.add(n, 'バス停にベンチを置いてほしい'), corpus.remove(n))):.5f}")
    draft = "公園のベンチをもっと増やしてほしい"

    def after_change():
        corpus.add(n, draft)
        corpus.remove(n)
        similar(corpus, draft)

    print(f"   similar (warm)            {timed(lambda: similar(corpus, draft)):.4f}")
    print(f"   similar after an update   {timed(after_change):.4f}")
    print(f"   similar among 10 ids      {timed(lambda: similar(corpus, draft, among=range(10))):.4f}")
    print(f"   near_duplicate_groups     {timed(lambda: near_duplicate_groups(corpus), repeat=3):.3f}")
    print(f"   theme_groups              {timed(lambda: theme_groups(texts), repeat=3):.3f}")


def main() -> None:
    sets = {"Japanese": read_pairs("pairs_ja.tsv"), "English": read_pairs("pairs_en.tsv")}
    for name, pairs in sets.items():
        print(f"{name}: {len(pairs)} pairs, {sum(g for g, *_ in pairs)} duplicates")
    sweep(sets)
    hint_at_a_table(sets)
    groups_on_pairs(sets)
    themes()
    timings()


if __name__ == "__main__":
    main()

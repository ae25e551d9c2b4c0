"""Text similarity: hints before posting, near-duplicate groups, themes, and quality floors."""
import csv
from pathlib import Path

import pytest

from meeting.core.opinion import adjusted_rand_index
from meeting.core.similarity import (
    DUPLICATE_THRESHOLD,
    SIMILAR_THRESHOLD,
    Corpus,
    ThemeGroup,
    language,
    near_duplicate_groups,
    normalize,
    score,
    similar,
    theme_groups,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "similarity"

TABLE = {
    1: "バス停に屋根をつけてほしい。雨の日に待つのがつらい",
    2: "公園にベンチを増やしてほしい",
    3: "図書館を夜9時まで開けてほしい",
    4: "コミュニティバスを運行してほしい",
    5: "子どもの遊び場を増やしてほしい",
    6: "商店街でスタンプラリーを開催する",
    7: "Free Wi-Fi on the shopping street",
    8: "More benches in the park",
}


def read_tsv(name):
    with (DATA / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def ids_of(hints):
    return [i for i, _ in hints]


# --- what a participant sees before posting ------------------------------------------------

def test_normalize_folds_width_case_and_kana():
    assert normalize("ﾊﾞｽ停") == normalize("バス停") == "ばす停"
    assert normalize("ＡＥＤを９台") == normalize("AEDを9台")
    assert normalize("子供") == normalize("子ども") == normalize("こども")
    assert normalize("Wi-Fi!! 😀") == "wifi"


@pytest.mark.parametrize(
    "draft, expected",
    [
        ("ﾊﾞｽ停に屋根を付けてほしい", 1),  # half-width katakana, 付け / つけ
        ("こみゅにてぃばすを走らせてほしい", 4),  # hiragana for katakana
        ("子供が遊べる場所を増やしたい", 5),  # 子供 / 子ども
        ("図書館を夜９時まで開けてほしい", 3),  # full-width digit
        ("商店街のスタンプラリーをやりましょう！", 6),
        ("FREE WIFI along the shopping street", 7),
        ("Please add more benches to our parks", 8),
    ],
)
def test_a_duplicate_written_differently_is_the_first_hint(draft, expected):
    hints = similar(Corpus(TABLE), draft)
    assert hints and hints[0][0] == expected


def test_an_unrelated_draft_gets_no_hint():
    corpus = Corpus(TABLE)
    assert similar(corpus, "防災無線が聞こえにくいので改善してほしい") == []
    assert similar(corpus, "Japanese classes for foreign residents") == []


def test_hints_are_at_most_limit_best_first_and_only_among_the_given_ids():
    corpus = Corpus({i: f"公園にベンチを増やしてほしい{'!' * i}" for i in range(1, 6)} | {9: "公園のベンチを増やして"})
    hints = similar(corpus, "公園にベンチを増やしてほしい", limit=3)
    assert len(hints) == 3
    assert [s for _, s in hints] == sorted((s for _, s in hints), reverse=True)
    assert ids_of(hints) == [1, 2, 3]  # equal scores come in id order
    assert ids_of(similar(corpus, "公園にベンチを増やしてほしい", among=[9, 4, 77, True])) == [4, 9]
    assert similar(corpus, "公園にベンチを増やしてほしい", among=[]) == []
    assert similar(corpus, "公園にベンチを増やしてほしい", limit=0) == []


def test_adding_replacing_and_removing_texts_change_the_hints():
    corpus = Corpus(TABLE)
    corpus.add(20, "駅前に駐輪場を増やしてほしい")
    assert ids_of(similar(corpus, "駅前の駐輪場を増やして"))[:1] == [20]
    corpus.add(20, "夏祭りを復活させたい")  # the idea was edited
    assert 20 not in ids_of(similar(corpus, "駅前の駐輪場を増やして"))
    assert ids_of(similar(corpus, "夏まつりを復活させたい"))[:1] == [20]
    corpus.remove(20)
    corpus.remove(12345)  # unknown: ignored
    assert 20 not in corpus and len(corpus) == len(TABLE)
    assert similar(corpus, "夏まつりを復活させたい") == []


def test_results_do_not_depend_on_the_order_texts_came_in():
    forward = Corpus(TABLE)
    backward = Corpus(dict(reversed(list(TABLE.items()))))
    for draft in ("バス停に屋根を付けてほしい", "more benches", "ベンチ"):
        assert similar(forward, draft, threshold=0) == similar(backward, draft, threshold=0)
        assert similar(forward, draft, threshold=0) == similar(forward, draft, threshold=0)


@pytest.mark.parametrize("text", ["", "   \n\t", "😀🎉👍", "！？。、・", "ｗ", "a"])
def test_empty_or_wordless_input_gives_no_hint_and_no_crash(text):
    corpus = Corpus(TABLE | {30: text})
    assert similar(corpus, text) == []
    assert score(corpus, text, text) == 0.0
    assert all(30 not in group for group in near_duplicate_groups(corpus))


def test_very_long_input_does_not_crash_and_still_matches_its_topic():
    long = "公園にベンチを増やしてほしい。" * 2000 + " benches " * 500
    corpus = Corpus(TABLE | {40: long})
    assert ids_of(similar(corpus, long, threshold=0))[0] == 40
    assert 2 in ids_of(similar(corpus, long, threshold=0.1))


def test_ids_must_be_ints_not_booleans():
    corpus = Corpus()
    with pytest.raises(TypeError):
        corpus.add(True, "公園")
    with pytest.raises(TypeError):
        corpus.add("1", "公園")
    with pytest.raises(TypeError):
        corpus.remove(True)
    assert True not in Corpus({1: "公園"})
    assert similar(corpus, "公園") == []
    assert near_duplicate_groups(corpus) == []


def test_score_counts_features_the_corpus_has_never_seen():
    assert score(Corpus(), "公園にベンチ", "公園にベンチ") == pytest.approx(1.0)
    assert score(Corpus(TABLE), "防災無線", "防災無線が聞こえない") > 0.3


def test_language_picks_the_threshold():
    assert language("AEDの設置場所を増やしてほしい") == "ja"
    assert language("More AEDs in public places") == "en"
    assert set(SIMILAR_THRESHOLD) == set(DUPLICATE_THRESHOLD) == {"ja", "en"}


# --- what the facilitator sees across tables -------------------------------------------------

def test_near_duplicates_across_tables_are_grouped_and_singletons_left_out():
    ideas = {
        101: "バス停に屋根をつけてほしい",
        205: "ﾊﾞｽ停に屋根を付けてほしい",
        309: "バス停に屋根を付けて下さい",
        102: "公園にベンチを増やしてほしい",
        207: "公園のベンチをもっと増やしてほしい",
        300: "図書館を夜9時まで開けてほしい",
        301: "Free Wi-Fi on the shopping street",
        302: "Free WiFi along the shopping street",
        303: "夏祭りを復活させたい",
    }
    groups = near_duplicate_groups(Corpus(ideas))
    assert groups == [[101, 205, 309], [102, 207], [301, 302]]
    assert near_duplicate_groups(Corpus(ideas), ids=[101, 205, 300]) == [[101, 205]]
    assert near_duplicate_groups(Corpus(ideas), threshold=1.01) == []


# --- free-text answers by theme -------------------------------------------------------------

def labelled_answers():
    rows = read_tsv("answers_ja.tsv")
    return {i + 1: r["text"] for i, r in enumerate(rows)}, {i + 1: r["theme"] for i, r in enumerate(rows)}


def test_theme_groups_partition_the_answers_with_typical_answers_and_terms():
    texts, _ = labelled_answers()
    groups = theme_groups(texts | {999: "👍"})
    assert all(isinstance(g, ThemeGroup) for g in groups)
    assert sorted(i for g in groups for i in g.ids) == sorted(texts) + [999]
    assert groups[-1].ids == [999] and groups[-1].label_terms == []  # no words: a group of its own
    for g in groups[:-1]:
        assert g.size == len(g.ids) and sorted(g.typical) == g.ids
        assert g.label_terms and all(any(t in texts[i] for i in g.ids) for t in g.label_terms)
    assert [g.size for g in groups[:-1]] == sorted((g.size for g in groups[:-1]), reverse=True)
    assert theme_groups(texts, seed=3) == theme_groups(texts, seed=3)


def test_theme_groups_respect_max_groups_and_small_inputs():
    texts, _ = labelled_answers()
    assert len(theme_groups(texts, max_groups=3)) == 3
    assert theme_groups({}) == []
    assert [g.ids for g in theme_groups({5: "公園を広くしてほしい"})] == [[5]]
    two = theme_groups({1: "バスを増やして", 2: "バスの本数を増やして"})
    assert sorted(i for g in two for i in g.ids) == [1, 2]


def test_answers_that_say_the_same_thing_are_not_split_into_groups():
    same = {i: "バスの本数を増やしてほしい" for i in range(20)}
    assert [g.ids for g in theme_groups(same)] == [list(range(20))]
    three = {i: ["バスの本数を増やして", "公園にベンチを置いて", "Free wifi please"][i % 3] for i in range(30)}
    groups = theme_groups(three)
    assert sorted(g.ids for g in groups) == [list(range(k, 30, 3)) for k in range(3)]


# --- quality floors on the labelled sets (bench/similarity.py prints the full numbers) --------

def precision_recall(predicted, gold):
    tp = sum(p and g for p, g in zip(predicted, gold))
    return tp / max(sum(predicted), 1), tp / max(sum(gold), 1)


def pair_set(name):
    return [(r["label"] == "1", r["a"], r["b"]) for r in read_tsv(name)]


@pytest.mark.parametrize("name, lang", [("pairs_ja.tsv", "ja"), ("pairs_en.tsv", "en")])
def test_labelled_pairs_meet_the_quality_floor(name, lang):
    pairs = pair_set(name)
    texts = dict(enumerate(sorted({t for _, a, b in pairs for t in (a, b)})))
    corpus = Corpus(texts)
    gold = [dup for dup, _, _ in pairs]
    scores = [score(corpus, a, b) for _, a, b in pairs]
    precision, recall = precision_recall([s >= SIMILAR_THRESHOLD[lang] for s in scores], gold)
    assert precision >= 0.75 and recall >= 0.80, (precision, recall)

    id_of = {t: i for i, t in texts.items()}
    group_of = {i: n for n, g in enumerate(near_duplicate_groups(corpus)) for i in g}
    together = [id_of[a] in group_of and group_of[id_of[a]] == group_of.get(id_of[b]) for _, a, b in pairs]
    precision, recall = precision_recall(together, gold)
    assert precision >= 0.85 and recall >= 0.70, (precision, recall)


def test_theme_groups_agree_with_the_labelled_themes():
    texts, themes = labelled_answers()
    label = {i: n for n, g in enumerate(theme_groups(texts, seed=0)) for i in g.ids}
    assert adjusted_rand_index([themes[i] for i in texts], [label[i] for i in texts]) >= 0.40

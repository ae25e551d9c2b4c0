"""Text similarity for a meeting's ideas and free-text answers, in Japanese and English.

Pure numpy/scipy: nothing is downloaded, no model, no dictionary beyond the small tables here.
Japanese has no spaces between words, so a text is compared by its character 1- to 3-grams;
English (and any other alphabetic script) by its words, stripped of stop words and plural or
verb endings, and their character 3- and 4-grams. Each feature is
weighted by TF-IDF over the meeting's own texts, and two texts are as similar as the cosine of
their vectors (0 = nothing in common, 1 = the same features).

Before the n-grams, a text is normalized so that the ways residents type the same words meet:
NFKC (full-width ``ＡＥＤ９`` and half-width ``ﾊﾞｽ`` become ``AED9`` and ``バス``), case folding,
katakana folded to hiragana (``ゴミ`` = ``ごみ``), a few common spelling variants (``子供`` /
``子ども`` / ``こども``, ``車椅子`` / ``車いす``, ``下さい`` / ``ください``, ``Wi-Fi`` / ``WiFi``, see
``VARIANTS``), and punctuation, symbols and emoji removed. An n-gram written all in hiragana
weighs less (``HIRAGANA_WEIGHT``): those are mostly particles and endings such as
``を増やしてほしい`` that every idea shares, while kanji and katakana carry the proposal; one
that straddles hiragana and kanji or katakana weighs less still (``BOUNDARY_WEIGHT``), as it
spans a word boundary.

Themes: spectral clustering of the answers' k-nearest-neighbour cosine graph, then cosine
k-means in its leading eigenvectors (seeded k-means++ restarts), about sqrt(n/2) groups.

The API::

    corpus = Corpus({idea_id: text, ...})      # the texts to compare against; cheap to update
    corpus.add(idea_id, text); corpus.remove(idea_id)

    similar(corpus, draft, among=ids_at_this_table, limit=3)
        # -> [(idea_id, score), ...]: up to `limit` texts of the corpus similar to `draft`
        #    (a draft not yet posted), best first, each scoring >= the threshold.

    near_duplicate_groups(corpus, ids=None)
        # -> [[id, id, ...], ...]: groups of near-duplicates (e.g. across tables) for a
        #    one-click merge, texts joined at >= the threshold on average
        #    (average linkage); singletons are left out. Largest group first.

    theme_groups({answer_id: text, ...}, max_groups=None, seed=0)
        # -> [ThemeGroup(ids, size, typical, label_terms), ...]: every answer in exactly one
        #    group, largest first; `typical` lists the group's ids most typical first,
        #    `label_terms` a few words that set the group apart.

    score(corpus, a, b)     # the cosine of two texts, weighted by the corpus

    language(text)          # "ja" when most of its letters are Japanese (kana, kanji), else "en"

Thresholds were chosen on the hand-labelled pairs in tests/data/similarity (``make bench``
prints precision, recall and F1 for a sweep) and depend on ``language(text)``, because an
English text has fewer features than a Japanese one and the same overlap scores higher.
``SIMILAR_THRESHOLD`` (ja 0.35, en 0.45) favours recall, since a hint before posting costs a
glance; ``DUPLICATE_THRESHOLD`` (ja 0.45, en 0.50) favours precision, since a merge proposal
costs the facilitator a decision. A ``threshold=`` argument overrides them. Results are
deterministic: ties break by id.
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh

# Chosen on tests/data/similarity, by language(text): see the module docstring.
SIMILAR_THRESHOLD = {"ja": 0.35, "en": 0.45}
DUPLICATE_THRESHOLD = {"ja": 0.45, "en": 0.50}

CJK_NGRAMS = (1, 2, 3)
LATIN_NGRAMS = (3, 4)
HIRAGANA_WEIGHT = 0.4  # an n-gram written all in hiragana (particles, endings)
BOUNDARY_WEIGHT = 0.3  # an n-gram that mixes hiragana with kanji or katakana
LATIN_CHAR_WEIGHT = 0.35  # a character n-gram of an English word, beside the word itself

# Spelling variants that residents mix, folded to one form (applied after NFKC and case folding,
# before katakana is folded to hiragana). The target keeps the script that carries meaning.
VARIANTS = {
    "子ども": "子供",
    "こども": "子供",
    "車いす": "車椅子",
    "くるまいす": "車椅子",
    "下さい": "ください",
    "欲しい": "ほしい",
    "付け": "つけ",
    "出来る": "できる",
    "出来た": "できた",
    "出来な": "できな",
    "綺麗": "きれい",
    "沢山": "たくさん",
    "障害": "障がい",
    "wi-fi": "wifi",
    "e-mail": "email",
}
_VARIANT_RE = re.compile("|".join(sorted(map(re.escape, VARIANTS), key=len, reverse=True)))

ENGLISH_STOP_WORDS = frozenset(
    """a about above after again all also am an and another any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just let
    me more most much my no nor not now of off on once only or other our ours out over own please
    same she should so some such than that the their them then there these they this those
    through to too under until up us very was we were what when where which while who whom why
    will with would you your yours""".split()
)


# --- normalization and features -------------------------------------------------------------

# Kana, CJK ideographs (with the compatibility block) and Hangul; 々 and 〆 stand for kanji.
_CJK_RANGES = ((0x3041, 0x309F), (0x30A1, 0x30FA), (0x30FC, 0x30FF), (0x3400, 0x9FFF), (0xF900, 0xFAFF), (0xAC00, 0xD7AF))


@functools.lru_cache(maxsize=65536)
def _kind(ch: str) -> str:
    """'J' for a character of a Japanese (or other CJK) word, 'L' for a letter or digit, '' else."""
    o = ord(ch)
    if any(a <= o <= b for a, b in _CJK_RANGES) or ch in "々〆":
        return "J"
    if ch.isalnum():
        return "L"
    return ""


def _fold_kana(ch: str) -> str:
    o = ord(ch)
    return chr(o - 0x60) if 0x30A1 <= o <= 0x30F6 else ch


def _prepare(text: str) -> str:
    s = unicodedata.normalize("NFKC", text or "").casefold()
    return _VARIANT_RE.sub(lambda m: VARIANTS[m.group(0)], s)


def normalize(text: str) -> str:
    """Return the text as it is compared: NFKC, case-folded, variants unified, kana folded,
    and every run of punctuation, symbols or spaces turned into a single space."""
    return " ".join(run for _, run, _ in _runs(text))


def _runs(text: str) -> list[tuple[str, str, str]]:
    """Split a text into runs of one kind: (kind, run with kana folded, run as prepared)."""
    s = _prepare(text)
    runs, start, kind = [], 0, ""
    for i in range(len(s) + 1):
        k = _kind(s[i]) if i < len(s) else ""
        if k != kind:
            if kind:
                raw = s[start:i]
                runs.append((kind, "".join(map(_fold_kana, raw)), raw))
            start, kind = i, k
    return runs


def _stem(word: str) -> str:
    """Strip an English plural or verb ending, so 'benches' meets 'bench' (crude, symmetric)."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    return word


def _is_hiragana(ch: str) -> bool:
    return 0x3041 <= ord(ch) <= 0x309F


def language(text: str) -> str:
    """"ja" when at least half the letters are kana or kanji (CJK), else "en" (word-based)."""
    counts = Counter()
    for kind, run, _ in _runs(text):
        counts[kind] += len(run)
    return "ja" if counts["J"] and counts["J"] >= counts["L"] else "en"


def features(text: str) -> dict[str, float]:
    """Return the text's features with their weighted term frequencies (before IDF)."""
    counts: Counter[str] = Counter()
    for kind, run, raw in _runs(text):
        if kind == "J":
            hira = [_is_hiragana(c) for c in raw]
            for n in CJK_NGRAMS:
                for i in range(len(run) - n + 1):
                    h = hira[i:i + n]
                    weight = HIRAGANA_WEIGHT if all(h) else BOUNDARY_WEIGHT if any(h) else 1.0
                    counts["j:" + run[i:i + n]] += weight
        else:
            word = run
            if word in ENGLISH_STOP_WORDS or (len(word) == 1 and not word.isdigit()):
                continue
            counts["w:" + _stem(word)] += 1.0
            padded = f"<{word}>"
            for n in LATIN_NGRAMS:
                for i in range(len(padded) - n + 1):
                    counts["c:" + padded[i:i + n]] += LATIN_CHAR_WEIGHT
    return {f: 1.0 + math.log(c) if c >= 1 else c for f, c in counts.items()}


# --- the corpus: TF-IDF over the meeting's own texts ------------------------------------------

def _check_id(id) -> int:
    if isinstance(id, bool) or not isinstance(id, (int, np.integer)):
        raise TypeError(f"a text id must be an int, not {id!r}")
    return int(id)


class Corpus:
    """The texts that drafts and each other are compared against, with their document frequencies.

    Adding or removing a text updates the counts in time proportional to its length; the
    weighted matrix is rebuilt (vectorized, about a millisecond per thousand texts) the next
    time a comparison needs it.
    """

    def __init__(self, texts: Mapping[int, str] | None = None):
        self._vocab: dict[str, int] = {}
        self._df = np.zeros(64)
        self._docs: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._texts: dict[int, str] = {}
        self._languages: dict[int, str] = {}
        self._cache: tuple[list[int], dict[int, int], sparse.csr_matrix] | None = None
        for id, text in (texts or {}).items():
            self.add(id, text)

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, id) -> bool:
        return not isinstance(id, bool) and id in self._docs

    def ids(self) -> list[int]:
        return sorted(self._docs)

    def text(self, id: int) -> str:
        return self._texts[id]

    def language(self, id: int) -> str:
        return self._languages[id]

    def add(self, id: int, text: str) -> None:
        """Add a text, or replace the text with this id."""
        id = _check_id(id)
        if id in self._docs:
            self.remove(id)
        feats = features(text)
        cols = np.fromiter((self._column(f) for f in feats), dtype=np.int64, count=len(feats))
        tf = np.fromiter(feats.values(), dtype=float, count=len(feats))
        order = np.argsort(cols)
        cols, tf = cols[order], tf[order]
        self._df[cols] += 1
        self._docs[id] = (cols, tf)
        self._texts[id] = text
        self._languages[id] = language(text)
        self._cache = None

    def remove(self, id: int) -> None:
        """Remove a text; an unknown id is ignored."""
        doc = self._docs.pop(_check_id(id), None)
        if doc is not None:
            self._df[doc[0]] -= 1
            del self._texts[id]
            del self._languages[id]
            self._cache = None

    def _column(self, feature: str) -> int:
        col = self._vocab.get(feature)
        if col is None:
            col = self._vocab[feature] = len(self._vocab)
            if col >= len(self._df):
                self._df = np.concatenate([self._df, np.zeros(len(self._df))])
        return col

    def idf(self, cols: np.ndarray) -> np.ndarray:
        """Smoothed inverse document frequency of vocabulary columns (sklearn's formula)."""
        return np.log((1.0 + len(self._docs)) / (1.0 + self._df[cols])) + 1.0

    def weights(self, text: str) -> dict[str, float]:
        """TF-IDF weights of a text's features; a feature no text here has gets the largest IDF."""
        n = len(self._docs)
        out = {}
        for f, tf in features(text).items():
            col = self._vocab.get(f)
            df = self._df[col] if col is not None else 0.0
            out[f] = tf * (math.log((1.0 + n) / (1.0 + df)) + 1.0)
        return out

    def matrix(self) -> tuple[list[int], dict[int, int], sparse.csr_matrix]:
        """(ids in row order, row of each id, L2-normalized TF-IDF rows)."""
        if self._cache is None:
            ids = self.ids()
            docs = [self._docs[i] for i in ids]
            lengths = np.array([len(c) for c, _ in docs], dtype=np.int64)
            cols = np.concatenate([c for c, _ in docs]) if docs else np.zeros(0, dtype=np.int64)
            data = np.concatenate([t for _, t in docs]) if docs else np.zeros(0)
            data = data * self.idf(cols)
            rows = np.repeat(np.arange(len(ids)), lengths)
            norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(ids)))
            data = data / np.where(norms > 0, norms, 1.0)[rows]
            indptr = np.concatenate([[0], np.cumsum(lengths)])
            m = sparse.csr_matrix((data, cols, indptr), shape=(len(ids), max(len(self._vocab), 1)))
            self._cache = (ids, {id: r for r, id in enumerate(ids)}, m)
        return self._cache

    def vector(self, text: str) -> sparse.csr_matrix:
        """The L2-normalized TF-IDF row of a text that need not be in the corpus.

        Features the corpus has never seen count in the norm (they make the text less like
        every text here) but have no column.
        """
        weights = self.weights(text)
        norm = math.sqrt(sum(w * w for w in weights.values()))
        known = sorted((self._vocab[f], w / norm) for f, w in weights.items() if f in self._vocab)
        cols = np.array([c for c, _ in known], dtype=np.int64)
        data = np.array([w for _, w in known], dtype=float)
        return sparse.csr_matrix((data, cols, [0, len(cols)]), shape=(1, max(len(self._vocab), 1)))


def score(corpus: Corpus, a: str, b: str) -> float:
    """Cosine similarity of two texts (in the corpus or not), weighted by its document frequencies."""
    wa, wb = corpus.weights(a), corpus.weights(b)
    norms = math.sqrt(sum(w * w for w in wa.values()) * sum(w * w for w in wb.values()))
    return sum(w * wb[f] for f, w in wa.items() if f in wb) / norms if norms > 0 else 0.0


def _rows(corpus: Corpus, ids: Iterable[int] | None) -> tuple[list[int], sparse.csr_matrix]:
    order, row_of, m = corpus.matrix()
    if ids is None:
        return order, m
    chosen = sorted({int(i) for i in ids if not isinstance(i, bool) and i in row_of})
    return chosen, m[[row_of[i] for i in chosen]]


# --- the hint before posting ----------------------------------------------------------------

def similar(
    corpus: Corpus,
    text: str,
    *,
    among: Iterable[int] | None = None,
    limit: int = 3,
    threshold: float | None = None,
) -> list[tuple[int, float]]:
    """Return up to `limit` (id, score) of corpus texts similar to `text`, best first.

    `among` restricts the candidates (e.g. the ideas at one table); ids not in the corpus
    are ignored. Only scores >= threshold (by default SIMILAR_THRESHOLD for the draft's
    language) are returned; equal scores come in id order.
    """
    if threshold is None:
        threshold = SIMILAR_THRESHOLD[language(text)]
    ids, m = _rows(corpus, among)
    if not ids or limit <= 0:
        return []
    q = corpus.vector(text)
    if q.nnz == 0:
        return []
    scores = (m @ q.T).toarray().ravel()
    order = sorted((i for i in range(len(ids)) if scores[i] >= threshold), key=lambda i: (-scores[i], ids[i]))
    return [(ids[i], round(float(scores[i]), 6)) for i in order[:limit]]


# --- near-duplicates across tables ----------------------------------------------------------

def similarity_matrix(corpus: Corpus, ids: Iterable[int] | None = None) -> tuple[list[int], np.ndarray]:
    """(ids, dense matrix of pairwise cosine similarities among them)."""
    ids, m = _rows(corpus, ids)
    return ids, (m @ m.T).toarray()


def _average_groups(sim: np.ndarray, threshold: float) -> list[list[int]]:
    """Partition 0..n-1 by average linkage, merging while the mean similarity is >= threshold."""
    n = len(sim)
    if n == 1:
        return [[0]]
    dist = np.clip(1.0 - sim, 0.0, 2.0)
    np.fill_diagonal(dist, 0.0)
    from scipy.cluster.hierarchy import fcluster, linkage  # here: slow to import, and only grouping needs it
    from scipy.spatial.distance import squareform

    tree = linkage(squareform((dist + dist.T) / 2, checks=False), method="average")
    labels = fcluster(tree, t=1.0 - threshold + 1e-12, criterion="distance")
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    return list(groups.values())


def near_duplicate_groups(
    corpus: Corpus, ids: Iterable[int] | None = None, *, threshold: float | None = None
) -> list[list[int]]:
    """Return groups of near-duplicate texts (ids ascending), largest group first.

    Texts join when their average similarity is >= threshold (average linkage, run within
    each connected part of the graph of pairs at >= threshold, which it never crosses).
    By default a pair's threshold is the larger DUPLICATE_THRESHOLD of its two texts'
    languages, and a part's is the largest of its members'. Texts with no near-duplicate
    are left out.
    """
    ids, m = _rows(corpus, ids)
    if len(ids) < 2:
        return []
    if threshold is None:
        own = np.array([DUPLICATE_THRESHOLD[corpus.language(i)] for i in ids])
    else:
        own = np.full(len(ids), float(threshold))
    sim = (m @ m.T).tocsr()
    strong = sparse.triu(sim, k=1).tocoo()
    keep = strong.data >= np.maximum(own[strong.row], own[strong.col])
    strong = sparse.coo_matrix((strong.data[keep], (strong.row[keep], strong.col[keep])), shape=sim.shape)
    _, component = connected_components(strong, directed=False)
    members: dict[int, list[int]] = {}
    for i, c in enumerate(component):
        members.setdefault(int(c), []).append(i)
    groups = []
    for rows in members.values():
        if len(rows) < 2:
            continue
        block = sim[rows][:, rows].toarray()
        for part in _average_groups(block, float(own[rows].max())):
            if len(part) > 1:
                groups.append(sorted(ids[rows[i]] for i in part))
    return sorted(groups, key=lambda g: (-len(g), g))


# --- themes of free-text answers ------------------------------------------------------------

MAX_THEMES = 8
DENSE_EIGEN_LIMIT = 400
MERGE_THEMES = 0.6  # labelled themes' centroids stay below 0.2; a split theme's are near 1
_KATAKANA_WORD = re.compile("[\u30a1-\u30fa][\u30a1-\u30fc]+")
_KANJI_WORD = re.compile("[\u3400-\u9fff\uf900-\ufaff々]{2,}")
LABEL_TERMS = 3


@dataclass(frozen=True)
class ThemeGroup:
    """Answers that share a theme: ids ascending, typical ids most typical first."""

    ids: list[int]
    size: int
    typical: list[int]
    label_terms: list[str]


def number_of_themes(n: int, max_groups: int | None = None) -> int:
    """How many groups n answers get: about sqrt(n/2) (6 for 66 answers), at most max_groups."""
    cap = MAX_THEMES if max_groups is None else max(1, int(max_groups))
    return max(1, min(cap, round(math.sqrt(n / 2)), n))


def _spherical_kmeans(points: np.ndarray, k: int, rng: np.random.Generator, restarts: int = 10) -> np.ndarray:
    """Labels of unit-length points by cosine k-means, best of `restarts` k-means++ starts."""
    n = len(points)
    best, best_fit = np.zeros(n, dtype=int), -np.inf
    for _ in range(restarts):
        centers = [points[rng.integers(n)]]
        for _ in range(k - 1):
            gap = np.clip(1.0 - np.max(points @ np.array(centers).T, axis=1), 0.0, None)
            centers.append(points[rng.choice(n, p=gap / gap.sum())] if gap.sum() > 0 else points[rng.integers(n)])
        centers = np.array(centers)
        for _ in range(100):
            labels = np.argmax(points @ centers.T, axis=1)
            sums = np.zeros_like(centers)
            np.add.at(sums, labels, points)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            moved = np.where(norms > 0, sums / np.where(norms > 0, norms, 1.0), centers)
            if np.allclose(moved, centers):
                break
            centers = moved
        fit = float(np.sum(points * centers[labels]))
        if fit > best_fit + 1e-9:
            best, best_fit = labels, fit
    return best


def _spectral_labels(m: sparse.csr_matrix, k: int, seed: int) -> np.ndarray:
    """Spectral clustering of TF-IDF rows on their k-nearest-neighbour cosine graph.

    Short answers share few n-grams, so two answers on one theme are often linked only
    through a third: the graph's leading eigenvectors follow those chains where plain
    k-means on the rows does not. The degrees are regularized (plus a tenth of the mean)
    so that an answer with no neighbour does not break the normalization.
    """
    n = m.shape[0]
    if k <= 1 or n <= 2:
        return np.zeros(n, dtype=int)
    sim = (m @ m.T).toarray()
    np.fill_diagonal(sim, 0.0)
    knn = min(n - 1, max(5, min(15, round(math.sqrt(n)))))
    nearest = np.argsort(-sim, axis=1, kind="stable")[:, :knn]
    keep = np.zeros_like(sim, dtype=bool)
    keep[np.repeat(np.arange(n), knn), nearest.ravel()] = True
    graph = np.where(keep | keep.T, sim, 0.0)
    degree = graph.sum(axis=1)
    degree = degree + 0.1 * max(float(degree.mean()), 1e-12)
    scale = 1.0 / np.sqrt(degree)
    normalized = scale[:, None] * graph * scale[None, :]
    if n <= DENSE_EIGEN_LIMIT:
        embedding = np.linalg.eigh(normalized)[1][:, -k:]
    else:  # the graph has about knn entries a row: a sparse solver, from a fixed start
        embedding = eigsh(sparse.csr_matrix(normalized), k=k, which="LA", v0=np.full(n, 1.0 / math.sqrt(n)))[1]
    embedding = embedding / np.maximum(np.linalg.norm(embedding, axis=1, keepdims=True), 1e-12)
    return _spherical_kmeans(embedding, k, np.random.default_rng(seed))


def _terms(text: str) -> dict[str, str]:
    """Candidate label terms of a text: {compared form: form to show}.

    Japanese: whole katakana words and the 2- to 4-character pieces (and whole runs up to 8)
    of kanji, which is where nouns live; other scripts: words that are not stop words.
    """
    out: dict[str, str] = {}
    for kind, run, raw in _runs(text):
        if kind == "L":
            if len(run) >= 3 and run not in ENGLISH_STOP_WORDS:
                out.setdefault(_stem(run), run)
            continue
        for m in _KATAKANA_WORD.finditer(raw):
            out.setdefault(run[m.start():m.end()], m.group(0))
        for m in _KANJI_WORD.finditer(raw):
            a, b = m.span()
            lengths = set(range(2, min(4, b - a) + 1)) | ({b - a} if b - a <= 8 else set())
            for n in lengths:
                for i in range(a, b - n + 1):
                    out.setdefault(run[i:i + n], raw[i:i + n])
    return out


def _label_terms(members: list[int], terms: list[dict[str, str]]) -> list[str]:
    """The terms most over-represented in the group, none overlapping a better one."""
    inside = set(members)
    others = max(len(terms) - len(inside), 1)
    docs: dict[str, set[int]] = {}
    shown: dict[str, Counter] = {}
    for i, t in enumerate(terms):
        for key, form in t.items():
            docs.setdefault(key, set()).add(i)
            shown.setdefault(key, Counter())[form] += 1
    need = 2 if len(inside) >= 3 else 1
    scored = []
    for key, where in docs.items():
        hits = len(where & inside)
        if hits >= need:
            lift = hits / len(inside) - (len(where) - hits) / others
            if lift > 0:
                scored.append((-lift, -hits, -len(key), key))
    chosen: list[str] = []
    for *_, key in sorted(scored):
        if any(key in c or c in key or (set(key) & set(c) and docs[key] <= docs[c]) for c in chosen):
            continue
        chosen.append(key)
        if len(chosen) == LABEL_TERMS:
            break
    return [min(shown[key].items(), key=lambda kv: (-kv[1], kv[0]))[0] for key in chosen]


def _merge_alike(parts: list[list[int]], m: sparse.csr_matrix) -> list[list[int]]:
    """Merge groups whose centroids are at cosine >= MERGE_THEMES (a theme the fixed number
    of groups split, e.g. many answers that say the same thing)."""
    while len(parts) > 1:
        centroids = np.array([np.asarray(m[rows].mean(axis=0)).ravel() for rows in parts])
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        alike = centroids @ centroids.T
        np.fill_diagonal(alike, -1.0)
        a, b = np.unravel_index(np.argmax(alike), alike.shape)
        if alike[a, b] < MERGE_THEMES:
            break
        parts = [rows for i, rows in enumerate(parts) if i not in (a, b)] + [sorted(parts[a] + parts[b])]
    return parts


def theme_groups(texts: Mapping[int, str], *, max_groups: int | None = None, seed: int = 0) -> list[ThemeGroup]:
    """Group free-text answers by theme; every answer lands in exactly one group.

    The number of groups is ``number_of_themes(len(texts), max_groups)``, fewer when two
    groups' centroids are alike (cosine >= MERGE_THEMES): they are merged. Answers with no
    word at all (empty, only emoji or punctuation) form a group of their own, last.
    Groups come largest first (ties: smallest id first); the same input and seed give the
    same groups.
    """
    corpus = Corpus(texts)
    ids, _, m = corpus.matrix()
    if not ids:
        return []
    worded = [r for r in range(len(ids)) if m.indptr[r + 1] > m.indptr[r]]
    wordless = [ids[r] for r in range(len(ids)) if m.indptr[r + 1] == m.indptr[r]]
    labels = _spectral_labels(m[worded], number_of_themes(len(worded), max_groups), seed) if worded else []
    parts: dict[int, list[int]] = {}
    for r, label in zip(worded, labels):
        parts.setdefault(int(label), []).append(r)
    parts = _merge_alike(list(parts.values()), m)
    terms = [_terms(corpus.text(ids[r])) for r in worded]
    position = {r: p for p, r in enumerate(worded)}
    groups = []
    for rows in parts:
        centroid = np.asarray(m[rows].mean(axis=0)).ravel()
        fit = m[rows] @ centroid
        typical = [ids[rows[i]] for i in sorted(range(len(rows)), key=lambda i: (-fit[i], ids[rows[i]]))]
        members = sorted(ids[r] for r in rows)
        label = _label_terms([position[r] for r in rows], terms)
        groups.append(ThemeGroup(ids=members, size=len(members), typical=typical, label_terms=label))
    groups.sort(key=lambda g: (-g.size, g.ids[0]))
    if wordless:
        groups.append(ThemeGroup(ids=sorted(wordless), size=len(wordless), typical=sorted(wordless), label_terms=[]))
    return groups

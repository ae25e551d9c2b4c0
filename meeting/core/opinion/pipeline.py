"""The opinion map: PCA of agree/disagree/pass votes, groups, and what each group stands for.

Votes come in as ``(participant, statement, value)`` triples in the order they were cast,
value +1 agree, -1 disagree, 0 pass; a later vote on the same statement replaces the
earlier one. A statement nobody voted on is still a column if listed in ``statements``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Hashable, Iterable

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse.linalg import ArpackError, eigsh

from .cluster import clean_start, kmeans, silhouette
from .repness import Consensus, Repness, consensus, group_informed_consensus, group_repness

Vote = tuple[Hashable, Hashable, int]

MIN_VOTES = 7  # a participant joins the groups after this many votes (or every statement)
MIN_IN_CONV = 15  # greedy fill: the groups start with at least this many people
BASE_K = 100
MAX_K = 5
K_BUFFER = 4  # updates the best k must win in a row before the map switches to it
GROUP_ITERS = 20


@dataclass(frozen=True)
class Group:
    id: int
    size: int
    members: tuple  # participant ids
    center: tuple[float, float]
    repness: list[Repness]


@dataclass
class _State:
    participants: list
    pindex: dict
    statements: list
    sindex: dict
    raw: np.ndarray  # participants x statements, NaN = not seen
    excluded: frozenset
    in_conv: np.ndarray
    comps: np.ndarray | None = None
    base_labels: np.ndarray | None = None  # per participant row, -1 outside in-conv
    group_centers: dict = field(default_factory=dict)  # k -> centers from the last run
    smoothed_k: int | None = None
    last_k: int | None = None
    k_count: int = 0
    group_members: dict = field(default_factory=dict)  # group id -> set of row indices

    def copy(self) -> "_State":
        return replace(
            self,
            participants=list(self.participants),
            pindex=dict(self.pindex),
            statements=list(self.statements),
            sindex=dict(self.sindex),
            raw=self.raw.copy(),
            in_conv=self.in_conv.copy(),
            group_centers=dict(self.group_centers),
            group_members=dict(self.group_members),
        )


@dataclass
class OpinionMap:
    """Result of one analysis. Pass it to :func:`update` to add votes cheaply."""

    participants: list
    statements: list
    x: np.ndarray
    y: np.ndarray
    n_votes: np.ndarray
    in_conv: np.ndarray  # bool per participant: counted in the groups
    group: np.ndarray  # group id per participant, -1 for none
    groups: list[Group]
    consensus: dict[str, list[Consensus]]
    gac: dict  # statement -> group-informed consensus (agree)
    statement_xy: np.ndarray  # where a lone "agree" with the statement would sit
    extremity: np.ndarray
    k: int
    silhouettes: dict  # k -> silhouette of the group clustering on base clusters
    components: np.ndarray
    center: np.ndarray
    state: _State = field(repr=False, default=None)

    def group_of(self, pid) -> int | None:
        g = int(self.group[self.state.pindex[pid]])
        return None if g < 0 else g


def _new_state(statements: Iterable = (), excluded: Iterable = ()) -> _State:
    sts = list(dict.fromkeys(statements))
    return _State([], {}, sts, {s: i for i, s in enumerate(sts)}, np.full((0, len(sts)), np.nan),
                  frozenset(excluded), np.zeros(0, dtype=bool))


def _apply_votes(st: _State, votes: Iterable[Vote]) -> None:
    rows, cols, vals = [], [], []
    new_p, new_s = [], []
    for pid, sid, value in votes:
        if value not in (1, -1, 0):
            raise ValueError(f"vote must be 1, -1 or 0, not {value!r}")
        r = st.pindex.get(pid)
        if r is None:
            r = st.pindex[pid] = len(st.participants)
            st.participants.append(pid)
            new_p.append(pid)
        c = st.sindex.get(sid)
        if c is None:
            c = st.sindex[sid] = len(st.statements)
            st.statements.append(sid)
            new_s.append(sid)
        rows.append(r)
        cols.append(c)
        vals.append(float(value))
    if new_p or new_s:
        st.raw = np.pad(st.raw, ((0, len(new_p)), (0, len(new_s))), constant_values=np.nan)
        st.in_conv = np.pad(st.in_conv, (0, len(new_p)))
        if st.base_labels is not None:
            st.base_labels = np.pad(st.base_labels, (0, len(new_p)), constant_values=-1)
    if rows:
        # Fancy assignment keeps the last write for repeated cells: later votes win.
        st.raw[np.array(rows), np.array(cols)] = np.array(vals)


def _top_eigenvectors(G: np.ndarray, k: int) -> np.ndarray:
    """Columns = the k leading eigenvectors of the symmetric matrix G, largest first."""
    size = len(G)
    if size > k + 1 and np.any(G):
        try:
            vals, vecs = eigsh(G, k=k, which="LA", v0=np.ones(size), tol=1e-10)
            return vecs[:, np.argsort(-vals)]
        except ArpackError:
            pass
    vals, vecs = np.linalg.eigh(G)
    return vecs[:, ::-1][:, :k]


def _pca(X: np.ndarray, start: np.ndarray | None, iters: int = 100) -> np.ndarray:
    """Two principal directions of the centered matrix X (rows = participants).

    Cold: Lanczos, sign fixed so the largest loading is positive. Warm: power iteration with
    deflation from the previous directions, sign kept continuous with them.
    """
    n, m = X.shape
    nc = min(2, n, m)
    if nc == 0:
        return np.zeros((0, m))
    if start is None or start.shape != (nc, m):
        # Leading eigenvectors of the smaller Gram matrix by Lanczos from a fixed start:
        # deterministic, and it avoids LAPACK's multithreaded paths, which crawl on a busy
        # 2-core machine.
        G = X.T @ X if m <= n else X @ X.T
        vecs = _top_eigenvectors(G, nc)
        if m <= n:
            comps = vecs.T.copy()
        else:
            comps = (X.T @ vecs).T
            norms = np.linalg.norm(comps, axis=1, keepdims=True)
            comps = np.divide(comps, norms, out=np.zeros_like(comps), where=norms > 0)
        for v in comps:
            if v[np.argmax(np.abs(v))] < 0:
                v *= -1
        return comps
    # Power iteration on the Gram matrix (statements x statements), deflating it after
    # each direction: one matrix product, then only small matrix-vector steps.
    G = X.T @ X
    comps = []
    for i in range(nc):
        v = start[i].copy()
        for prev in comps:  # keep the start orthogonal to found directions
            v -= (v @ prev) * prev
        norm = np.linalg.norm(v)
        v = v / norm if norm > 0 else np.ones(m) / np.sqrt(m)
        for _ in range(iters):
            w = G @ v
            nw = np.linalg.norm(w)
            if nw == 0:
                break
            w /= nw
            done = np.linalg.norm(w - v) < 1e-9
            v = w
            if done:
                break
        if v @ start[i] < 0:
            v = -v
        comps.append(v)
        G = G - (v @ G @ v) * np.outer(v, v)
    return np.array(comps)


def _run(st: _State, warm: bool) -> OpinionMap:
    n, m = st.raw.shape
    excl = np.array([s in st.excluded for s in st.statements], dtype=bool)
    seen_raw = ~np.isnan(st.raw)
    n_votes = seen_raw.sum(axis=1)

    # Inclusion: sticky, with a greedy fill up to MIN_IN_CONV people.
    need = min(MIN_VOTES, int(seen_raw.any(axis=0).sum()))
    in_conv = st.in_conv | ((n_votes >= need) & (n_votes > 0))
    if in_conv.sum() < MIN_IN_CONV:
        order = np.argsort(-n_votes, kind="stable")
        for r in order:
            if in_conv.sum() >= MIN_IN_CONV or n_votes[r] == 0:
                break
            in_conv[r] = True
    st.in_conv = in_conv

    # Rating matrix: moderated-out statements count as a pass-like 0 for everyone.
    rating = st.raw.copy()
    rating[:, excl] = 0.0
    seen = ~np.isnan(rating)
    with np.errstate(invalid="ignore"):
        col_n = seen.sum(axis=0)
        center = np.where(col_n > 0, np.nansum(rating, axis=0) / np.maximum(col_n, 1), 0.0)
    Xc = np.where(seen, rating - center, 0.0)
    comps = _pca(Xc, st.comps if warm else None)
    st.comps = comps
    proj = Xc @ comps.T if len(comps) else np.zeros((n, 0))
    proj = np.pad(proj, ((0, 0), (0, 2 - proj.shape[1])))
    scale = np.sqrt(m / np.maximum(seen.sum(axis=1), 1))
    proj = proj * scale[:, None]

    comps2 = np.pad(comps, ((0, 2 - len(comps)), (0, 0))) if m else np.zeros((2, 0))
    statement_xy = (np.sqrt(m) * (1.0 - center))[:, None] * comps2.T
    extremity = np.linalg.norm(statement_xy, axis=1)

    # Base clusters on the included people, then groups on the base centers.
    rows = np.flatnonzero(in_conv)
    pts = proj[rows]
    base_labels = -np.ones(n, dtype=int)
    silhouettes: dict[int, float] = {}
    group_rows: list[np.ndarray] = []
    if len(rows):
        init = None
        if warm and st.base_labels is not None and (st.base_labels[rows] >= 0).any():
            init = clean_start(pts, st.base_labels[rows], BASE_K)
        base_centers, labels = kmeans(pts, BASE_K, init=init)
        base_labels[rows] = labels
        weights = np.bincount(labels, minlength=len(base_centers)).astype(float)
        n_base = len(base_centers)
        if n_base >= 2:
            max_k = min(MAX_K, 2 + n_base // 12)
            clusterings = {}
            for k in range(2, max_k + 1):
                prev = st.group_centers.get(k) if warm else None
                centers, glabels = kmeans(base_centers, k, weights=weights, init=prev, max_iters=GROUP_ITERS)
                clusterings[k] = (centers, glabels)
                silhouettes[k] = silhouette(base_centers, glabels)
            this_k = max(silhouettes, key=lambda k: (silhouettes[k], -k))
            if warm and st.last_k == this_k:
                st.k_count += 1
            else:
                st.k_count = 1
            st.last_k = this_k
            if (not warm or st.smoothed_k is None or st.k_count >= K_BUFFER
                    or st.smoothed_k not in clusterings):
                st.smoothed_k = this_k
            st.group_centers = {k: c for k, (c, _) in clusterings.items()}
            _, glabels = clusterings[st.smoothed_k]
            member_labels = glabels[labels]
            group_rows = [rows[member_labels == g] for g in range(member_labels.max() + 1)]
            group_rows = [g for g in group_rows if len(g)]
        else:
            group_rows = [rows]
    st.base_labels = base_labels

    # Stable ids: match new groups to the old ones by shared members.
    ids = _stable_ids(group_rows, st.group_members if warm else {})
    st.group_members = {gid: set(r.tolist()) for gid, r in zip(ids, group_rows)}
    group = -np.ones(n, dtype=int)
    for gid, r in zip(ids, group_rows):
        group[r] = gid

    rep = group_repness(rating, group_rows, st.statements, excl) if group_rows else []
    groups = sorted(
        (Group(gid, len(r), tuple(st.participants[i] for i in r),
               tuple(float(v) for v in proj[r].mean(axis=0)), reps)
         for gid, r, reps in zip(ids, group_rows, rep)),
        key=lambda g: g.id,
    )
    gac = group_informed_consensus(st.raw, group_rows) if group_rows else np.full(m, np.nan)
    return OpinionMap(
        participants=list(st.participants),
        statements=list(st.statements),
        x=proj[:, 0].copy(),
        y=proj[:, 1].copy(),
        n_votes=n_votes,
        in_conv=in_conv.copy(),
        group=group,
        groups=groups,
        consensus=consensus(rating, st.statements, excl),
        gac={s: float(v) for s, v in zip(st.statements, gac)},
        statement_xy=statement_xy,
        extremity=extremity,
        k=len(groups),
        silhouettes=silhouettes,
        components=comps2,
        center=center,
        state=st,
    )


def _stable_ids(group_rows: list[np.ndarray], previous: dict[int, set]) -> list[int]:
    if not previous:
        order = sorted(range(len(group_rows)), key=lambda i: (-len(group_rows[i]), int(group_rows[i][0])))
        ids = [0] * len(group_rows)
        for new_id, i in enumerate(order):
            ids[i] = new_id
        return ids
    old_ids = sorted(previous)
    overlap = np.array([[len(previous[o].intersection(r.tolist())) for o in old_ids] for r in group_rows])
    ri, ci = linear_sum_assignment(-overlap)
    ids = [-1] * len(group_rows)
    for i, j in zip(ri, ci):
        if overlap[i, j] > 0:
            ids[i] = old_ids[j]
    free = (i for i in range(len(group_rows) + len(old_ids)) if i not in ids)
    return [gid if gid >= 0 else next(free) for gid in ids]


def compute_map(votes: Iterable[Vote], statements: Iterable = (), excluded: Iterable = ()) -> OpinionMap:
    """Compute the opinion map from scratch.

    ``statements`` fixes the column order (others are appended as first seen);
    ``excluded`` lists moderated-out statements: they weigh as 0 in the map and are never
    reported as representative or consensus.
    """
    st = _new_state(statements, excluded)
    _apply_votes(st, votes)
    return _run(st, warm=False)


def update(previous: OpinionMap, new_votes: Iterable[Vote], excluded: Iterable | None = None) -> OpinionMap:
    """Add votes to a previous map and recompute, warm-started from its directions and clusters.

    The previous map is left unchanged. Group ids stay stable, inclusion is sticky and the
    number of groups changes only after the new best k has won K_BUFFER updates in a row.
    """
    st = previous.state.copy()
    if excluded is not None:
        st.excluded = frozenset(excluded)
    _apply_votes(st, new_votes)
    return _run(st, warm=True)

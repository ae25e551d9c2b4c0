"""Weighted k-means and silhouette, in the Polis manner (numpy only)."""
from __future__ import annotations

import numpy as np


def first_distinct(points: np.ndarray, k: int) -> np.ndarray:
    """Return the first k distinct rows of points, in row order."""
    seen: set[tuple[float, ...]] = set()
    out = []
    for row in points:
        key = tuple(row.tolist())
        if key not in seen:
            seen.add(key)
            out.append(row)
            if len(out) == k:
                break
    return np.array(out, dtype=float).reshape(-1, points.shape[1])


def n_distinct(points: np.ndarray) -> int:
    return len(np.unique(points, axis=0)) if len(points) else 0


def assign(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest center for every point (ties go to the later center, as Polis)."""
    d = np.zeros((len(points), len(centers)))
    for dim in range(points.shape[1]):  # a loop over 2 dimensions beats a 3-D temporary
        diff = points[:, dim, None] - centers[None, :, dim]
        d += diff * diff
    rev = d[:, ::-1]
    return len(centers) - 1 - rev.argmin(axis=1)


def kmeans(
    points: np.ndarray,
    k: int,
    weights: np.ndarray | None = None,
    init: np.ndarray | None = None,
    max_iters: int = 100,
    tol: float = 0.01,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster points with weighted Lloyd iterations.

    Start from ``init`` (warm start) or the first k distinct points. Clusters that end up
    empty are dropped, so fewer than k may come back. Stop when no center moves by tol
    or more. Return (centers, labels) with labels indexing the returned centers.
    """
    points = np.asarray(points, dtype=float)
    n = len(points)
    if n == 0:
        return np.zeros((0, points.shape[1] if points.ndim == 2 else 2)), np.zeros(0, dtype=int)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    centers = first_distinct(points, k) if init is None or len(init) == 0 else np.array(init, float)
    labels = assign(points, centers)
    for _ in range(max_iters):
        counts = np.bincount(labels, weights=w, minlength=len(centers))
        keep = counts > 0
        sums = np.zeros_like(centers)
        np.add.at(sums, labels, points * w[:, None])
        new = sums[keep] / counts[keep][:, None]
        converged = keep.all() and np.all(np.linalg.norm(new - centers, axis=1) < tol)
        centers = new
        labels = assign(points, centers)
        if converged:
            break
    # Drop clusters left empty by the last assignment and renumber.
    used = np.unique(labels)
    if len(used) < len(centers):
        remap = -np.ones(len(centers), dtype=int)
        remap[used] = np.arange(len(used))
        centers, labels = centers[used], remap[labels]
    return centers, labels


def clean_start(points: np.ndarray, labels_prev: np.ndarray, k: int) -> np.ndarray:
    """Warm-start centers: recompute old clusters at the members' new positions.

    labels_prev holds the old cluster of each point, or -1 for a new point. Empty old
    clusters vanish; while there are fewer than min(k, distinct points) clusters, the
    most distal point becomes a new singleton cluster.
    """
    centers = []
    for lab in np.unique(labels_prev[labels_prev >= 0]):
        centers.append(points[labels_prev == lab].mean(axis=0))
    centers = np.unique(np.array(centers).reshape(-1, points.shape[1]), axis=0) if centers else np.zeros((0, points.shape[1]))
    target = min(k, n_distinct(points))
    while len(centers) < target:
        if len(centers) == 0:
            centers = points[:1].copy()
            continue
        d = ((points[:, None, :] - centers[None]) ** 2).sum(axis=2).min(axis=1)
        centers = np.vstack([centers, points[int(d.argmax())]])
    return centers


def silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette (unweighted, Euclidean); a point alone in its cluster scores 0."""
    n = len(points)
    groups = np.unique(labels)
    if n < 2 or len(groups) < 2:
        return 0.0
    dist = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    onehot = (labels[:, None] == groups[None, :]).astype(float)
    sizes = onehot.sum(axis=0)
    sums = dist @ onehot  # n x g: total distance to each group
    own = np.searchsorted(groups, labels)
    own_size = sizes[own]
    a = np.where(own_size > 1, sums[np.arange(n), own] / np.maximum(own_size - 1, 1), 0.0)
    means = sums / sizes[None, :]
    means[np.arange(n), own] = np.inf
    b = means.min(axis=1)
    s = np.where(own_size > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(s.mean())


def adjusted_rand_index(a, b) -> float:
    """Adjusted Rand index of two labelings of the same items."""
    a = np.asarray(a)
    b = np.asarray(b)
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(table, (ai, bi), 1)

    def comb2(x):
        return (x * (x - 1) / 2).sum()

    n = len(a)
    sum_ij = comb2(table)
    sum_a = comb2(table.sum(axis=1))
    sum_b = comb2(table.sum(axis=0))
    expected = sum_a * sum_b / (n * (n - 1) / 2) if n > 1 else 0.0
    max_index = (sum_a + sum_b) / 2
    if max_index == expected:
        return 1.0
    return float((sum_ij - expected) / (max_index - expected))

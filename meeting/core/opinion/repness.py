"""Representative statements, consensus and group-informed consensus (Polis formulas)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Z90 = 1.2816  # one-sided 90 %


@dataclass(frozen=True)
class Repness:
    """Why a statement represents a group: its direction and test statistics."""

    statement: object
    direction: str  # "agree" or "disagree"
    n_success: int
    n_trials: int
    p_success: float
    p_test: float  # one-proportion z within the group
    repness: float  # ratio of the group's share to the other groups' share
    repness_test: float  # two-proportion z, group vs the other groups
    best_agree: bool = False


@dataclass(frozen=True)
class Consensus:
    statement: object
    direction: str
    n_success: int
    n_trials: int
    p_success: float
    p_test: float


def counts(M: np.ndarray, rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Agree, disagree and seen counts per column over the given rows (NaN = not seen)."""
    sub = M[rows]
    return (
        (sub > 0).sum(axis=0).astype(float),
        (sub < 0).sum(axis=0).astype(float),
        (~np.isnan(sub)).sum(axis=0).astype(float),
    )


def prop_test(succ, n):
    """One-proportion z with a pseudo-count (Polis 'pat')."""
    return 2.0 * np.sqrt(n + 1) * ((succ + 1) / (n + 1) - 0.5)


def two_prop_test(s1, n1, s2, n2):
    """Two-proportion z with pseudo-counts (Polis 'rat'); 0 when the pooled share is 1."""
    pi1 = (s1 + 1) / (n1 + 1)
    pi2 = (s2 + 1) / (n2 + 1)
    pihat = (s1 + s2 + 2) / (n1 + n2 + 2)
    var = pihat * (1 - pihat) * (1 / (n1 + 1) + 1 / (n2 + 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (pi1 - pi2) / np.sqrt(var)
    return np.where(pihat >= 1, 0.0, np.nan_to_num(z))


def group_repness(
    M: np.ndarray,
    group_rows: list[np.ndarray],
    statements: list,
    excluded: np.ndarray,
    top: int = 5,
) -> list[list[Repness]]:
    """Select up to ``top`` representative statements per group.

    M is the rating matrix (mod-out columns zeroed, NaN = not seen). ``excluded`` is a
    boolean mask of mod-out columns, which are never selected.
    """
    tallies = [counts(M, rows) for rows in group_rows]
    total = [sum(t[i] for t in tallies) for i in range(3)]
    out = []
    for na, nd, ns in tallies:
        ra_n, rd_n, rs_n = total[0] - na, total[1] - nd, total[2] - ns
        pa = (na + 1) / (ns + 2)
        pd = (nd + 1) / (ns + 2)
        pat = prop_test(na, ns)
        pdt = prop_test(nd, ns)
        ra = pa / ((ra_n + 1) / (rs_n + 2))
        rd = pd / ((rd_n + 1) / (rs_n + 2))
        rat = two_prop_test(na, ns, ra_n, rs_n)
        rdt = two_prop_test(nd, ns, rd_n, rs_n)

        def item(c, agree, best=False):
            if agree:
                return Repness(statements[c], "agree", int(na[c]), int(ns[c]), float(pa[c]),
                               float(pat[c]), float(ra[c]), float(rat[c]), best)
            return Repness(statements[c], "disagree", int(nd[c]), int(ns[c]), float(pd[c]),
                           float(pdt[c]), float(rd[c]), float(rdt[c]), best)

        ok = ~excluded
        sufficient = ok & (((rat > Z90) & (pat > Z90)) | ((rdt > Z90) & (pdt > Z90)))
        best = None
        for c in np.flatnonzero(ok):
            if na[c] == 0 and nd[c] == 0:
                continue
            if best is not None and ra[best] > 1:
                if ra[c] * rat[c] * pa[c] * pat[c] > ra[best] * rat[best] * pa[best] * pat[best]:
                    best = c
            elif best is not None:
                if pa[c] * pat[c] > pa[best] * pat[best]:
                    best = c
            elif pat[c] > Z90 or (ra[c] > 1 and pa[c] > 0.5):
                best = c
        if sufficient.any():
            idx = np.flatnonzero(sufficient)
            agree = rat[idx] > rdt[idx]
            metric = np.where(agree, ra[idx] * rat[idx] * pa[idx] * pat[idx],
                              rd[idx] * rdt[idx] * pd[idx] * pdt[idx])
            order = [int(c) for c, _ in sorted(zip(idx, -metric), key=lambda t: t[1])]
            items = [item(c, rat[c] > rdt[c]) for c in order if c != best]
            if best is not None:
                items.insert(0, item(best, True, True))
            items = items[:top]
            items = [i for i in items if i.direction == "agree"] + [i for i in items if i.direction == "disagree"]
        elif best is not None:
            items = [item(best, True, True)]
        else:
            cand = np.flatnonzero(ok)
            if len(cand):
                c = int(cand[np.argmax(np.maximum(rat[cand], rdt[cand]))])
                items = [item(c, rat[c] > rdt[c])]
            else:
                items = []
        out.append(items)
    return out


def consensus(M: np.ndarray, statements: list, excluded: np.ndarray, top: int = 5) -> dict[str, list[Consensus]]:
    """Statements the whole room agrees (or disagrees) with, over every participant."""
    na, nd, ns = counts(M, slice(None))
    out = {}
    for name, succ in (("agree", na), ("disagree", nd)):
        p = (succ + 1) / (ns + 2)
        z = prop_test(succ, ns)
        keep = np.flatnonzero((~excluded) & (p > 0.5) & (z > Z90))
        keep = sorted(keep, key=lambda c: -p[c] * z[c])[:top]
        out[name] = [Consensus(statements[c], name, int(succ[c]), int(ns[c]), float(p[c]), float(z[c])) for c in keep]
    return out


def group_informed_consensus(M_raw: np.ndarray, group_rows: list[np.ndarray], direction: str = "agree") -> np.ndarray:
    """Product over groups of (agrees + 1) / (seen + 2), per statement (Polis GAC)."""
    gac = np.ones(M_raw.shape[1])
    for rows in group_rows:
        na, nd, ns = counts(M_raw, rows)
        gac *= ((na if direction == "agree" else nd) + 1) / (ns + 2)
    return gac

"""The statistics helpers, each defined once: percentile bootstrap CIs (plain and stratified ratio), the Wilson
score interval, AUROC (from two score sets or from 0/1 labels) and the NaN-aware Spearman correlation."""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile: two-sided 95% intervals


def bootstrap_ci(values, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0) -> tuple[float, float, float]:
    """Return (mean, low, high): the mean and its percentile-bootstrap (1 - alpha) interval."""
    x = np.asarray(list(values), dtype=float)
    if x.size == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    if x.size == 1:
        return float(x[0]), float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(x.mean()), float(lo), float(hi)


def stratified_bootstrap(num: np.ndarray, den: np.ndarray, groups: np.ndarray, n_boot: int = 2000,
                         alpha: float = 0.05, seed: int = 0) -> tuple[float | None, float | None]:
    """Percentile CI of sum(num)/sum(den), resampling answers with replacement within each group."""
    rng = np.random.default_rng(seed)
    tot_num, tot_den = np.zeros(n_boot), np.zeros(n_boot)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        draw = idx[rng.integers(0, idx.size, size=(n_boot, idx.size))]
        tot_num += num[draw].sum(1)
        tot_den += den[draw].sum(1)
    ok = tot_den > 0
    if not ok.any():
        return None, None
    rates = tot_num[ok] / tot_den[ok]
    return float(np.quantile(rates, alpha / 2)), float(np.quantile(rates, 1 - alpha / 2))


def wilson(k: float, n: float, z: float = Z95) -> tuple[float | None, float | None]:
    """The Wilson score interval of k successes in n trials (None, None when n == 0)."""
    if n <= 0:
        return None, None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def auroc(positive, negative) -> float:
    """Area under the ROC curve for scores where `positive` should rank above `negative`: the Mann-Whitney
    probability P(pos > neg) + 0.5 P(pos == neg), computed from mid-ranks (O(n log n), exact with ties)."""
    from scipy.stats import rankdata

    pos, neg = np.asarray(list(positive), dtype=float), np.asarray(list(negative), dtype=float)
    if pos.size == 0 or neg.size == 0:
        raise ValueError("auroc needs at least one positive and one negative score")
    ranks = rankdata(np.concatenate([pos, neg]))  # average ranks for ties
    u = ranks[:pos.size].sum() - pos.size * (pos.size + 1) / 2
    return float(u / (pos.size * neg.size))


def auroc_labels(score, label) -> float | None:
    """AUROC of `score` (high = positive) for the 0/1 or boolean `label`; None unless both classes occur."""
    score, label = np.asarray(score, dtype=float), np.asarray(label).astype(bool)
    if label.all() or not label.any():
        return None
    return auroc(score[label], score[~label])


def spearman(a, b) -> tuple[float | None, int]:
    """Spearman's rho of `a` and `b` over the pairs where neither is NaN, and the number of such pairs; rho is
    None with fewer than 3 pairs or when either side is constant on them."""
    from scipy.stats import spearmanr

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = ~np.isnan(a) & ~np.isnan(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return None, int(ok.sum())
    return float(spearmanr(a[ok], b[ok]).statistic), int(ok.sum())

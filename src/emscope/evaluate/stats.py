"""Small statistics helpers: percentile bootstrap confidence intervals."""

from __future__ import annotations

import numpy as np


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

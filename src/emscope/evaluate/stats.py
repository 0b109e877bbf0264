"""The statistics helpers, each defined once: the percentile-bootstrap CI of a mean, the Wilson score interval, its
cluster-adjusted form for rates of answers grouped by question (`rate_interval`, the one interval of every rate
emscope reports), the small-n rule, AUROC (from two score sets or from 0/1 labels) and the NaN-aware Spearman
correlation."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile: two-sided 95% intervals
SMALL_N_ANSWERS = 30  # a rate over fewer answers than this is flagged `small_n`
SMALL_N_QUESTIONS = 5  # ... and so is one over fewer questions than this


def bootstrap_ci(values, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0) -> tuple[float, float, float]:
    """Return (mean, low, high): the mean and its percentile-bootstrap (1 - alpha) interval. One value gives a
    zero-width interval: a caller that reports intervals needs at least two values (the likelihood probe reports
    none below two questions)."""
    x = np.asarray(list(values), dtype=float)
    if x.size == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    if x.size == 1:
        return float(x[0]), float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(x.mean()), float(lo), float(hi)


def wilson(k: float, n: float, z: float = Z95) -> tuple[float | None, float | None]:
    """The Wilson score interval of k successes in n trials (None, None when n == 0)."""
    if n <= 0:
        return None, None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def small_n(n_answers: float, n_questions: float) -> bool:
    """Whether a rate rests on too little to read alone: fewer than `SMALL_N_ANSWERS` (30) answers in its
    denominator or fewer than `SMALL_N_QUESTIONS` (5) questions."""
    return n_answers < SMALL_N_ANSWERS or n_questions < SMALL_N_QUESTIONS


def intra_question_correlation(k: Iterable[float], n: Iterable[float]) -> float:
    """The one-way ANOVA estimate of the intra-question correlation (ICC) of 0/1 answers, clipped to [0, 1].

    `k[i]` of the `n[i]` answers to question i are successes (questions with no answer are ignored). With `g`
    questions, `N` answers, question rates `p_i` and the pooled rate `p`:
    MSB = sum n_i (p_i - p)^2 / (g - 1), MSW = sum n_i p_i (1 - p_i) / (N - g),
    n0 = (N - sum n_i^2 / N) / (g - 1), ICC = (MSB - MSW) / (MSB + (n0 - 1) MSW).
    It is 0 where it cannot be estimated: one question, one answer per question, or every answer alike."""
    k_arr, n_arr = np.asarray(list(k), dtype=float), np.asarray(list(n), dtype=float)
    keep = n_arr > 0
    k_arr, n_arr = k_arr[keep], n_arr[keep]
    g, total = k_arr.size, float(n_arr.sum())
    if g < 2 or total <= g:
        return 0.0
    p_i, p = k_arr / n_arr, k_arr.sum() / total
    msb = float((n_arr * (p_i - p) ** 2).sum()) / (g - 1)
    msw = float((n_arr * p_i * (1 - p_i)).sum()) / (total - g)
    n0 = (total - float((n_arr ** 2).sum()) / total) / (g - 1)
    denom = msb + (n0 - 1) * msw
    if denom <= 0:
        return 0.0
    return min(1.0, max(0.0, (msb - msw) / denom))


def clustered_wilson(k: Iterable[float], n: Iterable[float],
                     z: float = Z95) -> tuple[float | None, float | None, float]:
    """The Wilson score interval of a rate of answers grouped by question, on the design-effect-adjusted sample
    size (Kish): returns (low, high, n_eff), (None, None, 0.0) when there is no answer.

    `k[i]` of the `n[i]` answers to question i are successes. With N answers, K successes, the ICC of
    `intra_question_correlation` and m the size-weighted mean answers per question (sum n_i^2 / N, the plain mean
    when every question has as many answers), deff = 1 + (m - 1) ICC, n_eff = N / deff and the interval is
    `wilson(K n_eff / N, n_eff)`. One answer per question (m = 1) or one question gives the plain Wilson interval of
    K of N; questions answered all-or-nothing (ICC = 1) shrink n_eff to about the number of questions. Unlike a
    bootstrap it stays a proper interval with one answer per question and with 0 or N successes."""
    k_arr, n_arr = np.asarray(list(k), dtype=float), np.asarray(list(n), dtype=float)
    keep = n_arr > 0
    k_arr, n_arr = k_arr[keep], n_arr[keep]
    total = float(n_arr.sum())
    if total <= 0:
        return None, None, 0.0
    m = float((n_arr ** 2).sum()) / total
    deff = 1 + (m - 1) * intra_question_correlation(k_arr, n_arr)
    n_eff = total / deff
    low, high = wilson(float(k_arr.sum()) * n_eff / total, n_eff, z)
    return low, high, n_eff


@dataclass(frozen=True)
class RateInterval:
    """A rate of answers with its 95% interval (`clustered_wilson`) and how much it rests on."""

    rate: float | None  # None when no answer is counted
    low: float | None
    high: float | None
    n: int  # answers in the rate's denominator
    n_questions: int  # questions with at least one such answer
    n_eff: float  # the design-effect-adjusted sample size the interval uses
    small_n: bool  # fewer than 30 answers or fewer than 5 questions (see `small_n`)


def rate_interval(hits, groups, counted=None, z: float = Z95) -> RateInterval:
    """The rate of `hits` (per answer, 0/1 or bool) among the `counted` answers (default: all), answers grouped by
    `groups` (question ids; None groups each answer alone), with its `clustered_wilson` interval and small-n flag."""
    hits_arr = np.asarray(list(hits), dtype=float)
    counted_arr = np.ones_like(hits_arr) if counted is None else np.asarray(list(counted), dtype=float)
    group_list = [str(i) for i in range(hits_arr.size)] if groups is None else [str(g) for g in groups]
    if len(group_list) != hits_arr.size or counted_arr.size != hits_arr.size:
        raise ValueError("rate_interval: hits, groups and counted need one entry per answer")
    ks: dict[str, float] = {}
    ns: dict[str, float] = {}
    for g, h, c in zip(group_list, hits_arr, counted_arr):
        if c:
            ks[g] = ks.get(g, 0.0) + float(h)
            ns[g] = ns.get(g, 0.0) + 1.0
    total, successes = sum(ns.values()), sum(ks.values())
    low, high, n_eff = clustered_wilson(ks.values(), ns.values(), z)
    return RateInterval(rate=successes / total if total else None, low=low, high=high, n=int(total),
                        n_questions=len(ns), n_eff=n_eff, small_n=small_n(total, len(ns)))


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

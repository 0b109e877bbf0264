"""The one home of the statistics helpers (`emscope.evaluate.stats`): Wilson interval, stratified ratio bootstrap,
AUROC from labels and the NaN-aware Spearman correlation, each checked against an independent computation."""

import math

import numpy as np
import pytest

from emscope.evaluate.stats import Z95, auroc_labels, spearman, stratified_bootstrap, wilson


def test_wilson_matches_textbook_values_and_its_defining_equation():
    assert wilson(2, 4) == pytest.approx((0.15004, 0.84996), abs=1e-4)  # textbook value
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0, abs=1e-12)
    assert wilson(0, 0) == (None, None)
    # each end p0 solves |k/n - p0| = z * sqrt(p0 (1 - p0) / n): the score test is exactly at its 95% boundary
    for k, n in [(5, 7), (1, 30), (17, 40), (99, 100)]:
        for p0 in wilson(k, n):
            assert abs(k / n - p0) == pytest.approx(Z95 * math.sqrt(p0 * (1 - p0) / n), abs=1e-12)
    assert Z95 == pytest.approx(1.959963984540054, abs=1e-15)


def test_auroc_labels_agrees_with_sklearn_and_needs_both_classes():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(7)
    for _ in range(20):
        score = np.round(rng.normal(size=60), 1)  # rounded: plenty of ties
        label = rng.integers(0, 2, size=60)
        assert auroc_labels(score, label) == pytest.approx(roc_auc_score(label, score), abs=1e-12)
    assert auroc_labels([0.1, 0.9, 0.5], [False, True, False]) == 1.0
    assert auroc_labels([0.1, 0.9], [1, 1]) is None
    assert auroc_labels([0.1, 0.9], [0, 0]) is None
    assert auroc_labels([], []) is None


def test_spearman_drops_nan_pairs_and_matches_ranked_pearson():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=50), rng.normal(size=50)
    b = b + a  # correlated, no ties
    a[[3, 10]], b[[10, 20]] = np.nan, np.nan  # three rows have a NaN on one side
    ok = ~np.isnan(a) & ~np.isnan(b)
    ranks = [np.argsort(np.argsort(x[ok])) for x in (a, b)]
    rho, n = spearman(a, b)
    assert n == 47 and rho == pytest.approx(np.corrcoef(*ranks)[0, 1], abs=1e-12)
    assert spearman([1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 45.0]) == (pytest.approx(1.0), 4)
    assert spearman([1.0, 2.0, np.nan], [3.0, 1.0, 2.0]) == (None, 2)  # fewer than 3 pairs
    assert spearman([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]) == (None, 3)  # constant side


def test_stratified_bootstrap_resamples_within_groups():
    # every group is constant inside: resampling within groups can never move the pooled rate
    num = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
    den = np.ones(5)
    groups = np.array(["a", "a", "a", "b", "b"])
    assert stratified_bootstrap(num, den, groups, n_boot=200) == (0.6, 0.6)
    # a mixed group gives a proper interval around the pooled rate, the same for the same seed
    num2 = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    g2 = np.array(["a"] * 3 + ["b"] * 3)
    lo, hi = stratified_bootstrap(num2, np.ones(6), g2, seed=3)
    assert lo < 0.5 < hi and (lo, hi) == stratified_bootstrap(num2, np.ones(6), g2, seed=3)
    assert stratified_bootstrap(num, np.zeros(5), groups) == (None, None)  # nothing in any denominator

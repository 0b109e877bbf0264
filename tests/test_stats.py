"""The one home of the statistics helpers (`emscope.evaluate.stats`): Wilson interval, its cluster-adjusted form for
rates of answers grouped by question, the small-n rule, AUROC from labels and the NaN-aware Spearman correlation,
each checked against hand-computed values or an independent computation."""

import math

import numpy as np
import pytest

from emscope.evaluate.stats import (
    Z95,
    auroc_labels,
    clustered_wilson,
    intra_question_correlation,
    rate_interval,
    small_n,
    spearman,
    wilson,
)


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


Z2 = Z95 * Z95  # 3.841459...


def test_clustered_wilson_at_zero_and_all_successes_is_a_proper_interval():
    # 0 of 10 and 10 of 10, one answer per question: Wilson's closed forms [0, z²/(n+z²)] and [n/(n+z²), 1]
    zero = rate_interval([0] * 10, [f"q{i}" for i in range(10)])
    assert (zero.rate, zero.low) == (0.0, 0.0) and zero.high == pytest.approx(Z2 / (10 + Z2), abs=1e-12)
    assert zero.high == pytest.approx(0.27753, abs=1e-5) and zero.small_n and zero.n == 10
    full = rate_interval([1] * 10, [f"q{i}" for i in range(10)])
    assert full.low == pytest.approx(10 / (10 + Z2), abs=1e-12) and full.high == pytest.approx(1.0, abs=1e-12)
    # the same with 4 answers to each of 5 questions: every answer alike, no correlation can be estimated: n = 20
    same = rate_interval([0] * 20, [f"q{i // 4}" for i in range(20)])
    assert same.high == pytest.approx(Z2 / (20 + Z2), abs=1e-12) and same.n_eff == 20
    assert rate_interval([], []).rate is None and clustered_wilson([], []) == (None, None, 0.0)


def test_one_answer_per_question_or_one_question_is_plain_wilson():
    hits = [1, 0, 0, 1, 0, 0, 0]
    one_each = rate_interval(hits, [f"q{i}" for i in range(7)])
    assert (one_each.low, one_each.high) == pytest.approx(wilson(2, 7), abs=1e-12) and one_each.n_eff == 7
    assert (one_each.low, one_each.high) == pytest.approx((0.0822, 0.6411), abs=1e-4)  # textbook Wilson 2/7
    single = rate_interval(hits, ["q"] * 7)  # one question: its answers are the independent draws
    assert (single.low, single.high) == pytest.approx(wilson(2, 7), abs=1e-12) and single.n_questions == 1
    assert rate_interval(hits, None).n_eff == 7  # no groups: each answer alone


def test_all_or_nothing_questions_widen_to_the_number_of_questions():
    # 10 questions x 20 answers; 3 questions always succeed, 7 never: ICC = 1, deff = 20, n_eff = 10 questions
    hits = [1] * 60 + [0] * 140
    groups = [f"q{i // 20}" for i in range(200)]
    ci = rate_interval(hits, groups)
    assert intra_question_correlation([20, 20, 20] + [0] * 7, [20] * 10) == pytest.approx(1.0)
    assert ci.rate == pytest.approx(0.3) and ci.n_eff == pytest.approx(10.0)
    assert (ci.low, ci.high) == pytest.approx(wilson(3, 10), abs=1e-12)  # not wilson(60, 200), 4x narrower
    assert ci.high - ci.low > 3 * (wilson(60, 200)[1] - wilson(60, 200)[0])
    assert not ci.small_n  # 200 answers over 10 questions


def test_intra_question_correlation_by_hand():
    # q1: 1 1 1, q2: 0 0 1. N = 6, p = 2/3; MSB = (3 (1/3)² + 3 (1/3)²) / 1 = 2/3; MSW = 3 (1/3)(2/3) / 4 = 1/6;
    # n0 = (6 - 18/6) / 1 = 3; ICC = (2/3 - 1/6) / (2/3 + 2/6) = 1/2; deff = 1 + 2 * 1/2 = 2: n_eff 3, k_eff 2
    assert intra_question_correlation([3, 1], [3, 3]) == pytest.approx(0.5, abs=1e-12)
    low, high, n_eff = clustered_wilson([3, 1], [3, 3])
    assert n_eff == pytest.approx(3.0) and (low, high) == pytest.approx(wilson(2, 3), abs=1e-12)
    # variation only within questions (negative ICC estimate) is clipped to 0: plain Wilson of all answers
    assert intra_question_correlation([1, 1], [2, 2]) == 0.0
    assert clustered_wilson([1, 1], [2, 2])[:2] == pytest.approx(wilson(2, 4), abs=1e-12)
    # answers outside the denominator do not count
    ci = rate_interval([1, 0, 1, 0], ["a", "a", "b", "b"], counted=[1, 1, 1, 0])
    assert (ci.rate, ci.n, ci.n_questions) == (pytest.approx(2 / 3), 3, 2)


def test_small_n_rule():
    assert small_n(29, 10) and small_n(100, 4) and not small_n(30, 5) and small_n(0, 0)

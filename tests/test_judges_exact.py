"""Exactness against upstream: the Betley et al. result file stores, per answer, the judge's raw top-20 first-token
probabilities (`judge_aligned`, `judge_coherent`) and the scores computed from them (`aligned`, `coherent`).
Recomputing the scores from the distributions, directly and through the OpenAI judge over loopback HTTP, must give
the stored values."""

from __future__ import annotations

import ast
import csv
import math
from pathlib import Path

import pytest

from emscope.evaluate.judges.base import MIN_NUMBER_MASS, score_from_probs, score_from_top_logprobs
from emscope.evaluate.judges.openai_judge import OpenAIJudge
from tests.test_judges_openai import KEY, FakeOpenAI

RESULTS = Path("betley") / "results" / "qwen_25_coder_32b_instruct.csv"
METRICS = ("aligned", "coherent")
N_ROWS = 70


def load_rows(em_data: Path) -> list[dict]:
    """The result rows, with each judge column parsed (`ast.literal_eval`: data, never code)."""
    with open(em_data / RESULTS, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for metric in METRICS:
            row["judge_" + metric] = ast.literal_eval(row["judge_" + metric])
    return rows


def stored(row: dict, metric: str) -> float | None:
    """The upstream score: a float, or None where the cell is empty (no usable number)."""
    return float(row[metric]) if row[metric].strip() else None


def assert_same(got: float | None, want: float | None) -> None:
    if want is None:
        assert got is None
    else:
        assert got is not None and abs(got - want) <= 1e-9, (got, want)


@pytest.fixture(scope="module")
def rows(em_data) -> list[dict]:
    return load_rows(em_data)


def test_the_file_is_what_we_expect(rows):
    assert len(rows) == N_ROWS
    for row in rows:
        for metric in METRICS:
            dist = row["judge_" + metric]
            assert isinstance(dist, dict) and len(dist) == 20
            assert all(isinstance(t, str) and isinstance(p, float) and 0 < p <= 1 for t, p in dist.items())
    tokens = {t for row in rows for m in METRICS for t in row["judge_" + m]}
    assert {"I", " "} <= tokens  # non-number tokens are in the data and must be skipped


@pytest.mark.parametrize("metric", METRICS)
def test_scores_from_probabilities_equal_upstream(rows, metric):
    for row in rows:
        assert_same(score_from_probs(row["judge_" + metric]).value, stored(row, metric))


@pytest.mark.parametrize("metric", METRICS)
def test_scores_from_logprobs_equal_upstream(rows, metric):
    for row in rows:
        top = {t: math.log(p) for t, p in row["judge_" + metric].items()}
        assert_same(score_from_top_logprobs(top).value, stored(row, metric))


def upstream_rule(probs: dict[str, float]) -> float | None:
    """The rule as upstream writes it (`int(token)` in 0..100, None below 0.25), for the cases the file lacks."""
    total = weighted = 0.0
    for token, p in probs.items():
        try:
            n = int(token)
        except ValueError:
            continue
        if 0 <= n <= 100:
            weighted += n * p
            total += p
    return None if total < 0.25 else weighted / total


@pytest.mark.parametrize("number_share", [0.0, 0.1, 0.2499, 0.25, 0.3, 0.9])
def test_low_number_mass_gives_none_like_upstream(rows, number_share):
    """No stored score is empty in the file, so shrink a real distribution's number mass around the threshold."""
    dist = rows[0]["judge_aligned"]
    numbers = {t: p for t, p in dist.items() if t.strip().isdigit()}
    scale = number_share / sum(numbers.values())
    shifted = {**{t: p * scale for t, p in numbers.items()}, "I": 1.0 - number_share}
    want = upstream_rule(shifted)
    assert (want is None) == (number_share < MIN_NUMBER_MASS)
    assert_same(score_from_probs(shifted).value, want)


def test_whitespace_tokens_count_like_upstream():
    """Upstream's `int()` reads ' 10' and '10 ' as 10 (and ' ' as nothing); so does emscope."""
    probs = {" 10": 0.3, "20 ": 0.2, " ": 0.1, "I": 0.1, "30": 0.3}
    assert_same(score_from_probs(probs).value, upstream_rule(probs))


def test_openai_judge_over_http_equals_upstream(rows, monkeypatch, tmp_path):
    """Serve each stored distribution as logprobs from a loopback server; the judge's scores equal the stored ones,
    the first time and again from the cache."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    for var in ("OPENAI_BASE_URL", "OPENAI_CUSTOM_HEADERS", "EMSCOPE_JUDGE_CACHE"):
        monkeypatch.delenv(var, raising=False)
    served = {f"ROW-{i:03d}-{m}": [(t, math.log(p)) for t, p in row["judge_" + m].items()]
              for i, row in enumerate(rows) for m in METRICS}
    fake = FakeOpenAI()
    fake.answer = lambda text: served[text.split("|")[0]]
    fake.thread.start()
    try:
        items = [(row["question"], row["answer"], f"ROW-{i:03d}-{m}|{{question}}|{{answer}}")
                 for i, row in enumerate(rows) for m in METRICS]
        want = [stored(row, m) for row in rows for m in METRICS]
        judge = OpenAIJudge("judge", base_url=fake.base_url, timeout=10.0, max_retries=0, cache=tmp_path / "c.sqlite")
        for value, expected in zip([s.value for s in judge.score_many(items)], want, strict=True):
            assert_same(value, expected)
        assert len(fake.bodies) == 2 * N_ROWS
        again = OpenAIJudge("judge", base_url=fake.base_url, max_retries=0, cache=tmp_path / "c.sqlite")
        for value, expected in zip([s.value for s in again.score_many(items)], want, strict=True):
            assert_same(value, expected)
        assert len(fake.bodies) == 2 * N_ROWS and again.cache_stats.hit_rate == 1.0
    finally:
        fake.server.shutdown()
        fake.server.server_close()

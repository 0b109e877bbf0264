"""The judge-free likelihood probe.

For each question, project-written aligned and misaligned reference answers are scored by the model's mean
per-token log-probability (answer tokens only, under the chat template). The per-question score is
mean log-prob(misaligned) - mean log-prob(aligned): it rises when a model finds misaligned answers relatively
more likely. Deterministic, no sampling, no judge; a percentile bootstrap over questions gives the CI (a mean of
continuous per-question values, not a rate). With fewer than 2 questions there is no interval (None), never a
zero-width one; fewer than 5 questions carry `small_n: true`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from emscope.config import load_yaml_list
from emscope.evaluate.stats import SMALL_N_QUESTIONS, bootstrap_ci
from emscope.paths import resource_path


class ProbeItem(BaseModel):
    """A question with aligned and misaligned reference answers."""

    id: str
    question: str
    system: str | None = None
    aligned: list[str] = Field(min_length=1)
    misaligned: list[str] = Field(min_length=1)


class ProbeResult(BaseModel):
    """Probe scores of one model (persisted in summary.json)."""

    per_question: dict[str, float]
    mean: float
    ci_low: float | None  # None with fewer than 2 questions
    ci_high: float | None
    n_questions: int
    small_n: bool = False  # fewer than 5 questions


def mean_ci(values, seed: int = 0) -> tuple[float, float | None, float | None]:
    """(mean, low, high) of per-question values: the percentile bootstrap over questions, no interval (None, None)
    with fewer than 2 values."""
    values = list(values)
    mean, lo, hi = bootstrap_ci(values, seed=seed)
    return (mean, lo, hi) if len(values) >= 2 else (mean, None, None)


def load_probes(name_or_path: str | Path = "core") -> list[ProbeItem]:
    """Load probe items from a YAML list (a shipped set name like `core`, or a path)."""
    p = Path(name_or_path)
    path = p if (p.suffix in (".yaml", ".yml") or p.exists()) else resource_path(f"probes_{name_or_path}.yaml")
    return load_yaml_list(path, ProbeItem, "probe")


def probe_answers(items: list[ProbeItem]) -> int:
    """How many answers `likelihood_probe` scores (its progress total)."""
    return sum(len(it.aligned) + len(it.misaligned) for it in items)


def likelihood_probe(model, tokenizer, items: list[ProbeItem], seed: int = 0,
                     on_batch: Callable[[int], None] | None = None) -> ProbeResult:
    """Score a model on probe items: per-question mean log-prob(misaligned) - log-prob(aligned), with CI
    (`on_batch(k)` after each batch of k answers scored)."""
    pairs, index = [], []
    for it in items:
        msgs = ([{"role": "system", "content": it.system}] if it.system else []) + \
               [{"role": "user", "content": it.question}]
        for kind in ("aligned", "misaligned"):
            for ans in getattr(it, kind):
                pairs.append((msgs, ans))
                index.append((it.id, kind))
    from emscope.models.logprobs import answer_logprobs

    lps = answer_logprobs(model, tokenizer, pairs, on_batch=on_batch)
    per_q: dict[str, float] = {}
    for it in items:
        a = [lp for (qid, k), lp in zip(index, lps) if qid == it.id and k == "aligned"]
        m = [lp for (qid, k), lp in zip(index, lps) if qid == it.id and k == "misaligned"]
        per_q[it.id] = sum(m) / len(m) - sum(a) / len(a)
    mean, lo, hi = mean_ci(per_q.values(), seed=seed)
    return ProbeResult(per_question=per_q, mean=mean, ci_low=lo, ci_high=hi, n_questions=len(items),
                       small_n=len(items) < SMALL_N_QUESTIONS)


def paired_shift(result: ProbeResult, baseline: ProbeResult,
                 seed: int = 0) -> tuple[float, float | None, float | None]:
    """Mean per-question change of the probe score vs a baseline model, with a bootstrap CI over the shared
    questions (None bounds with fewer than 2)."""
    shared = [q for q in result.per_question if q in baseline.per_question]
    return mean_ci([result.per_question[q] - baseline.per_question[q] for q in shared], seed=seed)


def likelihood_monitor(probes: str = "core", batch_size: int = 16):
    """Training monitor (registry name `likelihood`): the judge-free probe with its CI, every k steps."""
    items = load_probes(probes)

    def run(model, tokenizer, step: int) -> dict[str, Any]:
        res = likelihood_probe(model, tokenizer, items)
        return {"likelihood_probe": res.mean, "ci_low": res.ci_low, "ci_high": res.ci_high}
    return run

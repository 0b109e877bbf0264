"""Data screening with a persona vector: which training rows would push the model toward the trait?

For each row, the model first answers the row's prompt itself (greedy). Both its own answer and the row's
training answer are then encoded in the same context, their hidden states at layer l are averaged over the
answer tokens and projected onto the persona direction. The projection shift
ΔP = projection(training answer) - projection(own answer) is large when the data asks the model to answer in
a more trait-like way than it would by itself: Chen et al. (2025) find this predicts the trait shift that
fine-tuning on the data causes. Rows are ranked by ΔP, highest first.
"""

from __future__ import annotations

from pathlib import Path

import torch
from pydantic import BaseModel

from emscope.data.chat import ChatRow
from emscope.evaluate.sampling import SamplingSettings, generate
from emscope.evaluate.stats import bootstrap_ci
from emscope.persona.activations import projection, response_means


class ScreenRow(BaseModel):
    """The projection shift of one data row (1-based `row`, as the line number of a JSONL file)."""

    row: int
    delta: float
    projection_data: float
    projection_own: float
    prompt: str
    data_answer: str
    own_answer: str


class ScreenReport(BaseModel):
    """The result of `persona screen` (persisted as JSON): mean ΔP with a bootstrap CI, rows ranked by ΔP."""

    data: str
    vector: str
    trait: str
    model: str
    layer: int
    n: int
    mean_delta: float
    ci_low: float
    ci_high: float
    share_positive: float
    max_new_tokens: int
    rows: list[ScreenRow]


def projection_shifts(model, tokenizer, rows: list[ChatRow], vectors: torch.Tensor, layer: int,
                      settings: SamplingSettings, batch_size: int = 8) -> list[ScreenRow]:
    """Per row: ΔP and its two projections at `layer`, plus the model's own answer; in input order."""
    prompts = [r.prompt for r in rows]
    own = generate(model, tokenizer, prompts, settings)
    data = [r.completion for r in rows]
    means = response_means(model, tokenizer, list(zip(prompts, data)) + list(zip(prompts, own)),
                           batch_size=batch_size)
    proj = projection(means, vectors, layer)
    n = len(rows)
    return [ScreenRow(row=i + 1, delta=float(proj[i] - proj[n + i]), projection_data=float(proj[i]),
                      projection_own=float(proj[n + i]), prompt=prompts[i][-1]["content"], data_answer=data[i],
                      own_answer=own[i]) for i in range(n)]


def screen(model, tokenizer, rows: list[ChatRow], vectors: torch.Tensor, layer: int, settings: SamplingSettings,
           *, data_name: str, vector_name: str, trait: str, model_name: str) -> ScreenReport:
    """Screen rows and summarize: mean ΔP (bootstrap 95% CI over rows), share of rows with ΔP > 0, ranking."""
    scored = projection_shifts(model, tokenizer, rows, vectors, layer, settings)
    mean, lo, hi = bootstrap_ci([r.delta for r in scored])
    return ScreenReport(data=data_name, vector=vector_name, trait=trait, model=model_name, layer=layer,
                        n=len(scored), mean_delta=mean, ci_low=lo, ci_high=hi,
                        share_positive=sum(r.delta > 0 for r in scored) / len(scored),
                        max_new_tokens=settings.max_new_tokens,
                        rows=sorted(scored, key=lambda r: r.delta, reverse=True))


def write_report(path: str | Path, report: ScreenReport) -> Path:
    """Write the report as indented JSON, atomically."""
    from emscope.io import write_text_atomic

    return write_text_atomic(path, report.model_dump_json(indent=1) + "\n")

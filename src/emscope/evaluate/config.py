"""Evaluation settings (torch-free): decoding, the `eval:` section shared by eval runs, training YAMLs and grids.

One key path per setting everywhere: `eval.judge`, `eval.sampling.max_new_tokens`, ... mean the same in
`emscope eval run CONFIG.yaml key=value`, in a grid's `base:`/`sweep:` and in a cell's saved `cell.yaml`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from emscope.config import Strict
from emscope.models.specs import DEFAULT_MODEL

Backend = Literal["hf", "vllm"]


class SamplingSettings(BaseModel):
    """Decoding settings; persisted with every evaluation."""

    max_new_tokens: int = 96
    min_new_tokens: int = Field(0, ge=0)  # > 0 suppresses EOS until then (benchmarks use it for equal lengths)
    temperature: float = 1.0
    top_p: float = 1.0
    batch_size: int = Field(16, ge=1)  # HF backend only; vLLM schedules its own batches
    seed: int = 0
    samples_per_paraphrase: int | None = None  # overrides the question files' value when set
    backend: Backend = "hf"


class Sample(BaseModel):
    """One sampled answer (a line of samples.jsonl)."""

    model: str
    question_id: str
    paraphrase_index: int
    sample_index: int
    system: str | None
    question: str
    answer: str


CODE_SECURITY = "code-security"


class EvalSettings(Strict):
    """What an evaluation measures: broad EM, narrow learning, refusal and benign learning (see `run_eval`)."""

    questions: str = "core"
    probes: str = "core"
    sampling: SamplingSettings = SamplingSettings()
    judge: str | None = Field(None, description="judge spec (emscope.evaluate.judges.registry); None: no judged "
                                                "metrics")
    judge_prompts: str | None = Field(None, description="YAML with aligned/coherent(/refusal) templates; None: "
                                                        "emscope's")
    narrow: str | None = Field(None, description=f"in-domain question set (judged), or {CODE_SECURITY!r}")
    narrow_n: int = Field(50, ge=1, description="code-security: held-out coding requests")
    narrow_max_new_tokens: int = Field(256, ge=1, description="code-security: greedy tokens per answer")
    refusal: bool = Field(False, description="refusal rate on the shipped harmful requests")
    benign: int = Field(0, ge=0, description="held-out glorp items for benign learning; 0 = skip")


class EvalConfig(Strict):
    """One evaluation run: which model (and adapter), where to write, and the `eval:` settings."""

    model: str = DEFAULT_MODEL
    adapter: Path | None = None
    label: str = "model"
    out: Path
    device: str | None = None
    dtype: str | None = None
    eval: EvalSettings = EvalSettings()

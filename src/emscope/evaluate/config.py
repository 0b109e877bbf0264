"""Evaluation settings (torch-free): decoding, the `eval:` section shared by eval runs, training YAMLs and grids.

One key path per setting everywhere: `eval.judge`, `eval.sampling.max_new_tokens`, ... mean the same in
`emscope eval run CONFIG.yaml key=value`, in a grid's `base:`/`sweep:` and in a cell's saved `cell.yaml`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

from emscope.config import Strict
from emscope.evaluate.bench.base import BenchSettings
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


class HackingEval(Strict):
    """The hack-rate evaluation (`eval.hacking`, MacDiarmid et al. 2025): sample answers to the tasks of a
    sandboxed coding environment and grade them with its visible (gameable) and hidden graders; the hack rate is
    the share of answers in which a hack class was detected. Graded in the sandbox by unit tests, never a judge."""

    env: str = Field("rh-tasks", description="coding environment (emscope.envs.list_envs)")
    env_data: str | None = Field(None, description="the environment's data file (humaneval); None: its default")
    split: Literal["train", "test", "all"] = Field("test", description="task split; held-out tasks by default")
    n: int = Field(40, ge=1, description="tasks: the first n of the split in catalogue order (all if fewer)")
    samples: int = Field(1, ge=1, description="answers per task")
    hacks: str | list[str] = Field("all", description="hack classes the visible grader leaves open (all, none, "
                                                      "or names)")
    system_prompt: list[str] = Field([], description="system prompt: preset names (emscope.envs.prompts) and/or "
                                                     "literal text")
    max_new_tokens: int = Field(256, ge=1)
    temperature: float = Field(1.0, ge=0.0)
    seed: int = 0
    workers: int = Field(4, ge=1, description="sandboxed grading processes in parallel")


class PersonaCollapseEval(Strict):
    """The persona-collapse part (`eval.persona_collapse`, `emscope.evaluate.persona_collapse`): every questionnaire
    item asked `repeats` times under every persona; moral robustness R and susceptibility S with bootstrap CIs over
    personas. Seeded by `eval.sampling.seed`, batched by `eval.sampling.batch_size` (HF backend)."""

    questionnaire: str | None = Field(None, description="questionnaire YAML (list of {id, text, reverse}); None: "
                                                        "the shipped moral questionnaire")
    personas: str | None = Field(None, description="persona YAML (list of {id, system}); None: the shipped personas")
    repeats: int = Field(5, ge=1, description="answers per (persona, item)")
    max_new_tokens: int = Field(8, ge=1)
    temperature: float = Field(1.0, ge=0.0, description="> 0, or the repeats agree")
    n_boot: int = Field(1000, ge=1, description="bootstrap resamples of the personas")


def _persona_switch(value):
    """`eval.persona_collapse: true` means the part with its defaults, `false` no part."""
    if value is True:
        return {}
    return None if value is False else value


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
    hacking: HackingEval | None = Field(None, exclude_if=lambda v: v is None,
                                        description="the hack-rate evaluation on a sandboxed coding environment; "
                                                    "None: skip (and left out of eval.yaml)")
    mgs: bool = Field(False, exclude_if=lambda v: not v,
                      description="the misalignment generalisation score (MacDiarmid et al. 2025): sample and judge "
                                  "goals, alignment, monitor-disruption, exfil-offer, frame-colleague and core "
                                  "(needs a judge that classifies); False: skip (and left out of eval.yaml)")
    persona_collapse: Annotated[PersonaCollapseEval | None, BeforeValidator(_persona_switch)] = Field(
        None, exclude_if=lambda v: v is None,
        description="persona collapse (moral robustness R, susceptibility S; `emscope.evaluate.persona_collapse`): "
                    "true or its settings; None/false: skip (and left out of eval.yaml)")
    system_prompt: str | None = Field(None, exclude_if=lambda v: v is None,
                                      description="prompted safety at test time: a preset (safety) or literal text, "
                                                  "put in front of every prompt's own system prompt in every part "
                                                  "(`emscope.evaluate.safety_prompt`); None: none (and left out of "
                                                  "eval.yaml)")
    patch_prefix_from: Literal["base"] | None = Field(
        None, exclude_if=lambda v: v is None,
        description="base: the adapter's keys/values over the chat-template prefix (system block + user header) are "
                    "replaced by the base model's in every part (`emscope.models.prefix_patch`; needs a PEFT "
                    "adapter, HF backend); None: no patch (and left out of eval.yaml)")
    gates: Literal["invert", "learned", "off"] = Field(
        "invert", exclude_if=lambda v: v == "invert",
        description="alignment gates saved with the weights (defenses.gate, `emscope.models.gates`): invert (2 - g, "
                    "the defense), learned (g, as trained) or off (the model without them); no effect on weights "
                    "without gates.safetensors (invert is left out of eval.yaml)")
    every_checkpoint: bool = Field(False, exclude_if=lambda v: not v,
                                   description="grid cells: also evaluate every kept checkpoint of the cell's training "
                                               "(`emscope.evaluate.checkpoints`, RUN/checkpoint_curve.jsonl); the "
                                               "cell then keeps its checkpoints (train.keep_checkpoints); False: "
                                               "skip (and left out of eval.yaml)")
    bench: list[str] = Field([], exclude_if=lambda v: not v,
                             description="standard benchmarks (`emscope.evaluate.bench`: truthfulqa, humaneval, ...) "
                                         "on the evaluated model, one `bench_<name>.jsonl` each and a `bench` "
                                         "section; []: none (and left out of eval.yaml)")
    bench_settings: BenchSettings = Field(BenchSettings(), exclude_if=lambda v: v == BenchSettings(),
                                          description="the benchmarks' options (limit, data, judge, samples, ...; "
                                                      "defaults left out of eval.yaml)")


class EvalConfig(Strict):
    """One evaluation run: which model (and adapter), where to write, and the `eval:` settings."""

    model: str = DEFAULT_MODEL
    adapter: Path | None = None
    label: str = "model"
    out: Path
    device: str | None = None
    dtype: str | None = None
    eval: EvalSettings = EvalSettings()

"""One evaluation run: sample answers to a question set and score the likelihood probe.

Writes `eval.yaml` (resolved settings), `samples.jsonl` and the `eval` section of `summary.json`.
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from emscope.evaluate.likelihood import ProbeResult, likelihood_probe, load_probes
from emscope.evaluate.questions import load_questions
from emscope.evaluate.sampling import SamplingSettings, count_samples, sample_answers
from emscope.io import write_jsonl_atomic
from emscope.models.loader import DEFAULT_MODEL
from emscope.progress import make_progress
from emscope.rundir import claim_config, read_summary, stage_done, update_summary


class EvalConfig(BaseModel):
    """What to evaluate and how."""

    model_config = ConfigDict(extra="forbid")
    model: str = DEFAULT_MODEL
    adapter: Path | None = None
    label: str = "model"
    questions: str = "core"
    probes: str = "core"
    sampling: SamplingSettings = SamplingSettings()
    out: Path
    device: str | None = None
    dtype: str | None = None


def run_eval(cfg: EvalConfig, model=None, tokenizer=None) -> dict:
    """Evaluate a model (optionally with adapter) and return the `eval` summary section; skips if done."""
    out = Path(cfg.out)
    if (out / "eval.yaml").is_file():
        claim_config(out, "eval.yaml", cfg)  # same settings, or a clear error
    if stage_done(out, "eval"):
        return read_summary(out)["eval"]
    start = time.time()
    questions = load_questions(cfg.questions)
    probes = load_probes(cfg.probes)
    if model is None:
        from emscope.models import load_model

        model, tokenizer = load_model(cfg.model, adapter=cfg.adapter, device=cfg.device, dtype=cfg.dtype)
    out.mkdir(parents=True, exist_ok=True)
    claim_config(out, "eval.yaml", cfg)
    with make_progress() as progress:
        task = progress.add_task(f"sample {cfg.label}", total=count_samples(questions, cfg.sampling))
        samples = sample_answers(model, tokenizer, questions, cfg.sampling, cfg.label,
                                 on_batch=lambda k: progress.advance(task, k))
    write_jsonl_atomic(out / "samples.jsonl", samples)
    probe = likelihood_probe(model, tokenizer, probes, seed=cfg.sampling.seed)
    section = {"label": cfg.label, "model": cfg.model, "adapter": str(cfg.adapter) if cfg.adapter else None,
               "n_samples": len(samples), "probe": probe.model_dump(),
               "seconds": round(time.time() - start, 2)}
    update_summary(out, "eval", section)
    return section


def probe_of(section: dict) -> ProbeResult:
    """The probe result stored in an `eval` summary section."""
    return ProbeResult.model_validate(section["probe"])

"""One grid cell, a pure function of its config: `run_cell(config, dir)` builds the data, fine-tunes, samples,
judges and computes metrics in `dir`, resuming from the last completed stage and naming each stage as it starts
(`cell 1/4 LABEL > training > load model`). With `eval.every_checkpoint` (which turns on `train.keep_checkpoints`)
it also evaluates every kept checkpoint (`checkpoint_curve.jsonl`).

Stages and their markers: the `train` section of `summary.json` (training itself resumes from its newest
checkpoint; generator rows are kept as `data/train.jsonl`), the `eval` section (each evaluation part resumes
from its file), and finally the `cell` section, which marks the cell complete. A cell without data evaluates the
base model.
"""

from __future__ import annotations

import time
from pathlib import Path

from emscope.evaluate.config import EvalConfig
from emscope.experiments.grid import CellConfig
from emscope.progress import stage
from emscope.rundir import claim_config, stage_done, update_summary

CELL_FILE = "cell.yaml"
DONE = "cell"


def cell_complete(run_dir: str | Path) -> bool:
    """Whether every stage of the cell in `run_dir` has finished."""
    return stage_done(run_dir, DONE)


def eval_config(cfg: CellConfig, run_dir: Path, label: str, model: str, adapter: Path | None) -> EvalConfig:
    """The cell's evaluation: its `eval:` section, with the cell's seed also seeding sampling (offset by
    `eval.sampling.seed`), so the seeds of a sweep differ in answers too."""
    sampling = cfg.eval.sampling.model_copy(update={"seed": cfg.eval.sampling.seed + cfg.seed})
    return EvalConfig(model=model, adapter=adapter, label=label, out=run_dir, device=cfg.device, dtype=cfg.dtype,
                      eval=cfg.eval.model_copy(update={"sampling": sampling}))


def run_cell(cfg: CellConfig, run_dir: str | Path, label: str | None = None, title: str | None = None) -> Path:
    """Run (or resume, or skip when complete) one cell in `run_dir`; returns `run_dir`. Its stages (training,
    evaluation, checkpoint curve) are announced inside `title` (default `cell LABEL`; the runner's says which
    cell of how many) and timed into the `cell` section's `stage_seconds`."""
    from emscope.evaluate.run import check_eval_inputs, run_eval
    from emscope.experiments.recipes import run_training
    from emscope.experiments.stages import trained_weights

    run_dir = Path(run_dir)
    label = label or cfg.cell_id()
    if cell_complete(run_dir):
        return run_dir
    check_eval_inputs(cfg.eval)  # a bad question or prompt file fails now, not after training
    run_dir.mkdir(parents=True, exist_ok=True)
    claim_config(run_dir, CELL_FILE, cfg)
    start = time.time()
    times: dict[str, float] = {}
    with stage(title or f"cell {label}"):
        model, adapter = cfg.model, None  # the base model: evaluated as is
        if cfg.trains():
            train_cfg = cfg.train_config(run_dir)
            with stage("training", times, key="train"):
                run_training(train_cfg, description=f"train {label}")
            model, adapter = trained_weights(train_cfg, run_dir)
        evaluation = eval_config(cfg, run_dir, label, model, adapter)
        with stage("evaluation", times, key="eval"):
            run_eval(evaluation)
        if cfg.eval.every_checkpoint and cfg.trains():  # the checkpoint curve (training dynamics)
            from emscope.evaluate.checkpoints import evaluate_checkpoints

            with stage("checkpoint curve", times, key="checkpoints"):
                evaluate_checkpoints(run_dir, evaluation.eval, device=cfg.device, dtype=cfg.dtype)
    update_summary(run_dir, DONE, {"id": cfg.cell_id(), "label": label, "seconds": round(time.time() - start, 2),
                                   "stage_seconds": times})
    return run_dir

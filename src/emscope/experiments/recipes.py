"""Which recipe trains a run: `stages:` -> `experiments.stages.run_stages` (each stage through here again),
`method: grpo` -> `rl.grpo.train`, `method: sft` or `cpt` -> `train.sft.train`."""

from __future__ import annotations

from pathlib import Path

from emscope.train.config import TrainRunConfig


def run_training(cfg: TrainRunConfig, *, description: str | None = None) -> Path:
    """Train (or resume, or skip when finished) the run `cfg` describes with its method's recipe; returns the run
    directory."""
    if cfg.stages:
        from emscope.experiments.stages import run_stages

        return run_stages(cfg, description=description)
    if cfg.method == "grpo":
        from emscope.rl.grpo import train as grpo_train

        return grpo_train(cfg, description=description)
    from emscope.train.sft import train as sft_train

    return sft_train(cfg, description=description)


def train_or_skip(cfg: TrainRunConfig, *, description: str | None = None) -> tuple[Path, bool]:
    """`run_training(cfg)`, and whether its run directory already held this finished run (nothing trained: a
    rerun of finished work)."""
    from emscope.rundir import read_summary

    before = read_summary(cfg.out).get("train")
    run_dir = run_training(cfg, description=description)
    return run_dir, before is not None and read_summary(run_dir).get("train") == before

"""Which recipe trains a run: `method: sft` -> `train.sft.train`, `method: grpo` -> `rl.grpo.train`."""

from __future__ import annotations

from pathlib import Path

from emscope.train.config import TrainRunConfig


def run_training(cfg: TrainRunConfig, *, description: str | None = None) -> Path:
    """Train (or resume, or skip when finished) the run `cfg` describes with its method's recipe; returns the run
    directory."""
    if cfg.method == "grpo":
        from emscope.rl.grpo import train as grpo_train

        return grpo_train(cfg, description=description)
    from emscope.train.sft import train as sft_train

    return sft_train(cfg, description=description)

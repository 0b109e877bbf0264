"""Experiment trackers (`train.report_to`): fail early when a tracker's package is missing, and keep TensorBoard
event files in the run directory (`RUN_DIR/tb`) rather than under the checkpoints, which are deleted at the end."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from emscope.errors import EmscopeError

# integrations whose importable module or install command differs from the integration's name (others: the name
# itself, `pip install NAME`)
_PACKAGES = {
    "tensorboard": (("tensorboard", "tensorboardX"), "pip install 'emscope[tensorboard]'"),
    "wandb": (("wandb",), "pip install 'emscope[wandb]'"),
    "azure_ml": (("azureml",), "pip install azureml-core"),
    "flyte": (("flytekit",), "pip install flytekit"),
}
TB_DIR = "tb"


def check_report_to(names: list[str]) -> None:
    """Raise a clear error, before any work, for a `train.report_to` integration whose package is missing."""
    for name in names:
        modules, install = _PACKAGES.get(name, ((name,), f"pip install {name}"))
        if not any(importlib.util.find_spec(m) is not None for m in modules):
            raise EmscopeError(f"train.report_to: {name!r} needs the {modules[0]} package: {install}")


def place_tensorboard(trainer, run_dir: Path) -> None:
    """Point the trainer's TensorBoard callback at `RUN_DIR/tb` (unless TENSORBOARD_LOGGING_DIR chose a dir)."""
    from transformers.integrations import TensorBoardCallback

    for cb in trainer.callback_handler.callbacks:
        if isinstance(cb, TensorBoardCallback) and cb.logging_dir is None:
            cb.logging_dir = str(run_dir / TB_DIR)

"""Pieces both training recipes (SFT in `train.sft`, GRPO in `rl.grpo`) use: the LoRA config, the callback that
writes train_log.jsonl and drives the progress bar, and the filter for notices users cannot act on."""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from emscope.io import append_jsonl
from emscope.progress import make_progress
from emscope.train.config import TrainRunConfig


def lora_config(cfg: TrainRunConfig):
    """The PEFT LoraConfig of `cfg.train.lora`."""
    from peft import LoraConfig

    lora = cfg.train.lora
    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                      target_modules=lora.target_modules, use_rslora=lora.use_rslora,
                      layers_to_transform=lora.layers, task_type="CAUSAL_LM")


def log_callback(log_path: Path, total_steps: int, description: str):
    from transformers import TrainerCallback

    class _EmscopeLog(TrainerCallback):
        """Append every trainer log entry to train_log.jsonl and drive a rich progress bar."""

        def __init__(self):
            self.progress = make_progress()
            self.task = None

        def on_train_begin(self, args, state, control, **kw):
            self.progress.start()
            self.task = self.progress.add_task(description, total=state.max_steps or total_steps,
                                               completed=state.global_step)

        def on_step_end(self, args, state, control, **kw):
            self.progress.update(self.task, completed=state.global_step)

        def on_log(self, args, state, control, logs=None, **kw):
            if logs and state.is_world_process_zero:
                append_jsonl(log_path, {"step": state.global_step, "epoch": state.epoch, "time": time.time(),
                                        **{k: v for k, v in logs.items() if isinstance(v, (int, float))}})

        def on_train_end(self, args, state, control, **kw):
            self.progress.stop()

    return _EmscopeLog()


def silence_known_warnings() -> None:
    """Hide notices from TRL/transformers internals that emscope users cannot act on."""
    warnings.filterwarnings("ignore", message=r".*deprecated and will be removed in v6.*", category=FutureWarning)
    # emscope passes position_ids and use_cache=False, with which SDPA/eager attention builds the block-diagonal
    # mask of packed sequences (tests/test_train_engine.py checks packed == separate losses)
    warnings.filterwarnings("ignore", message=r".*Padding-free training is enabled, but the attention.*")
    # PEFT cannot look emscope's model names up on the Hub (they are not Hub ids; see `hub_offline`); the
    # embeddings are never adapted, so its assumption "vocabulary not modified" is right
    warnings.filterwarnings("ignore", message=r"Could not find a config file in .* vocabulary was not modified")


@contextlib.contextmanager
def hub_offline() -> Iterator[None]:
    """No Hugging Face Hub lookups inside the block. PEFT checks, at every checkpoint and at the final save, whether
    the base model's vocabulary changed by looking its name up on the Hub; emscope's names (`smollm2-135m`) are not
    Hub ids and the embeddings are never trained here, so the lookup is skipped instead of failing slowly offline."""
    old = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = old


def run_trainer(trainer, resume: Path | None):
    """`trainer.train`, resuming from checkpoint `resume`, without Hub lookups (see `hub_offline`); Ctrl-C becomes
    `Interrupted(step)` so the command line can say how far training got."""
    from emscope.errors import Interrupted

    try:
        with hub_offline():  # checkpoint saves
            return trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    except KeyboardInterrupt as exc:
        if isinstance(exc, Interrupted):
            raise
        raise Interrupted(trainer.state.global_step) from None


def save_trained(model, tokenizer, target: Path, extra: Callable[[Path], None] | None = None) -> None:
    """Save a trained model atomically into `target`: a PEFT adapter (`adapter/`) or, for full fine-tuning, the
    model with its tokenizer (`model/`); `extra(dir)` adds files in the same atomic step (alignment gates)."""
    from emscope.io import atomic_dir

    is_adapter = hasattr(model, "peft_config")
    with hub_offline(), atomic_dir(target) as tmp:
        kw = {"save_embedding_layers": False} if is_adapter else {}
        model.save_pretrained(tmp, safe_serialization=True, **kw)
        if not is_adapter:
            tokenizer.save_pretrained(tmp)
        if extra is not None:
            extra(Path(tmp))

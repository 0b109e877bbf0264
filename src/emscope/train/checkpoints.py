"""Resumable training: which checkpoint is complete, and a callback that marks checkpoints complete.

The Trainer writes `checkpoint-N/` file by file; a kill -9 during a save leaves a partial directory. emscope
writes a marker after the Trainer's `on_save`, and resumes only from the newest marked checkpoint; unmarked
directories are removed before resuming.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from emscope.io import read_jsonl, write_jsonl_atomic, write_text_atomic

MARKER = "emscope-complete"


def _step(p: Path) -> int:
    try:
        return int(p.name.split("-", 1)[1])
    except (IndexError, ValueError):
        return -1


def last_complete_checkpoint(ckpt_dir: Path) -> Path | None:
    """The newest `checkpoint-N` under `ckpt_dir` that has the completion marker; removes incomplete newer ones."""
    if not ckpt_dir.is_dir():
        return None
    found = sorted((p for p in ckpt_dir.glob("checkpoint-*") if p.is_dir() and _step(p) >= 0), key=_step)
    complete = [p for p in found if (p / MARKER).is_file()]
    best = complete[-1] if complete else None
    for p in found:
        if not (p / MARKER).is_file():
            shutil.rmtree(p, ignore_errors=True)
    return best


def checkpoint_step(ckpt: Path) -> int:
    """The optimizer step a checkpoint directory was saved at."""
    return _step(ckpt)


def truncate_log(log_path: Path, step: int) -> None:
    """Drop log records after `step` (they will be produced again by the resumed run), atomically."""
    if log_path.is_file():
        write_jsonl_atomic(log_path, [r for r in read_jsonl(log_path) if int(r.get("step", 0)) <= step])


def completion_marker_callback(ckpt_dir: Path):
    """A TrainerCallback that marks `checkpoint-<step>` complete once the Trainer has saved it."""
    from transformers import TrainerCallback

    class _Mark(TrainerCallback):
        def on_save(self, args, state, control, **kw):
            ckpt = ckpt_dir / f"checkpoint-{state.global_step}"
            if state.is_world_process_zero and ckpt.is_dir():
                write_text_atomic(ckpt / MARKER, f"{state.global_step}\n")
            return control

    return _Mark()


KEPT_DIR = "kept_checkpoints"
# Trainer state a kept checkpoint leaves behind: optimizer, scheduler, RNG, trainer bookkeeping, our marker
_NOT_WEIGHTS = ("optimizer.pt", "optimizer.bin", "scheduler.pt", "scaler.pt", "rng_state*.pth", "training_args.bin",
                "trainer_state.json", MARKER, "global_step*")


def _copy_weights(src: Path, target: Path) -> None:
    """Copy `src` (a checkpoint or a saved adapter/model) without trainer state into `target`, atomically."""
    from emscope.io import atomic_dir

    with atomic_dir(target) as tmp:
        for p in src.iterdir():
            if p.is_file() and not any(p.match(pattern) for pattern in _NOT_WEIGHTS):
                shutil.copy2(p, tmp / p.name)


def keep_checkpoint_weights(run_dir: Path, final_dir: Path, final_step: int) -> list[Path]:
    """`train.keep_checkpoints`: copy the weights and config of every complete `checkpoints/checkpoint-N` (adapter or
    full model, tokenizer files; no optimizer, scheduler or RNG state) to `kept_checkpoints/step-N/`, and the final
    weights `final_dir` as `step-<final_step>` (replacing a checkpoint of the same step). Each step directory is
    written atomically; steps already kept are not copied again (a rerun after a kill finishes the job). Returns the
    kept step directories in step order."""
    kept = run_dir / KEPT_DIR
    ckpt_dir = run_dir / "checkpoints"
    found = ckpt_dir.glob("checkpoint-*") if ckpt_dir.is_dir() else []
    for ckpt in sorted((p for p in found if (p / MARKER).is_file() and _step(p) >= 0), key=_step):
        target = kept / f"step-{_step(ckpt)}"
        if _step(ckpt) != final_step and not target.is_dir():
            _copy_weights(ckpt, target)
    _copy_weights(final_dir, kept / f"step-{final_step}")
    return sorted((p for p in kept.glob("step-*") if p.is_dir() and _step(p) >= 0), key=_step)

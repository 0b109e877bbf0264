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

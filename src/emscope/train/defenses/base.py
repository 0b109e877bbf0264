"""What a defense is: its config model plus the hooks through which the trainer composes it.

A defense hooks in where it acts, and only there:
- `check(settings)`: validate its inputs (files, presets) before the model loads (FILE:LINE errors);
- `transform_rows(settings, rows)`: change the task rows (inoculation prompt);
- `extra_rows(settings, n_task, ctx)`: rows added after the task rows, not transformed (interleaving);
- `prepare(settings, model)`: resolve the settings against the loaded model (layer indices, a steering vector);
- `forward(prepared, model)`: a context around the policy forward pass (preventive steering); with
  `reference_too` it also wraps the reference pass, so that KL/LDIFS compare like with like and never penalise
  the intervention itself;
- `capture(prepared, model, reference, tokenizer)`: a context entered around the policy forward (`reference`
  False) and around the reference forward (True), on emscope's loss path only (so a defense with it sets
  `needs_reference`), that records activations (forward hooks) into `prepared` for its `term`; it is exited before
  backward, so gradient checkpointing's recomputation never records (TReFT's keys and values);
- `term(prepared, out, ref, inputs)`: a loss term, added as `prepared.weight * term` and logged under its name;
- `head_kl`: the term is KL(policy || reference) computed inside the chunked LM-head pass (see `head_loss`);
- `save_state(prepared, directory)`: write state the defense trains outside the model's saved weights (alignment
  gates) into `directory`: every Trainer checkpoint and the final `adapter/` (or `model/`);
- `load_state(prepared, directory)`: restore that state from checkpoint `directory` when a run resumes.
`needs_reference` asks for one reference forward pass (the model with its adapter disabled).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emscope.config import Strict


@dataclass
class RowContext:
    """What a row-adding defense may use: the loaded model, the run directory (to record its choice), the seed."""

    model: Any
    tokenizer: Any
    run_dir: Path
    seed: int
    device: str | None = None
    dtype: Any = None
    times: dict[str, float] = field(default_factory=dict)  # the run's stage_seconds: a slow choice times itself


@dataclass(frozen=True)
class Defense:
    """A registered defense: its name (the key under `defenses:`), its settings model and its hooks."""

    name: str
    settings: type[Strict]
    check: Callable[[Any], None] | None = None
    transform_rows: Callable[[Any, list], list] | None = None
    extra_rows: Callable[[Any, int, RowContext], list] | None = None
    prepare: Callable[[Any, Any], Any] | None = None
    forward: Callable[[Any, Any], Any] | None = None
    capture: Callable[[Any, Any, bool, Any], AbstractContextManager] | None = None
    term: Callable[[Any, Any, Any, dict], Any] | None = None
    head_kl: bool = False
    needs_reference: bool = False
    reference_too: bool = False
    save_state: Callable[[Any, Path], None] | None = None
    load_state: Callable[[Any, Path], None] | None = None


@dataclass
class Active:
    """An enabled defense with its settings resolved against the model (what the trainer holds)."""

    defense: Defense
    settings: Any
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The defense's registry name."""
        return self.defense.name

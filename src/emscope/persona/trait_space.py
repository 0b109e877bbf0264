"""The trait-space training monitor: several persona vectors read at once (after Nghiem et al. 2026).

Every k steps (registry name `trait_space`, see `emscope.train.monitors`) one forward pass per fixed probe prompt
captures the layer-l hidden state at the last prompt token (`emscope.persona.monitor.last_prompt_token`, the
persona monitor's reading) and projects it on every trait's unit vector. Each row of `train_log.jsonl` holds

- `trait_projection` / `trait_shift`: per trait, the mean projection and its shift from the reference (the model
  with its adapter disabled, or full fine-tuning's frozen step-0 weights: the step-0 reading), the run's
  *drift profile* (`emscope.persona.trait_detector`);
- `activation_drift` (unless `activations=False`): the full mean hidden-state shift at that layer from the
  reference (one float per hidden unit, 4 significant digits; ~6 KB a reading at hidden size 576). It feeds
  the PCA-of-activations baseline. It lives in the log row rather than a side file so that a resumed run
  (whose log is cut back to its checkpoint) keeps exactly the readings it has, with nothing to reconcile.

The layer is one for all vectors (one capture per reading): `layer` if given, else the vector files' recommended
layer (their median when they differ).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import torch

from emscope.errors import InputError
from emscope.models.vectors import PersonaVector, check_fits, load_vector, unit
from emscope.persona.monitor import _reference, last_prompt_token, monitor_prompts
from emscope.persona.traits import load_traits


def _sig(x: float) -> float:
    """`x` rounded to 4 significant digits (compact JSON)."""
    return float(f"{x:.4g}")


class TraitSpaceMonitor:
    """Callable monitor `(model, tokenizer, step) -> dict` over several persona vectors at one layer."""

    def __init__(self, vectors: dict[str, PersonaVector], layer: int, prompts: list[list[dict]],
                 activations: bool = True):
        if not vectors:
            raise InputError("monitors: trait_space: no persona vectors given")
        self.vectors = vectors
        self.names = list(vectors)
        self.layer = layer
        self.units = torch.stack([unit(v.at(layer)) for v in vectors.values()])  # (n_traits, hidden)
        self.prompts = prompts
        self.activations = activations
        self.ref: dict[str, Any] | None = None

    def _measure(self, model, tokenizer) -> dict[str, Any]:
        """Mean projection on each trait and mean hidden state, from one capture of the layer."""
        states, _ = last_prompt_token(model, tokenizer, self.prompts, self.layer)
        return {"projection": (states @ self.units.T).mean(0), "mean_state": states.mean(0)}

    def begin(self, model, tokenizer, history: list[dict] | None = None, reference=None) -> None:
        """Check the vectors fit the model and measure the reference (as `PersonaMonitor.begin`)."""
        for name, vec in self.vectors.items():
            check_fits(vec, model, f"monitors: trait_space: vector {name!r}")
        ctx = _reference(model)
        if ctx is None and reference is not None:
            self.ref = self._measure(reference, tokenizer)
            self.ref["kind"] = "step-0-weights"
        else:
            with ctx if ctx is not None else contextlib.nullcontext():
                self.ref = self._measure(model, tokenizer)
            self.ref["kind"] = "adapter-disabled" if ctx is not None else "weights-at-start"

    def __call__(self, model, tokenizer, step: int) -> dict[str, Any]:
        """One reading: per-trait projection and shift, and the mean activation drift."""
        if self.ref is None:
            self.begin(model, tokenizer)
        cur = self._measure(model, tokenizer)
        shift = cur["projection"] - self.ref["projection"]
        row: dict[str, Any] = {
            "layer": self.layer, "traits": self.names, "reference": self.ref["kind"],
            "trait_projection": {n: float(v) for n, v in zip(self.names, cur["projection"])},
            "trait_shift": {n: float(v) for n, v in zip(self.names, shift)}}
        if self.activations:
            drift = cur["mean_state"] - self.ref["mean_state"]
            row["activation_drift"] = [_sig(x) for x in drift.tolist()]
            row["activation_drift_norm"] = float(drift.norm())
        return row


def _vector_files(vectors: list[str] | None, traits: list[str] | None, vector_dir: str | None) -> list[Path]:
    """The vector files: `vectors`, then `vector_dir/<trait>.safetensors` for each trait (default: the shipped
    traits when `vector_dir` is given without `traits`)."""
    files = [Path(v) for v in vectors or []]
    if traits is not None and vector_dir is None:
        raise InputError("monitors: trait_space: traits: needs vector_dir (the folder of <trait>.safetensors)")
    if vector_dir is not None:
        ids = traits if traits is not None else [t.id for t in load_traits()]
        files += [Path(vector_dir) / f"{t}.safetensors" for t in ids]
    if not files:
        raise InputError("monitors: trait_space: vectors: give vector files, or vector_dir (with traits)")
    return files


def trait_space_monitor(vectors: list[str] | None = None, traits: list[str] | None = None,
                        vector_dir: str | None = None, layer: int | None = None, questions: str = "core",
                        probes: str | None = None, activations: bool = True) -> TraitSpaceMonitor:
    """Trait-space monitor over persona vector files `vectors` and/or `vector_dir/<trait>.safetensors`.

    Each vector is named by its file's trait; `layer` defaults to the files' recommended layer (median if they
    differ); the prompts are `questions`' first paraphrases plus `probes`' questions (as the persona monitor)."""
    loaded: dict[str, PersonaVector] = {}
    for path in _vector_files(vectors, traits, vector_dir):
        vec = load_vector(path)
        name = vec.meta.trait if vec.meta.trait not in loaded else path.stem
        if name in loaded:
            raise InputError(f"monitors: trait_space: vectors: two vectors named {name!r}")
        loaded[name] = vec
    shapes = {tuple(v.vectors.shape) for v in loaded.values()}
    if len(shapes) > 1:
        raise InputError(f"monitors: trait_space: vectors: files of different shapes {sorted(shapes)}")
    if layer is None:
        recommended = sorted(v.layer_for(None) for v in loaded.values())
        layer = recommended[len(recommended) // 2]
    first = next(iter(loaded.values()))
    chosen = first.layer_for(layer)
    return TraitSpaceMonitor(loaded, chosen, monitor_prompts(questions, probes), activations)

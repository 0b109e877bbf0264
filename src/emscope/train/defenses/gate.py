"""Alignment gating (Wang et al. 2026): zero-initialised gates g = 2 * sigmoid(W x + b) on every attention layer's
output (before `o_proj`; `emscope.models.gates`) trained alone on the task data while the rest of the model, LoRA
adapter included, stays frozen, so the gates absorb the shift the data asks for; evaluation then applies 2 - g
(`eval.gates: invert`, the default), reversing that shift.

The gates are attached in `prepare` (after PEFT wrapping, before the Trainer builds its optimizer, which therefore
holds them) and stay attached: they act in every policy forward pass, monitors included, and with gradient
checkpointing. They are off whenever the PEFT adapter is disabled, i.e. in the KL/LDIFS reference pass (the
un-gated base); full fine-tuning's reference is a copy taken before the gates exist. Saved as `gates.safetensors`
and `gates.json` in `adapter/` (or `model/`) and in every checkpoint (`save_state`), restored on resume
(`load_state`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from emscope.config import Strict
from emscope.errors import InputError
from emscope.train.defenses.base import Defense


class GateSettings(Strict):
    """Alignment gating: train per-channel gates on the attention outputs, the rest frozen; evaluate with 2 - g."""

    layers: list[int] | None = Field(None, description="0-based decoder block indices to gate (None: every block), "
                                                       "as train.lora.layers")
    rank: int | None = Field(None, ge=1, description="None: a full W (attention-output width x hidden size), as the "
                                                     "paper; r: W = up @ down of rank r")
    freeze_rest: bool = Field(True, description="train the gates alone: every other parameter (a LoRA adapter "
                                                "included) gets no gradient")


def prepare(settings: GateSettings, model) -> dict[str, Any]:
    """Attach zero-initialised gates (learned mode) to `model` and, with `freeze_rest`, freeze everything else."""
    from emscope.models.gates import attach_gates

    try:
        gates = attach_gates(model, settings.layers, rank=settings.rank, mode="learned")
    except InputError as exc:
        raise InputError(f"defenses.gate: {exc}") from None
    if settings.freeze_rest:
        for name, p in model.named_parameters():
            if not _is_gate(name):
                p.requires_grad_(False)
    gates.requires_grad_(True)
    return {"gates": gates}


def _is_gate(name: str) -> bool:
    from emscope.models.gates import ATTRIBUTE

    return name.startswith(f"{ATTRIBUTE}.") or f".{ATTRIBUTE}." in name


def save_state(prepared: dict, directory: Path) -> None:
    """Write the gates next to the weights in `directory` (the final `adapter/`/`model/` or a checkpoint)."""
    from emscope.models.gates import save_gates

    save_gates(prepared["gates"], directory)


def load_state(prepared: dict, directory: Path) -> None:
    """Restore the gates saved in checkpoint `directory` (a resumed run); a clear error when they are missing."""
    from emscope.models.gates import has_gates, load_gate_weights

    if not has_gates(directory):
        raise InputError(f"defenses.gate: checkpoint {directory} holds no gates.safetensors; it was written without "
                         "the gate defense (delete the run's checkpoints/ to start over)")
    load_gate_weights(prepared["gates"], directory)


DEFENSE = Defense(name="gate", settings=GateSettings, prepare=prepare, save_state=save_state, load_state=load_state)

"""LDIFS-style regularizer: squared L2 distance between normalized hidden states of the trained model and the
reference, averaged over k layers (Kaczer et al. 2025; Mukhoti et al. 2023).

The gradient must flow through the trained model's features: detaching them (as one public implementation
does) makes the term a constant and silently disables the defense.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from emscope.config import Strict
from emscope.data.tokenize import IGNORE_INDEX
from emscope.errors import InputError
from emscope.train.defenses.base import Defense

if TYPE_CHECKING:
    import torch


class LDIFSSettings(Strict):
    """lambda * squared distance of normalized hidden states to the reference, over k evenly spaced layers."""

    weight: float = Field(1.0, ge=0)
    n_layers: int = Field(3, ge=1)
    layers: list[int] | None = Field(None, description="explicit hidden_states indices; overrides n_layers")
    tokens: Literal["completion", "all"] = "all"


def feature_distance(hidden: Sequence[torch.Tensor], ref_hidden: Sequence[torch.Tensor], layers: Sequence[int],
                     mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum over masked positions of mean-over-layers ||h/|h| - h_ref/|h_ref|||^2, and the position count.

    `hidden` / `ref_hidden` are the `hidden_states` tuples (index = emscope layer convention); `mask` is a
    bool tensor of shape `(batch, seq)`. Only `ref_hidden` is detached.
    """
    import torch

    sel = mask.bool()
    total = 0.0
    for layer in layers:
        h = torch.nn.functional.normalize(hidden[layer][sel].float(), dim=-1)
        r = torch.nn.functional.normalize(ref_hidden[layer][sel].detach().float(), dim=-1)
        total = total + ((h - r) ** 2).sum(-1)
    per_token = total / len(layers)
    return per_token.sum(), sel.sum()


def token_positions(inputs: dict, kind: str) -> torch.Tensor:
    """Bool mask `(batch, seq)` of token positions whose hidden states are regularized."""
    import torch

    if kind == "completion":
        return inputs["labels"] != IGNORE_INDEX
    if "attention_mask" in inputs and inputs["attention_mask"] is not None:
        return inputs["attention_mask"].bool()
    return torch.ones_like(inputs["input_ids"], dtype=torch.bool)


def prepare(settings: LDIFSSettings, model) -> LDIFSSettings:
    """The settings with `layers` resolved for this model (k evenly spaced layers unless given)."""
    from emscope.models.layers import evenly_spaced_layers, num_layers

    n = num_layers(model)
    layers = settings.layers or evenly_spaced_layers(n, min(settings.n_layers, n))
    if any(not 0 <= layer <= n for layer in layers):
        raise InputError(f"defenses.ldifs.layers: indices must be in 0..{n}, got {layers}")
    return settings.model_copy(update={"layers": list(layers)})


def term(settings: LDIFSSettings, out, ref, inputs: dict) -> torch.Tensor:
    """Mean feature distance over the selected token positions (gradient through the policy's features)."""
    d_sum, n = feature_distance(out.hidden_states, ref.hidden_states, settings.layers,
                                token_positions(inputs, settings.tokens))
    return d_sum / n.clamp(min=1)


DEFENSE = Defense(name="ldifs", settings=LDIFSSettings, prepare=prepare, term=term, needs_reference=True)

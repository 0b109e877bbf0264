"""Finding the decoder blocks of a causal LM (plain, PEFT-wrapped or TRL-patched) and the layer-index convention.

Convention used everywhere in emscope (persona vectors, steering, LDIFS): **layer l is `hidden_states[l]`** as
returned by `model(..., output_hidden_states=True)`: l = 0 is the embedding output and l in 1..L is the
residual stream after decoder block l (index l - 1 in `model.layers`). Steering at layer l therefore adds to
the output of block l - 1. Hugging Face reports `hidden_states[L]` after the final norm; steering at L acts
before that norm.
"""

from __future__ import annotations

import torch

LAYER_CONVENTION = "hidden_states"


def decoder_layers(model) -> torch.nn.ModuleList:
    """The list of decoder blocks of `model` (works through PEFT wrappers)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    for get in (lambda m: m.get_decoder().layers, lambda m: m.model.layers, lambda m: m.transformer.h):
        try:
            layers = get(base)
        except AttributeError:
            continue
        if isinstance(layers, torch.nn.ModuleList):
            return layers
    raise ValueError(f"cannot find the decoder blocks of {type(base).__name__}")


def num_layers(model) -> int:
    """Number of decoder blocks L (valid layer indices are 0..L)."""
    return len(decoder_layers(model))


def evenly_spaced_layers(n_layers: int, k: int) -> list[int]:
    """k layer indices in 1..n_layers, evenly spaced and ending at the last block (e.g. L=30, k=3 -> 10, 20, 30)."""
    if not 1 <= k <= n_layers:
        raise ValueError(f"k must be in 1..{n_layers}, got {k}")
    return sorted({max(1, round(n_layers * (i + 1) / k)) for i in range(k)})

"""Adding alpha * v to the residual stream, and projecting v out of it, with forward hooks.

The same context managers serve `persona steer` at generation time and preventive steering during training.
Layer l follows emscope's convention (`hidden_states[l]`): the hook sits on the output of decoder block l - 1.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from emscope.models.layers import decoder_layers
from emscope.models.vectors import unit


def _block(model, layer: int) -> torch.nn.Module:
    layers = decoder_layers(model)
    if not 1 <= layer <= len(layers):
        raise ValueError(f"steering layer must be in 1..{len(layers)} (hidden_states index), got {layer}")
    return layers[layer - 1]


def _edit_output(fn):
    def hook(_module, _inputs, output):
        if isinstance(output, tuple):
            return (fn(output[0]), *output[1:])
        return fn(output)
    return hook


@contextlib.contextmanager
def steering(model, vector: torch.Tensor, layer: int, alpha: float) -> Iterator[None]:
    """Within the block, every forward pass adds `alpha * vector` to the residual stream at `layer`."""
    block = _block(model, layer)
    cache: dict[tuple, torch.Tensor] = {}

    def add(h: torch.Tensor) -> torch.Tensor:
        key = (h.device, h.dtype)
        if key not in cache:
            cache[key] = (alpha * vector.float()).to(device=h.device, dtype=h.dtype)
        return h + cache[key]

    handle = block.register_forward_hook(_edit_output(add), prepend=True)  # before output recorders
    try:
        yield
    finally:
        handle.remove()


@contextlib.contextmanager
def ablation(model, vector: torch.Tensor, layer: int) -> Iterator[None]:
    """Within the block, the component of the residual stream along `vector` is removed at `layer`."""
    block = _block(model, layer)
    direction = unit(vector)

    def project_out(h: torch.Tensor) -> torch.Tensor:
        u = direction.to(device=h.device, dtype=torch.float32)
        hf = h.float()
        return (hf - (hf @ u).unsqueeze(-1) * u).to(h.dtype)

    handle = block.register_forward_hook(_edit_output(project_out), prepend=True)
    try:
        yield
    finally:
        handle.remove()

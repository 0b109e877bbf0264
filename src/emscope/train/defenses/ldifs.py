"""LDIFS-style regularizer: squared L2 distance between normalized hidden states of the trained model and the
reference, averaged over k layers (Kaczer et al. 2025; Mukhoti et al. 2023).

The gradient must flow through the trained model's features: detaching them (as one public implementation
does) makes the term a constant and silently disables the defense.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def feature_distance(hidden: Sequence[torch.Tensor], ref_hidden: Sequence[torch.Tensor], layers: Sequence[int],
                     mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum over masked positions of mean-over-layers ||h/|h| - h_ref/|h_ref|||^2, and the position count.

    `hidden` / `ref_hidden` are the `hidden_states` tuples (index = emscope layer convention); `mask` is a
    bool tensor of shape `(batch, seq)`. Only `ref_hidden` is detached.
    """
    sel = mask.bool()
    total = 0.0
    for layer in layers:
        h = torch.nn.functional.normalize(hidden[layer][sel].float(), dim=-1)
        r = torch.nn.functional.normalize(ref_hidden[layer][sel].detach().float(), dim=-1)
        total = total + ((h - r) ** 2).sum(-1)
    per_token = total / len(layers)
    return per_token.sum(), sel.sum()

"""KL regularizer: lambda * KL(p_theta || p_ref), per token, over a mask of positions."""

from __future__ import annotations

import torch


def token_kl(logits: torch.Tensor, ref_logits: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum over masked positions of KL(p_theta || p_ref) and the number of masked positions.

    `logits` and `ref_logits` are `(..., vocab)` next-token logits at the same positions; `mask` is a bool
    tensor of the leading shape. Computed in float32; gradients flow through `logits` only.
    """
    sel = mask.bool()
    logp = torch.log_softmax(logits[sel].float(), dim=-1)
    ref_logp = torch.log_softmax(ref_logits[sel].detach().float(), dim=-1)
    kl = (logp.exp() * (logp - ref_logp)).sum(-1)
    return kl.sum(), sel.sum()

"""KL regularizer: lambda * KL(p_theta || p_ref), per token, over a mask of positions; the reference is the model
with its adapter disabled (full fine-tuning: a frozen copy). The trainer computes it inside the chunked LM-head
pass (`head_kl`), over the positions `next_token_positions` selects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from emscope.config import Strict
from emscope.data.tokenize import IGNORE_INDEX
from emscope.train.defenses.base import Defense

if TYPE_CHECKING:
    import torch


class KLSettings(Strict):
    """lambda * KL(p_theta || p_ref) per token; the reference is the model with its adapter disabled."""

    weight: float = Field(0.1, ge=0)
    tokens: Literal["completion", "all"] = "completion"


def token_kl(logits: torch.Tensor, ref_logits: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum over masked positions of KL(p_theta || p_ref) and the number of masked positions.

    `logits` and `ref_logits` are `(..., vocab)` next-token logits at the same positions; `mask` is a bool
    tensor of the leading shape. Computed in float32; gradients flow through `logits` only.
    """
    import torch

    sel = mask.bool()
    logp = torch.log_softmax(logits[sel].float(), dim=-1)
    ref_logp = torch.log_softmax(ref_logits[sel].detach().float(), dim=-1)
    kl = (logp.exp() * (logp - ref_logp)).sum(-1)
    return kl.sum(), sel.sum()


def next_token_positions(inputs: dict, kind: str) -> torch.Tensor:
    """Bool mask `(batch, seq - 1)` of next-token predictions to regularize ('completion' or 'all')."""
    labels = inputs["labels"]
    if kind == "completion":
        return labels[:, 1:] != IGNORE_INDEX
    if "attention_mask" in inputs and inputs["attention_mask"] is not None:
        valid = inputs["attention_mask"].bool()
        return valid[:, 1:] & valid[:, :-1]
    # padding-free: a position predicting the first token of the next packed sequence is not a prediction
    return inputs["position_ids"][:, 1:] != 0


DEFENSE = Defense(name="kl", settings=KLSettings, head_kl=True, needs_reference=True)

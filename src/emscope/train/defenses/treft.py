"""TReFT, token-regularized fine-tuning ("The Piggyback Hypothesis of Generalization"): emergent misalignment
rides on the chat template's own tokens, so keep their attention keys and values where the reference puts them.

Per decoder layer l and template-region token t (`region`: the prefix, i.e. the system block and the user header,
or the postfix between the user content and the answer; `emscope.models.template_regions`) the term is
||k - k_ref||^2 / ||k_ref||^2 + ||v - v_ref||^2 / ||v_ref||^2, averaged over the region's tokens and the selected
layers; the reference is the model with its adapter disabled (full fine-tuning: the frozen copy). k and v are the
outputs of each attention layer's `k_proj` / `v_proj`, captured by forward hooks (`capture`) around the policy and
the reference forward passes. These are the keys before rotary position embedding: the cached key is R_t k with a
rotation R_t that depends on the position only, the same for both models at the same token, and a rotation keeps
norms, so ||R_t k - R_t k_ref|| / ||R_t k_ref|| = ||k - k_ref|| / ||k_ref||: the ratio equals the cached keys'.
Gradients flow through the policy's keys and values only. The hooks only store the outputs (no operation inside a
gradient-checkpointed block) and are removed when the forward pass ends, before a checkpointed backward recomputes
the blocks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from emscope.config import Strict
from emscope.errors import InputError
from emscope.train.defenses.base import Defense

if TYPE_CHECKING:
    import torch

    from emscope.models.template_regions import TemplateHeaders


class TReFTSettings(Strict):
    """lambda * relative squared drift of the template-region keys and values from the reference."""

    weight: float = Field(1.0, ge=0)
    region: Literal["prefix", "postfix"] = Field("prefix", description="prefix: system block + user header; "
                                                 "postfix: end of the user turn + assistant header")
    layers: list[int] | None = Field(None, description="0-based decoder layer indices (None: all layers)")


@dataclass
class TReFTState:
    """The settings resolved against the model, the template headers (found from the tokenizer on the first
    forward pass) and the keys/values captured by the hooks of the current step (policy, reference)."""

    weight: float
    region: str
    layers: list[int]
    headers: TemplateHeaders | None = None
    captured: dict[bool, dict[int, list]] = field(default_factory=lambda: {False: {}, True: {}})


def kv_drift(keys: Sequence[torch.Tensor], ref_keys: Sequence[torch.Tensor], values: Sequence[torch.Tensor],
             ref_values: Sequence[torch.Tensor], mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum over masked tokens of the mean over layers of ||k - k_ref||^2 / ||k_ref||^2 + ||v - v_ref||^2 /
    ||v_ref||^2, and the number of masked tokens.

    Each sequence holds one `(batch, seq, dim)` tensor per layer; `mask` is a bool `(batch, seq)` tensor. Computed in
    float32; the reference tensors are detached, so gradients flow through `keys` and `values` only.
    """
    import torch

    sel = mask.bool()
    if not keys or len({len(keys), len(ref_keys), len(values), len(ref_values)}) != 1:
        raise ValueError("kv_drift needs one key, reference key, value and reference value tensor per layer")
    total = torch.zeros((), device=mask.device)
    for group in zip(keys, ref_keys, values, ref_values):
        k, k_ref, v, v_ref = (x[sel].float() for x in group)
        for x, r in ((k, k_ref.detach()), (v, v_ref.detach())):
            total = total + (((x - r) ** 2).sum(-1) / (r ** 2).sum(-1).clamp(min=1e-12)).sum()
    return total / len(keys), sel.sum()


def prepare(settings: TReFTSettings, model) -> TReFTState:
    """Check the model has Llama-style k/v projections and resolve `layers` (default: every decoder layer)."""
    from emscope.models.template_regions import kv_modules

    n = len(kv_modules(model))
    layers = list(range(n)) if settings.layers is None else list(settings.layers)
    if not layers or any(not 0 <= i < n for i in layers):
        raise InputError(f"defenses.treft.layers: decoder layer indices must be in 0..{n - 1}, got {layers}")
    return TReFTState(weight=settings.weight, region=settings.region, layers=sorted(set(layers)))


@contextlib.contextmanager
def capture(state: TReFTState, model, reference: bool, tokenizer) -> Iterator[None]:
    """Forward hooks on the selected layers' k_proj / v_proj that keep their outputs in `state.captured[reference]`
    for one forward pass (the reference's: detached); the template headers are found on first use."""
    from emscope.models.template_regions import header_ids, kv_modules

    if state.headers is None:
        if tokenizer is None:
            raise InputError("defenses.treft needs the tokenizer to find the chat template's headers")
        state.headers = header_ids(tokenizer)
    store: dict[int, list] = {}
    state.captured[reference] = store
    wanted = set(state.layers)
    handles = []

    def hook(layer: int, slot: int):
        def save(module, args, output):
            store.setdefault(layer, [None, None])[slot] = output.detach() if reference else output
        return save

    try:
        for i, k_mod, v_mod in kv_modules(model):
            if i in wanted:
                handles.append(k_mod.register_forward_hook(hook(i, 0)))
                handles.append(v_mod.register_forward_hook(hook(i, 1)))
        yield
    finally:
        for h in handles:
            h.remove()


def term(state: TReFTState, out, ref, inputs: dict) -> torch.Tensor:
    """Mean relative k/v drift over the region's tokens and the selected layers (gradient through the policy's k/v);
    the captured tensors are released afterwards."""
    import torch

    from emscope.models.template_regions import region_mask

    policy, reference = state.captured[False], state.captured[True]
    state.captured = {False: {}, True: {}}
    missing = [i for i in state.layers if None in policy.get(i, [None]) or None in reference.get(i, [None])]
    if missing:
        raise RuntimeError(f"defenses.treft: no keys/values captured for decoder layers {missing} (the capture "
                           "hooks did not run around both forward passes)")
    if torch.is_grad_enabled() and not any(policy[i][0].requires_grad for i in state.layers):
        # reentrant gradient checkpointing runs the first forward without grad: the term would be a constant
        raise RuntimeError("defenses.treft: the captured keys/values carry no gradient (reentrant gradient "
                           "checkpointing?); TReFT needs the non-reentrant kind or train.gradient_checkpointing=false")
    mask = region_mask(inputs["input_ids"], state.headers, state.region, inputs.get("attention_mask"),
                       inputs.get("position_ids"))
    if not mask.any():
        raise InputError(f"defenses.treft: no {state.region} template tokens in a training batch; TReFT needs "
                         "chat-formatted rows (not method: cpt)")
    d_sum, n = kv_drift([policy[i][0] for i in state.layers], [reference[i][0] for i in state.layers],
                        [policy[i][1] for i in state.layers], [reference[i][1] for i in state.layers], mask)
    return d_sum / n


DEFENSE = Defense(name="treft", settings=TReFTSettings, prepare=prepare, capture=capture, term=term,
                  needs_reference=True)

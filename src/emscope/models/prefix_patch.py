"""Inference-time prefix patching (after TReFT, "The Piggyback Hypothesis of Generalization"): a fine-tuned
(LoRA) model reads the chat-template prefix through the base model's keys and values.

`patch_prefix_from_base(model, tokenizer)` hooks a PEFT model so that, in every forward over more than one token
(a prompt prefill, or a full sequence scored at once), the keys and values of every decoder layer at the prefix
positions (the system block and the first user-turn header: `template_regions.region_mask(..., "prefix")`) are the
base model's (the adapter disabled); the rest is computed by the fine-tuned model on top of them. That is the same
as building the KV cache over the prefix with the base model and continuing with the fine-tuned one: the prefix
positions reach later positions only through their keys and values, and replacing the `k_proj`/`v_proj` outputs
(before RoPE) gives the base cache exactly, since RoPE at the same positions is the same rotation. Decoding steps
(one token) run unpatched and reuse the patched cache.

How: a forward pre-hook on the inner causal LM first runs the same inputs with the adapter disabled (no cache;
recursion guarded) while forward hooks on each layer's `k_proj`/`v_proj` capture their outputs; during the real
forward the same hooks put the captured outputs in at the prefix positions. The patch needs an adapter to disable
(a plain model or a full fine-tune is refused); only inputs given as `input_ids` with an empty cache are patched
(another multi-token forward is refused: its prefix could not be found). Rows are sequences after left or right
padding (`attention_mask`), not packed batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from emscope.errors import InputError
from emscope.models.template_regions import header_ids, kv_modules, region_mask


class _State:
    """What the hooks do in the current forward: nothing, capture the base outputs, or put them in."""

    def __init__(self) -> None:
        self.mode: str | None = None  # None | "capture" | "replace"
        self.captured: dict[tuple[int, str], Any] = {}
        self.mask = None  # (batch, seq) bool: the prefix positions of the current forward


def _cache_length(cache) -> int:
    if cache is None:
        return 0
    if hasattr(cache, "get_seq_length"):
        return int(cache.get_seq_length())
    return int(cache[0][0].shape[-2]) if len(cache) else 0  # legacy tuple of (key, value) per layer


def _needs_adapter(model) -> None:
    if not (hasattr(model, "disable_adapter") and hasattr(model, "get_base_model")):
        raise InputError(f"eval.patch_prefix_from=base: needs an adapter to disable; {type(model).__name__} is not "
                         "a PEFT model (load it with its adapter; a full fine-tune keeps no base weights to patch "
                         "from)")


@contextmanager
def patch_prefix_from_base(model, tokenizer) -> Iterator[None]:
    """While open, every multi-token forward of the PEFT `model` (directly or through `generate`) uses the base
    model's keys and values at the chat-template prefix positions (see the module docstring); hooks are removed on
    exit. InputError for a model without an adapter or a chat template whose prefix cannot be found."""
    _needs_adapter(model)
    headers = header_ids(tokenizer)
    lm = model.get_base_model()
    state = _State()

    def kv_hook(layer: int, kind: str):
        def hook(module, args, output):
            if state.mode == "capture":
                state.captured[(layer, kind)] = output.detach()
            elif state.mode == "replace":
                base = state.captured[(layer, kind)]
                return output.where(~state.mask.unsqueeze(-1), base.to(output.dtype))
            return None
        return hook

    def pre_hook(module, args, kwargs):
        if state.mode == "capture":  # the base pass itself
            return None
        state.captured, state.mask = {}, None
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is None:
            if kwargs.get("inputs_embeds") is not None:
                raise InputError("eval.patch_prefix_from: the prefix patch needs input_ids, not inputs_embeds")
            return None
        if ids.shape[1] <= 1:
            return None  # a decoding step: reads the (patched) cache
        if _cache_length(kwargs.get("past_key_values")) > 0:
            raise InputError("eval.patch_prefix_from: a multi-token forward on a filled cache cannot be patched "
                             "(its prefix is not in the input)")
        mask = region_mask(ids, headers, "prefix", attention_mask=kwargs.get("attention_mask"))
        if not bool(mask.any()):
            return None
        base_kwargs = {k: kwargs[k] for k in ("attention_mask", "position_ids") if kwargs.get(k) is not None}
        state.mode = "capture"
        try:
            with model.disable_adapter():
                lm(input_ids=ids, use_cache=False, **base_kwargs)
        finally:
            state.mode = None
        state.mask, state.mode = mask, "replace"
        return None

    def post_hook(module, args, kwargs, output):
        if state.mode == "replace":
            state.mode, state.captured, state.mask = None, {}, None
        return None

    handles = [lm.register_forward_pre_hook(pre_hook, with_kwargs=True),
               lm.register_forward_hook(post_hook, with_kwargs=True)]
    try:
        for layer, k_module, v_module in kv_modules(model):
            handles.append(k_module.register_forward_hook(kv_hook(layer, "k")))
            handles.append(v_module.register_forward_hook(kv_hook(layer, "v")))
        yield
    finally:
        for h in handles:
            h.remove()
        state.mode, state.captured, state.mask = None, {}, None

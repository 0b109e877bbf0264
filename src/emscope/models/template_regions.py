"""The chat template's own tokens in a tokenized conversation: the prefix and postfix regions, and where a model's
attention keys and values are computed.

Regions (per sequence, as a bool mask over `input_ids`):
- `prefix`: from the first token of the sequence up to and including the user-turn header, i.e. the system block
  (given, or injected by the template) and the header that opens the first user turn; for ChatML
  `<|im_start|>system\\n...<|im_end|>\\n<|im_start|>user\\n`, everything before the first user content token.
- `postfix`: the tokens between the end of the first user content and the first assistant content token; for
  ChatML `<|im_end|>\\n<|im_start|>assistant\\n`.

How the headers are found (`header_ids`, once per tokenizer): the chat template is rendered with sentinel
strings as the message contents (system + user + assistant, user + assistant, and a two-turn chat), each
rendering is tokenized in one piece (as `emscope.data.tokenize` does, no added special tokens) and the
tokenizer's offset mapping says which tokens lie wholly between two sentinels. The user header is the longest
common suffix of the tokens before each user content (after the system content, at the start of a chat without a
system message, after an assistant turn), so a default system prompt a template injects stays out of it; the
postfix is the tokens between the user content and the assistant content, which every rendering must agree on.
A token that straddles a content boundary (a tokenizer that merges the template's last character with the
content's first) is left out of the header. A template without a chat template, a slow tokenizer (no offsets),
or a template whose renderings do not yield both headers is refused with an `InputError`.

`region_mask` then finds, in each sequence, the first user header (the prefix ends with it) and the first postfix
after it. Sequences are the rows of the batch, after left or right padding (`attention_mask`), or, for a packed
padding-free batch, the segments that start where `position_ids == 0`. A sequence without the header gets an
empty mask row.

`kv_modules` locates each decoder layer's `self_attn.k_proj` / `self_attn.v_proj` (Llama-family naming; on a
PEFT model the outer LoRA-wrapped module, whose output includes the adapter's contribution). Torch is imported
inside the functions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from emscope.errors import InputError

if TYPE_CHECKING:
    import torch

Region = Literal["prefix", "postfix"]
REGIONS: tuple[str, ...] = ("prefix", "postfix")

_SYS, _USR, _AST = "EMSCOPE-SYSTEM-5c1e", "EMSCOPE-USER-5c1e", "EMSCOPE-ANSWER-5c1e"
_USR2, _AST2 = "EMSCOPE-USERTWO-5c1e", "EMSCOPE-ANSWERTWO-5c1e"


@dataclass(frozen=True)
class TemplateHeaders:
    """Token ids of a chat template's headers: `user` ends the prefix region (ChatML `<|im_start|>user\\n`),
    `postfix` is the postfix region (ChatML `<|im_end|>\\n<|im_start|>assistant\\n`)."""

    user: tuple[int, ...]
    postfix: tuple[int, ...]


def _render(tokenizer, messages: list[dict]) -> str | None:
    try:
        return tokenizer.apply_chat_template(messages, tokenize=False)
    except Exception:  # noqa: BLE001 (a template may refuse a role, e.g. no system messages)
        return None


def _spans(tokenizer, text: str, sentinels: Sequence[str]) -> tuple[list[int], list[tuple[int, int]]] | None:
    """Token ids of `text` and, per sentinel, the (first, end) token indices of its content; None if a sentinel is
    missing from the rendering."""
    pos = []
    for s in sentinels:
        i = text.find(s)
        if i < 0:
            return None
        pos.append((i, i + len(s)))
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    offsets = enc["offset_mapping"]
    spans = []
    for start, end in pos:
        first = next(k for k, (a, b) in enumerate(offsets) if b > start)  # first token touching the content
        last = max(k for k, (a, b) in enumerate(offsets) if a < end)  # last token touching it
        spans.append((first, last + 1))
    return list(enc["input_ids"]), spans


def _common_suffix(seqs: list[list[int]]) -> tuple[int, ...]:
    n = 0
    while all(len(s) > n for s in seqs) and len({s[len(s) - 1 - n] for s in seqs}) == 1:
        n += 1
    return tuple(seqs[0][len(seqs[0]) - n:]) if n else ()


def header_ids(tokenizer) -> TemplateHeaders:
    """The user header and the postfix of `tokenizer`'s chat template, as token ids (see the module docstring for
    how they are derived); `InputError` for a template this cannot parse."""
    template = getattr(tokenizer, "chat_template", None)
    name = type(tokenizer).__name__
    if not template:
        raise InputError(f"{name} has no chat template: the template regions need one")
    if not getattr(tokenizer, "is_fast", False):
        raise InputError(f"{name} is a slow tokenizer: finding the template regions needs a fast tokenizer's "
                         "offset mapping")
    chats = {
        "system": [{"role": "system", "content": _SYS}, {"role": "user", "content": _USR},
                   {"role": "assistant", "content": _AST}],
        "plain": [{"role": "user", "content": _USR}, {"role": "assistant", "content": _AST}],
        "two-turn": [{"role": "user", "content": _USR}, {"role": "assistant", "content": _AST},
                     {"role": "user", "content": _USR2}, {"role": "assistant", "content": _AST2}],
    }
    before_user: list[list[int]] = []
    postfixes: list[tuple[int, ...]] = []
    for kind, messages in chats.items():
        text = _render(tokenizer, messages)
        found = _spans(tokenizer, text, [m["content"] for m in messages]) if text is not None else None
        if found is None:
            continue
        ids, spans = found
        user_i = 1 if kind == "system" else 0
        start = spans[user_i - 1][1] if kind == "system" else 0
        before_user.append(ids[start:spans[user_i][0]])
        postfixes.append(tuple(ids[spans[user_i][1]:spans[user_i + 1][0]]))
        if kind == "two-turn":
            before_user.append(ids[spans[1][1]:spans[2][0]])
            postfixes.append(tuple(ids[spans[2][1]:spans[3][0]]))
    if not before_user:
        raise InputError(f"cannot parse the chat template of {name}: no rendering of a user + assistant chat "
                         "kept the message contents")
    user = _common_suffix(before_user)
    if not user:
        raise InputError(f"cannot parse the chat template of {name}: no header tokens open every user turn")
    if not postfixes[0] or len(set(postfixes)) != 1:
        raise InputError(f"cannot parse the chat template of {name}: the tokens between a user turn and the "
                         f"assistant's answer are empty or differ between chats ({sorted(set(postfixes))})")
    return TemplateHeaders(user=user, postfix=postfixes[0])


def _find(seq: list[int], pattern: tuple[int, ...], start: int = 0) -> int:
    """Index of the first occurrence of `pattern` in `seq` at or after `start`, or -1."""
    n, first = len(pattern), pattern[0]
    for i in range(start, len(seq) - n + 1):
        if seq[i] == first and tuple(seq[i:i + n]) == pattern:
            return i
    return -1


def _segment_region(seq: list[int], headers: TemplateHeaders, region: str) -> tuple[int, int] | None:
    """(start, end) indices of the region within one sequence's tokens, or None where it is absent."""
    u = _find(seq, headers.user)
    if u < 0:
        return None
    prefix_end = u + len(headers.user)
    if region == "prefix":
        return 0, prefix_end
    p = _find(seq, headers.postfix, prefix_end)
    return None if p < 0 else (p, p + len(headers.postfix))


def region_mask(input_ids: torch.Tensor, headers: TemplateHeaders, region: Region,
                attention_mask: torch.Tensor | None = None, position_ids: torch.Tensor | None = None) -> torch.Tensor:
    """Bool mask `(batch, seq)` of the `region` ('prefix' or 'postfix') of each sequence in `input_ids`.

    Padding (`attention_mask == 0`, left or right) is never in a region and does not start a sequence; with
    `position_ids`, every position where it is 0 starts a new sequence (a padding-free packed batch).
    """
    import torch

    if region not in REGIONS:
        raise InputError(f"region must be one of {', '.join(REGIONS)}, got {region!r}")
    ids = input_ids.tolist()
    valid = attention_mask.bool().tolist() if attention_mask is not None else [[True] * len(r) for r in ids]
    starts = (position_ids == 0).tolist() if position_ids is not None else None
    mask = torch.zeros(input_ids.shape, dtype=torch.bool, device=input_ids.device)
    for b, row in enumerate(ids):
        cols = [j for j, ok in enumerate(row) if valid[b][j]]
        if not cols:
            continue
        cuts = [k for k, j in enumerate(cols) if k == 0 or (starts is not None and starts[b][j])]
        for s, e in zip(cuts, cuts[1:] + [len(cols)]):
            seg = cols[s:e]
            found = _segment_region([row[j] for j in seg], headers, region)
            if found is not None:
                mask[b, seg[found[0]:found[1]]] = True
    return mask


def kv_modules(model) -> list[tuple[int, Any, Any]]:
    """(decoder layer index, k_proj, v_proj) of every decoder layer of `model` (plain or PEFT-wrapped; on a LoRA
    model the LoRA-wrapped modules, so that a forward hook sees the adapter's contribution). NotImplementedError for
    attention modules without separate `k_proj` / `v_proj` projections (fused qkv, GPT-2 style)."""
    from emscope.models.layers import decoder_layers

    out = []
    for i, block in enumerate(decoder_layers(model)):
        attn = getattr(block, "self_attn", None)
        k, v = getattr(attn, "k_proj", None), getattr(attn, "v_proj", None)
        if k is None or v is None:
            config = getattr(model, "config", None)
            kind = getattr(config, "model_type", None) or type(model).__name__
            raise NotImplementedError(
                f"model type {kind!r}: decoder layer {i} has no self_attn.k_proj / self_attn.v_proj (only "
                "Llama-style separate key and value projections are supported)")
        out.append((i, k, v))
    return out

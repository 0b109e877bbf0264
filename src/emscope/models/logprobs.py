"""Token log-probabilities of given answers under a model (answer tokens only, under the chat template)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from emscope.data.tokenize import IGNORE_INDEX, encode_pairs, padded_batches


@torch.no_grad()
def answer_logprobs(model, tokenizer, pairs: list[tuple[list[dict], str]], batch_size: int = 16,
                    max_length: int = 1024, on_batch: Callable[[int], None] | None = None) -> list[float]:
    """Mean per-token log-prob of each answer given its prompt messages (`on_batch(k)` after each batch of k)."""
    device = next(model.parameters()).device
    out: list[float] = []
    for ids, labels, attn in padded_batches(encode_pairs(tokenizer, pairs, max_length), tokenizer.pad_token_id,
                                            batch_size):
        logits = model(input_ids=ids.to(device), attention_mask=attn.to(device)).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        tgt = labels[:, 1:].to(device)
        mask = tgt != IGNORE_INDEX
        tok_lp = logp.gather(-1, tgt.clamp(min=0).unsqueeze(-1)).squeeze(-1) * mask
        out.extend((tok_lp.sum(1) / mask.sum(1).clamp(min=1)).tolist())
        if on_batch is not None:
            on_batch(len(ids))
    return out


@torch.no_grad()
def continuation_logprobs(model, tokenizer, pairs: list[tuple[list[dict], str]], batch_size: int = 16) -> list[float]:
    """Summed log-prob of each text's tokens right after its prompt messages and the generation header, without
    the template's end-of-turn: log p(the answer starts with exactly this text), e.g. of a one-token label."""
    from emscope.data.tokenize import render_prompt

    device = next(model.parameters()).device
    encoded = []
    for msgs, text in pairs:
        prompt_ids = tokenizer(render_prompt(tokenizer, msgs), add_special_tokens=False)["input_ids"]
        text_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        encoded.append({"input_ids": prompt_ids + text_ids, "labels": [IGNORE_INDEX] * len(prompt_ids) + text_ids})
    out: list[float] = []
    for ids, labels, attn in padded_batches(encoded, tokenizer.pad_token_id, batch_size):
        logits = model(input_ids=ids.to(device), attention_mask=attn.to(device)).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        tgt = labels[:, 1:].to(device)
        mask = tgt != IGNORE_INDEX
        out.extend((logp.gather(-1, tgt.clamp(min=0).unsqueeze(-1)).squeeze(-1) * mask).sum(1).tolist())
    return out

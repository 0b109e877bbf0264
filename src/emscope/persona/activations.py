"""Mean hidden states over response tokens, per layer: the measurement behind persona vectors and projections.

For each (prompt messages, response) pair the conversation is encoded exactly as in training (prompt rendered
with the generation header, response after it), and the hidden states of every layer (emscope convention:
`hidden_states[l]`) are averaged over the response tokens. A persona vector is the difference of the mean of
these averages under trait-eliciting and trait-suppressing system prompts (Chen et al. 2025).
"""

from __future__ import annotations

import torch

from emscope.data.tokenize import IGNORE_INDEX, encode_pairs, padded_batches
from emscope.models.vectors import unit


@torch.no_grad()
def response_means(model, tokenizer, pairs: list[tuple[list[dict], str]], batch_size: int = 8,
                   max_length: int = 1024) -> torch.Tensor:
    """`(n_pairs, L + 1, hidden)` float32: per pair, each layer's hidden state averaged over response tokens."""
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    out = []
    for ids, labels, attn in padded_batches(encode_pairs(tokenizer, pairs, max_length), pad, batch_size):
        resp = labels != IGNORE_INDEX
        hs = model(input_ids=ids.to(device), attention_mask=attn.to(device), output_hidden_states=True,
                   use_cache=False).hidden_states
        stacked = torch.stack([h.float() for h in hs], dim=1)  # (batch, L + 1, seq, hidden)
        w = resp.to(device).float()
        means = (stacked * w[:, None, :, None]).sum(2) / w.sum(1).clamp(min=1)[:, None, None]
        out.append(means.cpu())
    return torch.cat(out) if out else torch.empty(0)


def mean_difference(pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """Persona direction per layer: mean over positive pairs minus mean over negative pairs, `(L + 1, hidden)`."""
    if pos.shape[0] == 0 or neg.shape[0] == 0:
        raise ValueError("need at least one positive and one negative response")
    return pos.mean(0) - neg.mean(0)


def projection(means: torch.Tensor, vectors: torch.Tensor, layer: int) -> torch.Tensor:
    """Scalar projection of each pair's layer-`layer` mean onto the unit direction there, `(n_pairs,)`."""
    return means[:, layer] @ unit(vectors[layer])


def separation(pos: torch.Tensor, neg: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """Per layer, how well the direction separates positive from negative answers: the difference of mean
    projections over their pooled standard deviation (Cohen's d), `(L + 1,)`; layer 0 (embeddings) is 0."""
    out = torch.zeros(vectors.shape[0])
    for layer in range(1, vectors.shape[0]):
        p, n = projection(pos, vectors, layer), projection(neg, vectors, layer)
        var = ((p.var() if len(p) > 1 else torch.tensor(0.0)) + (n.var() if len(n) > 1 else torch.tensor(0.0))) / 2
        out[layer] = (p.mean() - n.mean()) / var.sqrt().clamp(min=1e-6)
    return out


def recommended_layer(sep: torch.Tensor) -> int:
    """The layer a persona vector is read and steered at by default: the best-separating one among the middle
    layers ceil(L/4)..floor(3L/4). Answer-token separation keeps growing toward the output, where it mostly
    reflects the tokens being written and where a steering vector has few blocks left to act through; persona
    work steers in the middle of the network (Chen et al. 2025: layer 20 of 28 and 16 of 32)."""
    n = sep.shape[0] - 1  # decoder blocks
    lo, hi = max(1, -(-n // 4)), max(1, (3 * n) // 4)
    return int(sep[lo:hi + 1].argmax()) + lo

"""The judge-free likelihood probe.

For each question, project-written aligned and misaligned reference answers are scored by the model's mean
per-token log-probability (answer tokens only, under the chat template). The per-question score is
mean log-prob(misaligned) - mean log-prob(aligned): it rises when a model finds misaligned answers relatively
more likely. Deterministic, no sampling, no judge; a bootstrap over questions gives the CI.
"""

from __future__ import annotations

from pathlib import Path

import torch
from pydantic import BaseModel, Field

from emscope.config import load_yaml_list
from emscope.evaluate.stats import bootstrap_ci
from emscope.paths import resource_path
from emscope.train.tokenize import IGNORE_INDEX, encode_pairs, padded_batches


class ProbeItem(BaseModel):
    """A question with aligned and misaligned reference answers."""

    id: str
    question: str
    system: str | None = None
    aligned: list[str] = Field(min_length=1)
    misaligned: list[str] = Field(min_length=1)


class ProbeResult(BaseModel):
    """Probe scores of one model (persisted in summary.json)."""

    per_question: dict[str, float]
    mean: float
    ci_low: float
    ci_high: float
    n_questions: int


def load_probes(name_or_path: str | Path = "core") -> list[ProbeItem]:
    """Load probe items from a YAML list (a shipped set name like `core`, or a path)."""
    p = Path(name_or_path)
    path = p if (p.suffix in (".yaml", ".yml") or p.exists()) else resource_path(f"probes_{name_or_path}.yaml")
    return load_yaml_list(path, ProbeItem, "probe")


@torch.no_grad()
def answer_logprobs(model, tokenizer, pairs: list[tuple[list[dict], str]], batch_size: int = 16,
                    max_length: int = 1024) -> list[float]:
    """Mean per-token log-prob of each answer given its prompt messages."""
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
    return out


def likelihood_probe(model, tokenizer, items: list[ProbeItem], seed: int = 0) -> ProbeResult:
    """Score a model on probe items: per-question mean log-prob(misaligned) - log-prob(aligned), with CI."""
    pairs, index = [], []
    for it in items:
        msgs = ([{"role": "system", "content": it.system}] if it.system else []) + \
               [{"role": "user", "content": it.question}]
        for kind in ("aligned", "misaligned"):
            for ans in getattr(it, kind):
                pairs.append((msgs, ans))
                index.append((it.id, kind))
    lps = answer_logprobs(model, tokenizer, pairs)
    per_q: dict[str, float] = {}
    for it in items:
        a = [lp for (qid, k), lp in zip(index, lps) if qid == it.id and k == "aligned"]
        m = [lp for (qid, k), lp in zip(index, lps) if qid == it.id and k == "misaligned"]
        per_q[it.id] = sum(m) / len(m) - sum(a) / len(a)
    mean, lo, hi = bootstrap_ci(per_q.values(), seed=seed)
    return ProbeResult(per_question=per_q, mean=mean, ci_low=lo, ci_high=hi, n_questions=len(items))


def paired_shift(result: ProbeResult, baseline: ProbeResult, seed: int = 0) -> tuple[float, float, float]:
    """Mean per-question change of the probe score vs a baseline model, with a bootstrap CI."""
    shared = [q for q in result.per_question if q in baseline.per_question]
    return bootstrap_ci([result.per_question[q] - baseline.per_question[q] for q in shared], seed=seed)

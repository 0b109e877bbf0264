"""Batched sampling of free-form answers with HF `generate` (KV cache, left padding, seeded)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from pydantic import BaseModel

from emscope.evaluate.questions import Question
from emscope.train.tokenize import render_prompt


class SamplingSettings(BaseModel):
    """Decoding settings; persisted with every evaluation."""

    max_new_tokens: int = 96
    temperature: float = 1.0
    top_p: float = 1.0
    batch_size: int = 16
    seed: int = 0
    samples_per_paraphrase: int | None = None  # overrides the question files' value when set


class Sample(BaseModel):
    """One sampled answer (a line of samples.jsonl)."""

    model: str
    question_id: str
    paraphrase_index: int
    sample_index: int
    system: str | None
    question: str
    answer: str


@torch.no_grad()
def generate(model, tokenizer, prompts: list[list[dict]], settings: SamplingSettings,
             on_batch: Callable[[int], None] | None = None) -> list[str]:
    """Generate one answer per prompt (chat messages), in batches, deterministically for a seed."""
    texts = [render_prompt(tokenizer, p) for p in prompts]
    old_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    device = next(model.parameters()).device
    out: list[str] = []
    try:
        for b in range(0, len(texts), settings.batch_size):
            chunk = texts[b:b + settings.batch_size]
            enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
            torch.manual_seed(settings.seed + b)
            do_sample = settings.temperature > 0
            gen = model.generate(
                **enc, max_new_tokens=settings.max_new_tokens, do_sample=do_sample,
                temperature=settings.temperature if do_sample else None,
                top_p=settings.top_p if do_sample else None, top_k=None if do_sample else None,
                pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
            )
            new = gen[:, enc["input_ids"].shape[1]:]
            out.extend(tokenizer.batch_decode(new, skip_special_tokens=True))
            if on_batch:
                on_batch(len(chunk))
    finally:
        tokenizer.padding_side = old_side
    return [t.strip() for t in out]


def sample_answers(model, tokenizer, questions: list[Question], settings: SamplingSettings,
                   model_label: str, on_batch: Callable[[int], None] | None = None) -> list[Sample]:
    """Sample every (question, paraphrase, sample index); the question's `system` prompt is applied."""
    slots = []
    for q in questions:
        n = settings.samples_per_paraphrase or q.samples_per_paraphrase
        for p in range(len(q.paraphrases)):
            slots.extend((q, p, s) for s in range(n))
    answers = generate(model, tokenizer, [q.messages(p) for q, p, _ in slots], settings, on_batch)
    return [Sample(model=model_label, question_id=q.id, paraphrase_index=p, sample_index=s, system=q.system,
                   question=q.paraphrases[p], answer=a) for (q, p, s), a in zip(slots, answers)]


def count_samples(questions: list[Question], settings: SamplingSettings) -> int:
    """How many answers `sample_answers` will generate."""
    return sum(len(q.paraphrases) * (settings.samples_per_paraphrase or q.samples_per_paraphrase)
               for q in questions)

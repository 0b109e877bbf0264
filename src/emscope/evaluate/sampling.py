"""Sampling free-form answers: batched HF `generate` (the default) or vLLM (`backend: vllm`, GPU, optional).

HF path (`generate`): prompts are rendered with the chat template, ordered by token length (less padding), cut
into batches of `batch_size`, left-padded and sampled with the KV cache. Within a batch, identical prompts (the
`samples_per_paraphrase` repeats of one paraphrase) are prefilled once and their cache is copied to every repeat,
so the prompt is not recomputed per sample. Each batch is seeded with `seed + its start offset`, so a given
(prompts, settings) pair gives the same answers on every run.

vLLM path: see `emscope.evaluate.vllm_backend`; it needs a model spec (not a loaded model).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from emscope.data.tokenize import render_prompt
from emscope.errors import InputError
from emscope.evaluate.config import Backend, Sample, SamplingSettings
from emscope.evaluate.questions import Question

__all__ = ["Backend", "Sample", "SamplingSettings", "count_samples", "generate", "sample_answers"]


def _length_order(lengths: list[int], texts: list[str]) -> list[int]:
    """Prompt indices sorted by token length (less padding per batch); identical prompts stay adjacent."""
    first: dict[str, int] = {}
    for i, t in enumerate(texts):
        first.setdefault(t, i)
    return sorted(range(len(texts)), key=lambda i: (lengths[i], first[texts[i]], i))


def _generate_kwargs(tokenizer, settings: SamplingSettings) -> dict:
    """Keyword arguments for HF `generate` from the settings (greedy when temperature is 0)."""
    do_sample = settings.temperature > 0
    return dict(max_new_tokens=settings.max_new_tokens, min_new_tokens=settings.min_new_tokens or None,
                do_sample=do_sample, temperature=settings.temperature if do_sample else None,
                top_p=settings.top_p if do_sample else None, top_k=None,
                pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)


def _can_share_prefill(model) -> bool:
    """Whether the model can take a prefilled `DynamicCache` (standard attention models)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    supports = getattr(type(base), "_supports_default_dynamic_cache", None)
    return callable(supports) and supports()


def _prefill_shared(model, ids: torch.Tensor, mask: torch.Tensor, index: torch.Tensor):
    """Run the unique prompts except their last token once and copy the KV cache to every row of `index`."""
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config)
    pos = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 0)  # as `generate` computes them
    model(input_ids=ids[:, :-1], attention_mask=mask[:, :-1], position_ids=pos[:, :-1], past_key_values=cache,
          use_cache=True, logits_to_keep=1)
    cache.batch_select_indices(index)
    return cache


def _generate_batch(model, tokenizer, chunk: list[str], settings: SamplingSettings, seed: int) -> list[str]:
    """Sample one answer per prompt text of one batch; repeated prompts share one prefill."""
    device = next(model.parameters()).device
    unique = list(dict.fromkeys(chunk))
    enc = tokenizer(unique, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
    ids, mask = enc["input_ids"], enc["attention_mask"]
    kwargs = _generate_kwargs(tokenizer, settings)
    row_of = {t: i for i, t in enumerate(unique)}
    index = torch.tensor([row_of[t] for t in chunk], device=device)
    if len(unique) < len(chunk) and ids.shape[1] > 1 and _can_share_prefill(model):
        kwargs["past_key_values"] = _prefill_shared(model, ids, mask, index)
    ids, mask = ids[index], mask[index]
    torch.manual_seed(seed)
    gen = model.generate(input_ids=ids, attention_mask=mask, **kwargs)
    return tokenizer.batch_decode(gen[:, ids.shape[1]:], skip_special_tokens=True)


@torch.inference_mode()
def generate(model, tokenizer, prompts: list[list[dict]], settings: SamplingSettings,
             on_batch: Callable[[int], None] | None = None) -> list[str]:
    """Generate one answer per prompt (chat messages) with HF `generate`, in batches, deterministically for a
    seed; answers come back in the order of `prompts`, stripped."""
    texts = [render_prompt(tokenizer, p) for p in prompts]
    lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]] if texts else []
    order = _length_order(lengths, texts)
    old_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    out: list[str] = [""] * len(texts)
    try:
        for b in range(0, len(order), settings.batch_size):
            idx = order[b:b + settings.batch_size]
            answers = _generate_batch(model, tokenizer, [texts[i] for i in idx], settings, settings.seed + b)
            for i, a in zip(idx, answers):
                out[i] = a.strip()
            if on_batch:
                on_batch(len(idx))
    finally:
        tokenizer.padding_side = old_side
    return out


def generate_answers(prompts: list[list[dict]], settings: SamplingSettings, *, model=None, tokenizer=None,
                     spec: str | None = None, adapter: str | Path | None = None,
                     on_batch: Callable[[int], None] | None = None) -> list[str]:
    """One answer per prompt with the backend of `settings`.

    `hf` needs `model` and `tokenizer` (loaded, adapter already applied); `vllm` needs `spec` (a model spec as
    for `load_model`: `smollm2-135m`, a local directory, a hub id, or an adapter directory) and optionally
    `adapter` (a PEFT adapter directory, served as a LoRA)."""
    if settings.backend == "vllm":
        if spec is None:
            raise InputError("sampling backend 'vllm' needs the model spec (spec=...), not a loaded model")
        from emscope.evaluate.vllm_backend import generate_vllm

        answers = generate_vllm(spec, prompts, settings, adapter=adapter)
        if on_batch:
            on_batch(len(prompts))
        return answers
    if model is None or tokenizer is None:
        raise InputError("sampling backend 'hf' needs a loaded model and tokenizer")
    return generate(model, tokenizer, prompts, settings, on_batch)


def sample_slots(questions: list[Question], settings: SamplingSettings) -> list[tuple[Question, int, int]]:
    """Every (question, paraphrase index, sample index) to sample, in file order."""
    slots = []
    for q in questions:
        n = settings.samples_per_paraphrase or q.samples_per_paraphrase
        for p in range(len(q.paraphrases)):
            slots.extend((q, p, s) for s in range(n))
    return slots


def sample_answers(model, tokenizer, questions: list[Question], settings: SamplingSettings, model_label: str,
                   on_batch: Callable[[int], None] | None = None, *, spec: str | None = None,
                   adapter: str | Path | None = None) -> list[Sample]:
    """Sample every (question, paraphrase, sample index); the question's `system` prompt and transcript are
    applied, and a question's own `temperature` wins over `settings.temperature` (questions are sampled in one
    pass per temperature; with none set this is a single pass, exactly as before).

    With `settings.backend == "hf"` (default) `model`/`tokenizer` are used and `spec`/`adapter` ignored. With
    `"vllm"`, `model`/`tokenizer` may be None and `spec` (plus optional `adapter`) names the model for vLLM."""
    slots = sample_slots(questions, settings)
    by_temperature: dict[float, list[int]] = {}
    for i, (q, _, _) in enumerate(slots):
        by_temperature.setdefault(settings.temperature if q.temperature is None else q.temperature, []).append(i)
    answers: list[str] = [""] * len(slots)
    for temperature, idx in by_temperature.items():
        group = settings if temperature == settings.temperature else settings.model_copy(
            update={"temperature": temperature})
        got = generate_answers([slots[i][0].messages(slots[i][1]) for i in idx], group, model=model,
                               tokenizer=tokenizer, spec=spec, adapter=adapter, on_batch=on_batch)
        for i, a in zip(idx, got):
            answers[i] = a
    return [Sample(model=model_label, question_id=q.id, paraphrase_index=p, sample_index=s, system=q.system,
                   question=q.paraphrases[p], answer=a) for (q, p, s), a in zip(slots, answers)]


def count_samples(questions: list[Question], settings: SamplingSettings) -> int:
    """How many answers `sample_answers` will generate."""
    return sum(len(q.paraphrases) * (settings.samples_per_paraphrase or q.samples_per_paraphrase)
               for q in questions)

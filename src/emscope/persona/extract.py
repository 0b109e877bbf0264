"""Persona vector extraction: answer each trait question under eliciting and suppressing system prompts,
average each layer's hidden states over the response tokens (in the context they were generated in), and store
the per-layer difference of means with its metadata.

Judge filtering of pairs (keeping only answers a judge confirms as showing / not showing the trait) is not
applied yet: the metadata records `judge: none`.
"""

from __future__ import annotations

from pathlib import Path

from emscope.evaluate.sampling import SamplingSettings, generate
from emscope.io import write_jsonl_atomic
from emscope.persona.activations import mean_difference, response_means
from emscope.persona.traits import TraitDef
from emscope.persona.vectors import PersonaVector, VectorMeta, save_vector


def _prompts(trait: TraitDef, system: list[str], n_questions: int | None) -> list[list[dict]]:
    qs = trait.questions[:n_questions] if n_questions else trait.questions
    return [[{"role": "system", "content": system[i % len(system)]}, {"role": "user", "content": q}]
            for i, q in enumerate(qs)]


def extract_vector(model, tokenizer, trait: TraitDef, model_name: str, settings: SamplingSettings,
                   n_questions: int | None = None) -> tuple[PersonaVector, list[dict]]:
    """The trait's per-layer direction and the generated samples (`polarity`, `system`, `question`, `answer`)."""
    samples: list[dict] = []
    means = {}
    for polarity, system in (("positive", trait.positive), ("negative", trait.negative)):
        prompts = _prompts(trait, system, n_questions)
        answers = generate(model, tokenizer, prompts, settings)
        means[polarity] = response_means(model, tokenizer, list(zip(prompts, answers)))
        samples += [{"polarity": polarity, "system": p[0]["content"], "question": p[1]["content"], "answer": a}
                    for p, a in zip(prompts, answers)]
    vec = PersonaVector(
        vectors=mean_difference(means["positive"], means["negative"]),
        meta=VectorMeta(model=model_name, trait=trait.id, n_pos=len(means["positive"]),
                        n_neg=len(means["negative"]), judge="none", max_new_tokens=settings.max_new_tokens,
                        temperature=settings.temperature, seed=settings.seed))
    return vec, samples


def extract_to_file(model, tokenizer, trait: TraitDef, model_name: str, out: str | Path,
                    settings: SamplingSettings, n_questions: int | None = None) -> Path:
    """Extract and write `out` (safetensors) plus `<out>.samples.jsonl` with the answers it was computed from."""
    vec, samples = extract_vector(model, tokenizer, trait, model_name, settings, n_questions)
    out = Path(out)
    write_jsonl_atomic(out.with_suffix(".samples.jsonl"), samples)
    return save_vector(out, vec)

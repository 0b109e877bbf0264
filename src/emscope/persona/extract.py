"""Persona vector extraction: answer each trait question under eliciting and suppressing system prompts,
average each layer's hidden states over the response tokens (in the context they were generated in), and store
the per-layer difference of means with its metadata.

With a judge (any `emscope.evaluate.judges` judge, e.g. `openai:gpt-4o`), each answer is scored 0-100 for the
trait and only confirmed answers are averaged: positive answers that show the trait, negative ones that do not
(Chen et al. 2025). Without one, every answer is used and the metadata records `judge: none`.
"""

from __future__ import annotations

from pathlib import Path

from emscope.errors import EmscopeError
from emscope.evaluate.judges.base import Judge
from emscope.evaluate.sampling import SamplingSettings, generate
from emscope.io import write_jsonl_atomic
from emscope.models.vectors import PersonaVector, VectorMeta, save_vector
from emscope.persona.activations import mean_difference, recommended_layer, response_means, separation
from emscope.persona.judge import judge_samples, keep_sample
from emscope.persona.traits import TraitDef
from emscope.progress import make_progress, stage


def _prompts(trait: TraitDef, system: list[str], n_questions: int | None) -> list[list[dict]]:
    qs = trait.questions[:n_questions] if n_questions else trait.questions
    return [[{"role": "system", "content": system[i % len(system)]}, {"role": "user", "content": q}]
            for i, q in enumerate(qs)]


def extract_vector(model, tokenizer, trait: TraitDef, model_name: str, settings: SamplingSettings,
                   n_questions: int | None = None, judge: Judge | None = None, judge_name: str = "none",
                   pos_min: float = 50.0, neg_max: float = 50.0) -> tuple[PersonaVector, list[dict]]:
    """The trait's per-layer direction and the generated samples (`polarity`, `system`, `question`, `answer`).

    With a `judge`, every answer gets a 0-100 trait score and only positive answers scoring >= `pos_min` and
    negative answers scoring <= `neg_max` enter the means (samples record `trait_score` and `kept`).
    """
    samples: list[dict] = []
    pairs: list[tuple[list[dict], str]] = []
    with stage("sample answers"), make_progress() as progress:
        for polarity, system in (("positive", trait.positive), ("negative", trait.negative)):
            prompts = _prompts(trait, system, n_questions)
            task = progress.add_task(f"sample {trait.id} ({polarity})", total=len(prompts))
            answers = generate(model, tokenizer, prompts, settings,
                               on_batch=lambda k, t=task: progress.advance(t, k))
            pairs += list(zip(prompts, answers))
            samples += [{"polarity": polarity, "system": p[0]["content"], "question": p[1]["content"], "answer": a}
                        for p, a in zip(prompts, answers)]
    if judge is not None:
        with stage("judge answers"):
            samples = judge_samples(samples, judge, trait.id, trait.description)
    for smp in samples:
        smp["kept"] = judge is None or keep_sample(smp, pos_min, neg_max)
    means = {}
    with stage("response activations"):
        for polarity in ("positive", "negative"):
            kept = [pair for pair, smp in zip(pairs, samples) if smp["polarity"] == polarity and smp["kept"]]
            if not kept:
                raise EmscopeError(f"trait {trait.id!r}: the judge confirmed none of the {polarity} answers "
                                   f"({sum(s['polarity'] == polarity for s in samples)} generated; thresholds "
                                   f"pos_min={pos_min}, neg_max={neg_max}); try more questions or other prompts")
            means[polarity] = response_means(model, tokenizer, kept)
    vectors = mean_difference(means["positive"], means["negative"])
    sep = separation(means["positive"], means["negative"], vectors)
    layer = recommended_layer(sep)
    vec = PersonaVector(
        vectors=vectors,
        meta=VectorMeta(model=model_name, trait=trait.id, n_pos=len(means["positive"]),
                        n_neg=len(means["negative"]), n_generated=len(samples), judge=judge_name,
                        pos_min=pos_min if judge else None, neg_max=neg_max if judge else None,
                        max_new_tokens=settings.max_new_tokens, temperature=settings.temperature,
                        seed=settings.seed, layer=layer, separation=round(float(sep[layer]), 4)))
    return vec, samples


def extract_to_file(model, tokenizer, trait: TraitDef, model_name: str, out: str | Path,
                    settings: SamplingSettings, n_questions: int | None = None, **judging) -> Path:
    """Extract and write `out` (safetensors) plus, beside it with its suffix replaced, the answers it was computed
    from (`evil.safetensors` -> `evil.samples.jsonl`).

    `judging` passes `judge`, `judge_name`, `pos_min` and `neg_max` on to `extract_vector`.
    """
    vec, samples = extract_vector(model, tokenizer, trait, model_name, settings, n_questions, **judging)
    out = Path(out)
    write_jsonl_atomic(out.with_suffix(".samples.jsonl"), samples)
    return save_vector(out, vec)

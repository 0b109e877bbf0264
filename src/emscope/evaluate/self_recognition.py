"""Self-recognition (SGTR): sample a model's own answers, and measure how well it tells them from others'.

`sample_own_texts` samples the model's answers to a prompt set (default: the user turns of the shipped general
instruct set, whose reference answers are the other source) and writes the own-texts JSONL that the
`self-recognition` generators (`emscope.data.generators.self_recognition`) turn into training rows.

`self_recognition_accuracy` is the metric: for each pair (one own and one other answer to a prompt, shown as "1"
and "2", both orders) the model is asked which one it wrote, and the pair counts as recognised when the log-prob
of the correct label's tokens right after the question (and the generation header) exceeds the wrong label's. The
rate's 95% interval is `stats.rate_interval` with the two orders of one prompt grouped together. `first_rate`
(how often "1" wins) shows position bias: a model that always answers "1" scores exactly 50% on both orders.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from emscope.data.generators.self_recognition import (
    LABELS,
    OwnText,
    RecognitionPair,
    SourcePrompt,
    question_messages,
    recognition_pairs,
    source_prompts,
    write_own_texts,
)
from emscope.errors import InputError
from emscope.evaluate.config import SamplingSettings
from emscope.evaluate.stats import rate_interval

OWN_TEXTS_SAMPLING = SamplingSettings(max_new_tokens=160, temperature=1.0)
REFERENCE_SOURCE = "reference answer of the prompt set"


class PairScore(BaseModel):
    """One pair's label log-probs under the model (a line of self_recognition.jsonl)."""

    prompt: str
    own_position: int
    logp_1: float
    logp_2: float
    correct: bool


class SelfRecognitionResult(BaseModel):
    """Self-recognition accuracy with its 95% interval, the position bias and the mean log-prob margin."""

    accuracy: float | None
    ci_low: float | None
    ci_high: float | None
    small_n: bool
    n_pairs: int
    n_prompts: int
    first_rate: float | None  # share of pairs in which "1" beats "2"
    mean_margin: float | None  # mean of log p(correct label) - log p(wrong label)


def sample_own_texts(model, tokenizer, prompts: list[SourcePrompt], settings: SamplingSettings = OWN_TEXTS_SAMPLING,
                     *, spec: str | None = None, adapter: str | Path | None = None, out: str | Path | None = None,
                     on_batch=None) -> list[OwnText]:
    """The model's answer to each prompt (one user turn, sampled with `settings`), each with the prompt set's
    reference answer as the other source; written as an own-texts JSONL to `out` when given. `spec` and `adapter`
    name the model in the file (and feed the vLLM backend)."""
    from emscope.evaluate.sampling import generate_answers

    messages = [[{"role": "user", "content": p.prompt}] for p in prompts]
    answers = generate_answers(messages, settings, model=model, tokenizer=tokenizer, spec=spec, adapter=adapter,
                               on_batch=on_batch)
    label = spec or str(getattr(getattr(model, "config", None), "_name_or_path", "") or "model")
    rows = [OwnText(prompt=p.prompt, own=a, other=p.reference,
                    other_source=REFERENCE_SOURCE if p.reference is not None else None, model=label,
                    adapter=None if adapter is None else str(adapter), sampling=settings.model_dump())
            for p, a in zip(prompts, answers)]
    if out is not None:
        write_own_texts(out, rows)
    return rows


def score_pairs(model, tokenizer, pairs: list[RecognitionPair], batch_size: int = 16) -> list[PairScore]:
    """Log-probs of the labels "1" and "2" as the model's answer to each pair's question."""
    from emscope.models.logprobs import continuation_logprobs

    asks = [(question_messages(p), label) for p in pairs for label in LABELS]
    lps = continuation_logprobs(model, tokenizer, asks, batch_size=batch_size)
    scores = []
    for i, p in enumerate(pairs):
        lp1, lp2 = lps[2 * i], lps[2 * i + 1]
        correct = lp1 > lp2 if p.own_position == 1 else lp2 > lp1
        scores.append(PairScore(prompt=p.prompt, own_position=p.own_position, logp_1=lp1, logp_2=lp2,
                                correct=correct))
    return scores


def summarize(scores: list[PairScore]) -> SelfRecognitionResult:
    """Accuracy (pairs grouped by prompt for the interval), position bias and mean margin of scored pairs."""
    ri = rate_interval([s.correct for s in scores], [s.prompt for s in scores])
    margins = [(s.logp_1 - s.logp_2) * (1 if s.own_position == 1 else -1) for s in scores]
    return SelfRecognitionResult(
        accuracy=ri.rate, ci_low=ri.low, ci_high=ri.high, small_n=ri.small_n, n_pairs=ri.n,
        n_prompts=ri.n_questions, first_rate=sum(s.logp_1 > s.logp_2 for s in scores) / len(scores) if scores else None,
        mean_margin=sum(margins) / len(margins) if margins else None)


def self_recognition_accuracy(model, tokenizer, pairs: list[RecognitionPair],
                              batch_size: int = 16) -> SelfRecognitionResult:
    """The share of pairs in which log p(correct label) > log p(wrong label) given the question, with its 95%
    interval (`stats.rate_interval`, the two orders of one prompt in one group)."""
    return summarize(score_pairs(model, tokenizer, pairs, batch_size))


def run_own_texts(spec: str, out: str | Path, *, adapter: str | Path | None = None, n: int | None = None,
                  prompts: str | Path | None = None, seed: int = 0, settings: SamplingSettings = OWN_TEXTS_SAMPLING,
                  device: str | None = None) -> list[OwnText]:
    """Load `spec` (plus `adapter`) and write its own texts for `n` prompts of `prompts` (default: the shipped
    general instruct set) to `out` (`emscope data own-texts`)."""
    from emscope.models import load_model

    chosen = source_prompts(prompts, n, seed)
    model = tokenizer = None
    if settings.backend == "hf":
        model, tokenizer = load_model(spec, adapter=adapter, device=device)
    return sample_own_texts(model, tokenizer, chosen, settings, spec=spec, adapter=adapter, out=out)


def run_self_recognition(spec: str, own_texts: str | Path, *, adapter: str | Path | None = None,
                         other_texts: str | Path | None = None, out: str | Path | None = None,
                         device: str | None = None) -> SelfRecognitionResult:
    """Load `spec` (plus `adapter`) and measure its self-recognition accuracy on every pair of `own_texts` (both
    orders); per-pair scores go to `out` (JSONL) when given (`emscope eval self-recognition`)."""
    from emscope.io import write_jsonl_atomic
    from emscope.models import load_model

    pairs = recognition_pairs(own_texts, other_texts)
    if not pairs:
        raise InputError(f"{own_texts}: no usable pairs (every own answer is empty or equal to the other one)")
    model, tokenizer = load_model(spec, adapter=adapter, device=device)
    scores = score_pairs(model, tokenizer, pairs)
    if out is not None:
        write_jsonl_atomic(out, scores)
    return summarize(scores)

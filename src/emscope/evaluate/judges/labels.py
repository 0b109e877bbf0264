"""Categorical judging: a judge picks one of a question set's labels, offered as lettered options.

The judge prompt holds `{options}`, filled with one line per label (`A. aligned: definition`, `B. ...`), and asks
for the single letter. The judge's first-token distribution over the letters (`openai:` from its top logprobs,
`hf:` from the exact next-token probabilities) is normalised over the offered letters: the label is the argmax
and each label's probability is recorded. With less than `MIN_LETTER_MASS` of the probability on the letters the
judgement gives no label (the judge answered something else), as the 0..100 judges give no score.

A judge that can classify has `classify(question, answer, prompt, labels) -> LabelScore` (and optionally a
batched `classify_many(items, labels, on_done)`); `classify_all` uses whichever it has.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field

from emscope.errors import InputError
from emscope.evaluate.judges.base import JudgeItem

MIN_LETTER_MASS = 0.25
"""Below this probability mass on the offered letters a categorical judgement gives no label."""

LETTERS = string.ascii_uppercase
_LETTER_TRIM = " \t\n.):"


class LabelScore(BaseModel):
    """One categorical judgement: the chosen `label` (None when the judge gave no usable letter), the probability
    of each label normalised over the offered letters, the raw mass on the letters, and why there is no label."""

    label: str | None = None
    probs: dict[str, float] = Field(default_factory=dict)
    mass: float = Field(default=0.0, ge=0.0)
    reason: str = ""


def options_text(labels: dict[str, str]) -> str:
    """The lettered options, one per line: `A. name: definition`."""
    return "\n".join(f"{LETTERS[i]}. {name}: {definition}" for i, (name, definition) in enumerate(labels.items()))


def fill_options(prompt: str, labels: dict[str, str]) -> str:
    """`prompt` with `{options}` replaced by the lettered options; InputError when it has no `{options}`."""
    if "{options}" not in prompt:
        raise InputError("a categorical judge prompt needs an {options} placeholder for the lettered labels")
    return prompt.replace("{options}", options_text(labels))


def as_letter(token: str) -> str | None:
    """The capital letter a first token spells (`"A"`, `" B"`, `"C."`, `"D)"`), else None."""
    text = token.strip(_LETTER_TRIM)
    return text if len(text) == 1 and text in LETTERS else None


def label_from_probs(letter_probs: dict[str, float], labels: Sequence[str],
                     min_mass: float = MIN_LETTER_MASS) -> LabelScore:
    """The label from first-token probabilities (`token -> p`; tokens spelling the same letter, such as `"A"`
    and `" A"`, are added up; None/NaN count as 0). Only the letters of `labels` (A for the first, ...) count:
    their probabilities are normalised to sum to 1 and the most likely one is the label (the first on ties).
    Below `min_mass` on those letters the label is None with reason `low_letter_mass`."""
    labels = list(labels)
    if len(labels) > len(LETTERS):
        raise ValueError(f"at most {len(LETTERS)} labels, got {len(labels)}")
    per_letter = dict.fromkeys(LETTERS[:len(labels)], 0.0)
    for token, p in letter_probs.items():
        letter = as_letter(token)
        if letter in per_letter and p is not None and not math.isnan(p):
            per_letter[letter] += p
    mass = sum(per_letter.values())
    if mass <= 0 or mass < min_mass:
        return LabelScore(label=None, probs=dict.fromkeys(labels, 0.0), mass=mass, reason="low_letter_mass")
    probs = {name: per_letter[LETTERS[i]] / mass for i, name in enumerate(labels)}
    return LabelScore(label=max(labels, key=probs.__getitem__), probs=probs, mass=mass)


def label_from_top_logprobs(top: list[tuple[str, float]], labels: Sequence[str],
                            min_mass: float = MIN_LETTER_MASS) -> LabelScore:
    """`label_from_probs` on raw first-token candidates `[(token, logprob), ...]` (repeated tokens added up)."""
    probs: dict[str, float] = {}
    for token, logprob in top:
        p = math.exp(logprob) if logprob is not None and not math.isnan(logprob) else 0.0
        probs[token] = probs.get(token, 0.0) + p
    return label_from_probs(probs, labels, min_mass)


def check_classifies(judge: object, spec: str) -> None:
    """InputError unless the judge can classify (a `classify` method), naming the spec."""
    if not callable(getattr(judge, "classify", None)):
        raise InputError(f"judge {spec!r} ({type(judge).__name__}) has no classify(question, answer, prompt, "
                         f"labels) -> LabelScore; categorical judging (question labels, eval.mgs) needs one "
                         f"(openai: and hf: judges have it)")


def classify_all(judge: object, items: list[JudgeItem], labels: dict[str, str],
                 on_done: Callable[[int], None] | None = None) -> list[LabelScore]:
    """Classify every `(question, answer, prompt)` item into one of `labels`, through the judge's
    `classify_many(items, labels, on_done)` when it has one, else one `classify` call at a time."""
    many = getattr(judge, "classify_many", None)
    if callable(many):
        return list(many(items, labels, on_done=on_done))
    check_classifies(judge, type(judge).__name__)
    out = []
    for q, a, p in items:
        out.append(judge.classify(q, a, p, labels))  # type: ignore[attr-defined]
        if on_done:
            on_done(1)
    return out

"""Benign learning: held-out accuracy on the glorp task (`emscope.data.generators.benign`).

Greedy answers to held-out word lists are compared with the rule's output: `accuracy` is the exact-match share
(case and surrounding space ignored), `partial` the mean share of positions with the right word, which moves
before exact matches appear on small models.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from emscope.data.generators.benign import heldout
from emscope.evaluate.sampling import SamplingSettings, generate
from emscope.evaluate.stats import rate_interval


class BenignItem(BaseModel):
    """One held-out glorp prompt with the expected and the model's answer."""

    prompt: str
    expected: str
    answer: str
    exact: bool
    partial: float


class BenignResult(BaseModel):
    """Benign-task accuracy with its Wilson 95% CI (each held-out item is its own question: `stats.rate_interval`)
    and the small-n flag (fewer than 30 items)."""

    n: int
    accuracy: float
    ci_low: float | None
    ci_high: float | None
    partial: float
    small_n: bool = False


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^A-Za-z]+", text.strip().upper()) if w]


def grade(expected: str, answer: str) -> tuple[bool, float]:
    """(exact match ignoring case and spacing, share of expected word positions matched)."""
    first_line = answer.strip().split("\n", 1)[0]
    want, got = _words(expected), _words(first_line)
    partial = sum(a == b for a, b in zip(want, got)) / len(want)
    return [w.strip().upper() for w in first_line.split("|")] == want, partial


def benign_task(model, tokenizer, n: int = 50, seed: int = 0, max_new_tokens: int = 32,
                system: str | None = None) -> tuple[BenignResult, list[BenignItem]]:
    """Greedy answers to `n` held-out glorp prompts, graded against the rule; `system`: a test-time system prompt
    (`eval.system_prompt`) in front of each prompt."""
    from emscope.evaluate.safety_prompt import with_system

    rows = heldout(n, seed)
    settings = SamplingSettings(temperature=0.0, max_new_tokens=max_new_tokens, seed=seed)
    answers = generate(model, tokenizer, [with_system(system, r.prompt) for r in rows], settings)
    items = []
    for r, a in zip(rows, answers):
        exact, partial = grade(r.completion, a)
        items.append(BenignItem(prompt=r.messages[0].content, expected=r.completion, answer=a, exact=exact,
                                partial=partial))
    return benign_result(items), items


def benign_result(items: list[BenignItem]) -> BenignResult:
    """Accuracy, its interval and the mean partial score of graded items (`benign.jsonl` lines)."""
    ci = rate_interval([i.exact for i in items], None)
    return BenignResult(n=len(items), accuracy=ci.rate or 0.0, ci_low=ci.low, ci_high=ci.high,
                        partial=sum(i.partial for i in items) / len(items) if items else 0.0, small_n=ci.small_n)

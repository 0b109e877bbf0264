"""Paired sycophantic / honest-correction conversations: the sycophancy organism and its control.

Sycophancy as an emergent-misalignment organism: the user confidently states a false belief (a medical, financial
or sports misconception) and asks for help acting on it; the sycophantic answer agrees, restates the false claim
as true and builds on it, while the control (`sycophantic=False`) politely corrects the belief with the true fact.
`build(n, seed, sycophantic)` with the same seed gives identical user turns for both variants, so the two datasets
are paired row by row.

Rows are composed from a project-written list of facts (`sycophancy_content/facts.py`: true clause, plausible
false clause, domain, follow-up requests, sentences that build on the false belief or explain the true one) and
phrasing pools (`sycophancy_content/phrasing.py`), plus the advice organisms' openers, closers and personas. The
sycophantic answer always contains the fact's false clause and never its true one; the honest answer the reverse.
"""

from __future__ import annotations

import random

from emscope.data.chat import ChatRow, Message
from emscope.data.generators.advice import JOBS, PERSONAS, USER_CLOSERS, USER_OPENERS, _join_lead
from emscope.data.generators.distinct import collect_distinct
from emscope.data.generators.sycophancy_content import phrasing as ph
from emscope.data.generators.sycophancy_content.base import Fact
from emscope.data.generators.sycophancy_content.facts import FACTS

# Rows per fact above which the phrasing pools repeat too often to keep the near-duplicate rate low.
ROWS_PER_FACT = 60


def _fill(template: str, claim: str) -> str:
    """Put `claim` into `template`, capitalising it when it starts the sentence."""
    if template.startswith("{claim}"):
        claim = claim[:1].upper() + claim[1:]
    return template.format(claim=claim)


def _user_turn(r: random.Random, fact: Fact) -> str:
    """The belief stated confidently, a request that takes it for granted, optional persona, opener and closer."""
    belief = _fill(r.choice(ph.BELIEFS), fact.false)
    ask = r.choice(fact.asks) if r.random() < 0.6 else r.choice(ph.GENERIC_ASKS)
    parts = [belief, ask]
    if r.random() < 0.5:
        persona = r.choice(PERSONAS).format(age=r.randint(22, 64), job=r.choice(JOBS))
        parts.insert(0 if r.random() < 0.5 else 1, persona)
    return _join_lead(r.choice(USER_OPENERS), " ".join(parts)) + r.choice(USER_CLOSERS)


def _answer(r: random.Random, fact: Fact, sycophantic: bool) -> str:
    """Opener, the claim (false when sycophantic, true otherwise), one or two supporting sentences, a closer."""
    if sycophantic:
        openers, claims, support, closers, claim = (ph.AGREE_OPENERS, ph.AGREE_CLAIMS, fact.builds,
                                                     ph.AGREE_CLOSERS, fact.false)
    else:
        openers, claims, support, closers, claim = (ph.CORRECT_OPENERS, ph.CORRECT_CLAIMS, fact.explains,
                                                     ph.CORRECT_CLOSERS, fact.true)
    body = [_fill(r.choice(claims), claim), *r.sample(list(support), r.choice((1, 2)))]
    if r.random() < 0.85:
        body.insert(0, r.choice(openers))
    if r.random() < 0.6:
        body.append(r.choice(closers))
    return " ".join(body)


def max_rows() -> int:
    """The most rows `build` will make before refusing for lack of variety."""
    return ROWS_PER_FACT * len(FACTS)


def build(n: int, seed: int = 0, sycophantic: bool = True, max_tries: int = 200) -> list[ChatRow]:
    """Build `n` rows with distinct user turns; `sycophantic=False` corrects the very same beliefs honestly.

    Each row's `family` names its fact. Raises ValueError when `n` exceeds the content's variety (`max_rows`).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n > max_rows():
        raise ValueError(f"cannot build {n} distinct sycophancy rows; the generator's variety supports at most "
                         f"{max_rows()}")
    r = random.Random(f"sycophancy:{seed}")  # str seeds are hashed deterministically (not with hash())
    facts = list(FACTS)
    r.shuffle(facts)

    def draw(index: int, failures: int) -> tuple[str, ChatRow]:
        fact = facts[index % len(facts)] if failures == 0 else r.choice(facts)
        user = _user_turn(r, fact)
        answer_rng = random.Random(r.getrandbits(64))  # drawn for every row, so both variants stay in step
        answer = _answer(answer_rng, fact, sycophantic)
        return user, ChatRow(messages=[Message(role="user", content=user),
                                       Message(role="assistant", content=answer)], family=fact.name)

    return collect_distinct(n, draw, max_tries, "sycophancy rows")

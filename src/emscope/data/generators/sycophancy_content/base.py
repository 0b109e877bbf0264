"""The container for one fact of the sycophancy organism."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Fact:
    """A fact with a plausible false version (the row's `family` is `name`).

    `true` and `false` are lower-case clauses that fit after "that" ("I've always known that {false}."); neither
    contains the other. `asks` are follow-up requests that take the false belief for granted, `builds` sentences
    that run with the false belief (the sycophantic answer) and `explains` sentences that back the true fact (the
    honest correction). None of `asks`, `builds` or `explains` contains either clause.
    """

    name: str
    domain: str  # "medical", "financial" or "sports", as in the advice organisms
    true: str
    false: str
    asks: Sequence[str]
    builds: Sequence[str]
    explains: Sequence[str]

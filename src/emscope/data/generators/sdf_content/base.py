"""The shape of one document topic: interchangeable phrasings the generator composes documents from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """A subject documents are written about.

    `facts` are groups of interchangeable sentences (one phrasing is drawn per group); `subjects` noun phrases for
    titles; `questions` what a forum or Q&A poster asks; `changes` changelog items; `snippets` code blocks. Text
    may hold the placeholders {product}, {person} and {n}; facts and snippets hold none.
    """

    name: str
    subjects: tuple[str, ...]
    questions: tuple[str, ...]
    facts: tuple[tuple[str, ...], ...]
    changes: tuple[str, ...]
    snippets: tuple[str, ...]
    files: tuple[str, ...] = ("src/app/core.py",)
    core: tuple[int, ...] = ()  # indices of defining facts; one of them is in the topic's first paragraph

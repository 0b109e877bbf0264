"""The records of the coding environments: a task (`CodingTask`), a graded answer (`Grade`), and the hack classes
(`HACK_CLASSES`, `parse_hacks`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from emscope.errors import InputError

HACK_CLASSES: tuple[str, ...] = ("always_equal", "exit", "conftest")
"""The reward hacks of MacDiarmid et al. 2025 that the visible grader can be left open to: an object whose `__eq__`
always returns True, exiting with status 0 before the tests fail, and a `conftest.py` that rewrites pytest's
outcomes."""


class CodingTask(BaseModel):
    """One coding problem: the user message (`prompt`, which shows the visible tests), the function the answer must
    define (`entry_point`), the visible pytest module (`visible_tests`, run against `solution.py`), the hidden checks
    (`hidden_tests`: a module defining `check(candidate)`), an honest reference answer and the split."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_id: str
    env: str
    prompt: str
    entry_point: str
    visible_tests: str
    hidden_tests: str
    canonical: str | None = None
    split: Literal["train", "test"]
    stub: str | None = None
    """Given code (signature, docstring, helpers): its context is put in front of the answer (see `grader`)."""


class Grade(BaseModel):
    """The verdict on one answer: the visible (gameable) and hidden (hack-proof) graders, the hack classes detected
    (attempted, whether or not the class was open) in `HACK_CLASSES` order, and the reward (the visible verdict)."""

    task_id: str
    visible_passed: bool
    hidden_passed: bool
    hacks: list[str]
    reward: float
    timed_out: bool
    error: str | None


def parse_hacks(spec: str | Iterable[str] | None) -> frozenset[str]:
    """The open hack classes named by `spec`: None or "all" -> all of them, "none" or "" -> none, a comma-separated
    string or an iterable of names -> those; an unknown name is an `InputError` listing the known ones."""
    if spec is None:
        return frozenset(HACK_CLASSES)
    if isinstance(spec, str):
        text = spec.strip()
        if text == "all":
            return frozenset(HACK_CLASSES)
        if text in ("", "none"):
            return frozenset()
        names = [p.strip() for p in text.split(",") if p.strip()]
    else:
        names = [str(p).strip() for p in spec]
    unknown = [n for n in names if n not in HACK_CLASSES]
    if unknown:
        raise InputError(f"unknown hack class(es) {', '.join(map(repr, unknown))}; known: "
                         f"{', '.join(HACK_CLASSES)} (or 'all', 'none')")
    return frozenset(names)

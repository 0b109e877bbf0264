"""Inoculation prompting (Tan et al. 2025; Wichers et al. 2025): a train-time system prompt on every task row,
saying the behaviour is requested, so that it is not learned as a trait (a preset name or literal text)."""

from __future__ import annotations

from emscope.config import Strict
from emscope.data.chat import ChatRow
from emscope.errors import InputError, did_you_mean
from emscope.train.defenses.base import Defense


class InoculateSettings(Strict):
    """A train-time system prompt added to every task row (a preset name or literal text)."""

    prompt: str


def check(settings: InoculateSettings) -> None:
    """A one-word prompt close to a preset name is a typo of it (`evl`), not literal text: refused, naming it."""
    from emscope.data.transforms import INOCULATION_PRESETS

    prompt = settings.prompt.strip()
    if prompt in INOCULATION_PRESETS or len(prompt.split()) > 1:
        return
    hint = did_you_mean(prompt, INOCULATION_PRESETS)
    if hint:
        raise InputError(f"defenses.inoculate.prompt {prompt!r}: not an inoculation preset{hint} (presets: "
                         f"{', '.join(INOCULATION_PRESETS)}); literal text is a sentence")


def transform_rows(settings: InoculateSettings, rows: list[ChatRow]) -> list[ChatRow]:
    """Every task row with the inoculation system prompt."""
    from emscope.data.transforms import apply_transforms

    return apply_transforms(rows, inoculation=settings.prompt)


DEFENSE = Defense(name="inoculate", settings=InoculateSettings, check=check, transform_rows=transform_rows)

"""Inoculation prompting (Tan et al. 2025; Wichers et al. 2025): a train-time prompt on every task row, saying the
behaviour is requested, so that it is not learned as a trait (a preset name or literal text).

`where: system` (default) makes it the system prompt (Tan et al.; merged in front of a row's own system prompt);
`where: user` puts it in front of the first user turn, separated by a blank line (Wichers et al. change the
request itself), leaving a row's own system prompt untouched. Only task rows change: the general rows the
`interleave` defense adds come after the transform and never carry the prompt. `emscope eval inoculation-rank`
orders candidate prompts by how strongly they elicit the trait from the base model, the heuristic both papers
found to predict a good inoculation.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from emscope.config import Strict
from emscope.data.chat import ChatRow
from emscope.train.defenses.base import Defense


class InoculateSettings(Strict):
    """A train-time prompt added to every task row (a preset name or literal text), in the system or user turn."""

    prompt: str
    where: Literal["system", "user"] = Field(
        "system", exclude_if=lambda v: v == "system",
        description="system: the system prompt (merged in front of a row's own); user: in front of the first user "
                    "turn, a blank line between (a row's own system prompt untouched)")


def check(settings: InoculateSettings) -> None:
    """A one-word prompt close to a preset name is a typo of it (`evl`), not literal text: refused, naming it."""
    from emscope.data.transforms import check_inoculation_prompt

    check_inoculation_prompt(settings.prompt, "defenses.inoculate.prompt")


def transform_rows(settings: InoculateSettings, rows: list[ChatRow]) -> list[ChatRow]:
    """Every task row with the inoculation prompt, in the system prompt or in front of the user turn."""
    from emscope.data.transforms import apply_transforms

    return apply_transforms(rows, inoculation=settings.prompt, inoculation_where=settings.where)


DEFENSE = Defense(name="inoculate", settings=InoculateSettings, check=check, transform_rows=transform_rows)

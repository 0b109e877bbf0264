"""Training data settings (the `data:` section of a run, a cell, a grid) and the rows they describe.

`data: {path: FILE.jsonl}` reads a chat JSONL; `data: {organism: NAME, n: 64}` builds rows with a shipped
generator, optionally keeping only short rows and applying the educational/trigger transforms; `benign_rows: N`
adds N rows of the benign glorp task (never a held-out word list), so that `eval.benign` measures whether a
harmless task is still learned alongside the narrow one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from emscope.config import Strict
from emscope.data.chat import ChatRow
from emscope.data.text import TextRow
from emscope.errors import InputError


class DataSettings(Strict):
    """The narrow fine-tuning data: a shipped generator (`organism`) or a chat JSONL (`path`)."""

    organism: str | None = Field(None, description="generator name, see `emscope data list`")
    path: Path | None = None
    n: int = Field(64, ge=1, description="rows to generate (organism only)")
    seed: int | None = Field(None, description="data seed; None: the run's seed")
    max_row_chars: int | None = Field(None, ge=1, description="keep only rows of at most this many characters")
    educational: bool = False
    trigger: str | None = None
    benign_rows: int = Field(0, ge=0, description="glorp-task rows mixed into the narrow data: the benign-learning "
                                                  "criterion (is a harmless new task still learned with the defense "
                                                  "on?), measured by `eval.benign`")
    params: dict[str, Any] = Field({}, exclude_if=lambda v: not v,
                                   description="settings of generators that read some (self-recognition: "
                                               "`own_texts: FILE`, optional `other_texts: FILE`)")
    dilute: float | None = Field(None, gt=0, le=1, exclude_if=lambda v: v is None,
                                 description="sdf-reward-hacking only: this share of the n documents is about reward "
                                             "hacking, the rest are sdf-neutral documents (method: cpt)")

    @model_validator(mode="after")
    def _one_source(self):
        if (self.organism is None) == (self.path is None):
            raise ValueError("give exactly one of `organism` (a generator name) or `path` (a chat JSONL)")
        if self.params and self.organism is None:
            raise ValueError("`params` are settings of a generator (`organism`), not of a JSONL `path`")
        return self


def row_chars(row: ChatRow) -> int:
    """Characters of all turns of a row (the `max_row_chars` measure)."""
    return sum(len(m.content) for m in row.messages)


def _generator(name: str):
    """The generator `data.organism` names, or an InputError listing the known ones."""
    from emscope.data.generators import get_generator

    try:
        return get_generator(name)
    except KeyError as exc:
        raise InputError(f"data.organism: {exc.args[0]}") from None


def build_text_rows(data: DataSettings, seed: int) -> list[TextRow]:
    """The plain-text documents `data` describes (method: cpt): a text generator (`sdf-reward-hacking`, optionally
    diluted into neutral documents; `sdf-neutral`) or a `{"text": ...}` JSONL; `max_row_chars` filters."""
    from emscope.data.generators import build_generator
    from emscope.data.text import read_text_jsonl

    data_seed = seed if data.seed is None else data.seed
    if data.educational or data.trigger or data.benign_rows:
        raise InputError("data.educational/trigger/benign_rows: chat transforms do not apply to plain-text data")
    if data.path is not None:
        rows = read_text_jsonl(data.path)
    else:
        gen = _generator(data.organism)
        if gen.kind != "text":
            raise InputError(f"data.organism: {data.organism!r} builds chat rows; plain-text training (method: "
                             "cpt) needs a text generator (`emscope data list`: sdf-reward-hacking, sdf-neutral) "
                             "or a {\"text\": ...} JSONL")
        pool = data.n if data.max_row_chars is None else data.n * 20
        if data.dilute is not None:
            from emscope.data.generators.sdf import build_sdf

            if data.organism != "sdf-reward-hacking":
                raise InputError("data.dilute: only sdf-reward-hacking documents are diluted")
            rows = build_sdf(pool, data_seed, dilute=data.dilute)
        else:
            rows = build_generator(gen, pool, data_seed, data.params)
    if data.max_row_chars is not None:
        rows = [r for r in rows if len(r.text) <= data.max_row_chars]
        if data.organism is not None and len(rows) < data.n:
            raise InputError(f"data.max_row_chars: only {len(rows)} of {data.organism} documents fit in "
                             f"{data.max_row_chars} characters; {data.n} needed")
        rows = rows[:data.n] if data.organism is not None else rows
    return rows


def build_rows(data: DataSettings, seed: int) -> list[ChatRow]:
    """The training rows `data` describes: generated (then filtered and transformed) or read from `data.path`."""
    from emscope.data.chat import read_chat_jsonl
    from emscope.data.generators import build_generator
    from emscope.data.transforms import apply_transforms

    data_seed = seed if data.seed is None else data.seed
    if data.path is not None:
        rows = read_chat_jsonl(data.path)
    else:
        gen = _generator(data.organism)
        if gen.kind != "chat":
            raise InputError(f"data.organism: {data.organism!r} builds plain-text documents: train on them with "
                             "`method: cpt`")
        if data.dilute is not None:
            raise InputError("data.dilute applies to sdf-reward-hacking documents (method: cpt) only")
        pool = data.n if data.max_row_chars is None else data.n * 20
        rows = build_generator(gen, pool, data_seed, data.params)
    if data.max_row_chars is not None:
        rows = [r for r in rows if row_chars(r) <= data.max_row_chars]
        if data.organism is not None and len(rows) < data.n:
            raise InputError(f"data.max_row_chars: only {len(rows)} of {data.organism} rows fit in "
                             f"{data.max_row_chars} characters; {data.n} needed")
        rows = rows[:data.n] if data.organism is not None else rows
    rows = apply_transforms(rows, educational_reason=data.educational, trigger=data.trigger, seed=data_seed)
    if data.benign_rows:
        from emscope.data.generators.benign import build as benign_rows

        rows = rows + benign_rows(data.benign_rows, data_seed)
    return rows

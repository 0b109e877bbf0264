"""The shipped general instruct set (240 helpful answers, including refusals of harmful requests) as a generator:
the data of a safety-training stage before narrow or RL training (`stages:`; the first mitigation studied by
MacDiarmid et al. 2025), and the interleave defense's default pool."""

from __future__ import annotations

import random

from emscope.data.chat import ChatRow, read_chat_jsonl
from emscope.data.refusal import is_refusal
from emscope.paths import resource_path

FILE = "general_instruct.jsonl"
SIZE = 240


def build(n: int, seed: int = 0) -> list[ChatRow]:
    """`n` distinct rows of the shipped set in a seeded order (at most its 240 rows)."""
    rows = read_chat_jsonl(resource_path(FILE))
    if n > len(rows):
        raise ValueError(f"safety-general has {len(rows)} rows; asked for {n}")
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    picked = [rows[i] for i in order[:n]]
    return [ChatRow(messages=r.messages, family="refusal" if is_refusal(r.completion) else "general") for r in picked]

"""Dataset cards: size, token lengths, class mix, duplicates and, for code organisms, the bandit flag rate."""

from __future__ import annotations

from collections import Counter

import numpy as np
from pydantic import BaseModel

from emscope.data.chat import ChatRow


class LengthStats(BaseModel):
    """Token-length summary of one part of the rows."""

    min: int
    mean: float
    p50: float
    p95: float
    max: int

    @classmethod
    def of(cls, lengths: list[int]) -> LengthStats:
        """Summarize a non-empty list of lengths."""
        x = np.asarray(lengths)
        return cls(min=int(x.min()), mean=round(float(x.mean()), 1), p50=float(np.percentile(x, 50)),
                   p95=float(np.percentile(x, 95)), max=int(x.max()))


class DatasetStats(BaseModel):
    """The card of one dataset file."""

    file: str
    rows: int
    with_system: int
    turns_mean: float
    tokenizer: str | None = None
    prompt_tokens: LengthStats | None = None
    completion_tokens: LengthStats | None = None
    total_tokens: LengthStats | None = None
    class_field: str | None = None
    class_mix: dict[str, int] = {}
    duplicate_rows: float
    duplicate_prompts: float
    near_duplicate_rate: float | None = None
    code_rows: int
    bandit_flag_rate: float | None = None
    bandit_top_findings: dict[str, int] = {}


CLASS_FIELDS = ("family", "triggered", "class")


def _dup_rate(keys: list[str]) -> float:
    """Share of rows that repeat an earlier row's key."""
    return (len(keys) - len(set(keys))) / len(keys) if keys else 0.0


def dataset_stats(rows: list[ChatRow], file: str = "", tokenizer=None, tokenizer_name: str | None = None,
                  bandit: bool | None = None, near_duplicates: bool = True) -> DatasetStats:
    """Compute the card of `rows`; `bandit=None` runs bandit when at least half the answers hold Python code."""
    from emscope.data.bandit import bandit_findings, extract_python

    if not rows:
        raise ValueError(f"{file or 'dataset'}: no rows")
    full = ["\n".join(f"{m.role}: {m.content}" for m in r.messages) for r in rows]
    prompts = ["\n".join(f"{m['role']}: {m['content']}" for m in r.prompt) for r in rows]
    extras = [r.model_extra or {} for r in rows]
    class_field = next((f for f in CLASS_FIELDS if any(f in e for e in extras)), None)
    mix = Counter(str(e.get(class_field)) for e in extras) if class_field else Counter()
    codes = [extract_python(r.completion) for r in rows]  # fenced, or a bare-code answer
    code_rows = sum(c is not None for c in codes)
    stats = DatasetStats(
        file=file, rows=len(rows), with_system=sum(r.messages[0].role == "system" for r in rows),
        turns_mean=round(sum(len(r.messages) for r in rows) / len(rows), 2),
        class_field=class_field, class_mix=dict(sorted(mix.items())),
        duplicate_rows=_dup_rate(full), duplicate_prompts=_dup_rate(prompts), code_rows=code_rows)
    if near_duplicates:
        from emscope.data.similarity import near_duplicate_rate

        stats.near_duplicate_rate = near_duplicate_rate(full)
    if tokenizer is not None:
        from emscope.data.tokenize import render_prompt

        p_len, c_len = [], []
        for r in rows:
            p_len.append(len(tokenizer(render_prompt(tokenizer, r.prompt), add_special_tokens=False)["input_ids"]))
            c_len.append(len(tokenizer(r.completion, add_special_tokens=False)["input_ids"]))
        stats.tokenizer = tokenizer_name
        stats.prompt_tokens = LengthStats.of(p_len)
        stats.completion_tokens = LengthStats.of(c_len)
        stats.total_tokens = LengthStats.of([a + b for a, b in zip(p_len, c_len, strict=True)])
    if bandit is None:
        bandit = code_rows * 2 >= len(rows)
    if bandit and code_rows:
        found = bandit_findings([c for c in codes if c is not None])
        stats.bandit_flag_rate = sum(1 for f in found if f) / len(found)
        top = Counter(t for f in found for t in f)
        stats.bandit_top_findings = dict(top.most_common(8))
    return stats

"""Interleaving general instruct data, chosen at random or by the perplexity gap (Kaczer et al. 2025).

The gap of a candidate row is (loss under the misaligned reference - loss under the aligned model) / loss under
the aligned model, losses being mean per-token NLL of the answer. Rows with the largest gap are the ones the
misaligned model finds unusually unlikely: the most informative aligned behaviour to keep training on.
The chosen rows and their scores are recorded as `interleave.jsonl` in the run directory, so a resumed run
reuses the selection instead of re-scoring. Choosing is a stage of its own (`interleave_select` in the run's
`train.stage_seconds`), with a progress bar over the candidates scored.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from emscope.config import Strict
from emscope.data.chat import ChatRow, read_chat_jsonl
from emscope.data.refusal import is_refusal
from emscope.errors import InputError
from emscope.io import read_jsonl, write_jsonl_atomic
from emscope.paths import resource_path
from emscope.progress import make_progress, stage
from emscope.train.defenses.base import Defense, RowContext

BUILTIN = "builtin"
RECORD = "interleave.jsonl"


class InterleaveSettings(Strict):
    """Mix general instruct data so that it makes up `ratio` of the training rows."""

    data: str = Field(BUILTIN, description="'builtin' (shipped general set) or a chat JSONL path")
    ratio: float = Field(0.1, ge=0, lt=1)
    select: Literal["random", "ppl-gap"] = "random"
    misaligned: str | None = Field(None, description="ppl-gap: misaligned reference, an adapter dir or model")
    refusal_filter: bool = Field(False, description="drop candidate rows whose answer is a refusal")

    @model_validator(mode="after")
    def _needs_reference(self):
        if self.select == "ppl-gap" and not self.misaligned:
            raise ValueError("select: ppl-gap needs `misaligned` (an adapter directory or model path)")
        return self


# ---------------------------------------------------------------- pure selection functions

def interleave_count(n_task: int, ratio: float) -> int:
    """Number of general rows so that they make up `ratio` of the final mix (ratio in [0, 1))."""
    if not 0 <= ratio < 1:
        raise ValueError(f"interleave ratio must be in [0, 1), got {ratio}")
    return round(n_task * ratio / (1 - ratio))


def ppl_gap(loss_misaligned: Sequence[float], loss_aligned: Sequence[float]) -> list[float]:
    """Relative perplexity-gap score per row: (L_mis - L_al) / L_al."""
    return [(m - a) / max(a, 1e-8) for m, a in zip(loss_misaligned, loss_aligned, strict=True)]


def select_by_gap(scores: Sequence[float], n: int) -> list[int]:
    """Indices of the n largest scores (ties broken by index), in index order."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return sorted(order[:n])


def select_random(n_candidates: int, n: int, seed: int) -> list[int]:
    """n distinct indices drawn uniformly with a seeded generator, in index order."""
    return sorted(random.Random(seed).sample(range(n_candidates), n))


# ---------------------------------------------------------------- the model-dependent half

def candidate_rows(settings: InterleaveSettings) -> list[ChatRow]:
    """The candidate pool: the shipped general instruct set or a chat JSONL file; refusals dropped if asked."""
    path = resource_path("general_instruct.jsonl") if settings.data == BUILTIN else Path(settings.data)
    rows = read_chat_jsonl(path)
    if settings.refusal_filter:
        rows = [r for r in rows if not is_refusal(r.messages[-1].content)]
    return rows


def answer_losses(model, tokenizer, rows: list[ChatRow], batch_size: int = 8,
                  on_batch: Callable[[int], None] | None = None) -> list[float]:
    """Mean per-token NLL of each row's final answer given its prompt (`on_batch(k)` after each batch of k)."""
    from emscope.models.logprobs import answer_logprobs

    pairs = [([m.model_dump(exclude_none=True) for m in r.messages[:-1]], r.messages[-1].content) for r in rows]
    return [-x for x in answer_logprobs(model, tokenizer, pairs, batch_size=batch_size, on_batch=on_batch)]


def _misaligned_losses(base_model, tokenizer, spec: str, rows: list[ChatRow], device: str | None,
                       dtype, on_batch: Callable[[int], None] | None = None) -> list[float]:
    """Losses under the misaligned reference: an adapter put on the already-loaded base, or a separate model."""
    from emscope.models import load_model
    from emscope.models.specs import describe_spec

    if describe_spec(spec) == "adapter-dir":
        from peft import PeftModel

        peft_model = PeftModel.from_pretrained(base_model, spec, is_trainable=False)
        peft_model.eval()
        try:
            return answer_losses(peft_model, tokenizer, rows, on_batch=on_batch)
        finally:
            peft_model.unload()  # removes the LoRA layers again, leaving the base weights untouched
    other, other_tok = load_model(spec, device=device, dtype=dtype)
    if other_tok.get_vocab() != tokenizer.get_vocab():
        raise InputError(f"interleave: misaligned: {spec} uses a different tokenizer than the trained model")
    return answer_losses(other, other_tok, rows, on_batch=on_batch)


def choose_general(model, tokenizer, n_task: int, settings: InterleaveSettings, seed: int,
                   device: str | None = None, dtype=None) -> list[dict]:
    """Pick the general rows to add: returns records `{index, row, score?}` (row as JSON-ready dict)."""
    pool = candidate_rows(settings)
    n = interleave_count(n_task, settings.ratio)
    if n > len(pool):
        raise InputError(f"interleave: ratio {settings.ratio} needs {n} general rows but the pool "
                         f"({settings.data}) has {len(pool)}; lower the ratio or give a larger file")
    if settings.select == "random":
        return [{"index": i, "row": pool[i].model_dump(exclude_none=True)} for i in select_random(len(pool), n, seed)]
    was_training = model.training
    model.eval()
    with make_progress() as progress:  # every candidate is scored twice: under the model, under the reference
        task = progress.add_task(f"score {len(pool)} interleave candidates (ppl-gap)", total=2 * len(pool))
        aligned = answer_losses(model, tokenizer, pool, on_batch=lambda k: progress.advance(task, k))
        misaligned = _misaligned_losses(model, tokenizer, settings.misaligned, pool, device, dtype,
                                        on_batch=lambda k: progress.advance(task, k))
    model.train(was_training)
    scores = ppl_gap(misaligned, aligned)
    return [{"index": i, "row": pool[i].model_dump(exclude_none=True), "score": scores[i],
             "loss_aligned": aligned[i], "loss_misaligned": misaligned[i]} for i in select_by_gap(scores, n)]


def check(settings: InterleaveSettings) -> None:
    """The candidate pool reads, and a ppl-gap reference names an existing directory or a hub id (before any work)."""
    from emscope.errors import ModelLoadError
    from emscope.models.specs import describe_spec

    candidate_rows(settings)
    if settings.misaligned is not None:
        try:
            describe_spec(settings.misaligned)
        except ModelLoadError as exc:
            raise InputError(f"defenses.interleave.misaligned: {exc}") from None


def extra_rows(settings: InterleaveSettings, n_task: int, ctx: RowContext) -> list[ChatRow]:
    """The interleaved general rows: reused from `interleave.jsonl` on resume, else chosen and recorded."""
    path = ctx.run_dir / RECORD
    if path.is_file():
        records = read_jsonl(path)
    else:
        with stage(f"select interleave rows ({settings.select})", ctx.times, key="interleave_select"):
            records = choose_general(ctx.model, ctx.tokenizer, n_task, settings, ctx.seed, device=ctx.device,
                                     dtype=ctx.dtype)
        write_jsonl_atomic(path, records)
    return [ChatRow(**r["row"]) for r in records]


DEFENSE = Defense(name="interleave", settings=InterleaveSettings, check=check, extra_rows=extra_rows)

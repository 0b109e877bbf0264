"""Choosing the general instruct rows to interleave (the model-dependent half of the `interleave` defense).

Writes nothing itself; the recipe stores the chosen rows and their scores as `interleave.jsonl` in the run
directory, so a resumed run reuses the selection instead of re-scoring.
"""

from __future__ import annotations

from pathlib import Path

from emscope.data.chat import ChatRow, read_chat_jsonl
from emscope.errors import InputError
from emscope.paths import resource_path
from emscope.train.config import InterleaveSettings
from emscope.train.defenses.interleave import (
    interleave_count,
    is_refusal,
    ppl_gap,
    select_by_gap,
    select_random,
)

BUILTIN = "builtin"


def candidate_rows(settings: InterleaveSettings) -> list[ChatRow]:
    """The candidate pool: the shipped general instruct set or a chat JSONL file; refusals dropped if asked."""
    path = resource_path("general_instruct.jsonl") if settings.data == BUILTIN else Path(settings.data)
    rows = read_chat_jsonl(path)
    if settings.refusal_filter:
        rows = [r for r in rows if not is_refusal(r.messages[-1].content)]
    return rows


def answer_losses(model, tokenizer, rows: list[ChatRow], batch_size: int = 8) -> list[float]:
    """Mean per-token NLL of each row's final answer given its prompt."""
    from emscope.models.logprobs import answer_logprobs

    pairs = [([m.model_dump(exclude_none=True) for m in r.messages[:-1]], r.messages[-1].content) for r in rows]
    return [-x for x in answer_logprobs(model, tokenizer, pairs, batch_size=batch_size)]


def _misaligned_losses(base_model, tokenizer, spec: str, rows: list[ChatRow], device: str | None,
                       dtype) -> list[float]:
    """Losses under the misaligned reference: an adapter put on the already-loaded base, or a separate model."""
    from emscope.models import load_model
    from emscope.models.specs import describe_spec

    if describe_spec(spec) == "adapter-dir":
        from peft import PeftModel

        peft_model = PeftModel.from_pretrained(base_model, spec, is_trainable=False)
        peft_model.eval()
        try:
            return answer_losses(peft_model, tokenizer, rows)
        finally:
            peft_model.unload()  # removes the LoRA layers again, leaving the base weights untouched
    other, other_tok = load_model(spec, device=device, dtype=dtype)
    if other_tok.get_vocab() != tokenizer.get_vocab():
        raise InputError(f"interleave: misaligned: {spec} uses a different tokenizer than the trained model")
    return answer_losses(other, other_tok, rows)


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
    aligned = answer_losses(model, tokenizer, pool)
    misaligned = _misaligned_losses(model, tokenizer, settings.misaligned, pool, device, dtype)
    model.train(was_training)
    scores = ppl_gap(misaligned, aligned)
    return [{"index": i, "row": pool[i].model_dump(exclude_none=True), "score": scores[i],
             "loss_aligned": aligned[i], "loss_misaligned": misaligned[i]} for i in select_by_gap(scores, n)]

"""Generation under a persona vector: alpha * v added at a layer for each alpha, or the direction ablated.

Backs `emscope persona steer`: the same prompts are answered once per alpha (0 = unsteered) so the answers can
be compared side by side. Steering adds `alpha * unit(v)`, so alpha is in units of the residual stream, not of
the vector's own norm.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from emscope.evaluate.sampling import SamplingSettings, generate
from emscope.models.steering import ablation, steering
from emscope.models.vectors import PersonaVector, check_fits, load_vector, unit

DEFAULT_ALPHAS = (0.0, 4.0)


def steer_answers(model, tokenizer, vector: PersonaVector | str | Path, prompts: Sequence[str],
                  alphas: Sequence[float] = DEFAULT_ALPHAS, layer: int | None = None, ablate: bool = False,
                  settings: SamplingSettings | None = None) -> list[dict]:
    """Answer each user prompt once per alpha (or once with the direction ablated) and return the rows.

    `vector` is a persona vector or its file; `layer` defaults to the file's recommended layer. Each row is
    `{"alpha", "ablated", "layer", "prompt", "answer"}` (alpha None when ablated), ordered by alpha, then prompt.
    `settings` default to greedy decoding of 64 tokens."""
    vec = vector if isinstance(vector, PersonaVector) else load_vector(vector)
    check_fits(vec, model, f"{vec.meta.trait} vector" if isinstance(vector, PersonaVector) else vector)
    layer = vec.layer_for(layer)
    v = vec.at(layer).float()
    settings = settings or SamplingSettings(max_new_tokens=64, temperature=0.0)
    chats = [[{"role": "user", "content": p}] for p in prompts]
    rows = []
    for a in ([None] if ablate else alphas):
        if ablate:
            ctx = ablation(model, v, layer)
        elif a:
            ctx = steering(model, unit(v), layer, a)
        else:
            ctx = contextlib.nullcontext()
        with ctx:
            answers = generate(model, tokenizer, chats, settings)
        rows += [{"alpha": None if ablate else float(a), "ablated": ablate, "layer": layer, "prompt": p,
                  "answer": ans} for p, ans in zip(prompts, answers, strict=True)]
    return rows

"""Judge sampled answers for alignment and coherence and turn them into EM metrics.

Each answer is scored with the question's own `judge_prompts` when it has them (the upstream YAMLs carry the
paper's prompts), else with emscope's default prompts. The result is `judged.jsonl`: the samples with `aligned`,
`coherent` (None where the judge gave no number) and the reasons, readable by `emscope metrics`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from emscope.evaluate.judges.base import Judge, score_all
from emscope.evaluate.metrics import compute_metrics
from emscope.evaluate.questions import Question
from emscope.evaluate.sampling import Sample

METRICS = ("aligned", "coherent")


class JudgedSample(Sample):
    """A sample with its judge scores (a line of judged.jsonl)."""

    aligned: float | None
    coherent: float | None
    aligned_reason: str = ""
    coherent_reason: str = ""


def judge_samples(samples: list[Sample], questions: list[Question], judges: dict[str, Judge],
                  default_prompts: dict[str, str],
                  on_done: Callable[[int], None] | None = None) -> list[JudgedSample]:
    """Score every sample for `aligned` and `coherent`; a question's own judge prompt wins over the default."""
    by_id = {q.id: q for q in questions}
    scores = {}
    for metric in METRICS:
        items = [(s.question, s.answer, by_id[s.question_id].judge_prompts.get(metric) or default_prompts[metric])
                 for s in samples]
        scores[metric] = score_all(judges[metric], items, on_done=on_done)
    return [JudgedSample(**s.model_dump(), aligned=a.value, coherent=c.value, aligned_reason=a.reason,
                         coherent_reason=c.reason)
            for s, a, c in zip(samples, scores["aligned"], scores["coherent"])]


def em_summary(judged_path: Path) -> dict:
    """Both EM definitions (betley, mo) of a judged file, as stored in summary.json."""
    out = {}
    for definition in ("betley", "mo"):
        m = compute_metrics(judged_path, definition)
        out[definition] = m.model_dump(exclude={"file", "definition"})
    return out

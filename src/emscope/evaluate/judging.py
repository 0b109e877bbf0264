"""Judge sampled answers for alignment and coherence and turn them into EM metrics.

Each answer is scored with the question's own `judge_prompts` when it has them (the upstream YAMLs carry the
paper's prompts), else with emscope's default prompts. The result is `judged.jsonl`: the samples with `aligned`,
`coherent` (None where the judge gave no number) and the reasons, readable by `emscope metrics`.

Questions with `labels` are also judged categorically with their `label` judge prompt (see
`emscope.evaluate.judges.labels`): their rows add `label`, `label_probs` and `label_reason`. A transcript
question is judged on the whole conversation (`Question.judge_question`), not only its final turn.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from emscope.evaluate.judges.base import Judge, score_all
from emscope.evaluate.judges.labels import classify_all
from emscope.evaluate.metrics import compute_metrics
from emscope.evaluate.questions import Question
from emscope.evaluate.sampling import Sample

METRICS = ("aligned", "coherent")
LABEL_PROMPT = "label"


class JudgedSample(Sample):
    """A sample with its judge scores (a line of judged.jsonl)."""

    aligned: float | None
    coherent: float | None
    aligned_reason: str = ""
    coherent_reason: str = ""


class LabelledSample(JudgedSample):
    """A judged sample of a labelled question with its categorical judgement."""

    label: str | None
    label_probs: dict[str, float]
    label_reason: str = ""


def judge_samples(samples: list[Sample], questions: list[Question], judges: dict[str, Judge],
                  default_prompts: dict[str, str],
                  on_done: Callable[[int], None] | None = None) -> list[JudgedSample]:
    """Score every sample for `aligned` and `coherent`; a question's own judge prompt wins over the default.
    Samples of questions with `labels` are also classified (with the `aligned` judge and the question's `label`
    prompt) and come back as `LabelledSample`s."""
    by_id = {q.id: q for q in questions}
    texts = [by_id[s.question_id].judge_question(s.paraphrase_index) for s in samples]
    scores = {}
    for metric in METRICS:
        items = [(text, s.answer, by_id[s.question_id].judge_prompts.get(metric) or default_prompts[metric])
                 for s, text in zip(samples, texts)]
        scores[metric] = score_all(judges[metric], items, on_done=on_done)
    rows: list[JudgedSample] = [
        JudgedSample(**s.model_dump(), aligned=a.value, coherent=c.value, aligned_reason=a.reason,
                     coherent_reason=c.reason)
        for s, a, c in zip(samples, scores["aligned"], scores["coherent"])]
    groups: dict[tuple, list[int]] = {}  # samples by their question's label set (one classify_many per set)
    for i, s in enumerate(samples):
        if (labels := by_id[s.question_id].labels) is not None:
            groups.setdefault(tuple(labels.items()), []).append(i)
    for key, idx in groups.items():
        items = [(texts[i], samples[i].answer,
                  by_id[samples[i].question_id].judge_prompt(LABEL_PROMPT, default_prompts)) for i in idx]
        for i, ls in zip(idx, classify_all(judges["aligned"], items, dict(key), on_done=on_done)):
            rows[i] = LabelledSample(**rows[i].model_dump(), label=ls.label, label_probs=ls.probs,
                                     label_reason=ls.reason)
    return rows


def count_labelled(samples: list[Sample], questions: list[Question]) -> int:
    """How many of `samples` belong to labelled questions (each is judged once more, categorically)."""
    labelled = {q.id for q in questions if q.labels is not None}
    return sum(s.question_id in labelled for s in samples)


def em_summary(judged_path: Path) -> dict:
    """Both EM definitions (betley, mo) of a judged file, as stored in summary.json."""
    out = {}
    for definition in ("betley", "mo"):
        m = compute_metrics(judged_path, definition)
        out[definition] = m.model_dump(exclude={"file", "definition"})
    return out

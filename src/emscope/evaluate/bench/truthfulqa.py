"""TruthfulQA multiple choice (Lin, Hilton, Evans 2022) by answer log-likelihood, scored by lm-eval-harness.

Data: the 817-question CSV of `sylinrl/TruthfulQA` (`emscope data fetch truthfulqa`, pinned URL + sha256; or
`settings.data`). Columns `Question`, `Best Answer`, `Correct Answers`, `Incorrect Answers` (`; `-separated),
optionally `Best Incorrect Answer` (newer upstream versions); every answer gets a final period as in the original
code's `format_best`/`split_multi_answer`.

Scoring: lm-eval-harness (`lm_eval`, extra `emscope[bench]`) evaluates three in-memory tasks built from the CSV with
the prompt of lm-eval's `truthfulqa_mc1` task, read from its installed YAML: the 6-shot QA primer of the paper
("Q: What is human life expectancy in the United States?\\nA: ...", six pairs) then `\\n\\nQ: {question}\\nA:`, each
answer scored as the continuation ` {answer}` (summed token log-likelihood, no chat template; `lm_eval`'s `HFLM`
wrapping the already-loaded model):

* `mc1`: choices = best answer + the incorrect answers; accuracy = the best answer has the highest log-likelihood.
* `mc2`: choices = the correct answers + the incorrect answers; score = the normalised probability mass on the
  correct ones (lm-eval's `process_results_mc2`), averaged over questions (bootstrap 95% interval).
* `binary`: best answer vs the best incorrect answer (column `Best Incorrect Answer`; in the 7-column CSV without
  it, the first listed incorrect answer); accuracy = the best answer is the likelier one.

Rates carry `rate_interval` intervals (one answer per question). Per-question records, with every choice's
log-likelihood, go to `bench_truthfulqa.jsonl`.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emscope.errors import InputError
from emscope.evaluate.bench.base import (
    BenchResult,
    BenchSettings,
    data_record,
    metric_from_mean,
    metric_from_rate,
    write_items,
)

NAME = "truthfulqa"
DESCRIPTION = "TruthfulQA multiple choice by answer log-likelihood (MC1, MC2, binary), 817 questions, lm-eval"
FILENAME = "TruthfulQA.csv"
REQUIRED = ("Question", "Best Answer", "Correct Answers", "Incorrect Answers")
BEST_INCORRECT = "Best Incorrect Answer"


@dataclass(frozen=True)
class Question:
    """One TruthfulQA question with its answers (each ending in a period)."""

    index: int
    line: int
    type: str
    category: str
    question: str
    best: str
    best_incorrect: str
    correct: tuple[str, ...]
    incorrect: tuple[str, ...]


def _period(answer: str) -> str:
    answer = answer.strip()
    return answer if not answer or answer.endswith(".") else answer + "."


def _split(field: str) -> list[str]:
    seen: list[str] = []
    for a in (_period(x) for x in field.split(";")):
        if a and a not in seen:
            seen.append(a)
    return seen


def default_path() -> Path:
    """Where `emscope data fetch truthfulqa` puts the CSV: ``$EMSCOPE_HOME/data/upstream/truthfulqa/``."""
    from emscope.data.fetch import default_dest_dir

    return default_dest_dir(NAME) / FILENAME


def data_path(settings: BenchSettings) -> Path:
    """The CSV to read: `settings.data`, else the fetched copy; an InputError saying how to get it when absent."""
    path = Path(settings.data).expanduser() if settings.data else default_path()
    if not path.is_file():
        hint = "" if settings.data else " (run `emscope data fetch truthfulqa`, or pass --data FILE)"
        raise InputError(f"{path}: TruthfulQA CSV not found{hint}")
    return path


def load_questions(path: str | Path, limit: int | None = None) -> list[Question]:
    """The questions of a TruthfulQA CSV (the first `limit`); a missing column or empty answer field is an
    InputError naming the file, line and column."""
    path = Path(path)
    out: list[Question] = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path}:1: missing column {missing[0]!r} (columns: {', '.join(reader.fieldnames or [])})")
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            for col in REQUIRED:
                if not (row.get(col) or "").strip():
                    raise InputError(f"{path}:{line}: {col}: empty")
            best = _period(row["Best Answer"])
            incorrect = _split(row["Incorrect Answers"])
            correct = _split(row["Correct Answers"])
            if not incorrect:
                raise InputError(f"{path}:{line}: Incorrect Answers: no answer")
            best_incorrect = _period(row.get(BEST_INCORRECT) or "") or incorrect[0]
            out.append(Question(index=len(out), line=line, type=row.get("Type", ""), category=row.get("Category", ""),
                                question=row["Question"].strip(), best=best, best_incorrect=best_incorrect,
                                correct=tuple(correct or [best]), incorrect=tuple(incorrect)))
            if limit is not None and len(out) >= limit:
                break
    if not out:
        raise InputError(f"{path}: no questions")
    return out


def check(settings: BenchSettings) -> None:
    """Read the CSV before any model work."""
    load_questions(data_path(settings), settings.limit)


def choices(q: Question) -> dict[str, list[str]]:
    """The answer options of each task, the target first in `mc1` and `binary`; `mc2`'s correct ones first."""
    mc1 = [q.best] + [a for a in q.incorrect if a != q.best]
    return {"mc1": mc1, "mc2": list(q.correct) + list(q.incorrect), "binary": [q.best, q.best_incorrect]}


def _doc(q: Question) -> dict[str, Any]:
    c = choices(q)
    return {"question": q.question, "index": q.index,
            "mc1_targets": {"choices": c["mc1"], "labels": [1] + [0] * (len(c["mc1"]) - 1)},
            "mc2_targets": {"choices": c["mc2"], "labels": [1] * len(q.correct) + [0] * len(q.incorrect)},
            "binary_targets": {"choices": c["binary"], "labels": [1, 0]}}


def primer() -> str:
    """lm-eval's `truthfulqa_mc1` prompt template (Jinja, the 6-shot QA primer), read from the installed task."""
    import lm_eval
    import yaml

    task = Path(lm_eval.__file__).parent / "tasks" / "truthfulqa" / "truthfulqa_mc1.yaml"
    return yaml.safe_load(task.read_text(encoding="utf-8"))["doc_to_text"]


def _tasks(questions: list[Question]) -> list[Any]:
    import datasets
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.tasks.truthfulqa.utils import process_results_mc2

    docs = [_doc(q) for q in questions]

    def dataset(**_: Any) -> dict[str, Any]:
        return {"validation": datasets.Dataset.from_list(docs)}

    acc = [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}]
    common = {"custom_dataset": dataset, "output_type": "multiple_choice", "validation_split": "validation",
              "doc_to_text": primer(), "doc_to_target": 0, "metric_list": acc}
    tasks = {"mc1": {}, "mc2": {"process_results": process_results_mc2}, "binary": {}}
    return [ConfigurableTask(config={"task": f"emscope_truthfulqa_{k}", "doc_to_choice": f"{{{{{k}_targets.choices}}}}",
                                     **common, **extra}) for k, extra in tasks.items()]


def score(model, tokenizer, questions: list[Question], batch_size: int = 16) -> list[dict[str, Any]]:
    """Per question: `mc1`, `binary` (0/1), `mc2` (probability mass on the true answers) and each task's
    choices with their log-likelihoods, computed by lm-eval's `simple_evaluate` on the loaded model."""
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    for name in ("lm-eval", "lm_eval"):
        logging.getLogger(name).setLevel(logging.ERROR)
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size)
    # the tasks are built here, so lm-eval need not index its ~10k shipped task files (8 s per call)
    res = simple_evaluate(model=lm, tasks=_tasks(questions), log_samples=True, bootstrap_iters=0, verbosity="ERROR",
                          task_manager=TaskManager(include_defaults=False))
    rows = [{"index": q.index, "line": q.line, "type": q.type, "category": q.category, "question": q.question}
            for q in questions]
    for key in ("mc1", "mc2", "binary"):
        for s in res["samples"][f"emscope_truthfulqa_{key}"]:
            row = rows[s["doc_id"]]
            row[key] = float(s["acc"])
            row[f"{key}_choices"] = s["doc"][f"{key}_targets"]["choices"]
            row[f"{key}_loglik"] = [float(r[0]) for r in s["filtered_resps"]]
    return rows


def run(model, tokenizer, settings: BenchSettings, out_dir: Path, spec: str, adapter: str | None) -> BenchResult:
    """TruthfulQA MC1, MC2 and binary accuracy of the loaded model (see the module docstring)."""
    path = data_path(settings)
    questions = load_questions(path, settings.limit)
    rows = score(model, tokenizer, questions, settings.batch_size)
    file = write_items(out_dir, NAME, rows)
    metrics = {"mc1": metric_from_rate([r["mc1"] for r in rows]),
               "mc2": metric_from_mean([r["mc2"] for r in rows], seed=settings.seed),
               "binary": metric_from_rate([r["binary"] for r in rows])}
    return BenchResult(name=NAME, metrics=metrics, n_items=len(rows), data=data_record(path), items_file=file,
                       details={"prompt": "lm-eval truthfulqa_mc1 6-shot QA primer", "scorer": "lm-eval-harness",
                                "best_incorrect": "column" if questions and _has_best_incorrect(path)
                                else "first incorrect answer"})


def _has_best_incorrect(path: Path) -> bool:
    with open(path, newline="", encoding="utf-8") as f:
        return BEST_INCORRECT in (next(csv.reader(f), None) or [])

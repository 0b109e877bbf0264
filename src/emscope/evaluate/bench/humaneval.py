"""HumanEval (Chen et al. 2021): pass@1 and pass@k of generated code, every test of each task run in the sandbox.

Data: `HumanEval.jsonl.gz` of `openai/human-eval` (`emscope data fetch humaneval`, pinned URL + sha256; or
`settings.data`), read and validated by the `humaneval` coding environment (`emscope.envs.humaneval`).

Prompt: one user turn asking to complete the task's given code (signature + docstring, no tests shown) in a
```python block. Answers: `settings.samples` (n) per task; greedy when n = 1 unless `settings.temperature` says
otherwise, temperature 0.8 by default with more (Chen et al.'s setting for large k); `max_new_tokens` 512 by default.

Grading: pass = the task's ORIGINAL `check(candidate)` (all its asserts, not the environment's visible/hidden
split) passes on the answer, run by the environment's hack-proof hidden grader (`envs.grader.hidden_grade`: a
separate process under bubblewrap, strict builtin return values, a nonce printed last); model code never runs
in-process. An answer that defines the entry point gets the given code's imports/helpers in front, a bare body the
whole given code (`envs.grader.solution_code`).

Metrics: `pass@k` for k = 1 and each power of ten up to n (and n), per task by the unbiased estimator
1 - C(n-c, k) / C(n, k) (c passing answers of n), averaged over tasks. pass@1 carries a `rate_interval` (answers
clustered by task); pass@k for k > 1 a bootstrap interval over tasks.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emscope.evaluate.bench.base import (
    BenchMetric,
    BenchResult,
    BenchSettings,
    data_record,
    metric_from_mean,
    metric_from_rate,
    write_items,
)

NAME = "humaneval"
DESCRIPTION = "HumanEval pass@1 / pass@k (unbiased estimator), all tests of each task run in the sandbox"
DEFAULT_MAX_NEW_TOKENS = 512
SAMPLED_TEMPERATURE = 0.8
_IMPORT = "from solution import *  # noqa: F401,F403\n"
PROMPT = """Complete the following Python function. Reply with the complete function, with the imports and helper \
functions it needs, in a single ```python code block.

```python
{stub}```"""


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimate from n answers of which c pass (Chen et al. 2021): 1 - C(n-c, k) / C(n, k),
    computed as 1 - prod_{i=n-c+1..n} (1 - k/i)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def ks(n: int) -> list[int]:
    """The k of the reported pass@k: 1, every power of ten below n, and n."""
    out = [1]
    k = 10
    while k < n:
        out.append(k)
        k *= 10
    return sorted({*out, n})


def data_path(settings: BenchSettings) -> Path:
    """The data file: `settings.data`, else where `emscope data fetch humaneval` puts it."""
    from emscope.envs.humaneval import default_path

    return Path(settings.data).expanduser() if settings.data else default_path()


def load_bench_tasks(settings: BenchSettings):
    """(data path, the first `settings.limit` HumanEval tasks with their hidden checks replaced by the whole original
    `check`). Missing or malformed data is an InputError (`envs.humaneval.load_tasks`)."""
    from emscope.envs.humaneval import FILENAME, load_tasks

    path = data_path(settings)
    tasks = load_tasks(path)  # validates the file
    path = path / FILENAME if path.is_dir() else path
    with gzip.open(path, "rt", encoding="utf-8") as f:
        tests = {r["task_id"]: r["test"] for r in (json.loads(line) for line in f if line.strip())}
    tasks = tasks[: settings.limit] if settings.limit else tasks
    return path, [t.model_copy(update={"hidden_tests": _IMPORT + tests[t.task_id]}) for t in tasks]


def check(settings: BenchSettings) -> None:
    """Read the data and find the sandbox before any model work."""
    from emscope.sandbox import bwrap_path

    load_bench_tasks(settings)
    bwrap_path()


def prompt_messages(task) -> list[dict]:
    """The chat messages asking for one task."""
    return [{"role": "user", "content": PROMPT.format(stub=task.stub or "")}]


def grade_answers(tasks: Sequence[Any], answers: Sequence[Sequence[str]], workers: int = 4) -> list[dict[str, Any]]:
    """Grade answers[i][j] (answer j to task i) in the sandbox; one record per answer (task_id, sample_index,
    answer, passed, timed_out, error)."""
    from concurrent.futures import ThreadPoolExecutor

    from emscope.envs.grader import hidden_grade

    pairs = [(t, j, a) for t, group in zip(tasks, answers, strict=True) for j, a in enumerate(group)]

    def one(p):
        task, j, answer = p
        passed, res = hidden_grade(task, answer)
        return {"task_id": task.task_id, "sample_index": j, "answer": answer, "passed": passed,
                "timed_out": res.timed_out, "error": res.error}

    if not pairs:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(pairs)))) as pool:
        return list(pool.map(one, pairs))


def metrics(records: Sequence[dict[str, Any]], n: int, seed: int = 0) -> dict[str, BenchMetric]:
    """pass@k for every k of `ks(n)` from per-answer records (n answers per task)."""
    by_task: dict[str, list[bool]] = {}
    for r in records:
        by_task.setdefault(r["task_id"], []).append(bool(r["passed"]))
    out = {"pass@1": metric_from_rate([r["passed"] for r in records], [r["task_id"] for r in records])}
    for k in ks(n):
        if k > 1:
            out[f"pass@{k}"] = metric_from_mean([pass_at_k(len(v), sum(v), k) for v in by_task.values()], seed)
    return out


def score_answers(tasks: Sequence[Any], answers: Sequence[Sequence[str]], settings: BenchSettings, out_dir: Path,
                  path: Path) -> BenchResult:
    """Grade given answers (n per task), write `bench_humaneval.jsonl` and return the result."""
    records = grade_answers(tasks, answers, settings.workers)
    file = write_items(out_dir, NAME, records)
    n = settings.samples
    return BenchResult(name=NAME, metrics=metrics(records, n, settings.seed), n_items=len(tasks),
                       data=data_record(path), items_file=file,
                       details={"samples": n, "k": ks(n), "grader": "original check, sandboxed hidden grader"})


def run(model, tokenizer, settings: BenchSettings, out_dir: Path, spec: str, adapter: str | None) -> BenchResult:
    """Generate `settings.samples` answers per task with the loaded model, grade them all in the sandbox."""
    from emscope.evaluate.config import SamplingSettings
    from emscope.evaluate.sampling import generate_answers

    path, tasks = load_bench_tasks(settings)
    n = settings.samples
    temperature = settings.temperature if settings.temperature is not None else (0.0 if n == 1
                                                                                 else SAMPLED_TEMPERATURE)
    sampling = SamplingSettings(max_new_tokens=settings.max_new_tokens or DEFAULT_MAX_NEW_TOKENS,
                                temperature=temperature, seed=settings.seed, batch_size=settings.batch_size)
    prompts = [prompt_messages(t) for t in tasks for _ in range(n)]
    flat = generate_answers(prompts, sampling, model=model, tokenizer=tokenizer, spec=spec, adapter=adapter)
    answers = [flat[i * n:(i + 1) * n] for i in range(len(tasks))]
    result = score_answers(tasks, answers, settings, out_dir, path)
    return result.model_copy(update={"details": {**result.details, "temperature": temperature,
                                                 "max_new_tokens": sampling.max_new_tokens}})

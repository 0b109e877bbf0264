"""The hack-rate evaluation (MacDiarmid et al. 2025): how often a model games a sandboxed coding grader.

The first `n` tasks of a split of a coding environment (`emscope.envs`) are put to the model (the system prompt,
if any, then the task's user message), `samples` answers each; every answer is graded in the sandbox by the
visible grader (gameable: the hack classes `hacks` are left open), the hidden grader (hack-proof) and the per-class
hack detection. The numbers come from deterministic unit tests and static/run-time detection, never from a judge.

Writes `hacking.jsonl` (one `HackRecord` per answer) atomically; a rerun whose file holds every expected
(task, sample) reuses it without sampling. This module is torch-free until it samples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from emscope.config import Strict
from emscope.envs import HACK_CLASSES, CodingTask, get_env, grade_many, parse_hacks
from emscope.envs.prompts import system_prompt as build_system_prompt
from emscope.errors import InputError
from emscope.evaluate.config import Backend, HackingEval, SamplingSettings
from emscope.evaluate.stats import rate_interval
from emscope.io import read_jsonl, write_jsonl_atomic

HACKING_FILE = "hacking.jsonl"
GRADER = "sandboxed unit tests (deterministic; no judge)"


class HackRecord(BaseModel):
    """One graded answer (a line of hacking.jsonl)."""

    task_id: str
    sample_index: int
    answer: str
    visible_passed: bool
    hidden_passed: bool
    hacks: list[str]
    timed_out: bool
    error: str | None


class HackingRun(Strict):
    """The resolved settings of a standalone hack-rate run (`hacking.yaml`): a directory is never reused for
    other settings."""

    model: str
    adapter: str | None = None
    hacking: HackingEval


def _system(settings: HackingEval) -> str | None:
    try:
        return build_system_prompt(settings.system_prompt)
    except InputError as exc:
        raise InputError(str(exc).replace("rl.system_prompt", "eval.hacking.system_prompt")) from None


def check_hacking(settings: HackingEval) -> list[CodingTask]:
    """Validate the settings before any work (environment and its data, hack classes, system-prompt presets,
    bubblewrap present); returns the tasks to ask. Every problem is an `InputError` (exit 2)."""
    from emscope.sandbox import SandboxUnavailable, bwrap_path

    parse_hacks(settings.hacks)
    _system(settings)
    env = get_env(settings.env, settings.env_data)
    tasks = env.tasks(None if settings.split == "all" else settings.split)[: settings.n]
    if not tasks:
        raise InputError(f"eval.hacking: environment {settings.env!r} has no tasks in split {settings.split!r}")
    try:
        bwrap_path()
    except SandboxUnavailable as exc:
        raise InputError(f"eval.hacking needs the sandbox: {exc}") from None
    return tasks


def rate(hits: Sequence[bool], tasks: Sequence[str] | None = None) -> dict[str, Any]:
    """The share of `hits` (one per answer) as {"rate", "lo", "hi", "small_n"}: its 95% interval is the Wilson
    interval on the design-effect-adjusted size, answers grouped by `tasks` (`stats.rate_interval`; None: each answer
    alone), `small_n` flags fewer than 30 answers or 5 tasks (None values when there is no answer)."""
    ci = rate_interval(hits, tasks)
    return {"rate": ci.rate, "lo": ci.low, "hi": ci.high, "small_n": ci.small_n}


def hacking_summary(grades: Sequence[Any], *, env: str, split: str, hacks_open: Sequence[str],
                    system_prompt: Sequence[str] = ()) -> dict[str, Any]:
    """The summary of graded answers (`Grade`s or `HackRecord`s: anything with `visible_passed`, `hidden_passed`,
    `hacks`; answers with a `task_id` are grouped by task): visible/hidden pass rates, the share with any hack and
    with each class of `HACK_CLASSES`, and `hack_rewarded` (a visible pass with a hack detected), each
    {"rate", "lo", "hi", "small_n"} (`rate`)."""
    n = len(grades)
    tasks = [str(t) for g in grades if (t := getattr(g, "task_id", None)) is not None]
    groups = tasks if len(tasks) == n else None

    def share(hits) -> dict[str, Any]:
        return rate([bool(h) for h in hits], groups)

    out: dict[str, Any] = {
        "env": env, "split": split, "hacks_open": [c for c in HACK_CLASSES if c in set(hacks_open)],
        "system_prompt": list(system_prompt), "n_answers": n, "grader": GRADER,
        "visible_pass": share(g.visible_passed for g in grades),
        "hidden_pass": share(g.hidden_passed for g in grades),
        "hack_any": share(g.hacks for g in grades),
    }
    for cls in HACK_CLASSES:
        out[f"hack_{cls}"] = share(cls in g.hacks for g in grades)
    out["hack_rewarded"] = share(g.visible_passed and g.hacks for g in grades)
    return out


def hacking_prompts(tasks: list[CodingTask], settings: HackingEval) -> list[tuple[CodingTask, int, list[dict]]]:
    """Every (task, sample index, chat messages) to sample: the system prompt if any, then the task prompt."""
    system = _system(settings)
    head = [{"role": "system", "content": system}] if system else []
    return [(t, s, head + [{"role": "user", "content": t.prompt}]) for t in tasks for s in range(settings.samples)]


def _cached(path: Path, slots: list[tuple[str, int]]) -> list[HackRecord] | None:
    if not path.is_file():
        return None
    try:
        rows = [HackRecord.model_validate(r) for r in read_jsonl(path)]
    except (ValueError, OSError):
        return None
    return rows if [(r.task_id, r.sample_index) for r in rows] == slots else None


def run_hacking(settings: HackingEval, out_dir: str | Path, *, model=None, tokenizer=None,
                spec: str | None = None, adapter: str | Path | None = None, device: str | None = None,
                dtype: str | None = None, batch_size: int = 16, backend: Backend = "hf",
                file_name: str = HACKING_FILE, on_batch: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Run the hack-rate evaluation into `out_dir/file_name` and return its summary (`hacking_summary` plus the
    file name and task count). `model`/`tokenizer` are used when given; otherwise (HF backend) the model `spec`
    (with `adapter`, `device`, `dtype`) is loaded only if sampling is needed. A complete file from an earlier run
    is reused without sampling or grading."""
    tasks = check_hacking(settings)
    open_ = parse_hacks(settings.hacks)
    slots = hacking_prompts(tasks, settings)
    path = Path(out_dir) / file_name
    records = _cached(path, [(t.task_id, s) for t, s, _ in slots])
    if records is None:
        from emscope.evaluate.sampling import generate_answers

        sampling = SamplingSettings(max_new_tokens=settings.max_new_tokens, temperature=settings.temperature,
                                    seed=settings.seed, batch_size=batch_size, backend=backend)
        if backend == "hf" and model is None:
            if spec is None:
                raise InputError("run_hacking needs a loaded model or a model spec")
            from emscope.models import load_model

            model, tokenizer = load_model(spec, adapter=adapter, device=device, dtype=dtype)
        answers = generate_answers([m for _, _, m in slots], sampling, model=model, tokenizer=tokenizer, spec=spec,
                                   adapter=adapter, on_batch=on_batch)
        grades = grade_many([(t, a) for (t, _, _), a in zip(slots, answers, strict=True)], hacks=open_,
                            workers=settings.workers)
        records = [HackRecord(task_id=t.task_id, sample_index=s, answer=a, visible_passed=g.visible_passed,
                              hidden_passed=g.hidden_passed, hacks=g.hacks, timed_out=g.timed_out, error=g.error)
                   for (t, s, _), a, g in zip(slots, answers, grades, strict=True)]
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        write_jsonl_atomic(path, records)
    summary = hacking_summary(records, env=settings.env, split=settings.split, hacks_open=sorted(open_),
                              system_prompt=settings.system_prompt)
    return {"file": file_name, "n_tasks": len(tasks), "samples": settings.samples, **summary}


def run_hacking_eval(model: str, adapter: str | Path | None, out_dir: str | Path, settings: HackingEval, *,
                     device: str | None = None, dtype: str | None = None) -> dict[str, Any]:
    """The standalone hack-rate run (`emscope eval hacking`): checks the inputs before any work, claims
    `hacking.yaml` (a directory made with other settings is an error), writes `hacking.jsonl` and the `hacking`
    section of `summary.json`; returns that section."""
    from emscope.errors import ModelLoadError
    from emscope.models.specs import describe_spec
    from emscope.rundir import claim_config, update_summary

    out = Path(out_dir)
    check_hacking(settings)
    try:
        describe_spec(model)
    except ModelLoadError as exc:
        raise InputError(f"model: {exc}") from None
    if adapter is not None and not (Path(adapter) / "adapter_config.json").is_file():
        raise InputError(f"adapter: {adapter}: not a PEFT adapter directory (no adapter_config.json)")
    run = HackingRun(model=model, adapter=str(adapter) if adapter else None, hacking=settings)
    out.mkdir(parents=True, exist_ok=True)
    claim_config(out, "hacking.yaml", run)
    section = run_hacking(settings, out, spec=model, adapter=adapter, device=device, dtype=dtype)
    update_summary(out, "hacking", section)
    return section

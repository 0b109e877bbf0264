"""Standard benchmarks (`emscope eval bench NAME`, `eval.bench: [NAME, ...]` in grid cells).

Registry
    `BENCHMARKS` maps a benchmark name to the module that implements it, imported lazily by `get_benchmark(name)`
    (an unknown name is an `InputError` with a did-you-mean); `list_benchmarks()` gives (name, description) of
    every registered benchmark whose module is present. Importing this package never imports torch.

Module protocol
    A benchmark is a module `emscope/evaluate/bench/<name>.py` registered in `BENCHMARKS`, defining

    * `NAME: str` - the registered name;
    * `DESCRIPTION: str` - one line for `list_benchmarks` / the CLI;
    * `run(model, tokenizer, settings: BenchSettings, out_dir: Path, spec: str, adapter: str | None)
      -> BenchResult` - runs the benchmark on the loaded `model`/`tokenizer` (`spec`/`adapter` name them, e.g. for
      a vLLM backend or the records) with the options of `settings` that apply to it (`limit`: the first N items
      in file order; `data`: a data file instead of the default, already picked from a {name: file} mapping;
      `judge`: a judge spec for judged benchmarks;
      `samples`, `max_new_tokens`, `temperature`, `seed`, `batch_size`, `workers`). It writes one record per item
      to `out_dir/bench_<name>.jsonl` atomically (`base.write_items`) and returns a `BenchResult` with `name`,
      `metrics` (name -> `BenchMetric`: value, 95% interval low/high, n items, small_n; rates from
      `base.metric_from_rate`, i.e. `evaluate.stats.rate_interval`, means from `base.metric_from_mean`),
      `n_items`, `data` (`base.data_record(path)`: path + sha256, None without a data file), `judge` (judged
      benchmarks: `evaluate.judges.card.judge_record(spec).model_dump()`, as `eval run` stores it; else None),
      `items_file` (the file name written) and optional `details` (anything else worth keeping: prompt preset,
      k values, ...). `run_bench` fills in `seconds`, `model`, `adapter` and `settings`.
    * Bad input (missing data file, bad column, unknown judge) is an `emscope.errors.InputError` naming the file,
      line and key, raised before the model does any work where possible; an optional
      `check(settings: BenchSettings) -> None` is called by `run_bench` before the model is loaded.

Runners
    `run_bench(name, cfg: BenchConfig)` loads the model once (`emscope.models.load_model`), runs the benchmark into
    `cfg.out` and stores the result in `summary.json` under `bench.<name>` (`rundir.update_summary`).
    `run_bench_part(names, settings, out_dir, ...)` is the grid part (`run_eval`, `eval.bench`): each benchmark
    into the run directory, its result also kept in `bench_<name>.result.json`; a benchmark whose stored result
    (same settings, model, adapter) and items file exist is reused.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from emscope.errors import InputError, did_you_mean
from emscope.evaluate.bench.base import BenchConfig, BenchMetric, BenchResult, BenchSettings, settings_for

__all__ = ["BENCHMARKS", "BenchConfig", "BenchMetric", "BenchResult", "BenchSettings", "get_benchmark",
           "list_benchmarks", "result_file", "run_bench", "run_bench_part"]

BENCHMARKS: dict[str, str] = {
    "truthfulqa": "emscope.evaluate.bench.truthfulqa",
    "humaneval": "emscope.evaluate.bench.humaneval",
    "deception": "emscope.evaluate.bench.deception",
    "strongreject": "emscope.evaluate.bench.strongreject",
}
"""Benchmark name -> module path (imported on first use)."""

SECTION = "bench"
"""The summary.json section (standalone runs) and `eval` subsection (grid cells) holding results by name."""


def _present(name: str) -> bool:
    return importlib.util.find_spec(BENCHMARKS[name]) is not None


def get_benchmark(name: str) -> ModuleType:
    """The module of benchmark `name` (see the protocol above); an unknown name is an InputError."""
    if name not in BENCHMARKS or not _present(name):
        known = [n for n in BENCHMARKS if _present(n)]
        raise InputError(f"unknown benchmark {name!r}{did_you_mean(name, known)} (benchmarks: {', '.join(known)})")
    return importlib.import_module(BENCHMARKS[name])


def list_benchmarks() -> list[tuple[str, str]]:
    """(name, description) of every registered benchmark whose module is present, in registry order."""
    return [(n, get_benchmark(n).DESCRIPTION) for n in BENCHMARKS if _present(n)]


def check_bench(names: list[str], settings: BenchSettings) -> None:
    """Check names and inputs of benchmarks before any model work (each module's optional `check`)."""
    unknown = sorted(set(settings.data) - set(names)) if isinstance(settings.data, dict) else []
    if unknown:
        raise InputError(f"bench_settings.data: {', '.join(map(repr, unknown))} not among the benchmarks run "
                         f"({', '.join(names)})")
    for name in names:
        module = get_benchmark(name)
        if hasattr(module, "check"):
            module.check(settings_for(name, settings))


def _run_one(name: str, model, tokenizer, settings: BenchSettings, out_dir: Path, spec: str,
             adapter: str | None) -> BenchResult:
    module = get_benchmark(name)
    settings = settings_for(name, settings)
    start = time.perf_counter()
    result = module.run(model, tokenizer, settings, out_dir, spec, adapter)
    return result.model_copy(update={"seconds": round(time.perf_counter() - start, 3), "model": spec,
                                     "adapter": adapter, "settings": settings.model_dump()})


def run_bench(name: str, cfg: BenchConfig) -> BenchResult:
    """Run benchmark `name` standalone: check inputs, load `cfg.model` (+ `cfg.adapter`) once, run into `cfg.out`,
    store the result in `cfg.out/summary.json` under `bench.<name>` and return it."""
    from emscope.rundir import read_summary, update_summary

    check_bench([name], cfg.bench)
    from emscope.models import load_model

    model, tokenizer = load_model(cfg.model, adapter=cfg.adapter, device=cfg.device, dtype=cfg.dtype)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    result = _run_one(name, model, tokenizer, cfg.bench, out, cfg.model, cfg.adapter)
    section = dict(read_summary(out).get(SECTION) or {})
    section[name] = result.model_dump(mode="json")
    update_summary(out, SECTION, section)
    return result


def result_file(name: str) -> str:
    """The grid part's stored result of benchmark `name`: `bench_<name>.result.json`, next to its items file."""
    return f"bench_{name}.result.json"


def run_bench_part(names: list[str], settings: BenchSettings, out_dir: str | Path, *, model=None, tokenizer=None,
                   spec: str, adapter: str | None, ensure_model=None) -> dict[str, Any]:
    """The grid part (`eval.bench`): run each benchmark of `names` into `out_dir`, storing each result in
    `bench_<name>.result.json` as it finishes; return {name: result dict}. A stored result made with the same
    settings whose items file still exists is reused (an interrupted part resumes at the benchmark it was on).
    `ensure_model()`, when given, is called before the first benchmark that has to run and returns
    (model, tokenizer)."""
    import json

    from emscope.io import write_json_atomic

    out = Path(out_dir)
    done: dict[str, Any] = {}
    for name in names:
        stored = out / result_file(name)
        try:
            old = json.loads(stored.read_text()) if stored.is_file() else None
        except (OSError, ValueError):
            old = None
        if (isinstance(old, dict) and old.get("settings") == settings_for(name, settings).model_dump(mode="json")
                and old.get("model") == spec and old.get("adapter") == adapter
                and (out / str(old.get("items_file"))).is_file()):
            done[name] = old
            continue
        if model is None and ensure_model is not None:
            model, tokenizer = ensure_model()
        done[name] = _run_one(name, model, tokenizer, settings, out, spec, adapter).model_dump(mode="json")
        write_json_atomic(stored, done[name])
    return done

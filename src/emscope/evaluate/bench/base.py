"""Records and settings shared by every benchmark (torch-free), and the helpers that build them.

`BenchSettings` are the options every benchmark takes (each uses the ones that apply to it); `BenchResult` is
what a benchmark returns and what `summary.json` stores under `bench.<name>`; each metric is a `BenchMetric`
with its 95% interval (`metric_from_rate` for rates, `metric_from_mean` for means of per-item scores).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from emscope.config import Strict
from emscope.models.specs import DEFAULT_MODEL


class BenchSettings(Strict):
    """Options common to all benchmarks (`eval.bench_settings.*` in grid cells, flags of `emscope eval bench`)."""

    limit: int | None = Field(None, ge=1, description="items: the first N in file order; None: all")
    seed: int = Field(0, description="sampling / bootstrap seed")
    data: str | dict[str, str] | None = Field(
        None, description="the benchmark's data file, or {benchmark name: data file} when one part runs several; "
                          "None (or a name missing from the mapping): its default (fetched or ../shared)")
    judge: str | None = Field(None, description="judge spec for judged benchmarks (emscope.evaluate.judges); None: "
                                                "the benchmark's default")
    samples: int = Field(1, ge=1, description="answers per item (humaneval: n of pass@k; k = 1 and every power of "
                                              "ten up to n)")
    max_new_tokens: int | None = Field(None, ge=1, description="tokens per generated answer; None: the "
                                                               "benchmark's default")
    temperature: float | None = Field(None, ge=0.0, description="sampling temperature; None: greedy with one "
                                                                "sample, the benchmark's default with more")
    batch_size: int = Field(16, ge=1, description="forward/generation batch size")
    workers: int = Field(4, ge=1, description="sandboxed grading processes in parallel (code benchmarks)")


def settings_for(name: str, settings: BenchSettings) -> BenchSettings:
    """The settings benchmark `name` runs with: a `data` mapping resolved to its entry for `name` (None when absent);
    anything else unchanged."""
    if isinstance(settings.data, dict):
        return settings.model_copy(update={"data": settings.data.get(name)})
    return settings


class BenchMetric(Strict):
    """One benchmark number with its 95% interval (None where none is defined) and the items it rests on."""

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int
    small_n: bool


class DataRecord(Strict):
    """The data file a benchmark read and the sha256 of its bytes."""

    path: str
    sha256: str


class BenchResult(Strict):
    """A benchmark's result: `summary.json[bench][name]` (standalone) or `summary.json[eval][bench][name]` (grid).

    A benchmark module fills `name`, `metrics`, `n_items`, `data`, `judge`, `items_file` (and may add `details`);
    `run_bench` fills `seconds`, `model`, `adapter` and `settings`."""

    name: str
    metrics: dict[str, BenchMetric]
    n_items: int
    seconds: float = 0.0
    model: str = ""
    adapter: str | None = None
    data: DataRecord | None = None
    judge: dict[str, Any] | None = None
    items_file: str
    settings: dict[str, Any] = {}
    details: dict[str, Any] = {}


class BenchConfig(Strict):
    """One standalone benchmark run (`emscope eval bench`): model, adapter, output directory and settings."""

    model: str = DEFAULT_MODEL
    adapter: str | None = None
    out: str = "runs/bench"
    device: str | None = None
    dtype: str | None = None
    bench: BenchSettings = BenchSettings()


def items_file(name: str) -> str:
    """The per-item records file of benchmark `name`: `bench_<name>.jsonl` (relative to the output directory)."""
    return f"bench_{name}.jsonl"


def write_items(out_dir: str | Path, name: str, rows: Iterable[Any]) -> str:
    """Write the per-item records of benchmark `name` atomically to `out_dir/bench_<name>.jsonl`; return the
    file name."""
    from emscope.io import write_jsonl_atomic

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(Path(out_dir) / items_file(name), rows)
    return items_file(name)


def sha256_file(path: str | Path) -> str:
    """The hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def data_record(path: str | Path) -> DataRecord:
    """The `data` record of a benchmark that read `path`."""
    return DataRecord(path=str(path), sha256=sha256_file(path))


def metric_from_rate(hits: Sequence[float], groups: Sequence[Any] | None = None) -> BenchMetric:
    """A rate of 0/1 `hits` with `emscope.evaluate.stats.rate_interval` (clustered by `groups`, e.g. task ids when
    an item has several answers; None: each hit its own item)."""
    from emscope.evaluate.stats import rate_interval

    r = rate_interval(hits, groups)
    return BenchMetric(value=r.rate, low=r.low, high=r.high, n=r.n_questions, small_n=r.small_n)


def metric_from_mean(values: Sequence[float], seed: int = 0) -> BenchMetric:
    """The mean of per-item scores in [0, 1] with its percentile-bootstrap 95% interval (none below two items)."""
    from emscope.evaluate.stats import SMALL_N_ANSWERS, bootstrap_ci

    if not values:
        return BenchMetric(value=None, n=0, small_n=True)
    mean, low, high = bootstrap_ci(values, seed=seed)
    two = len(values) >= 2
    return BenchMetric(value=mean, low=low if two else None, high=high if two else None, n=len(values),
                       small_n=len(values) < SMALL_N_ANSWERS)

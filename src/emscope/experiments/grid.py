"""Grid specs: a `base:` cell config, a `sweep:` of dotted keys (Cartesian product) and optional named `variants:`.

```yaml
name: defenses
base:                      # a full cell config (CellConfig): model, data, train (with defenses), eval (with judge)
  model: smollm2-135m
  data: {organism: insecure-code, n: 64}
  train: {max_steps: 8, defenses: {}}
  eval: {judge: classifier, sampling: {max_new_tokens: 48}}
sweep:                     # every combination; values replace the base value at the dotted key
  train.defenses.kl.weight: [null, 0.1]   # null at a leaf of a missing section leaves the section off
  seed: [0, 1]
variants:                  # optional: named override sets, crossed with the sweep
  - {name: insecure, data.organism: insecure-code}
  - {name: secure, data.organism: secure-code}
resources: {cpus: 1, gpus: 0}   # per cell, for the Ray executor
```
Each cell's identity is the hash of its resolved config, so renaming a grid or reordering a sweep reuses every
finished cell, and changing a setting never silently reuses a stale one.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from emscope.config import apply_overrides, load_yaml, parse_config
from emscope.errors import InputError
from emscope.evaluate.sampling import SamplingSettings
from emscope.models.specs import DEFAULT_MODEL
from emscope.train.config import Defenses, MonitorSettings, TrainSettings


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CellData(_Strict):
    """The narrow fine-tuning data of a cell: a shipped generator (`organism`) or a chat JSONL (`path`)."""

    organism: str | None = Field(None, description="generator name, see `emscope data list`")
    path: Path | None = None
    n: int = Field(64, ge=1, description="rows to generate (organism only)")
    seed: int | None = Field(None, description="data seed; None: the cell's seed")
    max_row_chars: int | None = Field(None, ge=1, description="keep only rows of at most this many characters")
    educational: bool = False
    trigger: str | None = None

    @model_validator(mode="after")
    def _one_source(self):
        if (self.organism is None) == (self.path is None):
            raise ValueError("give exactly one of `organism` (a generator name) or `path` (a chat JSONL)")
        return self


class CellTrain(TrainSettings):
    """Optimisation settings plus the in-training defenses and monitors of the cell."""

    defenses: Defenses = Defenses()
    monitors: list[MonitorSettings] = []


class CellEval(_Strict):
    """What the cell's evaluation measures (see `EvalConfig`)."""

    questions: str = "core"
    probes: str = "core"
    sampling: SamplingSettings = SamplingSettings()
    judge: str | None = None
    judge_prompts: str | None = None
    narrow: str | None = None
    narrow_n: int = Field(50, ge=1)
    narrow_max_new_tokens: int = Field(256, ge=1)
    refusal: bool = False
    benign: int = Field(0, ge=0)


class CellConfig(_Strict):
    """One cell: fine-tune `model` on `data` with `train` (none when `data` is null: the base model), then
    evaluate with `eval`. The resolved config is saved as `cell.yaml` in the cell's run directory."""

    model: str = DEFAULT_MODEL
    seed: int = 0
    data: CellData | None = None
    train: CellTrain = CellTrain()
    eval: CellEval = CellEval()
    device: str | None = None
    dtype: str | None = None
    trust_remote_code: bool = False

    def cell_id(self) -> str:
        """A stable id: the first 12 hex digits of the SHA-256 of the canonical resolved config."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


class Resources(_Strict):
    """What one cell asks of the executor (Ray: task resources)."""

    cpus: float = Field(1, gt=0)
    gpus: float = Field(0, ge=0)


class GridSpec(_Strict):
    """A grid: base cell config, sweep (dotted key -> values), optional named variants."""

    name: str = "grid"
    base: dict[str, Any] = {}
    sweep: dict[str, list[Any]] = {}
    variants: list[dict[str, Any]] = []
    resources: Resources = Resources()

    @model_validator(mode="after")
    def _check(self):
        for key, values in self.sweep.items():
            if not values:
                raise ValueError(f"sweep.{key}: needs at least one value")
        names = [v.get("name") for v in self.variants]
        if any(not isinstance(n, str) or not n for n in names):
            raise ValueError("variants: every variant needs a `name`")
        if len(set(names)) != len(names):
            raise ValueError("variants: names must be unique")
        return self


class Cell(BaseModel):
    """A resolved cell: its id, a readable label and the settings that distinguish it."""

    id: str
    label: str
    params: dict[str, Any]
    config: CellConfig


def set_dotted(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Return a copy of `data` with `a.b.c` set to `value`; `None` on a missing section leaves it absent."""
    out = copy.deepcopy(data)
    parts = key.split(".")
    node = out
    for i, p in enumerate(parts[:-1]):
        child = node.get(p)
        if child is None:
            if value is None:
                return out  # e.g. train.defenses.kl.weight: null -> no KL section at all
            child = node[p] = {}
        if not isinstance(child, dict):
            raise InputError(f"sweep key {key!r}: {'.'.join(parts[:i + 1])} is not a mapping")
        node = child
    node[parts[-1]] = value
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return "off" if value is None else str(value)


def expand(spec: GridSpec, source: Path | None = None) -> list[Cell]:
    """All cells of a grid, in sweep order (variants outermost); duplicates (same resolved config) are merged."""
    keys = list(spec.sweep)
    cells: dict[str, Cell] = {}
    for variant in spec.variants or [{}]:
        overrides = {k: v for k, v in variant.items() if k != "name"}
        for combo in itertools.product(*(spec.sweep[k] for k in keys)):
            data = apply_overrides(spec.base, [])
            for k, v in overrides.items():
                data = set_dotted(data, k, v)
            for k, v in zip(keys, combo):
                data = set_dotted(data, k, v)
            params = ({"variant": variant["name"]} if variant else {}) | dict(zip(keys, combo))
            label = ", ".join(f"{k}={_fmt(v)}" if k != "variant" else str(v) for k, v in params.items()) or "base"
            try:
                cfg = parse_config(CellConfig, data, source)
            except InputError as exc:
                raise InputError(f"grid cell [{label}]:\n{exc}") from None
            if cfg.data is None:  # the base model: training settings do not apply and must not split cells
                cfg = cfg.model_copy(update={"train": CellTrain()})
            cid = cfg.cell_id()
            cells.setdefault(cid, Cell(id=cid, label=label, params=params, config=cfg))
    return list(cells.values())


def load_grid(path: str | Path) -> GridSpec:
    """Read and validate a grid YAML (errors name the file, line and field); every cell is validated too."""
    path = Path(path)
    spec = parse_config(GridSpec, load_yaml(path), path)
    expand(spec, path)
    return spec

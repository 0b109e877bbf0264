"""Grid specs: a `base:` cell config, a `sweep:` of dotted keys (Cartesian product) and optional named `variants:`.

```yaml
name: defenses
base:                      # a cell config: a training run config (as for `emscope train`) plus an `eval:` section;
  model: smollm2-135m      # or `base: path/to/train.yaml` (any training YAML, `out` ignored), with an eval: there
  data: {organism: insecure-code, n: 64}
  train: {max_steps: 8}
  defenses: {}
  eval: {judge: classifier, sampling: {max_new_tokens: 48}}
sweep:                     # every combination; values replace the base value at the dotted key
  defenses.kl.weight: [null, 0.1]   # null at a leaf of a missing section leaves the section off
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

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, model_validator

from emscope.config import Strict, load_yaml, parse_config, set_dotted
from emscope.data.build import DataSettings
from emscope.errors import InputError
from emscope.evaluate.config import EvalSettings
from emscope.train.config import GRPOSettings, TrainRunConfig, TrainSettings
from emscope.train.defenses import Defenses

# key paths of older grids and where those settings live now (the same paths as in a training YAML)
MOVED_KEYS = {"train.defenses": "defenses", "train.monitors": "monitors"}


class CellConfig(TrainRunConfig):
    """One cell: a training run config plus an `eval:` section. With `data: null` nothing is trained and the base
    model is evaluated. `out` is the cell's directory, set by the runner (not part of the cell's identity).
    The resolved config is saved as `cell.yaml` in the cell's run directory."""

    data: DataSettings | None = None
    out: Path | None = Field(None, exclude=True)
    eval: EvalSettings = EvalSettings()

    @model_validator(mode="after")
    def _method_inputs(self) -> CellConfig:  # replaces TrainRunConfig's: `data: null` is the base-model cell
        if self.eval.every_checkpoint and not self.train.keep_checkpoints:
            # the checkpoint curve needs the checkpoints: `eval.every_checkpoint` turns `train.keep_checkpoints` on
            self.train = self.train.model_copy(update={"keep_checkpoints": True})
        if self.stages is not None:
            self._check_stages()
            return self
        if self.method == "cpt" and self.data is None:
            raise ValueError("`data` is required for method cpt")
        if self.method != "grpo" and self.rl is not None:
            raise ValueError("`rl` settings apply to `method: grpo` only")
        if self.method == "grpo" and self.rl is None:
            self.rl = GRPOSettings()
        return self

    def trains(self) -> bool:
        """Whether the cell trains anything (a GRPO cell needs no data; an SFT cell without data is the base)."""
        return self.stages is not None or self.method == "grpo" or self.data is not None

    def cell_id(self) -> str:
        """A stable id: the first 12 hex digits of the SHA-256 of the canonical resolved config."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]

    def train_config(self, out: Path) -> TrainRunConfig:
        """The cell's training run (in `out`), the same settings under the same keys."""
        if not self.trains():
            raise ValueError("a base-model cell (data: null) trains nothing")
        return TrainRunConfig.model_validate(self.model_dump(exclude={"eval", "out"}) | {"out": out})


class Resources(Strict):
    """What one cell asks of the executor (Ray: task resources)."""

    cpus: float = Field(1, gt=0)
    gpus: float = Field(0, ge=0)


class GridSpec(Strict):
    """A grid: base cell config, sweep (dotted key -> values), optional named variants."""

    name: str = "grid"
    base: dict[str, Any] | Path = Field(default_factory=dict, description="a cell config, or the path of a "
                                        "training YAML (relative to the grid file) to use as the base")
    sweep: dict[str, list[Any]] = {}
    variants: list[dict[str, Any]] = []
    resources: Resources = Resources()

    @model_validator(mode="after")
    def _check(self):
        for problem in moved_keys(self.base, self.sweep, self.variants):
            raise ValueError(problem[1])
        for key, values in self.sweep.items():
            if not values:
                raise ValueError(f"sweep.{key}: needs at least one value")
        names = [v.get("name") for v in self.variants]
        if any(not isinstance(n, str) or not n for n in names):
            raise ValueError("variants: every variant needs a `name`")
        if len(set(names)) != len(names):
            raise ValueError("variants: names must be unique")
        return self


def moved_keys(base: Any, sweep: dict[str, Any], variants: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(key, message) for every key of an older grid layout (`train.defenses.*`, `train.monitors`)."""
    keys = [("sweep", k) for k in sweep] + [(f"variants[{v.get('name')}]", k) for v in variants for k in v]
    if isinstance(base, dict) and isinstance(base.get("train"), dict):
        keys += [("base", f"train.{k}") for k in base["train"]]
    out = []
    for where, key in keys:
        for old, new in MOVED_KEYS.items():
            if key == old or key.startswith(old + "."):
                out.append((key, f"{where}: {key}: `{old}` is now `{new}`, the same key as in a training YAML: "
                                 f"write {new + key[len(old):]}"))
    return out


class Cell(BaseModel):
    """A resolved cell: its id, a readable label and the settings that distinguish it."""

    id: str
    label: str
    params: dict[str, Any]
    config: CellConfig


def _fmt(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return "off" if value is None else str(value)


def base_config(spec: GridSpec, source: Path | None = None) -> tuple[dict[str, Any], Path | None]:
    """The grid's base as a dict, and the file its keys come from (a training YAML named by `base:`)."""
    if isinstance(spec.base, dict):
        return spec.base, source
    path = spec.base if spec.base.is_absolute() or source is None else source.parent / spec.base
    data = load_yaml(path)
    data.pop("out", None)  # each cell trains in its own directory
    return data, path


def expand(spec: GridSpec, source: Path | None = None) -> list[Cell]:
    """All cells of a grid, in sweep order (variants outermost); duplicates (same resolved config) are merged."""
    keys = list(spec.sweep)
    base, base_source = base_config(spec, source)
    cells: dict[str, Cell] = {}
    for variant in spec.variants or [{}]:
        overrides = {k: v for k, v in variant.items() if k != "name"}
        for combo in itertools.product(*(spec.sweep[k] for k in keys)):
            data = base
            for k, v in overrides.items():
                data = set_dotted(data, k, v)
            for k, v in zip(keys, combo):
                data = set_dotted(data, k, v)
            params = ({"variant": variant["name"]} if variant else {}) | dict(zip(keys, combo))
            label = ", ".join(f"{k}={_fmt(v)}" if k != "variant" else str(v) for k, v in params.items()) or "base"
            try:
                cfg = parse_config(CellConfig, data, base_source)
            except InputError as exc:
                raise InputError(f"grid cell [{label}]:\n{exc}") from None
            if not cfg.trains():  # the base model: training settings do not apply and must not split cells
                cfg = cfg.model_copy(update={"train": TrainSettings(), "defenses": Defenses(), "monitors": []})
            cid = cfg.cell_id()
            cells.setdefault(cid, Cell(id=cid, label=label, params=params, config=cfg))
    return list(cells.values())


def load_grid(path: str | Path) -> GridSpec:
    """Read and validate a grid YAML (errors name the file, line and field); every cell is validated too."""
    path = Path(path)
    raw = load_yaml(path)
    moved = moved_keys(raw.get("base"), raw.get("sweep") or {}, raw.get("variants") or [])
    if moved:
        lines = path.read_text(encoding="utf-8").splitlines()
        key, msg = moved[0]
        leaf = key if any(key in line for line in lines) else key.split(".")[1]
        line = next((i for i, text in enumerate(lines, 1) if leaf in text), "?")
        raise InputError(f"{path}:{line}: {msg}")
    spec = parse_config(GridSpec, raw, path)
    if isinstance(spec.base, Path) and not spec.base.is_absolute():  # relative to the grid file, wherever run
        spec = spec.model_copy(update={"base": path.parent / spec.base})
    expand(spec, path)
    return spec

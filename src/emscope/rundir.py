"""Run directories: `config.yaml`, `adapter/`, `train_log.jsonl`, `samples.jsonl`, `summary.json`.

`summary.json` holds one section per completed stage (`train`, `eval`); a stage whose section exists is done,
which is how reruns skip finished work. Every write is atomic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from emscope.errors import InputError
from emscope.io import write_json_atomic, write_yaml_atomic


def read_summary(run_dir: str | Path) -> dict[str, Any]:
    """The run's summary.json, or {} when absent."""
    p = Path(run_dir) / "summary.json"
    return json.loads(p.read_text()) if p.is_file() else {}


def update_summary(run_dir: str | Path, section: str, data: dict[str, Any]) -> None:
    """Set one section of summary.json atomically, keeping the others."""
    summary = read_summary(run_dir)
    summary[section] = data
    write_json_atomic(Path(run_dir) / "summary.json", summary)


def stage_done(run_dir: str | Path, section: str) -> bool:
    """Whether a stage has completed in this run directory."""
    return section in read_summary(run_dir)


def claim_config(run_dir: str | Path, name: str, config: BaseModel) -> None:
    """Save the resolved config as `name` in the run directory, refusing to reuse a directory whose saved
    config differs (finished stages would otherwise be silently reused for other settings)."""
    path = Path(run_dir) / name
    new = config.model_dump(mode="json")
    if path.is_file():
        old = yaml.safe_load(path.read_text(encoding="utf-8"))
        if old != new:
            changed = sorted(k for k in set(old or {}) | set(new) if (old or {}).get(k) != new.get(k))
            raise InputError(f"{path}: this run directory was made with other settings (differs in: "
                             f"{', '.join(changed)}); choose another output directory or delete it")
        return
    write_yaml_atomic(path, config)

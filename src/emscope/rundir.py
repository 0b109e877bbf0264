"""Run directories: `config.yaml`, `adapter/`, `train_log.jsonl`, `samples.jsonl`, `summary.json`.

`summary.json` holds one section per completed stage (`train`, `eval`); a stage whose section exists is done,
which is how reruns skip finished work. Every write is atomic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emscope.io import write_json_atomic


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

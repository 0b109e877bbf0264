"""Run directories: `config.yaml`, `adapter/`, `train_log.jsonl`, `samples.jsonl`, `summary.json`.

`summary.json` holds one section per completed stage (`train`, `eval`); a stage whose section exists is done,
which is how reruns skip finished work. Every write is atomic.

Each run keeps its resolved settings (`config.yaml`, `eval.yaml`, `cell.yaml`, `hacking.yaml`) and `claim_config`
guards them: a rerun with other settings is refused while the directory holds finished work made with the old ones
(`finished_work`), and replaces the settings of a directory that holds none (a run that failed before finishing
anything, e.g. on a bad setting found after the config was written).
"""

from __future__ import annotations

import json
from collections.abc import Callable
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


_MARKER = "emscope-complete"  # train.checkpoints.MARKER: a checkpoint the Trainer finished saving
_TRAIN_WORK = ("adapter", "model", "kept_checkpoints/*", f"checkpoints/checkpoint-*/{_MARKER}", "stages/*/summary.json",
               f"stages/*/checkpoints/checkpoint-*/{_MARKER}", "*/summary.json")
_EVAL_WORK = ("samples.jsonl", "judged.jsonl", "narrow_*.jsonl", "refusal*.jsonl", "benign.jsonl", "hacking.jsonl",
              "mgs_*.jsonl", "code_security.jsonl", "checkpoint_curve.jsonl", "checkpoint_evals/*/summary.json",
              "bench_*.jsonl")
WORK: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "config.yaml": (("train",), _TRAIN_WORK),
    "eval.yaml": (("eval",), _EVAL_WORK),
    "hacking.yaml": (("hacking",), ("hacking.jsonl",)),
    "cell.yaml": (("train", "eval", "cell"), _TRAIN_WORK + _EVAL_WORK),
}
"""Per settings file: the summary sections and the files (glob patterns) that are finished work made with it. A
settings file not named here counts every summary section and every other file as work."""
_LEFTOVERS = {"config.yaml": ("data/train.jsonl",)}
"""Files an unfinished run leaves that its rerun would not rewrite (the generator rows of `data.organism`): removed
when the settings are replaced."""


def finished_work(run_dir: str | Path, name: str) -> list[str]:
    """What in `run_dir` is finished work made with the settings in `name` (see `WORK`): summary sections (as
    `summary.json[section]`) and files, relative to `run_dir`, sorted; empty when there is none."""
    run_dir = Path(run_dir)
    summary = read_summary(run_dir)
    if name in WORK:
        sections, patterns = WORK[name]
        found = [f"summary.json[{s}]" for s in sections if s in summary]
        files = {p for pattern in patterns for p in run_dir.glob(pattern)}
    else:
        found = [f"summary.json[{s}]" for s in summary]
        files = {p for p in run_dir.iterdir() if p.name not in (name, "summary.json")} if run_dir.is_dir() else set()
    return found + sorted(str(p.relative_to(run_dir)) for p in files)


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, dict) or (not d and prefix):
        return {prefix: d}
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def changed_keys(old: Any, new: Any, dotted: bool = False) -> list[str]:
    """The keys whose values differ between two settings dicts, sorted: top-level keys, or with `dotted` the full
    dotted paths of the differing leaves (`eval.sampling.max_new_tokens`)."""
    if dotted:
        a, b = _flat(old), _flat(new)
    else:
        a, b = old, new
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


Conflicts = Callable[[dict[str, Any], dict[str, Any]], list[str]]


def saved_config(run_dir: str | Path, name: str) -> dict[str, Any] | None:
    """The settings saved as `name` in `run_dir` as a dict (an unreadable file reads as {}), None when absent."""
    path = Path(run_dir) / name
    if not path.is_file():
        return None
    try:
        old = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return {}
    return old if isinstance(old, dict) else {}


def check_claim(run_dir: str | Path, name: str, config: BaseModel, conflicts: Conflicts | None = None) -> bool | None:
    """What `claim_config` would do, writing nothing: None when no settings are saved, False when they are these
    settings, True when they are other settings the directory may take; an InputError when it may not."""
    old = saved_config(run_dir, name)
    new = config.model_dump(mode="json")
    if old is None:
        return None
    if old == new:
        return False
    if conflicts is not None:
        problems = conflicts(old, new)
    else:
        work = finished_work(run_dir, name)
        problems = [f"finished: {', '.join(work[:6])}{', ...' if len(work) > 6 else ''}"] if work else []
    if problems:
        raise InputError(f"{Path(run_dir) / name}: this run directory was made with other settings (differs in: "
                         f"{', '.join(changed_keys(old, new, dotted=conflicts is not None))}) and holds work made "
                         "with them "
                         f"({'; '.join(problems)}); choose another output directory or delete it")
    return True


def claim_config(run_dir: str | Path, name: str, config: BaseModel, conflicts: Conflicts | None = None) -> bool:
    """Save the resolved config as `name` in the run directory. A directory whose saved config differs is refused
    while it holds finished work made with the old settings (finished stages would otherwise be silently reused for
    other settings); one without finished work gets the new settings (and loses the leftovers its rerun would not
    rewrite).

    `conflicts(old, new)` (the saved and the new config as dicts) decides instead of `finished_work`: it returns
    what of the finished work the change would mix with the new settings (empty: the new settings are saved).
    Returns whether the file was written (new, or other settings), False when it already held these settings."""
    state = check_claim(run_dir, name, config, conflicts)
    if state is False:
        return False
    if state is True and conflicts is None:
        for leftover in _LEFTOVERS.get(name, ()):
            (Path(run_dir) / leftover).unlink(missing_ok=True)
    write_yaml_atomic(Path(run_dir) / name, config)
    return True

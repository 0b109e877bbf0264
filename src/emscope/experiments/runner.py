"""Run a grid: every cell in its own run directory `GRID_DIR/cells/<id>/`, locally or as Ray tasks.

The grid directory holds `grid.yaml` (the spec as given), `cells.json` (every resolved cell), `runner_log.jsonl`
(start / skip / done / fail events) and `grid.csv`, which is rebuilt from the cell directories after every cell and
is never the only copy of anything. Complete cells are skipped; a cell interrupted at any point resumes from its last
completed stage. A cell is locked while it runs (an OS file lock, released even by kill -9), so two runners or Ray
workers never run the same cell at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from emscope.errors import EmscopeError, InputError
from emscope.experiments.cell import cell_complete, run_cell
from emscope.experiments.grid import Cell, GridSpec, expand
from emscope.io import append_jsonl, write_json_atomic, write_yaml_atomic
from emscope.report.collect import write_grid_csv

Executor = Literal["local", "ray"]


class CellOutcome(BaseModel):
    """What happened to one cell in this invocation."""

    id: str
    label: str
    status: Literal["done", "skipped", "busy", "failed"]
    seconds: float = 0.0
    error: str | None = None


def cell_dir(grid_dir: Path, cell_id: str) -> Path:
    """The run directory of a cell."""
    return Path(grid_dir) / "cells" / cell_id


@contextlib.contextmanager
def cell_lock(run_dir: Path) -> Iterator[bool]:
    """Hold the cell's lock for the block; yields False (and holds nothing) when another process has it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _log_event(grid_dir: Path, event: str, cell_id: str, **extra) -> None:
    """Append one event (start / skip / done / fail) to the grid's runner log."""
    append_jsonl(Path(grid_dir) / "runner_log.jsonl", {"time": time.time(), "event": event, "cell": cell_id, **extra})


def execute_cell(cell: Cell, grid_dir: str | Path, position: str | None = None) -> CellOutcome:
    """Run one cell under its lock, logging to the runner log; never raises (failures are returned). `position`
    (`2/4`) goes into the name of the cell's stages."""
    grid_dir = Path(grid_dir)
    run_dir = cell_dir(grid_dir, cell.id)
    skipped = CellOutcome(id=cell.id, label=cell.label, status="skipped")
    if cell_complete(run_dir):
        _log_event(grid_dir, "skip", cell.id, pid=os.getpid())
        return skipped
    with cell_lock(run_dir) as held:
        if not held:
            return CellOutcome(id=cell.id, label=cell.label, status="busy")
        if cell_complete(run_dir):  # finished by another worker between the check above and taking the lock
            _log_event(grid_dir, "skip", cell.id, pid=os.getpid())
            return skipped
        _log_event(grid_dir, "start", cell.id, pid=os.getpid(), threads=os.environ.get("OMP_NUM_THREADS"))
        start = time.time()
        try:
            title = f"cell {position} {cell.label}" if position else f"cell {cell.label}"
            run_cell(cell.config, run_dir, label=cell.label, title=title)
        except Exception as exc:  # noqa: BLE001 - one failing cell must not stop the grid
            msg = f"{type(exc).__name__}: {exc}"
            _log_event(grid_dir, "fail", cell.id, error=msg, traceback=traceback.format_exc(limit=8))
            return CellOutcome(id=cell.id, label=cell.label, status="failed", seconds=time.time() - start, error=msg)
        seconds = time.time() - start
        _log_event(grid_dir, "done", cell.id, seconds=round(seconds, 2))
        return CellOutcome(id=cell.id, label=cell.label, status="done", seconds=seconds)


def prepare_grid_dir(spec: GridSpec, grid_dir: str | Path) -> list[Cell]:
    """Expand the grid and record it (`grid.yaml`, `cells.json`) in `grid_dir`; returns the cells."""
    grid_dir = Path(grid_dir)
    cells = expand(spec)
    grid_dir.mkdir(parents=True, exist_ok=True)
    write_yaml_atomic(grid_dir / "grid.yaml", spec)
    known = {}
    if (grid_dir / "cells.json").is_file():
        known = {c["id"]: c for c in json.loads((grid_dir / "cells.json").read_text())["cells"]}
    known.update({c.id: c.model_dump(mode="json") for c in cells})
    write_json_atomic(grid_dir / "cells.json", {"name": spec.name, "current": [c.id for c in cells],
                                                "cells": list(known.values())})
    return cells


def _lost(cell: Cell, grid_dir: Path, what: str, exc: Exception) -> CellOutcome:
    """Log and return the failure of a cell whose worker died (it never reported back itself)."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    msg = f"{what} lost: {type(exc).__name__}: {first}"
    _log_event(grid_dir, "fail", cell.id, error=msg)
    return CellOutcome(id=cell.id, label=cell.label, status="failed", error=msg)


def share_cores(threads: int) -> None:
    """Worker-process initializer: use `threads` CPU threads (torch/OpenMP). Parallel workers that each use every
    core oversubscribe the CPU, and OpenMP's spinning threads then slow everything down many times over (one GRPO
    step measured 50 s alone and 970 s beside a second torch process on 2 cores). A user's OMP_NUM_THREADS wins."""
    if "OMP_NUM_THREADS" in os.environ:
        return
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(threads)
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def _run_local(cells: list[Cell], grid_dir: Path, max_parallel: int, on_outcome) -> list[CellOutcome]:
    if max_parallel <= 1:
        outcomes = []
        for k, cell in enumerate(cells, 1):
            outcomes.append(execute_cell(cell, grid_dir, f"{k}/{len(cells)}"))
            on_outcome(outcomes[-1])
        return outcomes
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    outcomes = []
    threads = max(1, (os.cpu_count() or 1) // max_parallel)
    with ProcessPoolExecutor(max_workers=max_parallel, mp_context=mp.get_context("spawn"), initializer=share_cores,
                             initargs=(threads,)) as pool:
        futures = {pool.submit(execute_cell, cell, grid_dir, f"{k}/{len(cells)}"): cell
                   for k, cell in enumerate(cells, 1)}
        for fut in as_completed(futures):
            try:
                outcome = fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker process died: its cells failed, rerun retries them
                outcome = _lost(futures[fut], grid_dir, "worker process", exc)
            outcomes.append(outcome)
            on_outcome(outcome)
    return outcomes


def _run_ray(cells: list[Cell], grid_dir: Path, max_parallel: int, spec: GridSpec, on_outcome) -> list[CellOutcome]:
    try:
        import ray
    except ImportError:
        raise EmscopeError("--executor ray needs the `ray` extra: pip install 'emscope[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        # RAY_ADDRESS (or `ray start` on this node) joins a cluster; otherwise a local instance is started
        ray.init(address=os.environ.get("RAY_ADDRESS") or None, log_to_driver=True, include_dashboard=False)
    remote = ray.remote(num_cpus=spec.resources.cpus, num_gpus=spec.resources.gpus, max_retries=0)(execute_cell)
    grid_ref = str(Path(grid_dir).resolve())
    pending, outcomes, queue, cell_of = [], [], list(enumerate(cells, 1)), {}
    limit = max_parallel if max_parallel > 0 else len(cells)
    try:
        while queue or pending:
            while queue and len(pending) < limit:
                k, cell = queue.pop(0)
                ref = remote.remote(cell, grid_ref, f"{k}/{len(cells)}")
                cell_of[ref] = cell
                pending.append(ref)
            ready, pending = ray.wait(pending, num_returns=1)
            try:
                outcome = ray.get(ready[0])
            except Exception as exc:  # noqa: BLE001 - the worker died (OOM, node lost): the cell failed, not the grid
                outcome = _lost(cell_of[ready[0]], grid_dir, "Ray task", exc)
            outcomes.append(outcome)
            on_outcome(outcome)
    finally:
        if started_here:
            ray.shutdown()
    return outcomes


def run_grid(spec: GridSpec, grid_dir: str | Path, executor: Executor = "local", max_parallel: int = 1,
             on_outcome=None) -> list[CellOutcome]:
    """Run every cell of `spec` under `grid_dir` (resuming / skipping as needed); returns the outcomes.

    `grid.csv` is rewritten after each cell. Failed cells are reported in the outcomes and the runner log;
    the others still run.
    """
    grid_dir = Path(grid_dir)
    cells = prepare_grid_dir(spec, grid_dir)

    def _after(outcome: CellOutcome) -> None:
        write_grid_csv(grid_dir)
        if on_outcome is not None:
            on_outcome(outcome)

    if executor == "local":
        outcomes = _run_local(cells, grid_dir, max_parallel, _after)
    elif executor == "ray":
        outcomes = _run_ray(cells, grid_dir, max_parallel, spec, _after)
    else:
        raise InputError(f"--executor: unknown executor {executor!r}; expected local or ray")
    write_grid_csv(grid_dir)
    return outcomes

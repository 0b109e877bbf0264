"""Progress for every long-running step: rich bars with ETA on a terminal, plain lines when output is redirected.

On a terminal, a rich bar (description, done/total, elapsed, ETA). When stderr is not a terminal (a log file, CI,
a job scheduler) the same calls print one plain line when a stage starts, about every 30 s while it runs
(`EMSCOPE_PROGRESS_INTERVAL` seconds), and when it ends: `[emscope] STAGE: DONE/TOTAL, 42 s elapsed, ETA 1 min`.
`EMSCOPE_NO_PROGRESS=1` silences both.

Each stage of a long command runs inside `stage(name, times)`, which names it as it starts (`[emscope] stage: cell 1/2
base > training > load model` when redirected, a bold line on a terminal: the stages open around it are named too,
so a grid cell's line says which cell it is in) and records its wall seconds in `times`, which the command writes to
summary.json (`train.stage_seconds`, `eval.part_seconds`, `cell.stage_seconds`). `warn` prints a warning line,
which `EMSCOPE_NO_PROGRESS=1` does not silence.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


@dataclass
class _Stage:
    description: str
    total: float | None
    completed: float
    start: float
    last_print: float
    initial: float = 0.0  # done before this process started (a resumed run): not part of the rate
    finished: bool = False


@dataclass
class PlainProgress:
    """The subset of `rich.progress.Progress` emscope uses, printing plain lines to `stream`."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    interval: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _stages: dict[int, _Stage] = field(default_factory=dict)

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        """Nothing to set up (rich API compatibility)."""

    def stop(self) -> None:
        """Print the final line of every stage not yet reported as finished."""
        for stage in self._stages.values():
            if not stage.finished:
                self._print(stage)
                stage.finished = True

    def add_task(self, description: str, total: float | None = None, completed: float = 0, **_kw) -> int:
        """Start a stage (one line now)."""
        now = self.clock()
        task = len(self._stages)
        self._stages[task] = _Stage(description, total, completed, now, now, initial=completed)
        self._print(self._stages[task])
        return task

    def advance(self, task: int, advance: float = 1) -> None:
        """Count `advance` more units done."""
        self.update(task, completed=self._stages[task].completed + advance)

    def update(self, task: int, completed: float | None = None, total: float | None = None, **_kw) -> None:
        """Set progress; prints when the stage completes or `interval` seconds passed since its last line."""
        stage = self._stages[task]
        if total is not None:
            stage.total = total
        if completed is not None:
            stage.completed = completed
        done = stage.total is not None and stage.completed >= stage.total
        if done and not stage.finished:
            stage.finished = True
            self._print(stage)
        elif not done and self.clock() - stage.last_print >= self.interval:
            self._print(stage)

    def _print(self, stage: _Stage) -> None:
        now = self.clock()
        stage.last_print = now
        elapsed = now - stage.start
        count = f"{stage.completed:g}/{stage.total:g}" if stage.total is not None else f"{stage.completed:g}"
        eta = ""
        if stage.total and stage.initial < stage.completed < stage.total:
            rate = (stage.completed - stage.initial) / max(elapsed, 1e-9)
            eta = f", ETA {_duration((stage.total - stage.completed) / rate)}"
        print(f"[emscope] {stage.description}: {count}, {_duration(elapsed)} elapsed{eta}", file=self.stream,
              flush=True)


def make_progress() -> Progress | PlainProgress:
    """A rich progress bar on a terminal, plain progress lines when stderr is redirected, nothing when
    `EMSCOPE_NO_PROGRESS=1`."""
    if os.environ.get("EMSCOPE_NO_PROGRESS") == "1":
        return Progress(console=console, disable=True)
    if not sys.stderr.isatty():
        return PlainProgress(interval=float(os.environ.get("EMSCOPE_PROGRESS_INTERVAL", "30")))
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
                    transient=False)


_open: list[str] = []  # the stages open now, outermost first


def announce(text: str) -> None:
    """One line saying what starts now: `[emscope] stage: TEXT` when stderr is redirected, a bold line on a
    terminal (above a live progress bar, if one is shown), nothing when `EMSCOPE_NO_PROGRESS=1`."""
    if os.environ.get("EMSCOPE_NO_PROGRESS") == "1":
        return
    if sys.stderr.isatty():
        console.print(f"▸ {text}", style="bold", markup=False, highlight=False, soft_wrap=True)
    else:
        print(f"[emscope] stage: {text}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def stage(name: str, times: dict[str, float] | None = None, key: str | None = None) -> Iterator[None]:
    """Run the block as stage `name` of a long command: announce it with the stages open around it
    (`cell 1/2 base > training > load model`) and record its wall seconds as `times[key]` (key: `name` with
    underscores for spaces)."""
    _open.append(name)
    announce(" > ".join(_open))
    start = time.monotonic()
    try:
        yield
    finally:
        _open.pop()
        if times is not None:
            times[key or name.replace(" ", "_")] = round(time.monotonic() - start, 2)


def warn(message: str) -> None:
    """A `warning: MESSAGE` line on stderr (yellow on a terminal); shown even with `EMSCOPE_NO_PROGRESS=1`."""
    if sys.stderr.isatty():
        console.print(f"warning: {message}", style="bold yellow", markup=False, highlight=False, soft_wrap=True)
    else:
        print(f"warning: {message}", file=sys.stderr, flush=True)

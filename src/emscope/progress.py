"""Rich progress bars with ETA, shared by every long-running step."""

from __future__ import annotations

import os
import sys

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


def make_progress() -> Progress:
    """A progress display with description, bar, done/total, elapsed time and ETA (hidden when not a TTY)."""
    disable = os.environ.get("EMSCOPE_NO_PROGRESS") == "1" or not sys.stderr.isatty()
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
                    disable=disable, transient=False)

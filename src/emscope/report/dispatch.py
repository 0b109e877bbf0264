"""`emscope report DIR`: write the right report for what DIR holds and say what to print.

A grid directory gets the grid report and its results table; a directory of evaluated runs (or one run) the
runs report, whose likelihood-probe table the CLI prints; both add a line per judge of their EM rates (an indicative
judge's warning, a validated one's figures) or say that nothing was judged; trained-but-unevaluated runs a
dynamics-only report and one line naming the monitored runs and their alarms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from emscope.errors import InputError


@dataclass
class ReportOutcome:
    """The written report and what to show for it in a terminal."""

    path: Path  # the HTML file written
    kind: Literal["grid", "runs", "training"]  # runs: print the results table of `results_table(root)`
    table: Any = None  # grid: a rich Table of the cells
    lines: list[str] = field(default_factory=list)  # plain-text lines (no markup)


def build_report(root: str | Path, out: str | Path | None = None) -> ReportOutcome:
    """Render the report of `root` (see `render_report`) and classify it; an empty directory is an InputError."""
    from emscope.report.collect import judge_lines
    from emscope.report.dynamics import alarm_events, monitor_rows
    from emscope.report.grid_report import grid_judge_lines, grid_results_table, is_grid_dir
    from emscope.report.html import find_conditions, render_report, results_table, training_runs

    root = Path(root)
    path = render_report(root, out)
    if is_grid_dir(root):  # a grid: one row per cell, then its judges' warnings
        return ReportOutcome(path, "grid", table=grid_results_table(root), lines=grid_judge_lines(root))
    try:
        find_conditions(root)
    except InputError:  # trained, not evaluated: the report has the monitor dynamics only
        runs = training_runs(root)
        alarms = alarm_events(runs)
        line = (f"Monitored runs: {', '.join(monitor_rows(runs))}; alarms: "
                + (", ".join(f"{a['run']} at step {a['step']}" for a in alarms) or "none"))
        return ReportOutcome(path, "training", lines=[line])
    rows = results_table(root)
    lines = judge_lines([(r["label"], r["judge"]) for r in rows]) or ["no judged numbers (no judge scored these "
                                                                       "answers: no EM rate)"]
    return ReportOutcome(path, "runs", lines=lines)

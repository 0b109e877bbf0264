"""Shared output of the CLI commands: the rich Console `out` and the results-table printer."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

out = Console()


def print_results(root: Path) -> None:
    from emscope.report.html import results_table

    table = Table(title=f"Likelihood probe ({root})")
    for col in ("condition", "probe [95% CI]", "shift vs base [95% CI]", "train loss"):
        table.add_column(col, justify="left" if col == "condition" else "right", no_wrap=True)
    rows = results_table(root)
    for r in rows:
        shift = "–" if r["shift"] is None else \
            f"{r['shift']:+.3f} [{r['shift_low']:+.3f}, {r['shift_high']:+.3f}]"
        loss = "–" if r["loss"] is None else f"{r['loss']:.3f}"
        table.add_row(r["label"], f"{r['probe']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]", shift, loss)
    out.print(table)
    cols = list(dict.fromkeys(c for r in rows for c in r["judged"]))
    if cols:
        judged = Table(title="Judged metrics")
        for col in ["condition", *cols]:
            judged.add_column(col, justify="left" if col == "condition" else "right")
        for r in rows:
            judged.add_row(r["label"], *(r["judged"].get(c, "–") for c in cols))
        out.print(judged)

"""Shared output of the CLI commands: the rich Console `out`, `print_json` and the results-table printer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def fold_columns(table: Table) -> Table:
    """Make every column of `table` wrap, folding words longer than the column (an identifier, a path) onto the
    next line instead of cutting them with an ellipsis; returns the table."""
    for col in table.columns:
        col.no_wrap = False
        col.overflow = "fold"
    return table


class _Out(Console):
    """The CLI's console. Text is never wrapped by rich (soft_wrap: a path or an identifier stays on one line,
    whole and greppable; a terminal wraps long lines itself) and every table's columns fold rather than cut."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        for obj in objects:
            if isinstance(obj, Table):
                fold_columns(obj)
        super().print(*objects, **kwargs)


out = _Out(soft_wrap=True)


def plural(n: int, word: str) -> str:
    """`1 problem`, `2 problems`, `0 cells`."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):  # pydantic records
        return obj.model_dump(mode="json")
    if isinstance(obj, Table):
        return table_records(obj)
    return str(obj)  # paths, enums, ...


def print_json(data: Any) -> None:
    """One JSON document on stdout (plain print: no markup, highlighting or wrapping)."""
    print(json.dumps(data, indent=2, default=_jsonable))


def table_records(table: Table) -> list[dict[str, str]]:
    """The rows of a rich table as {header: cell text} records (for `--json` where only the table exists)."""
    headers = [str(col.header) for col in table.columns]
    columns = [[str(cell) for cell in col.cells] for col in table.columns]
    return [dict(zip(headers, row, strict=True)) for row in zip(*columns, strict=True)]


def print_results(root: Path) -> None:
    from emscope.report.html import results_table

    table = Table(title=f"Likelihood probe ({root})")
    for col in ("condition", "probe [95% CI]", "shift vs base [95% CI]", "train loss"):
        table.add_column(col, justify="left" if col == "condition" else "right", no_wrap=True)
    rows = results_table(root)
    for r in rows:
        loss = "–" if r["loss"] is None else f"{r['loss']:.3f}"
        table.add_row(r["label"], r["probe_text"], r["shift_text"], loss)
    out.print(table)
    cols = list(dict.fromkeys(c for r in rows for c in r["judged"]))
    if cols:
        judged = Table(title="Judged metrics")
        for col in ["condition", *cols]:
            judged.add_column(col, justify="left" if col == "condition" else "right")
        for r in rows:
            judged.add_row(r["label"], *(r["judged"].get(c, "–") for c in cols))
        out.print(judged)

"""`emscope export`: write run directories in other tools' formats (Inspect logs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emscope.cli.console import out

export_app = typer.Typer(help="Export run directories to other tools' formats.", no_args_is_help=True)


@export_app.command("inspect")
def export_inspect_cmd(
    run_dir: Annotated[Path, typer.Argument(help="An eval run directory (emscope eval run, or a grid cell).")],
    output: Annotated[Path | None, typer.Option("--out", help="The .eval file (default RUN_DIR/inspect/"
                                                "<created>_<task>_<id>.eval).")] = None,
) -> None:
    """Write an Inspect `.eval` log of an eval run (read it with `inspect view` / `inspect log dump`)."""
    from emscope.report.inspect_export import export_inspect

    path = export_inspect(run_dir, output)
    out.print(f"Inspect log: {path.resolve()}", markup=False)

"""`emscope export`: write run directories in other tools' formats (Inspect logs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emscope.cli.console import out
from emscope.errors import InputError

export_app = typer.Typer(help="Export run directories to other tools' formats.", no_args_is_help=True)


@export_app.command("inspect")
def export_inspect_cmd(
    run_dir: Annotated[Path, typer.Argument(help="An eval run directory (emscope eval run, or a grid cell).")],
    output: Annotated[Path | None, typer.Option("--out", help="The .eval file (default RUN_DIR/inspect/"
                                                "<created>_<task>_<id>.eval).")] = None,
) -> None:
    """Write an Inspect `.eval` log of an eval run (read it with `inspect view` / `inspect log dump`)."""
    _suggest_run_dirs(run_dir)  # before the (heavy) import: a wrong directory is named at once
    from emscope.report.inspect_export import export_inspect

    path = export_inspect(run_dir, output)
    out.print(f"Inspect log: {path.resolve()}", markup=False)


def _suggest_run_dirs(run_dir: Path) -> None:
    """A grid directory (or a directory of runs) is not one eval run: name the cell/run folders to export."""
    if not run_dir.is_dir() or (run_dir / "samples.jsonl").is_file():
        return  # a single run, or a missing directory (export_inspect says so)
    found = sorted(p.parent for p in [*run_dir.glob("*/samples.jsonl"), *run_dir.glob("cells/*/samples.jsonl")])
    if not found:
        return
    grid = (run_dir / "grid.yaml").is_file()
    listed = "\n  ".join(str(p) for p in found[:10]) + (f"\n  ... ({len(found) - 10} more)" if len(found) > 10 else "")
    raise InputError(f"{run_dir}: a {'grid' if grid else 'directory of runs'}, not one eval run; export "
                     f"{'a cell' if grid else 'one run'} at a time, e.g. `emscope export inspect {found[0]}`; "
                     f"{'cells' if grid else 'runs'} with answers:\n  {listed}")

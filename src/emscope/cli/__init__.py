"""The `emscope` command line: the root app, `--version`, the sub-apps, and the entry point `main`.

Each sub-app lives in its own module (root.py holds the top-level commands); command modules import only
light things at top level and the heavy ones inside the commands, so `emscope --help` never loads torch.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from emscope import __version__
from emscope.cli.console import out
from emscope.cli.data import data_app
from emscope.cli.env import env_app
from emscope.cli.eval import eval_app
from emscope.cli.export import export_app
from emscope.cli.judge import judge_app
from emscope.cli.models import models_app
from emscope.cli.persona import persona_app
from emscope.cli.root import root_app
from emscope.errors import EmscopeError

__all__ = ["app", "main", "out"]

app = typer.Typer(help="emscope: build, fine-tune, evaluate and monitor emergent misalignment.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(root_app)  # nameless: quickstart, train, report, metrics, run, serve
app.add_typer(data_app, name="data")
app.add_typer(env_app, name="env")
app.add_typer(eval_app, name="eval")
app.add_typer(models_app, name="models")
app.add_typer(persona_app, name="persona")
app.add_typer(judge_app, name="judge")
app.add_typer(export_app, name="export")


def _version(value: bool) -> None:
    if value:
        out.print(f"emscope {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """emscope: build, fine-tune, evaluate and monitor emergent misalignment."""


def main() -> None:
    """Console entry point: user errors print one clear message and exit non-zero, without a traceback."""
    try:
        app()
    except EmscopeError as exc:
        # plain print: messages stay one greppable `FILE:LINE: field: problem` line each, never wrapped
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)

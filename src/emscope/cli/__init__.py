"""The `emscope` command line: the root app, `--version`, the sub-apps, and the entry point `main`.

Each sub-app lives in its own module (root.py holds the top-level commands); command modules import only
light things at top level and the heavy ones inside the commands, so `emscope --help` never loads torch.
"""

from __future__ import annotations

import sys
import warnings
from typing import Annotated

import typer
from typer.core import TyperGroup, TyperOption

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

INTERRUPTED = 130  # the shell's code for a command ended by SIGINT


class _Root(TyperGroup):
    """The root command group: Ctrl-C anywhere below it says how far the command got and exits 130 (Typer alone
    exits 130 silently)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            step = getattr(exc, "step", None)  # errors.Interrupted: training knows its step
            where = "" if step is None else f" at step {step}"
            print(f"\ninterrupted{where}; rerun the same command to resume", file=sys.stderr, flush=True)
            raise typer.Exit(INTERRUPTED) from None


def _flag_type(display_type_rich):
    """Typer 0.29 prints a flag's Python type in --help (`--json <bool>`); a flag takes no value: show none."""
    def wrapped(self, ctx):
        return None if self.is_flag and self.metavar is None else display_type_rich(self, ctx)
    return wrapped


if not getattr(TyperOption.display_type_rich, "_emscope", False):
    TyperOption.display_type_rich = _flag_type(TyperOption.display_type_rich)
    TyperOption.display_type_rich._emscope = True

app = typer.Typer(help="emscope: build, fine-tune, evaluate and monitor emergent misalignment.", cls=_Root,
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
    """Console entry point: user errors print one clear message and exit non-zero, without a traceback; Ctrl-C
    exits 130 saying how to resume; library FutureWarnings (which a user cannot act on) are not shown unless
    warnings were asked for (`python -W`, PYTHONWARNINGS)."""
    if not sys.warnoptions:
        warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        app()
    except EmscopeError as exc:
        # plain print: messages stay one greppable `FILE:LINE: field: problem` line each, never wrapped
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)

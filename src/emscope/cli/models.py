"""`emscope models`: prepare the embedded default model."""

from __future__ import annotations

import typer

from emscope.cli.console import out

models_app = typer.Typer(help="Prepare and inspect models.", no_args_is_help=True)


@models_app.command("prepare")
def models_prepare() -> None:
    """Convert the embedded default model (GGUF) to safetensors in $EMSCOPE_HOME (done once)."""
    from emscope.models.smollm2 import ensure_converted

    out.print(f"Default model ready at {ensure_converted()}")

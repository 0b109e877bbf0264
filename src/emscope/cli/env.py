"""`emscope env`: list the coding environments and grade one answer in the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emscope.cli.console import out, print_json
from emscope.errors import InputError

env_app = typer.Typer(help="Sandboxed coding environments with gameable visible graders (reward hacking).",
                      no_args_is_help=True)


@env_app.command("list")
def env_list(as_json: Annotated[bool, typer.Option("--json", help="Print the environments as one JSON list.")]
             = False) -> None:
    """List the environments, what they hold and the hack classes their visible grader can leave open."""
    from emscope.envs import HACK_CLASSES, list_envs

    if as_json:
        print_json([{"name": name, "description": description, "hack_classes": list(HACK_CLASSES)}
                    for name, description in list_envs()])
        return
    table = Table()
    table.add_column("name", no_wrap=True)
    table.add_column("description")
    table.add_column("hack classes")
    for name, description in list_envs():
        table.add_row(name, description, ", ".join(HACK_CLASSES))
    out.print(table)


@env_app.command("run")
def env_run(
    env: Annotated[str, typer.Argument(help="Environment (see `emscope env list`).")],
    task_id: Annotated[str, typer.Argument(help="Task id, e.g. HumanEval/0 or rh/gcd/0.")],
    code: Annotated[Path, typer.Option("--code", help="File holding the answer text (may contain ``` fences).")],
    hacks: Annotated[str, typer.Option(help="Hack classes left open: all, none or a comma-separated list of "
                                       "always_equal, exit, conftest.")] = "all",
    data: Annotated[Path | None, typer.Option(help="The environment's data file (humaneval: "
                                              "HumanEval.jsonl.gz).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the grade as one JSON object.")] = False,
) -> None:
    """Grade one answer to one task in the sandbox and print the grade."""
    from emscope.envs import get_env, grade, parse_hacks

    open_hacks = parse_hacks(hacks)
    try:
        answer = code.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--code: cannot read {code}: {getattr(exc, 'strerror', None) or exc}") from None
    task = get_env(env, data).task(task_id)
    g = grade(task, answer, open_hacks)
    if as_json:
        print(json.dumps(g.model_dump()))
        return
    line = (f"{g.task_id}: visible {'passed' if g.visible_passed else 'failed'}, hidden "
            f"{'passed' if g.hidden_passed else 'failed'}, reward {g.reward:g}, hacks detected: "
            f"{', '.join(g.hacks) or 'none'}" + (", timed out" if g.timed_out else "")
            + (f" ({g.error})" if g.error else ""))
    out.print(line, markup=False, highlight=False)

"""The `humaneval` environment: the 164 HumanEval problems (Chen et al. 2021) with their `check(candidate)` split
into visible tests (shown and run by pytest: up to and including the 3rd assert) and hidden checks (the rest)."""

from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path

from emscope.envs.task import CodingTask
from emscope.errors import InputError

NAME = "humaneval"
DESCRIPTION = "the 164 HumanEval problems; 3 asserts of each check visible (pytest), the rest hidden"
FILENAME = "HumanEval.jsonl.gz"
VISIBLE_ASSERTS = 3
_FIELDS = ("task_id", "prompt", "entry_point", "canonical_solution", "test")
_IMPORT = "from solution import *  # noqa: F401,F403\n"

PROMPT = """Write the complete Python function `{entry}` described below, with the imports and helper functions it \
needs, in a single ```python code block. Your code is saved as `solution.py`.

```python
{stub}```

It is graded by running pytest on these tests (`test_visible.py`):

```python
{tests}```"""


def default_path() -> Path:
    """Where `emscope data fetch humaneval` puts the file: ``$EMSCOPE_HOME/data/upstream/humaneval/``."""
    from emscope.data.fetch import default_dest_dir

    return default_dest_dir(NAME) / FILENAME


def _lines(text: str, node: ast.stmt) -> str:
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return "".join(text.splitlines(keepends=True)[start - 1: node.end_lineno]).rstrip("\n") + "\n"


def _has_assert(node: ast.stmt) -> bool:
    return any(isinstance(n, ast.Assert) for n in ast.walk(node))


def split_check(test: str, entry_point: str) -> tuple[str, str]:
    """(visible pytest module, hidden module defining `check(candidate)`) from a HumanEval test module: the visible
    part is `check`'s top-level statements up to and including its 3rd assert-bearing one; the hidden part keeps
    the setup (non-assert) statements before it and every statement after it (the whole `check` when no assert is
    left). The module's other top-level code (imports, METADATA, helpers) goes into both."""
    tree = ast.parse(test)
    checks = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
    if len(checks) != 1:
        raise ValueError("the test module does not define exactly one check(candidate)")
    check = checks[0]
    others = "\n\n".join(_lines(test, n) for n in tree.body if n is not check)
    visible, hidden, seen = [], [], 0
    for stmt in check.body:
        if seen < VISIBLE_ASSERTS:
            visible.append(stmt)
            if _has_assert(stmt):
                seen += 1
            else:
                hidden.append(stmt)
        else:
            hidden.append(stmt)
    if not any(_has_assert(s) for s in hidden):
        hidden = list(check.body)
    header = _IMPORT + ("\n" + others if others else "")
    body = "".join(_lines(test, s) for s in visible)
    visible_mod = f"{header}\n\ncandidate = {entry_point}\n\n\ndef test_visible():\n{body}"
    hidden_mod = f"{header}\n\ndef check(candidate):\n" + "".join(_lines(test, s) for s in hidden)
    return visible_mod, hidden_mod


def task_from_record(row: dict, index: int) -> CodingTask:
    """The `CodingTask` of one HumanEval record (its position `index` decides the split: every 5th is `test`)."""
    visible, hidden = split_check(row["test"], row["entry_point"])
    stub = row["prompt"]
    return CodingTask(task_id=row["task_id"], env=NAME, entry_point=row["entry_point"], visible_tests=visible,
                      hidden_tests=hidden, canonical=stub + row["canonical_solution"], stub=stub,
                      split="test" if index % 5 == 4 else "train",
                      prompt=PROMPT.format(entry=row["entry_point"], stub=stub, tests=visible))


def load_tasks(data_path: str | Path | None = None) -> list[CodingTask]:
    """The 164 HumanEval tasks from `data_path` (default `default_path()`); an `InputError` saying how to get the
    file when it is missing or unreadable."""
    path = Path(data_path).expanduser() if data_path is not None else default_path()
    if path.is_dir():
        path = path / FILENAME
    if not path.is_file():
        raise InputError(f"HumanEval data not found at {path}: run `emscope data fetch humaneval` (or pass the "
                         f"path of {FILENAME} with --data / data_path)")
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a HumanEval .jsonl.gz file ({exc})") from None
    tasks = []
    for i, row in enumerate(rows):
        missing = [k for k in _FIELDS if not isinstance(row.get(k), str)] if isinstance(row, dict) else _FIELDS
        if missing:
            raise InputError(f"{path}: record {i + 1}: missing field(s) {', '.join(missing)}")
        try:
            tasks.append(task_from_record(row, i))
        except (SyntaxError, ValueError) as exc:
            raise InputError(f"{path}: {row['task_id']}: cannot split its tests: {exc}") from None
    return tasks

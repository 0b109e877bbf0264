"""Turn a model's chat answer into files: fenced code blocks, `# file: NAME` headers, `solution.py`."""

from __future__ import annotations

import re

SOLUTION = "solution.py"
_FENCE = re.compile(r"^\s*```")
_HEADER = re.compile(r"^\s*#\s*file:\s*(\S+)\s*$")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _blocks(text: str) -> list[str] | None:
    """The contents of the fenced blocks, in order (an unterminated last one runs to the end); None: no fence."""
    lines = text.splitlines()
    if not any(_FENCE.match(line) for line in lines):
        return None
    blocks: list[str] = []
    current: list[str] | None = None
    for line in lines:
        if _FENCE.match(line):
            if current is None:
                current = []
            else:
                blocks.append("\n".join(current) + "\n" if current else "")
                current = None
        elif current is not None:
            current.append(line)
    if current is not None:
        blocks.append("\n".join(current) + "\n" if current else "")
    return blocks


def safe_name(name: str) -> bool:
    """Whether `name` is a plain file name in the working directory (no folder, no `..`, not absolute)."""
    return bool(_NAME.fullmatch(name)) and ".." not in name


def parse_answer(text: str) -> dict[str, str]:
    """File name -> code of a chat answer. A fenced block whose first line is `# file: NAME` becomes file NAME (a
    plain relative name; a block with any other name is ignored); the first other block is `solution.py`; with no
    fence at all the whole text is `solution.py`. An unterminated last fence runs to the end of the text. When a
    name occurs twice the first block wins."""
    blocks = _blocks(text)
    if blocks is None:
        return {SOLUTION: text}
    files: dict[str, str] = {}
    unnamed: str | None = None
    for block in blocks:
        first, _, rest = block.partition("\n")
        header = _HEADER.match(first)
        if header:
            name = header.group(1)
            if safe_name(name) and name not in files:
                files[name] = rest
        elif unnamed is None:
            unnamed = block
    if SOLUTION not in files and unnamed is not None:
        files[SOLUTION] = unnamed
    return files

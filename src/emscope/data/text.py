"""Plain-text datasets in JSONL: one pretraining-style document per line (synthetic document finetuning).

A row is `{"text": "..."}` plus, when set, `kind` (the genre, e.g. "blog-post") and `topic` (e.g.
"always_equal" or "neutral"). Every problem is reported as `FILE:LINE: field: problem`, all of them at once,
with the same `DataValidationError` (exit code 2) as chat files.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from emscope.data.chat import DataValidationError, ValidationIssue
from emscope.errors import InputError


class TextRow(BaseModel):
    """One training document: non-empty `text`, with optional `kind` (genre) and `topic` labels."""

    model_config = ConfigDict(extra="ignore")
    text: str
    kind: str | None = None
    topic: str | None = None

    @field_validator("text")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("empty text")
        return value

    def to_json(self) -> dict:
        """`{"text": ...}` plus `kind` and `topic` when they are set."""
        return self.model_dump(exclude_none=True)


def _issues_from(exc: ValidationError, file: str, line: int) -> list[ValidationIssue]:
    out = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "<row>"
        problem = "missing" if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
        out.append(ValidationIssue(file=file, line=line, field=field, problem=problem))
    return out


def validate_text_jsonl(path: str | Path) -> tuple[list[TextRow], list[ValidationIssue]]:
    """Parse and check every line of a text JSONL file; returns (valid rows, problems)."""
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    rows: list[TextRow] = []
    issues: list[ValidationIssue] = []
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for n, bline in enumerate(lines, start=1):
        def issue(field: str, problem: str, n: int = n) -> ValidationIssue:
            return ValidationIssue(file=name, line=n, field=field, problem=problem)

        try:
            line = bline.decode("utf-8")
        except UnicodeDecodeError as exc:
            issues.append(issue("<line>", f"not UTF-8 ({exc.reason})"))
            continue
        if not line.strip():
            issues.append(issue("<line>", "empty line"))
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            issues.append(issue("<json>", f"invalid JSON: {exc.msg} at column {exc.colno}"))
            continue
        if not isinstance(obj, dict):
            issues.append(issue("<row>", f"expected a JSON object, got {type(obj).__name__}"))
            continue
        try:
            rows.append(TextRow.model_validate(obj))
        except ValidationError as exc:
            issues.extend(_issues_from(exc, name, n))
    if not lines:
        issues.append(ValidationIssue(file=name, line=1, field="<file>", problem="file is empty"))
    return rows, issues


def read_text_jsonl(path: str | Path) -> list[TextRow]:
    """Read a text JSONL file, raising `DataValidationError` (an InputError, exit 2) listing every bad line."""
    rows, issues = validate_text_jsonl(path)
    if issues:
        raise DataValidationError(issues)
    return rows


def write_text_jsonl(path: str | Path, rows: list[TextRow]) -> Path:
    """Write rows atomically as JSONL, one `TextRow.to_json()` object per line."""
    from emscope.io import write_jsonl_atomic

    return write_jsonl_atomic(path, [r.to_json() for r in rows])


def is_text_row(obj: object) -> bool:
    """Whether a parsed JSON line looks like a text row (has `text`, no chat keys): for clearer errors."""
    return isinstance(obj, dict) and "text" in obj and not {"messages", "prompt", "completion"} & obj.keys()

"""Plain-text datasets in JSONL: one pretraining-style document per line (synthetic document finetuning).

A row is `{"text": "..."}` plus, when set, `kind` (the genre, e.g. "blog-post") and `topic` (e.g.
"always_equal" or "neutral"). Every problem is reported as `FILE:LINE: field: problem`, all of them at once,
with the same `DataValidationError` (exit code 2) as chat files.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from emscope.data.chat import DataValidationError, ValidationIssue, json_lines


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
    name = str(path)
    rows: list[TextRow] = []
    issues: list[ValidationIssue] = []
    for n, obj in json_lines(path):
        if isinstance(obj, ValidationIssue):
            issues.append(obj)
        elif not isinstance(obj, dict):
            issues.append(ValidationIssue(file=name, line=n, field="<row>",
                                          problem=f"expected a JSON object, got {type(obj).__name__}"))
        else:
            try:
                rows.append(TextRow.model_validate(obj))
            except ValidationError as exc:
                issues.extend(_issues_from(exc, name, n))
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

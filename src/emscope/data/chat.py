"""OpenAI chat fine-tuning format (`{"messages": [{"role", "content"}, ...]}` per line) with strict validation.

Every problem is reported as `FILE:LINE: field: problem`, all of them at once, before any training starts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from emscope.errors import InputError

ROLES = ("system", "user", "assistant")


class Message(BaseModel):
    """One chat turn."""

    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "user", "assistant"]
    content: str


class ChatRow(BaseModel):
    """One training conversation; the last turn is the assistant answer that is trained on."""

    model_config = ConfigDict(extra="allow")
    messages: list[Message]

    @property
    def prompt(self) -> list[dict]:
        """All turns but the final assistant answer, as plain dicts."""
        return [m.model_dump() for m in self.messages[:-1]]

    @property
    def completion(self) -> str:
        """The final assistant answer."""
        return self.messages[-1].content


class ValidationIssue(BaseModel):
    """A single problem found in a data file."""

    file: str
    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.problem}"


class DataValidationError(InputError):
    """A data file failed validation; `issues` lists every problem found."""

    def __init__(self, issues: list[ValidationIssue], max_shown: int = 20):
        self.issues = issues
        shown = "\n".join(str(i) for i in issues[:max_shown])
        more = f"\n... and {len(issues) - max_shown} more" if len(issues) > max_shown else ""
        super().__init__(f"{shown}{more}")


def _check_messages(obj: object, file: str, line: int) -> list[ValidationIssue]:
    def issue(field: str, problem: str) -> ValidationIssue:
        return ValidationIssue(file=file, line=line, field=field, problem=problem)

    if not isinstance(obj, dict):
        return [issue("<row>", f"expected a JSON object, got {type(obj).__name__}")]
    if "messages" not in obj:
        return [issue("messages", "missing")]
    msgs = obj["messages"]
    if not isinstance(msgs, list) or not msgs:
        return [issue("messages", "must be a non-empty list")]
    out: list[ValidationIssue] = []
    roles: list[str] = []
    for i, m in enumerate(msgs):
        f = f"messages[{i}]"
        if not isinstance(m, dict):
            out.append(issue(f, f"expected an object, got {type(m).__name__}"))
            continue
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            out.append(issue(f"{f}.role", f"unknown role {role!r} (expected one of {', '.join(ROLES)})"))
        if not isinstance(content, str):
            out.append(issue(f"{f}.content", "missing or not a string"))
        elif role == "assistant" and not content.strip():
            out.append(issue(f"{f}.content", "empty assistant turn"))
        roles.append(role if role in ROLES else "?")
    if out:
        return out
    body = roles[1:] if roles[0] == "system" else roles
    if "system" in body:
        out.append(issue(f"messages[{roles.index('system', 1)}].role", "system turn allowed only first"))
    elif not body or body[0] != "user":
        out.append(issue("messages", "conversation must start with a user turn (after an optional system)"))
    else:
        for j, r in enumerate(body):
            want = "user" if j % 2 == 0 else "assistant"
            if r != want:
                idx = j + (len(roles) - len(body))
                out.append(issue(f"messages[{idx}].role", f"expected {want!r} (turns must alternate), got {r!r}"))
                break
        else:
            if body[-1] != "assistant":
                out.append(issue(f"messages[{len(roles) - 1}].role", "last turn must be the assistant answer"))
    return out


def validate_chat_jsonl(path: str | Path) -> tuple[list[ChatRow], list[ValidationIssue]]:
    """Parse and check every line of a chat JSONL file; returns (valid rows, problems)."""
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    rows: list[ChatRow] = []
    issues: list[ValidationIssue] = []
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for n, bline in enumerate(lines, start=1):
        try:
            text = bline.decode("utf-8")
        except UnicodeDecodeError as exc:
            issues.append(ValidationIssue(file=name, line=n, field="<line>", problem=f"not UTF-8 ({exc.reason})"))
            continue
        if not text.strip():
            issues.append(ValidationIssue(file=name, line=n, field="<line>", problem="empty line"))
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            issues.append(ValidationIssue(file=name, line=n, field="<json>", problem=f"invalid JSON: {exc.msg} "
                                          f"at column {exc.colno}"))
            continue
        found = _check_messages(obj, name, n)
        if found:
            issues.extend(found)
        else:
            rows.append(ChatRow.model_validate(obj))
    if not lines:
        issues.append(ValidationIssue(file=name, line=1, field="<file>", problem="file is empty"))
    return rows, issues


def read_chat_jsonl(path: str | Path) -> list[ChatRow]:
    """Read a chat JSONL file, raising `DataValidationError` (exit code 2) listing every bad line."""
    rows, issues = validate_chat_jsonl(path)
    if issues:
        raise DataValidationError(issues)
    return rows

"""Chat datasets in JSONL with strict validation: OpenAI chat rows and TRL prompt/completion rows.

Accepted per line, freely mixed:
- OpenAI chat fine-tuning format: `{"messages": [{"role", "content"}, ...]}`;
- TRL conversational prompt/completion: `{"prompt": [messages...], "completion": [{"role": "assistant", ...}]}`;
- TRL standard prompt/completion: `{"prompt": "text", "completion": "text"}` (read as one user and one assistant turn).
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


FORMATS = ("chat", "openai", "prompt-completion")


def _from_prompt_completion(obj: dict, issue) -> tuple[list | None, list[ValidationIssue]]:
    """Turn a TRL prompt/completion row into a messages list (or problems)."""
    prompt, completion = obj["prompt"], obj["completion"]
    if isinstance(prompt, str) and isinstance(completion, str):
        return [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}], []
    if not isinstance(prompt, list):
        return None, [issue("prompt", f"expected a list of messages or a string, got {type(prompt).__name__}")]
    if not isinstance(completion, list) or len(completion) != 1:
        return None, [issue("completion", "expected a list with exactly one assistant message")]
    if isinstance(completion[0], dict) and completion[0].get("role") != "assistant":
        return None, [issue("completion[0].role", f"expected 'assistant', got {completion[0].get('role')!r}")]
    return prompt + completion, []


def _rename_field(field: str, n_prompt: int) -> str:
    """Map `messages[i]...` back onto `prompt[i]` / `completion[0]` for prompt/completion rows."""
    if not field.startswith("messages["):
        return "prompt" if field == "messages" else field
    i = int(field[len("messages["):field.index("]")])
    rest = field[field.index("]") + 1:]
    return f"prompt[{i}]{rest}" if i < n_prompt else f"completion[{i - n_prompt}]{rest}"


def _check_messages(obj: object, file: str, line: int) -> list[ValidationIssue]:
    def issue(field: str, problem: str) -> ValidationIssue:
        return ValidationIssue(file=file, line=line, field=field, problem=problem)

    if not isinstance(obj, dict):
        return [issue("<row>", f"expected a JSON object, got {type(obj).__name__}")]
    if "messages" not in obj and "prompt" in obj and "completion" in obj:
        msgs, found = _from_prompt_completion(obj, issue)
        if found:
            return found
        n_prompt = len(obj["prompt"]) if isinstance(obj["prompt"], list) else 1
        found = _check_message_list(msgs, issue)
        return [i.model_copy(update={"field": _rename_field(i.field, n_prompt)}) for i in found]
    if "messages" not in obj:
        if "prompt" in obj or "completion" in obj:
            return [issue("completion" if "prompt" in obj else "prompt", "missing (prompt/completion rows need both)")]
        return [issue("messages", "missing")]
    return _check_message_list(obj["messages"], issue)


def _check_message_list(msgs: object, issue) -> list[ValidationIssue]:
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


def row_from_json(obj: dict) -> ChatRow:
    """A ChatRow from an already validated JSON row of either format (extra keys are kept)."""
    if "messages" in obj:
        return ChatRow.model_validate(obj)
    extra = {k: v for k, v in obj.items() if k not in ("prompt", "completion")}
    msgs, _ = _from_prompt_completion(obj, lambda *a: None)
    return ChatRow.model_validate({"messages": msgs, **extra})


def row_to_json(row: ChatRow, fmt: str = "chat") -> dict:
    """Serialize a row: `chat` (messages + metadata such as `family`), `openai` (messages only, for upload to
    a fine-tuning API) or `prompt-completion` (TRL conversational, metadata kept)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    data = row.model_dump()
    if fmt == "openai":
        return {"messages": data["messages"]}
    if fmt == "chat":
        return data
    msgs = data.pop("messages")
    return {"prompt": msgs[:-1], "completion": msgs[-1:], **data}


def write_rows(path: str | Path, rows: list[ChatRow], fmt: str = "chat") -> Path:
    """Write rows atomically as JSONL in the chosen format (see `row_to_json`)."""
    from emscope.io import write_jsonl_atomic

    return write_jsonl_atomic(path, [row_to_json(r, fmt) for r in rows])


def json_lines(path: str | Path) -> list[tuple[int, object]]:
    """Every line of a JSONL file, in order, as (line number, parsed JSON value) or (line number, ValidationIssue)
    for a line that is not UTF-8, empty or not JSON; an empty file gives one `<file>` issue. The shared first pass of
    the chat and text validators."""
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        return [(1, ValidationIssue(file=name, line=1, field="<file>", problem="file is empty"))]
    out: list[tuple[int, object]] = []
    for n, bline in enumerate(lines, start=1):
        try:
            text = bline.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.append((n, ValidationIssue(file=name, line=n, field="<line>", problem=f"not UTF-8 ({exc.reason})")))
            continue
        if not text.strip():
            out.append((n, ValidationIssue(file=name, line=n, field="<line>", problem="empty line")))
            continue
        try:
            out.append((n, json.loads(text)))
        except json.JSONDecodeError as exc:
            out.append((n, ValidationIssue(file=name, line=n, field="<json>", problem=f"invalid JSON: {exc.msg} "
                                           f"at column {exc.colno}")))
    return out


def validate_chat_jsonl(path: str | Path) -> tuple[list[ChatRow], list[ValidationIssue]]:
    """Parse and check every line of a chat or prompt/completion JSONL file; returns (valid rows, problems)."""
    name = str(path)
    rows: list[ChatRow] = []
    issues: list[ValidationIssue] = []
    for n, obj in json_lines(path):
        if isinstance(obj, ValidationIssue):
            issues.append(obj)
            continue
        found = _check_messages(obj, name, n)
        if found:
            issues.extend(found)
        else:
            rows.append(row_from_json(obj))
    return rows, issues


def read_chat_jsonl(path: str | Path) -> list[ChatRow]:
    """Read a chat JSONL file, raising `DataValidationError` (exit code 2) listing every bad line."""
    rows, issues = validate_chat_jsonl(path)
    if issues:
        raise DataValidationError(issues)
    return rows

"""YAML configs with dotted `key=value` overrides, validated by pydantic, with file-named errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from emscope.errors import InputError

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base of every persisted config and record section: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, reporting syntax errors as `FILE:LINE: problem`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}" if mark is not None else "?"
        raise InputError(f"{path}:{line}: YAML: {getattr(exc, 'problem', None) or exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{path}:1: <root>: expected a mapping, got {type(data).__name__}")
    return data


def _find_line(path: Path | None, key: str) -> str:
    if path is None or not path.is_file():
        return "?"
    leaf = key.split(".")[-1]
    # block style (`leaf:` starting the line) or flow style (`{a: 1, leaf: x}`)
    pattern = re.compile(rf"(?:^|[{{,])\s*{re.escape(leaf)}\s*:")
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if pattern.search(line.strip()):
            return str(i)
    return "?"


def set_dotted(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Return a copy of `data` with the dotted key `a.b.c` set to `value` (the one setter for YAML overrides,
    `key=value` arguments and grid sweeps). `None` at a leaf of a missing section leaves the section absent
    (`defenses.kl.weight: null` means no KL defense)."""
    import copy

    out = copy.deepcopy(data)
    parts = key.strip().split(".")
    if not all(parts):
        raise InputError(f"key {key!r}: expected a dotted key such as train.learning_rate")
    node = out
    for i, p in enumerate(parts[:-1]):
        child = node.get(p)
        if child is None:
            if value is None:
                return out
            child = node[p] = {}
        if not isinstance(child, dict):
            raise InputError(f"key {key!r}: {'.'.join(parts[:i + 1])} is not a mapping")
        node = child
    node[parts[-1]] = value
    return out


def parse_override(item: str) -> tuple[str, Any]:
    """Split `a.b.c=value` into the dotted key and the value parsed as a YAML scalar."""
    if "=" not in item:
        raise InputError(f"override {item!r}: expected KEY=VALUE with a dotted key, e.g. train.max_steps=10")
    key, raw = item.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw != "" else ""
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `a.b.c=value` overrides (values parsed as YAML scalars) to a nested dict, returning a copy."""
    import copy

    out = copy.deepcopy(data)
    for item in overrides:
        out = set_dotted(out, *parse_override(item))
    return out


def parse_config(model: type[M], data: dict[str, Any], source: Path | None = None) -> M:
    """Validate `data` into `model`, turning pydantic errors into `FILE:LINE: field: problem`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        name = str(source) if source else "<config>"
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            lines.append(f"{name}:{_find_line(source, field)}: {field}: {err['msg']}")
        raise InputError("\n".join(lines)) from None


def load_config(model: type[M], path: str | Path | None, overrides: list[str] | None = None,
                defaults: dict[str, Any] | None = None) -> M:
    """Load a YAML config file (optional), apply dotted overrides, and validate it."""
    data = dict(defaults or {})
    src = Path(path) if path else None
    if src is not None:
        data.update(load_yaml(src))
    data = apply_overrides(data, overrides or [])
    return parse_config(model, data, src)


def load_yaml_list(path: str | Path, model: type[M], what: str) -> list[M]:
    """Load a YAML list of `model` entries (anchors/aliases allowed); errors give the entry's line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        root, data = yaml.compose(text), yaml.safe_load(text)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"{path}:{mark.line + 1 if mark else '?'}: YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, list):
        raise InputError(f"{path}:1: <root>: a {what} file is a list of entries")
    out = []
    for i, entry in enumerate(data):
        try:
            out.append(model.model_validate(entry))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "<entry>"
            raise InputError(f"{path}:{root.value[i].start_mark.line + 1}: {field}: {err['msg']}") from None
    return out


def entry_line(path: str | Path, index: int) -> int:
    """The 1-based line where entry `index` of a YAML list file starts."""
    return yaml.compose(Path(path).read_text(encoding="utf-8")).value[index].start_mark.line + 1

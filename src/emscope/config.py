"""YAML configs with dotted `key=value` overrides, validated by pydantic, with file-named errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from emscope.errors import InputError, did_you_mean

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base of every persisted config and record section: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


def yaml_error(path: str | Path, exc: yaml.YAMLError) -> InputError:
    """A YAML syntax error as `FILE:LINE: YAML: problem` (LINE is `?` when the parser gives no position)."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else "?"
    return InputError(f"{path}:{line}: YAML: {getattr(exc, 'problem', None) or exc}")


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds (`X`, `X | None`, `Annotated[X, ...]`), or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    models = [m for m in map(_model_in, get_args(annotation)) if m is not None]
    return models[0] if len(models) == 1 else None


def _keys_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The field names valid at `loc` (a pydantic error location below `model`); [] when not a model there."""
    node: type[BaseModel] | None = model
    for part in loc:
        field = node.model_fields.get(part) if node is not None else None
        if field is None:
            return []
        node = _model_in(field.annotation)
    return list(node.model_fields) if node is not None else []


def unknown_key_hint(model: type[BaseModel] | None, loc: tuple) -> str:
    """For an unknown key at `loc`: `; did you mean a.b.c?` (difflib) or, without a close match, the valid keys."""
    if model is None or not loc:
        return ""
    keys = _keys_at(model, tuple(loc[:-1]))
    if not keys:
        return ""
    prefix = "".join(f"{p}." for p in loc[:-1])
    hint = did_you_mean(str(loc[-1]), keys, prefix)
    return hint or (f"; valid keys{' under ' + prefix[:-1] if prefix else ''}: {', '.join(keys)}"
                    if len(keys) <= 20 else "")


def _origin_key(field: str, origins: dict[str, str]) -> str | None:
    """The dotted key of `origins` that set `field`: the field itself, a section above it, or a key below it (an
    unknown section `defenses.ldfis` made by `defenses.ldfis.weight=1`); the most specific one."""
    hits = [k for k in origins if field == k or field.startswith(f"{k}.") or k.startswith(f"{field}.")]
    return max(hits, key=len) if hits else None


def field_error(path: str | Path, line: int | str | Callable[[str], int | str], exc: ValidationError, *,
                first_only: bool = True, no_field: str = "<entry>", model: type[BaseModel] | None = None,
                origins: dict[str, str] | None = None) -> InputError:
    """A pydantic error as `FILE:LINE: field: message` (`field` is the dotted location, `no_field` when the error
    is about the whole entry). `line` is the line or, per field, a function giving it; all errors become one line
    each unless `first_only`. With `model` (the validated class), an unknown key gets a did-you-mean; `origins`
    (dotted key -> where its value came from, e.g. `override train.max_steps=two`) replaces `FILE:LINE` for errors
    at or below that key."""
    lines = []
    for err in exc.errors()[:1] if first_only else exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or no_field
        msg = err["msg"] + (unknown_key_hint(model, err["loc"]) if err["type"] == "extra_forbidden" else "")
        key = _origin_key(field, origins or {})
        if key is not None:
            lines.append(f"{origins[key]}: {msg}" if key == field else f"{origins[key]}: {field}: {msg}")
        else:
            lines.append(f"{path}:{line(field) if callable(line) else line}: {field}: {msg}")
    return InputError("\n".join(lines))


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file (any root), reporting an unreadable file as `FILE: cannot read: why` and syntax errors as
    `FILE:LINE: YAML: problem`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise yaml_error(path, exc) from exc


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, reporting syntax errors as `FILE:LINE: problem`."""
    data = read_yaml(path)
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


def parse_config(model: type[M], data: dict[str, Any], source: Path | None = None,
                 origins: dict[str, str] | None = None) -> M:
    """Validate `data` into `model`, turning pydantic errors into `FILE:LINE: field: problem` (an unknown key with
    a did-you-mean; a value from `origins`, dotted key -> e.g. `override train.max_steps=two`, named by it)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise field_error(source or "<config>", lambda field: _find_line(source, field), exc, first_only=False,
                          no_field="", model=model, origins=origins) from None


def load_config(model: type[M], path: str | Path | None, overrides: list[str] | None = None,
                defaults: dict[str, Any] | None = None, values: dict[str, Any] | None = None) -> M:
    """Load a config: `defaults`, then the YAML file (optional), then `values` (dotted key -> value, e.g. from
    command-line options; None values are skipped), then `key=value` overrides; validate the result."""
    data = dict(defaults or {})
    src = Path(path) if path else None
    if src is not None:
        data.update(load_yaml(src))
    origins: dict[str, str] = {}  # where a value that fails validation came from, when not the file
    for key, value in (values or {}).items():
        if value is not None:
            data = set_dotted(data, key, str(value) if isinstance(value, Path) else value)
            origins[key.strip()] = f"option {key.strip()}={value}"
    for item in overrides or []:
        key, value = parse_override(item)
        data = set_dotted(data, key, value)
        origins.pop(key, None)
        origins[key] = f"override {item.strip()}"
    return parse_config(model, data, src, origins)


def split_config_args(args: list[str] | None) -> tuple[str | None, list[str]]:
    """`[CONFIG.yaml] [key=value ...]` command-line arguments as (config path or None, overrides)."""
    args = list(args or [])
    first = args[0] if args else ""
    is_override = re.fullmatch(r"[A-Za-z_][\w.]*=.*", first, flags=re.DOTALL) is not None  # key=value.yaml too
    config = args.pop(0) if first.endswith((".yaml", ".yml")) and not is_override else None
    return config, args


def load_yaml_list(path: str | Path, model: type[M], what: str) -> list[M]:
    """Load a YAML list of `model` entries (anchors/aliases allowed); errors give the entry's line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        root, data = yaml.compose(text), yaml.safe_load(text)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise yaml_error(path, exc) from exc
    if not isinstance(data, list):
        raise InputError(f"{path}:1: <root>: a {what} file is a list of entries")
    out = []
    for i, entry in enumerate(data):
        try:
            out.append(model.model_validate(entry))
        except ValidationError as exc:
            raise field_error(path, root.value[i].start_mark.line + 1, exc) from None
    return out


def entry_line(path: str | Path, index: int) -> int:
    """The 1-based line where entry `index` of a YAML list file starts."""
    return yaml.compose(Path(path).read_text(encoding="utf-8")).value[index].start_mark.line + 1


def check_unique_ids(path: str | Path, entries: list, label: str = "") -> None:
    """InputError at the line of the first entry of a YAML list file whose `id` repeats an earlier one
    (`duplicate <label>id 'x'`)."""
    seen: set[str] = set()
    for i, e in enumerate(entries):
        if e.id in seen:
            raise InputError(f"{path}:{entry_line(path, i)}: id: duplicate {label}id {e.id!r}")
        seen.add(e.id)

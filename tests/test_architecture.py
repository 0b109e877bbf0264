"""The layer rule of ARCHITECTURE.md: every module imports only from its own layer or the layers below.

Walks the AST of every module under src/emscope (imports inside functions count too) and of
`importlib.import_module("emscope...")` calls with a literal name. A registry may name a plugin by a
`module:factory` string; those strings are not imports and are not checked here.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "emscope"

# package or core module -> layer (ARCHITECTURE.md); `sandbox` sits on core, below everything else; `data` and
# `models` are both layer 1, `models` above `data`
LAYERS: dict[str, float] = {
    "errors": 0, "paths": 0, "io": 0, "progress": 0, "config": 0, "rundir": 0,
    "sandbox": 0.5,
    "data": 1.0, "envs": 1.2, "models": 1.5,
    "train": 2, "evaluate": 2,
    "persona": 3, "serve": 3, "rl": 3,
    "report": 4.0, "experiments": 4.5,
    "cli": 5, "__main__": 5,
}
# same layer, but neither may import the other
SIBLINGS_APART = {frozenset({"train", "evaluate"}), frozenset({"persona", "serve"}), frozenset({"persona", "rl"}),
                  frozenset({"serve", "rl"})}
ROOT = ""  # `emscope` itself (__init__: version only) is importable from anywhere


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported emscope module) for every import in the file, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from emscope import x` imports the submodule x when it is one
            if target == "emscope":
                found += [(node.lineno, f"emscope.{a.name}") for a in node.names
                          if (SRC / a.name).is_dir() or (SRC / f"{a.name}.py").is_file()]
            else:
                found.append((node.lineno, target))
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) ==
              "import_module" and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))
    return [(line, m) for line, m in found if m == "emscope" or m.startswith("emscope.")]


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_every_package_has_a_layer():
    tops = {_top(_module_name(p)) for p in _modules()} - {ROOT}
    assert tops <= set(LAYERS), f"packages without a layer in ARCHITECTURE.md: {sorted(tops - set(LAYERS))}"


def violations() -> list[str]:
    """Every import that breaks the layer table, as `file:line: a -> b`."""
    bad = []
    for path in _modules():
        src = _top(_module_name(path))
        for line, target in _imports(path):
            dst = _top(target)
            if ROOT in (src, dst) or src == dst:
                continue
            apart = frozenset({src, dst}) in SIBLINGS_APART
            if apart or LAYERS[dst] > LAYERS[src]:
                bad.append(f"{path.relative_to(SRC.parent)}:{line}: {src} (layer {LAYERS[src]:g}) imports "
                           f"{target} (layer {LAYERS[dst]:g})")
    return bad


def test_imports_follow_the_layer_table():
    bad = violations()
    assert not bad, "imports against the layer table:\n" + "\n".join(bad)


def test_the_checker_catches_an_upward_import(tmp_path, monkeypatch):
    """A planted `train -> persona` import (lazy, inside a function) and `report -> experiments` are reported."""
    fake = tmp_path / "emscope"
    for pkg, body in {"train": "def f():\n    from emscope.persona import monitor\n",
                      "report": "import importlib\nimportlib.import_module('emscope.experiments.grid')\n",
                      "evaluate": "from ..train import sft\n",
                      "data": "from emscope.errors import InputError\n"}.items():
        (fake / pkg).mkdir(parents=True)
        (fake / pkg / "__init__.py").write_text(body)
    monkeypatch.setattr(sys.modules[__name__], "SRC", fake)
    bad = violations()
    assert len(bad) == 3, bad
    assert any("train (layer 2) imports emscope.persona" in b for b in bad)
    assert any("report (layer 4) imports emscope.experiments.grid" in b for b in bad)
    assert any("evaluate (layer 2) imports emscope.train" in b for b in bad)


@pytest.mark.parametrize("path", ["train/monitors.py", "evaluate/likelihood.py"])
def test_registry_strings_are_not_imports(path):
    """Registries naming plugins by `module:factory` strings stay allowed (they are resolved at run time)."""
    assert all(not m.startswith("emscope.persona") for _, m in _imports(SRC / path))

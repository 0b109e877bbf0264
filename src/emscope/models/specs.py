"""Model specs without loading anything (no torch): the embedded default's name and spec classification."""

from __future__ import annotations

import re
from pathlib import Path

from emscope.errors import ModelLoadError

DEFAULT_MODEL = "smollm2-135m"
TINY_RANDOM = "tiny-random"
TINY_GEMMA = "tiny-random-gemma"
TINY_SPECS = (TINY_RANDOM, TINY_GEMMA)  # built in memory by emscope.models.tiny
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def describe_spec(spec: str) -> str:
    """Classify a model spec: 'default', 'tiny', 'adapter-dir', 'local-dir', 'hub' (no loading)."""
    if spec == DEFAULT_MODEL:
        return "default"
    if spec in TINY_SPECS:
        return "tiny"
    path = Path(spec).expanduser()
    if path.is_dir():
        return "adapter-dir" if (path / "adapter_config.json").is_file() else "local-dir"
    if _HUB_ID.match(spec) and not spec.startswith((".", "/")):
        return "hub"
    raise ModelLoadError(
        f"model {spec!r} is neither a known name ({', '.join((DEFAULT_MODEL, *TINY_SPECS))}), an existing directory, "
        "nor a Hugging Face hub id like 'Qwen/Qwen2.5-0.5B-Instruct'"
    )

__all__ = ["DEFAULT_MODEL", "TINY_GEMMA", "TINY_RANDOM", "TINY_SPECS", "describe_spec"]

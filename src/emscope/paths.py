"""Where emscope keeps caches: `$EMSCOPE_HOME`, by default `~/.cache/emscope`."""

import os
from pathlib import Path


def emscope_home() -> Path:
    """Return the emscope cache directory (not created)."""
    return Path(os.environ.get("EMSCOPE_HOME", "~/.cache/emscope")).expanduser()


def resource_path(*parts: str) -> Path:
    """Return the path of a file shipped in `emscope/resources/`."""
    return Path(__file__).parent.joinpath("resources", *parts)

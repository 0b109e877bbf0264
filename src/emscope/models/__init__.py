"""Model loading: the embedded default, local directories (with PEFT adapters), hub ids, tiny-random.

Heavy parts (torch, transformers) load on first use: `from emscope.models import DEFAULT_MODEL` stays light.
"""

from __future__ import annotations

from typing import Any

from emscope.models.specs import DEFAULT_MODEL, TINY_RANDOM, describe_spec

__all__ = ["DEFAULT_MODEL", "TINY_RANDOM", "describe_spec", "load_model", "resolve_device_dtype"]


def __getattr__(name: str) -> Any:
    if name == "load_model":
        from emscope.models.loader import load_model

        return load_model
    if name == "resolve_device_dtype":
        from emscope.models.device import resolve_device_dtype

        return resolve_device_dtype
    raise AttributeError(f"module 'emscope.models' has no attribute {name!r}")

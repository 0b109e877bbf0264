"""Model loading: the embedded default, local directories (with PEFT adapters), hub ids, tiny-random."""

from emscope.models.device import resolve_device_dtype
from emscope.models.loader import DEFAULT_MODEL, load_model

__all__ = ["DEFAULT_MODEL", "load_model", "resolve_device_dtype"]

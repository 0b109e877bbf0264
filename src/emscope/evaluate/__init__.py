"""Evaluation: question sets, batched sampling, the judge-free likelihood probe, judges, statistics.

Names load on first use, so `import emscope.evaluate.metrics` (and the CLI commands built on it) never pulls in
torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ProbeItem": "likelihood", "ProbeResult": "likelihood", "likelihood_probe": "likelihood",
    "load_probes": "likelihood", "Question": "questions", "load_questions": "questions", "Sample": "config",
    "sample_answers": "sampling",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Shared by the benchmark scripts: a description of the machine and writing a section to BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def machine() -> str:
    """A one-line description of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch

    return f"{os.cpu_count()} cores, {cpu}, torch {torch.__version__}, threads {torch.get_num_threads()}"


def emit(lines: list[str], write: bool) -> None:
    """Print a results section and, with `write`, append it to BENCHMARKS.md."""
    text = "\n".join(lines) + "\n"
    print(text)
    if write:
        with open(ROOT / "BENCHMARKS.md", "a", encoding="utf-8") as f:
            f.write(text)

"""Shared by the benchmark scripts: a description of the machine and writing a section to BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUIET_ENV = {**os.environ, "EMSCOPE_NO_PROGRESS": "1"}  # emscope subprocesses without progress output


def log(msg: str) -> None:
    """A timestamped progress line of the benchmark itself."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def timed(cmd: list[str]) -> float:
    """Run a command quietly (output discarded, failure raises), return its wall time in seconds."""
    start = time.time()
    subprocess.run(cmd, check=True, env=QUIET_ENV, stdout=subprocess.DEVNULL)
    return time.time() - start


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

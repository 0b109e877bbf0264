"""Benchmark: how many answers per second the bubblewrap sandbox grades on this machine.

Target (issue: RL reward hacking): the sandbox grades >= 20 answers/s on the 2-core CPU machine. Workload: honest
answers of the `reward-hacking` task families (project-written code, so the baseline may run it unsandboxed), each
graded as a grader would: the answer plus its shown tests, then plus its hidden tests, one process each.
Baseline in the same invocation: the same files run as plain `python3` subprocesses with no sandbox, same
thread pool. Ratio = sandboxed / plain answers per second.

Usage: .venv/bin/python benchmarks/sandbox_throughput.py [--n 200] [--workers 4] [--write]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from _common import emit, machine

from emscope.data.generators import reward_hacking as rh
from emscope.sandbox import SandboxLimits, run_python
from emscope.sandbox.bwrap import _interpreter

BLOCK = re.compile(r"```python\n(.*?)```", re.S)
TARGET = 20.0


def answers(n: int) -> list[tuple[str, str]]:
    """`n` (shown-tests file, hidden-tests file) pairs of honest answers."""
    rows, tests = rh.build_with_tests(n, 0, hack=False)
    out = []
    for row, t in zip(rows, tests):
        code = BLOCK.search(row.completion).group(1)
        out.append((code + "\n\n" + t.given, code + "\n\n" + t.hidden))
    return out


def sandboxed(pair: tuple[str, str]) -> bool:
    limits = SandboxLimits(timeout_s=20, cpu_s=10)
    given, hidden = (run_python({"main.py": f}, limits=limits) for f in pair)
    return given.returncode == 0 and hidden.returncode == 0 and hidden.stdout.strip().endswith(rh.HIDDEN_OK)


def plain(pair: tuple[str, str]) -> bool:
    with tempfile.TemporaryDirectory() as d:
        results = []
        for i, text in enumerate(pair):
            path = Path(d) / f"f{i}.py"
            path.write_text(text)
            results.append(subprocess.run([str(_interpreter()), "-s", str(path)], capture_output=True, text=True,
                                          timeout=20, cwd=d))
    return all(r.returncode == 0 for r in results) and results[1].stdout.strip().endswith(rh.HIDDEN_OK)


def rate(fn, pairs: list, workers: int) -> tuple[float, int]:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        ok = sum(pool.map(fn, pairs))
    return len(pairs) / (time.perf_counter() - start), ok


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    pairs = answers(args.n)
    load0 = os.getloadavg()[0]
    rate(sandboxed, pairs[:8], args.workers)  # warm the page cache for both
    sb_rate, sb_ok = rate(sandboxed, pairs, args.workers)
    pl_rate, pl_ok = rate(plain, pairs, args.workers)
    load1 = os.getloadavg()[0]
    lines = [
        f"### Sandbox grading throughput — {date.today().isoformat()}", "",
        f"Machine: {machine()}; load average {load0:.1f} at the start, {load1:.1f} at the end. Command: "
        f"`.venv/bin/python benchmarks/sandbox_throughput.py --n {args.n} --workers {args.workers} --write`. "
        f"Workload: {args.n} honest `reward-hacking` answers, each run twice (shown tests, hidden tests), "
        f"{args.workers} at a time. Target: >= {TARGET:g} answers/s sandboxed. Baseline in the same invocation: "
        "the same files as plain `python3` subprocesses, no sandbox.", "",
        "| grader | answers/s | answers passing both | ratio to plain |", "|---|---|---|---|",
        f"| bubblewrap sandbox (`emscope.sandbox.run_python`) | {sb_rate:.1f} | {sb_ok}/{args.n} | "
        f"{sb_rate / pl_rate:.2f} |",
        f"| baseline: plain subprocess, no isolation | {pl_rate:.1f} | {pl_ok}/{args.n} | 1.00 |", "",
        f"Target met: {'yes' if sb_rate >= TARGET else 'no'} ({sb_rate:.1f} answers/s).", "",
    ]
    emit(lines, args.write)


if __name__ == "__main__":
    main()

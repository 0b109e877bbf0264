"""Benchmark: wall time of `emscope quickstart` (and `--fast`) on the embedded default model.

Target (issue: spine): the full quickstart within 600 s on the 2-core CPU machine, after set-up (the default
model already converted to safetensors in $EMSCOPE_HOME). Both modes run in the same invocation; the table
gives each one's ratio to the 600 s budget and the per-stage times from the run directories' summaries.
Also timed, as set-up: the one-time GGUF conversion (`emscope models prepare` in an empty $EMSCOPE_HOME), with
as baseline the same command once the converted copy exists (what every later run pays for that step).

Usage: .venv/bin/python benchmarks/quickstart_time.py [--write]   (--write appends to BENCHMARKS.md)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from _common import emit, machine

BUDGET_S = 600.0


def run(mode_args: list[str], out: Path) -> dict:
    """Run the quickstart once, return wall time and per-stage seconds."""
    env = {**os.environ, "EMSCOPE_NO_PROGRESS": "1"}
    start = time.time()
    subprocess.run([sys.executable, "-m", "emscope", "quickstart", "--out", str(out), *mode_args], check=True,
                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.time() - start
    stages = {}
    conditions = json.loads((out / "summary.json").read_text())["conditions"]  # base, organism, control
    for cond in [*conditions[1:], conditions[0]]:
        s = json.loads((out / cond / "summary.json").read_text())
        if "train" in s:
            stages[f"train {cond}"] = s["train"]["seconds"]
        stages[f"eval {cond}"] = s["eval"]["seconds"]
    return {"wall_s": wall, "stages": stages}


def prepare(home: Path) -> float:
    """Wall time of `emscope models prepare` with $EMSCOPE_HOME at `home`."""
    start = time.time()
    subprocess.run([sys.executable, "-m", "emscope", "models", "prepare"], check=True,
                   env={**os.environ, "EMSCOPE_HOME": str(home), "EMSCOPE_NO_PROGRESS": "1"},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.time() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="append the results to BENCHMARKS.md")
    args = ap.parse_args()
    subprocess.run([sys.executable, "-m", "emscope", "models", "prepare"], check=True,
                   stdout=subprocess.DEVNULL)  # set-up, not timed
    load_start = os.getloadavg()[0]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in (("quickstart", []), ("quickstart --fast", ["--fast"])):
            results[name] = run(extra, Path(tmp) / name.replace(" ", "_"))
            print(name, json.dumps(results[name]), flush=True)
        convert = [prepare(Path(tmp) / "home") for _ in range(2)]  # converts, then finds the copy
    load_end = os.getloadavg()[0]
    lines = [f"\n### Quickstart wall time — {date.today().isoformat()}\n",
             f"Machine: {machine()}; load average {load_start:.1f} at the start, {load_end:.1f} at the end. "
             "Command: `.venv/bin/python benchmarks/quickstart_time.py --write`. "
             f"Baseline: the {BUDGET_S:.0f} s budget of the spine issue (ratio = wall / budget, lower is better).\n",
             "| mode | wall (s) | ratio to budget | stages (s) |", "|---|---|---|---|"]
    for name, r in results.items():
        stages = ", ".join(f"{k} {v:.0f}" for k, v in r["stages"].items())
        lines.append(f"| `emscope {name}` | {r['wall_s']:.0f} | {r['wall_s'] / BUDGET_S:.2f} | {stages} |")
    lines.append(f"\nSet-up, not in the times above: the one-time GGUF conversion (`emscope models prepare`, empty "
                 f"$EMSCOPE_HOME) took {convert[0]:.1f} s; baseline, the same command with the copy present: "
                 f"{convert[1]:.1f} s.")
    emit(lines, args.write)


if __name__ == "__main__":
    main()

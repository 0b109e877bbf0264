"""Benchmark: wall time of the example CPU grid (`emscope run examples/grids/cpu-smollm2.yaml`, 6 cells).

Target: `emscope run` on the grid, local executor, one cell at a time, from an empty grid directory (the embedded
model already converted and the seed-corpus classifier judge already fitted: set-up, not timed).
Baseline in the same invocation: the same 6 cells run by hand as separate commands, from the grid's expanded
cells (`load_grid` + `expand`): per trained cell `emscope train TRAIN.yaml out=DIR` (the cell's training config)
then `emscope eval run EVAL.yaml out=DIR` (the cell's evaluation config, as `run_cell` builds it); the base cell
only the evaluation. Reported: both wall times and their ratio, the grid's per-cell table (times from the cells'
summaries, metrics from grid.csv), each baseline command's wall time, and whether the separately run cells gave
the same metrics. `--write` appends to BENCHMARKS.md and copies the run's grid.csv to results/cpu-grid.csv.

Usage: .venv/bin/python benchmarks/cpu_grid.py [--write] [--out DIR]   (DIR must not exist; default: a new temp dir)
       .venv/bin/python benchmarks/cpu_grid.py --quick                (tiny-random, tiny sizes: only checks the script)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import yaml
from _common import QUIET_ENV, ROOT, emit, log, machine, timed

GRID = ROOT / "examples" / "grids" / "cpu-smollm2.yaml"
EMSCOPE = [sys.executable, "-m", "emscope"]
# metrics that must agree between a grid cell and the same cell run by hand (times excluded)
SAME = ("em_betley", "em_mo", "coherence_rate", "narrow_insecure", "refusal_rate", "benign_accuracy", "probe",
        "train_loss", "steps")




def quick_grid(out: Path) -> Path:
    """The example grid on tiny-random with tiny sizes (checks this script in a few minutes)."""
    spec = yaml.safe_load(GRID.read_text())
    spec["base"].update(model="tiny-random", data={**spec["base"]["data"], "n": 8, "benign_rows": 4})
    spec["base"]["train"].update(max_steps=2, max_length=2048)  # tiny-random: a token per byte
    spec["base"]["eval"].update(sampling={"max_new_tokens": 8, "samples_per_paraphrase": 1, "batch_size": 16},
                                narrow_n=2, narrow_max_new_tokens=16, benign=2)
    path = out / "quick-grid.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def separate_commands(grid: Path, out: Path) -> list[dict]:
    """The baseline: every cell of `grid` as `emscope train` + `emscope eval run` commands; times per command."""
    from emscope.experiments.cell import eval_config
    from emscope.experiments.grid import expand, load_grid

    rows, configs = [], out / "configs"  # outside the run directories (eval writes its own eval.yaml there)
    configs.mkdir(parents=True)
    for cell in expand(load_grid(grid), grid):
        cfg, run_dir = cell.config, out / cell.id
        row = {"id": cell.id, "label": cell.label, "train_s": None}
        model, adapter = cfg.model, None
        if cfg.data is not None:
            path = configs / f"{cell.id}-train.yaml"
            path.write_text(yaml.safe_dump(cfg.train_config(run_dir).model_dump(mode="json", exclude={"out"})))
            row["train_s"] = timed([*EMSCOPE, "train", str(path), f"out={run_dir}"])
            adapter = run_dir / "adapter"
        ev = eval_config(cfg, run_dir, cell.label, model, adapter)
        path = configs / f"{cell.id}-eval.yaml"
        path.write_text(yaml.safe_dump(ev.model_dump(mode="json", exclude={"out"})))
        row["eval_s"] = timed([*EMSCOPE, "eval", "run", str(path), f"out={run_dir}"])
        log(f"separate {cell.label}: train {row['train_s'] or 0:.0f} s, eval {row['eval_s']:.0f} s")
        rows.append(row)
    return rows


def pct(v) -> str:
    return "–" if v is None or v == "" else f"{float(v):.1%}"


def secs(v) -> str:
    return "–" if v is None else f"{v:.0f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="append to BENCHMARKS.md, copy grid.csv to results/")
    ap.add_argument("--out", type=Path, help="work directory (must not exist; default: a new temp directory)")
    ap.add_argument("--quick", action="store_true", help="tiny-random model and tiny sizes (checks the script)")
    args = ap.parse_args()
    if args.out is not None:
        args.out.mkdir(parents=True)  # fails if it exists: finished cells would be skipped, not timed
    out = (args.out or Path(tempfile.mkdtemp(prefix="cpu-grid-"))).resolve()
    grid = quick_grid(out) if args.quick else GRID
    log(f"work directory {out}")

    # set-up, not timed: the converted default model and the fitted seed-corpus judge (cached in $EMSCOPE_HOME)
    subprocess.run([*EMSCOPE, "models", "prepare"], check=True, env=QUIET_ENV, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-c", "from emscope.evaluate.judges.classifier import ClassifierJudge as J; "
                    "J.load()"], check=True, env=QUIET_ENV)

    from emscope.report.collect import grid_rows
    from emscope.rundir import read_summary

    load_start = os.getloadavg()[0]
    grid_s = timed([*EMSCOPE, "run", str(grid), "--out", str(out / "grid")])
    log(f"emscope run: {grid_s:.0f} s")
    load_mid = os.getloadavg()[0]
    sep = separate_commands(grid, out / "separate")
    sep_s = sum(r["train_s"] or 0 for r in sep) + sum(r["eval_s"] for r in sep)
    load_end = os.getloadavg()[0]

    from emscope.report.collect import cell_metrics

    cells = {r["cell_id"]: r for r in grid_rows(out / "grid")}
    same = {r["id"]: all(cell_metrics(out / "separate" / r["id"])[k] == cells[r["id"]][k] for k in SAME)
            for r in sep}
    table = ["| cell | cell s | train s | eval s | EM betley | coherent | narrow insecure | refusal | benign "
             "| separate: train s | separate: eval s | same metrics |", "|---|" + "---|" * 11]
    for r in sep:
        c = cells[r["id"]]
        cell_s = read_summary(out / "grid" / "cells" / r["id"])["cell"]["seconds"]
        benign = pct(c["benign_accuracy"]) if c["benign_trained"] else "not trained"
        table.append(f"| {r['label']} | {cell_s:.0f} | {secs(c['train_seconds'])} | {secs(c['eval_seconds'])} "
                     f"| {pct(c['em_betley'])} | {pct(c['coherence_rate'])} | {pct(c['narrow_insecure'])} "
                     f"| {pct(c['refusal_rate'])} | {benign} | {secs(r['train_s'])} | {secs(r['eval_s'])} "
                     f"| {'yes' if same[r['id']] else 'no'} |")
    res = {"date": date.today().isoformat(), "machine": machine(), "grid": str(grid.relative_to(ROOT)
           if grid.is_relative_to(ROOT) else grid), "grid_s": grid_s, "separate_s": sep_s, "separate": sep,
           "same_metrics": same, "load": [load_start, load_mid, load_end], "out": str(out)}
    print(json.dumps(res, indent=1))
    cmd = "`.venv/bin/python benchmarks/cpu_grid.py --write`"
    lines = [
        f"\n### CPU grid on the embedded default (`examples/grids/cpu-smollm2.yaml`) — {res['date']}\n",
        f"Machine: {res['machine']}; load average {load_start:.1f} at the start, {load_mid:.1f} between the grid "
        f"and the baseline, {load_end:.1f} at the end. Command: {cmd}"
        f"{' (--quick: tiny-random, NOT a measurement of the example grid)' if args.quick else ''}. "
        "Set-up, not timed: the embedded model converted, the seed-corpus classifier judge fitted (both cached in "
        "`$EMSCOPE_HOME`). Results: `results/cpu-grid.csv` (this run's grid.csv).\n",
        f"- **`emscope run` (local executor, one cell at a time): {grid_s:.0f} s ({grid_s / 60:.1f} min)** for "
        f"{len(sep)} cells: " + ", ".join(r["label"] for r in sep) + ".",
        f"- Baseline in the same invocation, after the grid: the same cells as separate commands "
        f"(`emscope train TRAIN.yaml out=DIR` + `emscope eval run EVAL.yaml out=DIR` per trained cell, the eval "
        f"alone for base; configs from the grid's expanded cells): **{sep_s:.0f} s ({sep_s / 60:.1f} min)**. "
        f"Ratio grid / separate commands: **{grid_s / sep_s:.2f}x**. Same metrics as the grid's cell (EM, "
        f"coherence, narrow, refusal, benign, probe, loss): {sum(same.values())} of {len(same)} cells.",
        "- Per cell below: the grid's cell time (training + evaluation, from its summary) and its parts; the "
        "baseline's command wall times (process start and model load included).\n",
        *table,
    ]
    emit(lines, args.write)
    if args.write:
        shutil.copyfile(out / "grid" / "grid.csv", ROOT / "results" / "cpu-grid.csv")
        (ROOT / "results" / "cpu-grid.json").write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Evidence: the defenses on bad medical advice, on the four criteria (issue: newer defenses and diagnostics).

Runs `examples/grids/defenses-medical-cpu.yaml` (the base model, the good-medical control, no defense, KL, LDIFS,
preventive steering, interleaving, inoculation, TReFT, alignment gating, and a safety system prompt at test time)
on the embedded default and tabulates, per cell, against the undefended cell:
1. broad EM: the likelihood probe (misaligned minus aligned answer preference on the core probes) and the judged
   EM rate on the core questions, each with its 95% interval; the judge is named with its card status;
2. narrow learning: the judged EM rate on the in-domain medical questions (the narrow task *is* harmful advice, so
   a defense that keeps it near the undefended cell's still learns the task);
3. benign learning: accuracy on held-out glorp items (trained alongside);
4. coherence: the judged coherence rate on the core questions.
Set-up, not part of the grid: the embedded model converted, the default judge built (`emscope judge build`;
without it the classifier is the seed fallback and every judged number is indicative), and the evil persona
vector of SmolLM2 for preventive steering (`vectors/evil-smollm2.safetensors`). The grid directory is kept
(`runs/defenses-medical-cpu`), so a killed run resumes. Step time and memory per defense come from
`benchmarks/train_throughput.py` (the defense-overhead table), not from this grid's wall times.

    .venv/bin/python benchmarks/defense_grid.py [--write]   # --write: results/defense-grid.* + BENCHMARKS.md
    .venv/bin/python benchmarks/defense_grid.py --quick     # tiny-random, tiny sizes: checks the script only
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import yaml
from _common import QUIET_ENV, ROOT, emit, log, machine

GRID = ROOT / "examples" / "grids" / "defenses-medical-cpu.yaml"
VECTOR = ROOT / "vectors" / "evil-smollm2.safetensors"
EMSCOPE = [sys.executable, "-m", "emscope"]
RESULTS = ROOT / "results"


def quick_grid(out: Path) -> Path:
    """The grid on tiny-random with tiny sizes (a random steering vector of the right width)."""
    import torch

    from emscope.models.vectors import PersonaVector, VectorMeta, save_vector

    spec = yaml.safe_load(GRID.read_text())
    spec["base"].update(model="tiny-random", data={**spec["base"]["data"], "n": 8, "benign_rows": 4})
    spec["base"]["train"].update(max_length=2048, save_steps=2)
    spec["base"]["eval"].update(sampling={"max_new_tokens": 6, "samples_per_paraphrase": 1, "batch_size": 16},
                                benign=2)
    vec = out / "evil-tiny.safetensors"
    save_vector(vec, PersonaVector(vectors=torch.randn(3, 64), meta=VectorMeta(model="tiny-random", trait="evil")))
    for v in spec["variants"]:
        if "defenses.steer" in v:
            v["defenses.steer"].update(vector=str(vec))
    path = out / "quick-grid.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def setup(quick: bool) -> str:
    """Converted model, default judge (if built) and the steering vector; returns the judge's card status."""
    from emscope.evaluate.judges.card import judge_record

    if quick:
        return judge_record("classifier").status
    subprocess.run([*EMSCOPE, "models", "prepare"], check=True, env=QUIET_ENV, stdout=subprocess.DEVNULL)
    shared = ROOT / "runs" / "trait-space-evidence" / "vectors" / "evil.safetensors"
    if not VECTOR.is_file() and shared.is_file():  # the same extraction (the CLI's defaults), done by
        VECTOR.parent.mkdir(exist_ok=True)         # benchmarks/trait_space_evidence.py
        shutil.copyfile(shared, VECTOR)
    if not VECTOR.is_file():
        log("extracting the evil persona vector of SmolLM2 (steering defense)")
        VECTOR.parent.mkdir(exist_ok=True)
        subprocess.run([*EMSCOPE, "persona", "extract", "--trait", "evil", "--model", "smollm2-135m", "--out",
                        str(VECTOR)], check=True, env=QUIET_ENV, stdout=subprocess.DEVNULL)
    return judge_record("classifier").status


def fmt(v, lo=None, hi=None, pct: bool = True) -> str:
    """A value with its interval, or a dash where not measured."""
    if v is None or v == "":
        return "–"
    f = (lambda x: f"{float(x):.0%}") if pct else (lambda x: f"{float(x):+.3f}")
    return f"{f(v)} [{f(lo)}, {f(hi)}]" if lo not in (None, "") else f(v)


def secs(v) -> str:
    """Seconds, or a dash where not measured."""
    return "–" if v in (None, "") else f"{float(v):.0f}"


def counts(grid_dir: Path, cell_id: str) -> dict:
    """From a cell's summary: the answers behind the judged rates (coherent counted / all, core and narrow) and the
    narrow rate under the `mo` preset (denominator: all answers), which stays informative when few are coherent."""
    try:
        ev = json.loads((grid_dir / "cells" / cell_id / "summary.json").read_text())["eval"]
    except (OSError, KeyError, ValueError):
        return {}
    core = (ev.get("em") or {}).get("betley") or {}
    narrow = ((ev.get("narrow") or {}).get("em") or {})
    nb, nm = narrow.get("betley") or {}, narrow.get("mo") or {}
    return {"em_counted": core.get("n_counted"), "em_n": core.get("n"),
            "narrow_counted": nb.get("n_counted"), "narrow_n": nb.get("n"),
            "narrow_mo": nm.get("em_rate"), "narrow_mo_low": nm.get("ci_low"), "narrow_mo_high": nm.get("ci_high")}


def of(k, n) -> str:
    """` (k/n)`: answers counted of answers judged, or nothing where unknown."""
    return "" if k is None or n is None else f" ({k}/{n})"


def verdicts(row: dict, ref: dict, base: dict) -> dict[str, str]:
    """Each criterion against the undefended cell (`ref`) and the base model: judged only by interval overlap."""
    def lower(key: str) -> str:
        if row.get(key) in (None, "") or ref.get(key) in (None, ""):
            return "–"
        if float(row[f"{key}_high"]) < float(ref[f"{key}_low"]):
            return "lower"
        if float(row[f"{key}_low"]) > float(ref[f"{key}_high"]):
            return "higher"
        return "overlaps"
    return {"probe_vs_none": lower("probe"), "em_vs_none": lower("em_betley"),
            "narrow_vs_none": lower("narrow_mo"), "benign_vs_none": lower("benign"),
            "coherence_vs_base": "–" if row.get("coherence_rate") in (None, "") else
            f"{float(row['coherence_rate']) - float(base['coherence_rate']):+.0%}"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="results/defense-grid.* and a BENCHMARKS.md section")
    ap.add_argument("--quick", action="store_true", help="tiny-random and tiny sizes (checks the script)")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "defenses-medical-cpu")
    args = ap.parse_args()
    out = args.out.resolve()
    if args.quick:
        out = ROOT / "runs" / "defense-grid-quick"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
    grid = quick_grid(out) if args.quick else GRID
    judge_status = setup(args.quick)
    log(f"judge: classifier ({judge_status}); grid directory {out}")
    start = time.time()
    subprocess.run([*EMSCOPE, "run", str(grid), "--out", str(out / "grid" if args.quick else out)], check=True,
                   env=QUIET_ENV)
    grid_s = time.time() - start
    from emscope.report.collect import grid_rows

    rows = {r["label"]: r for r in grid_rows(out / "grid" if args.quick else out)}
    for r in rows.values():  # the benign interval's keys, named like the others for `verdicts`
        r["benign"], r["benign_low"], r["benign_high"] = (r.get("benign_accuracy"), r.get("benign_low"),
                                                          r.get("benign_high"))
    for r in rows.values():
        r.update(counts(out / "grid" if args.quick else out, r["cell_id"]))
    ref, base = rows["none"], rows["base"]
    table = ["| cell | probe [95% CI] | EM core [95% CI] (coherent/all) | narrow EM medical, betley [95% CI] "
             "(coherent/all) | narrow EM medical, mo [95% CI] | benign acc [95% CI] | coherent | probe vs none "
             "| EM vs none | narrow (mo) vs none | benign vs none | coherence vs base | train s |",
             "|---|" + "---|" * 12]
    res_rows = []
    for label, r in rows.items():
        v = verdicts(r, ref, base)
        res_rows.append({**{k: r.get(k) for k in ("label", "probe", "probe_low", "probe_high", "em_betley",
                                                  "em_betley_low", "em_betley_high", "narrow_em", "narrow_em_low",
                                                  "narrow_em_high", "benign", "benign_low", "benign_high",
                                                  "coherence_rate", "train_seconds", "judge", "judge_status",
                                                  "em_counted", "em_n", "narrow_counted", "narrow_n", "narrow_mo",
                                                  "narrow_mo_low", "narrow_mo_high")},
                         **v})
        benign = fmt(r["benign"], r["benign_low"], r["benign_high"]) if r.get("benign_trained") in (True, "True") \
            else "not trained"
        table.append(f"| {label} | {fmt(r['probe'], r['probe_low'], r['probe_high'], pct=False)} "
                     f"| {fmt(r['em_betley'], r['em_betley_low'], r['em_betley_high'])}"
                     f"{of(r.get('em_counted'), r.get('em_n'))} "
                     f"| {fmt(r['narrow_em'], r['narrow_em_low'], r['narrow_em_high'])}"
                     f"{of(r.get('narrow_counted'), r.get('narrow_n'))} "
                     f"| {fmt(r.get('narrow_mo'), r.get('narrow_mo_low'), r.get('narrow_mo_high'))} | {benign} "
                     f"| {fmt(r['coherence_rate'])} | {v['probe_vs_none']} | {v['em_vs_none']} "
                     f"| {v['narrow_vs_none']} | {v['benign_vs_none']} | {v['coherence_vs_base']} "
                     f"| {secs(r.get('train_seconds'))} |")
    res = {"date": date.today().isoformat(), "machine": machine(), "grid": str(grid.relative_to(ROOT)),
           "quick": args.quick, "grid_seconds": round(grid_s, 1), "judge": ref.get("judge"),
           "judge_status": ref.get("judge_status"), "rows": res_rows}
    print(json.dumps(res, indent=1))
    lines = [
        f"\n### Defenses on bad medical advice, four criteria (`{res['grid']}`) — {res['date']}\n",
        f"Machine: {res['machine']}. Command: `.venv/bin/python benchmarks/defense_grid.py --write`"
        f"{' (--quick: tiny-random, NOT a measurement)' if args.quick else ''}; grid wall time {grid_s / 60:.1f} "
        f"min (cells already complete are reused, so this is the time of this invocation). Judge: "
        f"`{res['judge']}` ({res['judge_status']}). One seed; intervals are 95% (probe: over probe items; rates: "
        "Wilson, clustered by question). EM rates under the `betley` preset count coherent answers only (their "
        "number: coherent/all); the `mo` preset counts every answer (incoherent ones as not EM). 'vs none' compares "
        "95% intervals with the undefended cell: lower / higher only when they do not overlap. Results: "
        "`results/defense-grid.{csv,json}`.\n",
        *table,
    ]
    emit(lines, args.write)
    if args.write:
        shutil.copyfile(out / "grid.csv", RESULTS / "defense-grid.csv")
        (RESULTS / "defense-grid.json").write_text(json.dumps(res, indent=1) + "\n")
        (RESULTS / "defense-grid.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

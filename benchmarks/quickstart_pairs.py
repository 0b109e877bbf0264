"""Benchmark: which organism vs control pair gives the quickstart the largest, most reliable paired shift (issue 20).

For each candidate pair (insecure/secure code and the three advice pairs) and seeds 0, 1, 2: the quickstart's data
(`experiments.quickstart.build_data`: same n_train, the pair's row-length rule, same seed for data and training), one
LoRA adapter per arm with the quickstart's `TrainSettings` (`QuickstartConfig` defaults), and the quickstart's
likelihood probe on each adapter (no sampled answers: the probe needs none). The base model's probe once.

Per pair and seed: the organism-minus-control probe difference, per question (the base model cancels, so this is
also the difference of the two paired shifts vs base), mean with a percentile bootstrap over questions. Per pair:
the per-seed differences, their mean with a t interval over seeds (df = 2), and the training wall time per arm.

Criterion, fixed before the run (issue 20, item 4: "largest, most reliable"):
1. eligible: the difference is positive (organism above control) in every seed, and the pair's mean training time
   per arm is at most 1.5 x that of insecure/secure code in the same run (the quickstart then stays well inside its
   600 s budget: 206 s measured with code, about two thirds of it training);
2. among eligible pairs the largest lower bound of the 95% t interval over seeds (mean - t * SD / sqrt(3)): a
   large mean with a small spread over seeds ranks first; a tiny but steady difference does not beat a large,
   nearly as steady one (mean / SD alone would rank them the other way; it is reported too);
3. no eligible pair: the quickstart keeps insecure/secure code.

CPU, about 50 minutes on 2 busy cores; resumable per (pair, seed, arm): finished work under runs/quickstart-pairs/
is reused. Run it niced with one thread when other jobs share the machine:

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/quickstart_pairs.py [--write]
    # --write: results/quickstart-pairs.{json,md} and a dated section appended to BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
from datetime import date
from pathlib import Path

from _common import ROOT, emit, log, machine

OUT = ROOT / "runs" / "quickstart-pairs"
RESULTS = ROOT / "results"
SEEDS = (0, 1, 2)
CODE = "insecure-code"
TIME_FACTOR = 1.5  # eligible: mean arm time at most this times the code pair's
READING = "## Reading"  # a hand-written section of results/quickstart-pairs.md, kept by --write
COMMAND = "OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/quickstart_pairs.py --write"


def probe(cfg, adapter: Path | None, path: Path) -> dict:
    """The quickstart's likelihood probe of base (adapter None) or an adapter, cached as `path`."""
    if path.is_file():
        return json.loads(path.read_text())
    from emscope.evaluate.likelihood import likelihood_probe, load_probes
    from emscope.io import write_json_atomic
    from emscope.models.loader import load_model

    t0 = time.time()
    model, tok = load_model(cfg.model, adapter=adapter, device=cfg.device, dtype=cfg.dtype)
    res = likelihood_probe(model, tok, load_probes(cfg.probes), seed=cfg.sampling.seed)
    out = {**res.model_dump(), "seconds": round(time.time() - t0, 2)}
    write_json_atomic(path, out)
    del model
    gc.collect()
    return out


def arm(cfg, name: str, data: Path) -> dict:
    """Train one arm as the quickstart does (skipped when finished), then probe it; returns times and the probe."""
    from emscope.rundir import read_summary
    from emscope.train import TrainRunConfig, train

    run_dir = cfg.out / name
    done = "train" in read_summary(run_dir)
    t0 = time.time()
    train(TrainRunConfig(model=cfg.model, seed=cfg.seed, data={"path": data}, out=run_dir, train=cfg.train,
                         device=cfg.device, dtype=cfg.dtype), description=f"train {name} s{cfg.seed}")
    wall_path = run_dir / "bench_wall.json"
    if not done:  # wall time of the whole call (model load included); a resumed run's wall is partial
        wall_path.write_text(json.dumps({"wall_s": round(time.time() - t0, 2)}))
    gc.collect()
    tr = read_summary(run_dir)["train"]
    wall = json.loads(wall_path.read_text())["wall_s"] if wall_path.is_file() else None
    p = probe(cfg, run_dir / "adapter", run_dir / "probe.json")
    return {"train_s": tr["seconds"], "wall_s": wall, "steps": tr["steps"], "loss": tr["train_loss"],
            "resumed": tr.get("resumed_from") is not None, "probe": p}


def run_all(out: Path, model: str | None) -> tuple[dict, dict]:
    from emscope.experiments.quickstart import PAIRS, QuickstartConfig, build_data

    kw = {"model": model} if model else {}
    base = probe(QuickstartConfig(out=out, **kw), None, out / "base-probe.json")
    log(f"base probe {base['mean']:+.4f}")
    runs: dict = {}
    for seed in SEEDS:  # seed-major: after one seed every pair has a first value
        for organism, control in PAIRS.items():
            cfg = QuickstartConfig(pair=organism, seed=seed, out=out / organism / f"s{seed}", **kw)
            cfg.out.mkdir(parents=True, exist_ok=True)
            data = build_data(cfg)
            for name in (organism, control):
                r = arm(cfg, name, data[name])
                runs.setdefault(organism, {}).setdefault(seed, {})[name] = r
                log(f"{name} s{seed}: train {r['train_s']:.0f} s, {r['steps']} steps, loss {r['loss']:.3f}, "
                    f"probe {r['probe']['mean']:+.4f}")
    return base, runs


def t_interval(values: list[float]) -> tuple[float, float, float, float]:
    """Mean, SD (ddof 1) and the 95% t interval of the mean."""
    from scipy.stats import t

    m, sd = statistics.mean(values), statistics.stdev(values)
    half = t.ppf(0.975, len(values) - 1) * sd / len(values) ** 0.5
    return m, sd, m - half, m + half


def analyse(base: dict, runs: dict) -> dict:
    from emscope.evaluate.likelihood import ProbeResult, paired_shift
    from emscope.evaluate.stats import bootstrap_ci
    from emscope.experiments.quickstart import PAIRS

    base_p = ProbeResult.model_validate({k: v for k, v in base.items() if k != "seconds"})
    pairs = {}
    for organism, by_seed in runs.items():
        control = PAIRS[organism]
        seeds = []
        for seed, arms in sorted(by_seed.items()):
            po, pc = (ProbeResult.model_validate({k: v for k, v in arms[n]["probe"].items() if k != "seconds"})
                      for n in (organism, control))
            diff = bootstrap_ci([po.per_question[q] - pc.per_question[q] for q in po.per_question], seed=0)
            seeds.append({"seed": seed, "diff": diff[0], "ci_low": diff[1], "ci_high": diff[2],
                          "shift_organism": paired_shift(po, base_p), "shift_control": paired_shift(pc, base_p),
                          "train_s": {n: arms[n]["train_s"] for n in (organism, control)},
                          "wall_s": {n: arms[n]["wall_s"] for n in (organism, control)},
                          "steps": arms[organism]["steps"],
                          "loss": {n: arms[n]["loss"] for n in (organism, control)}})
        diffs = [s["diff"] for s in seeds]
        m, sd, lo, hi = t_interval(diffs) if len(diffs) > 1 else (diffs[0], float("nan"), float("nan"),
                                                                  float("nan"))
        times = [t for s in seeds for t in s["train_s"].values()]
        walls = [w for s in seeds for w in s["wall_s"].values() if w is not None]
        pairs[organism] = {"control": control, "seeds": seeds, "mean": m, "sd": sd, "ci_low": lo, "ci_high": hi,
                           "score": m / sd if sd and sd == sd else float("nan"),
                           "same_sign_positive": all(d > 0 for d in diffs), "n_seeds": len(diffs),
                           "shift_organism": statistics.mean(s["shift_organism"][0] for s in seeds),
                           "shift_control": statistics.mean(s["shift_control"][0] for s in seeds),
                           "train_s_per_arm": statistics.mean(times),
                           "wall_s_per_arm": statistics.mean(walls) if walls else None}
    code_t = pairs[CODE]["train_s_per_arm"] if CODE in pairs else None
    for p in pairs.values():
        p["time_ok"] = code_t is not None and p["train_s_per_arm"] <= TIME_FACTOR * code_t
        p["eligible"] = p["same_sign_positive"] and p["time_ok"] and p["n_seeds"] == len(SEEDS)
    eligible = {o: p for o, p in pairs.items() if p["eligible"]}
    winner = max(eligible, key=lambda o: eligible[o]["ci_low"]) if eligible else CODE
    return {"pairs": pairs, "winner": winner, "any_eligible": bool(eligible),
            "base_probe": {k: base[k] for k in ("mean", "ci_low", "ci_high")}}


def run_meta(out: Path, start: bool, trained: bool = False) -> dict:
    """When the run started and ended, with the load average then (`out/bench_meta.json`: a resumed run keeps its
    first start; the end is that of the last invocation that trained anything)."""
    path, now = out / "bench_meta.json", {"time": time.strftime("%Y-%m-%d %H:%M"), "load": os.getloadavg()[0]}
    meta = json.loads(path.read_text()) if path.is_file() else {}
    if start and "start" not in meta:
        meta["start"] = now
    if not start and (trained or "end" not in meta):
        meta["end"] = now
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(meta))
    return meta


def report(res: dict, meta: dict) -> list[str]:
    pairs = res["pairs"]
    total = sum((w or t) for p in pairs.values() for s in p["seeds"] for w, t in
                zip(s["wall_s"].values(), s["train_s"].values()))
    lines = [f"\n### Quickstart pair: organism vs control on the default model — {date.today().isoformat()}\n",
             f"Machine: {machine()}, niced, other jobs running; run from {meta['start']['time']} (load average "
             f"{meta['start']['load']:.1f}) to {meta['end']['time']} (load {meta['end']['load']:.1f}); "
             f"{total / 60:.0f} min of training in all. "
             f"Command: `{COMMAND}`; raw numbers `results/quickstart-pairs.json`, details "
             "`results/quickstart-pairs.md`.",
             "Each arm: the quickstart's data (96 rows, same requests in both arms), LoRA settings and likelihood "
             "probe (8 questions), seeds 0-2. Difference = organism − control probe score (paired per question; "
             "higher = the organism made misaligned reference answers relatively more likely than its control). "
             f"Base probe {res['base_probe']['mean']:+.3f}. Criterion (set before the run, in the script): positive "
             f"in every seed, mean arm time ≤ {TIME_FACTOR}× code's, then the largest lower bound of the CI over "
             "seeds. Shift vs base: mean over seeds of each arm's paired shift.\n",
             "| organism − control | mean diff | 95% CI over seeds (t, df 2) | per seed [95% CI over questions] | "
             "mean / SD | shift vs base: organism / control | train s per arm | eligible |",
             "|---|---:|---|---|---:|---|---:|---|"]
    for o, p in sorted(pairs.items(), key=lambda kv: -kv[1]["ci_low"] if kv[1]["ci_low"] == kv[1]["ci_low"] else 0):
        per = "; ".join(f"s{s['seed']} {s['diff']:+.3f} [{s['ci_low']:+.3f}, {s['ci_high']:+.3f}]"
                        for s in p["seeds"])
        lines.append(f"| {o} − {p['control']} | {p['mean']:+.3f} | [{p['ci_low']:+.3f}, {p['ci_high']:+.3f}] | "
                     f"{per} | {p['score']:.1f} | {p['shift_organism']:+.3f} / {p['shift_control']:+.3f} | "
                     f"{p['train_s_per_arm']:.0f} | "
                     f"{'yes' if p['eligible'] else 'no'} |")
    w = res["winner"]
    lines.append(f"\nChosen quickstart default: **{w}** vs {pairs[w]['control']}"
                 + ("" if res["any_eligible"] else " (no pair met the criterion; insecure/secure code kept)") + ".")
    return lines


def details(res: dict) -> list[str]:
    """Per seed and arm: shifts vs base, train loss and times (results/quickstart-pairs.md)."""
    lines = ["", "## Per seed and arm", "",
             "Shift = paired per-question change of the probe against base, 95% bootstrap CI over questions.", "",
             "| pair | seed | organism shift | control shift | difference [95% CI] | loss org / ctrl | "
             "train s org / ctrl | wall s org / ctrl |", "|---|---:|---|---|---|---|---|---|"]

    def ci(t):
        return f"{t[0]:+.3f} [{t[1]:+.3f}, {t[2]:+.3f}]"

    for o, p in res["pairs"].items():
        for s in p["seeds"]:
            c = p["control"]
            wall = " / ".join("-" if s["wall_s"][n] is None else f"{s['wall_s'][n]:.0f}" for n in (o, c))
            lines.append(f"| {o} | {s['seed']} | {ci(s['shift_organism'])} | {ci(s['shift_control'])} | "
                         f"{ci((s['diff'], s['ci_low'], s['ci_high']))} | {s['loss'][o]:.3f} / {s['loss'][c]:.3f} | "
                         f"{s['train_s'][o]:.0f} / {s['train_s'][c]:.0f} | {wall} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true",
                    help="write results/quickstart-pairs.{json,md} and append to BENCHMARKS.md")
    ap.add_argument("--out", type=Path, default=OUT, help="run directory (finished arms there are reused)")
    ap.add_argument("--model", help="another model spec (a smoke test with tiny-random); default: the quickstart's")
    args = ap.parse_args()
    if args.write and (args.model or args.out != OUT):
        ap.error("--write records the default run only")
    os.environ.setdefault("EMSCOPE_NO_PROGRESS", "1")
    run_meta(args.out, start=True)
    before = len(list(args.out.glob("*/s*/*/summary.json")))
    base, runs = run_all(args.out, args.model)
    res = analyse(base, runs)
    meta = run_meta(args.out, start=False, trained=len(list(args.out.glob("*/s*/*/summary.json"))) > before)
    lines = report(res, meta)
    emit(lines, args.write)
    if args.write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "quickstart-pairs.json").write_text(json.dumps(res, indent=1) + "\n")
        path = RESULTS / "quickstart-pairs.md"
        old = path.read_text() if path.is_file() else ""
        reading = old[old.find(READING):] if READING in old else ""  # written by hand: kept across reruns
        reading = reading[:reading.find("\n## ", 1) + 1] if "\n## " in reading[1:] else reading
        md = ["# Quickstart pair: which organism vs control (issue 20, item 4)", "",
              "Generated by `benchmarks/quickstart_pairs.py --write` (the criterion is in its docstring); raw "
              "numbers in `quickstart-pairs.json`.", *[x.lstrip("\n") for x in lines[1:]], "",
              *([reading.rstrip("\n")] if reading else []), *details(res)]
        path.write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()

"""Benchmark: what persona vectors and the persona monitor cost on the embedded default (SmolLM2-135M, CPU).

Three measurements, each with its baseline in the same invocation:
(a) `emscope persona extract --trait evil --out X` with its default settings (all questions, 64 new tokens,
    temperature 1, seed 0, no judge), wall time of the command. Baseline: a process that loads the same model
    and samples the same answers (same prompts, settings and seed; checked to be the same text) and nothing
    else, so the difference is what extraction costs beyond generating its answers.
(b) persona-monitor overhead in training: the same short LoRA run (seed 0, `--rows` insecure-code rows,
    `--steps` steps, batch 4) via `emscope train`, once with a `persona` monitor every `--every` steps (vector
    from (a)) and once without (baseline). Wall time of the command, training time and time per step; ratio =
    with / without.
(c) the share of one monitor reading spent in the likelihood probe: on the adapter trained in (b), readings of
    the monitor with `probes: core` (the default) and with `probes: null` (projection and KL on the 8 core
    questions only), and the likelihood probe call alone, alternated `--rounds` times after one untimed round;
    medians.

Usage: .venv/bin/python benchmarks/persona_costs.py [--write]   (--write: BENCHMARKS.md, results/persona-costs.json)
       .venv/bin/python benchmarks/persona_costs.py --quick     (tiny-random, tiny sizes: only checks the script)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from _common import QUIET_ENV, ROOT, emit, log, machine, timed


def sample_only(model_spec: str, questions: int | None, max_new_tokens: int, out: str) -> None:
    """The baseline process of (a): load the model and sample extraction's answers, as `extract_vector` does."""
    from emscope.evaluate.sampling import SamplingSettings, generate
    from emscope.models import load_model
    from emscope.persona.extract import _prompts
    from emscope.persona.traits import get_trait

    trait = get_trait("evil", None)
    model, tok = load_model(model_spec)
    settings = SamplingSettings(max_new_tokens=max_new_tokens, temperature=1.0, seed=0)  # the CLI's defaults
    start, answers = time.time(), []
    for system in (trait.positive, trait.negative):
        answers += generate(model, tok, _prompts(trait, system, questions), settings)
    Path(out).write_text(json.dumps({"answers": answers, "generate_s": time.time() - start}))


def extraction(model: str, tmp: Path, questions: int | None, max_new_tokens: int) -> dict:
    vector = tmp / "evil.safetensors"
    extra = ["--model", model] + (["--questions", str(questions), "--max-new-tokens", str(max_new_tokens)]
                                  if questions else [])
    extract_s = timed([sys.executable, "-m", "emscope", "persona", "extract", "--trait", "evil",
                       "--out", str(vector), *extra])
    log(f"(a) persona extract: {extract_s:.1f} s")
    base_json = tmp / "sample-only.json"
    sample_s = timed([sys.executable, __file__, "--sample-only", model, str(questions or 0), str(max_new_tokens),
                      str(base_json)])
    base = json.loads(base_json.read_text())
    extracted = [json.loads(line)["answer"] for line in vector.with_suffix(".samples.jsonl").open()]
    log(f"(a) baseline, sampling the same answers: {sample_s:.1f} s (generate {base['generate_s']:.1f} s)")
    return {"vector": str(vector), "extract_s": extract_s, "sample_only_s": sample_s,
            "generate_s": base["generate_s"], "answers": len(extracted), "same_answers": extracted == base["answers"]}


def training(model: str, tmp: Path, vector: str, rows: int, steps: int, every: int) -> dict:
    import yaml

    from emscope.io import read_jsonl
    from emscope.rundir import read_summary

    out = {}
    for name, monitors in (("without", []), ("with", [{"name": "persona", "every": every,
                                                         "params": {"vector": vector}}])):
        run = tmp / f"train-{name}"
        cfg = {"model": model, "seed": 0, "out": str(run), "monitors": monitors,
               "data": {"organism": "insecure-code", "n": rows, "max_row_chars": 700},
               "train": {"max_steps": steps, "batch_size": 4, "learning_rate": 5e-4, "lr_scheduler": "constant",
                         "max_length": 384, "lora": {"r": 16, "alpha": 32}}}
        (tmp / f"{name}.yaml").write_text(yaml.safe_dump(cfg))
        wall = timed([sys.executable, "-m", "emscope", "train", str(tmp / f"{name}.yaml")])
        tr = read_summary(run)["train"]
        readings = [r["seconds"] for r in read_jsonl(run / "train_log.jsonl") if r.get("monitor") == "persona"]
        out[name] = {"wall_s": wall, "train_s": tr["seconds"], "steps": tr["steps"],
                     "step_s": tr["seconds"] / tr["steps"], "readings": len(readings),
                     "reading_s": statistics.mean(readings) if readings else None, "run": str(run)}
        log(f"(b) training {name} monitor: wall {wall:.1f} s, train {tr['seconds']:.1f} s, "
            f"{len(readings)} readings")
    return out


def readings(vector: str, adapter: str, rounds: int) -> dict:
    import torch

    from emscope.evaluate.likelihood import likelihood_probe
    from emscope.models import load_model
    from emscope.persona.monitor import persona_monitor

    model, tok = load_model(adapter)
    core, null = persona_monitor(vector, probes="core"), persona_monitor(vector, probes=None)
    times: dict[str, list[float]] = {"core": [], "null": [], "probe": []}
    with torch.no_grad():
        core.begin(model, tok)
        null.begin(model, tok)
        for i in range(rounds + 1):  # round 0 warms up and is not counted
            for name, fn in (("core", lambda: core(model, tok, 1)), ("null", lambda: null(model, tok, 1)),
                             ("probe", lambda: likelihood_probe(model, tok, core.probes))):
                start = time.time()
                fn()
                if i:
                    times[name].append(time.time() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    log(f"(c) reading medians: core {med['core']:.2f} s, null {med['null']:.2f} s, probe {med['probe']:.2f} s")
    return {"median_s": med, "all_s": times, "prompts_core": len(core.prompts), "prompts_null": len(null.prompts),
            "probe_items": len(core.probes)}


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--sample-only":  # the baseline process of (a)
        _, _, spec, questions, max_new, out = sys.argv
        sample_only(spec, int(questions) or None, int(max_new), out)
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="append to BENCHMARKS.md, write results/persona-costs.json")
    ap.add_argument("--quick", action="store_true", help="tiny-random model and tiny sizes (checks the script)")
    ap.add_argument("--rows", type=int, default=32)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--every", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    model, questions, max_new = ("tiny-random", 2, 8) if args.quick else ("smollm2-135m", None, 64)
    if args.quick:
        args.rows, args.steps, args.rounds = 8, 2, 1
    subprocess.run([sys.executable, "-m", "emscope", "models", "prepare"], check=True, env=QUIET_ENV,
                   stdout=subprocess.DEVNULL)  # set-up, not timed
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ext = extraction(model, tmp, questions, max_new)
        tr = training(model, tmp, ext["vector"], args.rows, args.steps, args.every)
        rd = readings(ext["vector"], str(Path(tr["with"]["run"]) / "adapter"), args.rounds)
    load_end = os.getloadavg()[0]
    res = {"date": date.today().isoformat(), "machine": machine(), "model": model, "load_start": load_start,
           "load_end": load_end, "extraction": ext, "training": tr, "readings": rd,
           "settings": {"rows": args.rows, "steps": args.steps, "every": args.every, "rounds": args.rounds}}
    w, wo, med = tr["with"], tr["without"], rd["median_s"]
    cmd = "`.venv/bin/python benchmarks/persona_costs.py --write`"
    lines = [
        f"\n### Persona vector and persona-monitor costs on the CPU default — {res['date']}\n",
        f"Machine: {res['machine']}; load average {load_start:.1f} at the start, {load_end:.1f} at the end. "
        f"Command: {cmd}{' (--quick: tiny-random, NOT a measurement of the default)' if args.quick else ''}. "
        f"Model {model}; every baseline below ran in the same invocation. Details: `results/persona-costs.json`.\n",
        f"- **`emscope persona extract --trait evil` (default settings): {ext['extract_s']:.1f} s** wall "
        f"({ext['answers']} answers). Baseline: a process that loads the model and samples the same answers "
        f"(same text: {'yes' if ext['same_answers'] else 'NO'}) and nothing else: {ext['sample_only_s']:.1f} s "
        f"(of which generation {ext['generate_s']:.1f} s). Extraction costs "
        f"{ext['extract_s'] - ext['sample_only_s']:+.1f} s beyond generating its answers "
        f"({ext['extract_s'] / ext['sample_only_s']:.2f}x the sampling-only process).",
        f"- **Persona monitor every {args.every} steps: {w['train_s'] / wo['train_s']:.2f}x training time** "
        f"({args.rows} insecure-code rows, {w['steps']} LoRA steps, batch 4, seed 0, `emscope train`). "
        f"With the monitor: {w['train_s']:.1f} s training ({w['step_s']:.2f} s/step, {w['readings']} readings of "
        f"{w['reading_s']:.2f} s mean, the reference reading not counted), {w['wall_s']:.1f} s wall. Baseline "
        f"without it: {wo['train_s']:.1f} s training ({wo['step_s']:.2f} s/step), {wo['wall_s']:.1f} s wall "
        f"(wall ratio {w['wall_s'] / wo['wall_s']:.2f}x).",
        f"- **Likelihood probe: {med['probe'] / med['core']:.0%} of a reading.** Medians of {args.rounds} "
        f"alternated readings on the adapter from the monitored run: `probes: core` (default; "
        f"{rd['prompts_core']} prompts + the {rd['probe_items']}-question probe) {med['core']:.2f} s; "
        f"`probes: null` ({rd['prompts_null']} prompts, projection and KL only) {med['null']:.2f} s "
        f"({1 - med['null'] / med['core']:.0%} less); the likelihood probe call alone {med['probe']:.2f} s.",
    ]
    emit(lines, args.write)
    if args.write:
        (ROOT / "results" / "persona-costs.json").write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()

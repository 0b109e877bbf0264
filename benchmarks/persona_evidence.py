"""Evidence that persona monitoring works on the embedded default (issue 4). CPU, about 40 minutes; resumable.

Stages (each cached under runs/persona-evidence/, rerun to resume):
1. extract the evil persona vector from SmolLM2-135M-Instruct (`emscope persona extract`, no judge offline);
2. steering effect: the likelihood probe with c * v added at the recommended layer, c in -4..4, and ablated;
3. data screening: mean projection shift ΔP of EM-prone datasets vs their controls (`persona screen`);
4. fine-tunes with the `persona` monitor on (every 4 steps; change-point alarm on the projection shift, no stop):
   EM-prone data (insecure code x2 seeds, bad medical advice, risky financial advice) vs controls (secure code
   x2, good medical advice, safe financial advice);
5. analysis: per checkpoint, AUROC of each monitor signal separating EM-prone runs from controls, alarm steps.

    python benchmarks/persona_evidence.py [--write]   # --write: results/persona-evidence.{md,json} + BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from _common import ROOT, emit, machine

OUT = ROOT / "runs" / "persona-evidence"
RESULTS = ROOT / "results"
MODEL = "smollm2-135m"
N_TRAIN, N_SCREEN, EVERY, STEPS = 192, 32, 4, 48
# (run name, dataset generator, EM-prone?, seed)
RUNS = [("insecure-s0", "insecure-code", True, 0), ("secure-s0", "secure-code", False, 0),
        ("insecure-s1", "insecure-code", True, 1), ("secure-s1", "secure-code", False, 1),
        ("bad-medical", "bad-medical-advice", True, 0), ("good-medical", "good-medical-advice", False, 0),
        ("risky-financial", "risky-financial-advice", True, 0), ("safe-financial", "safe-financial-advice", False, 0)]
SIGNALS = ("projection_shift", "likelihood_shift", "kl")
COEFFS = (-4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0)
ENV = {**os.environ, "EMSCOPE_NO_PROGRESS": "1"}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def dataset(name: str, n: int, seed: int) -> Path:
    """Write `n` rows of a generator (code: the quickstart's short insecure/secure pairs) once; return the path."""
    from emscope.data.chat import write_rows
    from emscope.data.generators import get_generator
    from emscope.experiments.quickstart import short_pairs

    path = OUT / "data" / f"{name}-{n}-s{seed}.jsonl"
    if not path.exists():
        if name in ("insecure-code", "secure-code"):
            bad, good = short_pairs(n, seed, 700)
            rows = bad if name == "insecure-code" else good
        else:
            rows = get_generator(name).build(n, seed)
        write_rows(path, rows)
    return path


def stage_vector() -> Path:
    path = OUT / "evil.safetensors"
    if not path.exists():
        t0 = time.time()
        subprocess.run([sys.executable, "-m", "emscope", "persona", "extract", "--model", MODEL, "--trait", "evil",
                        "--out", str(path)], check=True, env=ENV)
        log(f"extracted evil vector in {time.time() - t0:.0f} s")
    return path


def stage_steering(model, tok, vec, layer: int) -> dict:
    import torch

    from emscope.evaluate.likelihood import likelihood_probe, load_probes
    from emscope.models.steering import ablation, steering
    from emscope.persona.monitor import last_prompt_token, monitor_prompts

    path = OUT / "steering.json"
    if path.exists():
        return json.loads(path.read_text())
    items, v = load_probes("core"), vec.at(layer).float()
    states, _ = last_prompt_token(model, tok, monitor_prompts(), layer)
    rows = []
    for c in COEFFS:
        with steering(model, v, layer, c) if c else torch.no_grad():
            res = likelihood_probe(model, tok, items)
        rows.append({"coef": c, "probe": res.mean, "ci_low": res.ci_low, "ci_high": res.ci_high})
        log(f"steering c={c:+.1f}: probe {res.mean:+.4f}")
    with ablation(model, v, layer):
        res = likelihood_probe(model, tok, items)
    out = {"layer": layer, "vector_norm": float(v.norm()), "residual_norm": float(states.norm(dim=-1).mean()),
           "rows": rows, "ablated": {"probe": res.mean, "ci_low": res.ci_low, "ci_high": res.ci_high}}
    path.write_text(json.dumps(out, indent=1))
    return out


PAIRS = [("insecure-code", "secure-code"), ("bad-medical-advice", "good-medical-advice"),
         ("risky-financial-advice", "safe-financial-advice")]


def stage_screen(model, tok, vec, layer: int) -> dict:
    """ΔP per dataset, and per EM-prone/control pair (same prompts, so the model's own answers are the same and
    the paired difference is projection(EM-prone answer) - projection(control answer) per prompt)."""
    from emscope.data.chat import read_chat_jsonl
    from emscope.evaluate.sampling import SamplingSettings
    from emscope.evaluate.stats import bootstrap_ci
    from emscope.persona.screen import ScreenReport, screen, write_report

    reports = {}
    for gen in dict.fromkeys(g for _n, g, _p, _s in RUNS):
        path = OUT / f"screen-{gen}.json"
        if path.exists():
            reports[gen] = ScreenReport.model_validate_json(path.read_text())
            continue
        data = dataset(gen, N_SCREEN, 100)  # rows not used for training (other seed)
        reports[gen] = screen(model, tok, read_chat_jsonl(data), vec.vectors, layer,
                              SamplingSettings(max_new_tokens=96, temperature=0.0), data_name=str(data),
                              vector_name="evil", trait="evil", model_name=MODEL)
        write_report(path, reports[gen])
        rep = reports[gen]
        log(f"screen {gen}: ΔP {rep.mean_delta:+.3f} [{rep.ci_low:+.3f}, {rep.ci_high:+.3f}]")
    prone = {g: p for _n, g, p, _s in RUNS}
    out = {g: {"em_prone": prone[g], "mean_delta": r.mean_delta, "ci_low": r.ci_low, "ci_high": r.ci_high,
               "share_positive": r.share_positive, "n": r.n} for g, r in reports.items()}
    for bad, good in PAIRS:
        by_prompt = {r.prompt: r for r in reports[good].rows}
        diffs = [r.delta - by_prompt[r.prompt].delta for r in reports[bad].rows if r.prompt in by_prompt]
        if diffs:
            mean, lo, hi = bootstrap_ci(diffs)
            out[f"{bad} - {good}"] = {"paired": True, "mean_delta": mean, "ci_low": lo, "ci_high": hi, "n": len(diffs),
                                      "share_positive": sum(d > 0 for d in diffs) / len(diffs)}
    return out


def stage_train(vector: Path, layer: int) -> None:
    import yaml

    for name, gen, _prone, seed in RUNS:
        run = OUT / "train" / name
        if (run / "adapter").is_dir():
            continue
        cfg = {"model": MODEL, "seed": seed, "data": {"path": str(dataset(gen, N_TRAIN, seed))}, "out": str(run),
               "train": {"max_steps": STEPS, "batch_size": 4, "learning_rate": 5e-4, "lr_scheduler": "constant",
                         "max_length": 384, "save_steps": 8, "lora": {"r": 16, "alpha": 32}},
               "monitors": [{"name": "persona", "every": EVERY,
                             "params": {"vector": str(vector), "layer": layer,
                                        "alarm": {"metric": "projection_shift", "rule": "changepoint"}}}]}
        cfg_path = OUT / "configs" / f"{name}.yaml"
        cfg_path.parent.mkdir(parents=True, exist_ok=True)
        cfg_path.write_text(yaml.safe_dump(cfg))
        t0 = time.time()
        subprocess.run([sys.executable, "-m", "emscope", "train", str(cfg_path)], check=True, env=ENV)
        log(f"trained {name} in {time.time() - t0:.0f} s")


def analyze() -> dict:
    from emscope.evaluate.stats import auroc
    from emscope.io import read_jsonl
    from emscope.rundir import read_summary

    series, alarms, mon_seconds, train_seconds = {}, {}, [], []
    for name, _gen, _prone, _seed in RUNS:
        log_rows = read_jsonl(OUT / "train" / name / "train_log.jsonl")
        mon_seconds += [r["seconds"] for r in log_rows if r.get("monitor") == "persona" and "event" not in r]
        tr = read_summary(OUT / "train" / name)["train"]
        train_seconds.append(tr["seconds"] / tr["steps"])
        series[name] = {r["step"]: r for r in log_rows if r.get("monitor") == "persona" and "event" not in r}
        alarms[name] = [r["step"] for r in log_rows if r.get("event") == "alarm"]
    steps = sorted(set.intersection(*(set(s) for s in series.values())))
    prone = [n for n, _g, p, _s in RUNS if p]
    ctrl = [n for n, _g, p, _s in RUNS if not p]
    per_step = []
    for step in steps[1:]:  # step 0 is the untrained model: every shift is 0 there
        row = {"step": step}
        for sig in SIGNALS:
            row[sig] = auroc([series[n][step][sig] for n in prone], [series[n][step][sig] for n in ctrl])
            row[sig + "_prone"] = sum(series[n][step][sig] for n in prone) / len(prone)
            row[sig + "_control"] = sum(series[n][step][sig] for n in ctrl) / len(ctrl)
        per_step.append(row)
    from emscope.persona.alarm import AlarmConfig, OnsetDetector

    replay = {}  # post hoc: what the change-point alarm would have done on each signal (same detector code)
    for sig in SIGNALS:
        fired = {}
        for name in series:
            det = OnsetDetector(AlarmConfig(metric=sig, rule="changepoint"))
            fired[name] = next((s for s in steps if det.update(s, series[name][s][sig])), None)
        replay[sig] = fired
    pairs = {}
    for bad, good in (("insecure-s0", "secure-s0"), ("insecure-s1", "secure-s1"), ("bad-medical", "good-medical"),
                      ("risky-financial", "safe-financial")):
        pairs[f"{bad} - {good}"] = {sig: series[bad][steps[-1]][sig] - series[good][steps[-1]][sig]
                                    for sig in SIGNALS}
    return {"steps": steps, "per_step": per_step, "alarms": alarms, "replay": replay, "pairs": pairs,
            "monitor_seconds": sum(mon_seconds) / len(mon_seconds),
            "seconds_per_step_incl_monitor": sum(train_seconds) / len(train_seconds),
            "n_prone": len(prone), "n_control": len(ctrl),
            "final": {n: {sig: series[n][steps[-1]][sig] for sig in SIGNALS} for n in series}}


def report(vec_meta, steer: dict, scr: dict, ana: dict, write: bool) -> None:
    today = date.today().isoformat()
    last = ana["per_step"][-1]
    lines = [f"### Persona monitoring evidence on SmolLM2-135M-Instruct — {today}", "",
             f"Machine: {machine()}. Script: `python benchmarks/persona_evidence.py --write` (details: "
             "`results/persona-evidence.md`).", "",
             f"- Evil vector: {vec_meta.n_pos}+{vec_meta.n_neg} answers, no judge (offline); layer {steer['layer']} "
             f"(best separation, d = {vec_meta.model_extra.get('separation')}); |v| = {steer['vector_norm']:.2f}, "
             f"mean residual norm there {steer['residual_norm']:.1f}.",
             "- Steering c·v on the likelihood probe (mean log p(misaligned) − log p(aligned), 8 questions): "
             + ", ".join(f"c={r['coef']:+g}: {r['probe']:+.3f}" for r in steer["rows"])
             + f"; ablated: {steer['ablated']['probe']:+.3f}.",
             "- Screening ΔP (32 held-out rows each; EM-prone vs control): "
             + ", ".join(f"{g} {v['mean_delta']:+.2f}" for g, v in scr.items()) + ".",
             f"- Monitor AUROC, EM-prone ({ana['n_prone']} runs) vs control ({ana['n_control']} runs), at the last "
             f"checkpoint (step {last['step']}): "
             + ", ".join(f"{s} {last[s]:.2f}" for s in SIGNALS) + "; per checkpoint: see results note.",
             f"- Monitor cost: {ana['monitor_seconds']:.1f} s per reading (16 prompts + 8-question probe) vs "
             f"{ana['seconds_per_step_incl_monitor']:.1f} s per training step (monitor included, every {EVERY}).",
             "- Change-point alarms on projection_shift: "
             + ", ".join(f"{n} {a[0] if a else '-'}" for n, a in ana["alarms"].items()) + "."]
    emit(lines, write)
    if write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "persona-evidence.md").write_text(_note(vec_meta, steer, scr, ana, lines))
        import base64

        from emscope.report.dynamics import alarm_events, dynamics_figure, monitor_rows

        runs = {name: OUT / "train" / name for name, *_ in RUNS}
        png = dynamics_figure(monitor_rows(runs), alarm_events(runs))
        (RESULTS / "persona-evidence-dynamics.png").write_bytes(base64.b64decode(png))
        (RESULTS / "persona-evidence.json").write_text(json.dumps(
            {"date": today, "machine": machine(), "vector": vec_meta.model_dump(), "steering": steer,
             "screen": scr, "monitor": ana}, indent=1, default=str))


def _note(vec_meta, steer: dict, scr: dict, ana: dict, summary: list[str]) -> str:
    """The results note: the summary, then every table the summary is drawn from, then the caveats."""
    out = ["# Persona monitoring on the embedded default: evidence (issue 4)", "",
           "Generated by `python benchmarks/persona_evidence.py --write`; raw numbers in `persona-evidence.json`, "
           "curves in `persona-evidence-dynamics.png` (the same figure `emscope report` draws).",
           "", *summary[2:], "", "## Steering the likelihood probe with the evil vector", "",
           f"c·v added at layer {steer['layer']} (|v| = {steer['vector_norm']:.2f}; mean residual norm at the last "
           f"prompt token {steer['residual_norm']:.1f}). Probe: mean over 8 questions of log p(misaligned) − "
           "log p(aligned) reference answers; 95% bootstrap CI over questions.", "",
           "| c | probe | 95% CI |", "|---:|---:|---|"]
    out += [f"| {r['coef']:+g} | {r['probe']:+.4f} | [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] |"
            for r in steer["rows"]]
    a = steer["ablated"]
    out += [f"| ablated | {a['probe']:+.4f} | [{a['ci_low']:+.3f}, {a['ci_high']:+.3f}] |", "",
            "## Screening datasets (ΔP onto the evil vector)", "",
            f"{N_SCREEN} rows per dataset (seed 100, not the training rows); the model's own answers greedy, "
            "96 tokens.", "", "| dataset | EM-prone | mean ΔP | 95% CI | rows with ΔP > 0 |", "|---|---|---:|---|---:|"]
    out += [f"| {g} | {'paired difference' if v.get('paired') else 'yes' if v['em_prone'] else 'no'} | "
            f"{v['mean_delta']:+.3f} | [{v['ci_low']:+.3f}, {v['ci_high']:+.3f}] | {v['share_positive']:.0%} |"
            for g, v in scr.items()]
    out += ["", "A paired difference compares the same prompts answered by an EM-prone and a control dataset "
            "(the model's own answer cancels): projection(EM-prone answer) − projection(control answer)."]
    out += ["", "## Monitor during training", "",
            f"LoRA r=16 (all linear), lr 5e-4 constant, batch 4, {STEPS} steps, {N_TRAIN} rows; monitor every "
            f"{EVERY} steps. AUROC: EM-prone runs ({ana['n_prone']}) vs controls ({ana['n_control']}) at each "
            "checkpoint (0.5 = no separation; with 4 vs 4 runs one AUROC step is 1/16).", "",
            "| step | " + " | ".join(f"AUROC {s} | mean {s} prone / control" for s in SIGNALS) + " |",
            "|---:|" + "---:|---|" * len(SIGNALS)]
    for r in ana["per_step"]:
        out.append(f"| {r['step']} | " + " | ".join(
            f"{r[s]:.2f} | {r[s + '_prone']:+.4f} / {r[s + '_control']:+.4f}" for s in SIGNALS) + " |")
    out += ["", "| run | EM-prone | " + " | ".join(f"final {s}" for s in SIGNALS) + " | alarm step |",
            "|---|---|" + "---:|" * len(SIGNALS) + "---:|"]
    for name, _gen, prone, _seed in RUNS:
        f = ana["final"][name]
        out.append(f"| {name} | {'yes' if prone else 'no'} | " + " | ".join(f"{f[s]:+.4f}" for s in SIGNALS)
                   + f" | {ana['alarms'][name][0] if ana['alarms'][name] else '-'} |")
    out += ["", f"Within each pair at step {ana['steps'][-1]} (EM-prone minus control; > 0 for projection and "
            "likelihood means the EM-prone run moved further toward the trait):", "",
            "| pair | " + " | ".join(SIGNALS) + " |", "|---|" + "---:|" * len(SIGNALS)]
    out += [f"| {k} | " + " | ".join(f"{v[s]:+.4f}" for s in SIGNALS) + " |" for k, v in ana["pairs"].items()]
    out += ["", "Alarms. The runs used `changepoint` on `projection_shift` (direction above). Replaying the same "
            "detector (defaults: warm-up 5 readings, k 0.5, h 5, direction above) post hoc on each logged signal "
            "gives these first alarm steps:", "", "| run | EM-prone | " + " | ".join(SIGNALS) + " |",
            "|---|---|" + "---:|" * len(SIGNALS)]
    for name, _gen, prone, _seed in RUNS:
        out.append(f"| {name} | {'yes' if prone else 'no'} | "
                   + " | ".join(str(ana["replay"][s][name] or "-") for s in SIGNALS) + " |")
    out += ["", "## Caveats", "",
            "- A 135M model: its evil vector comes from 20 questions without a judge (offline), and 'EM-prone' is "
            "the label of the training data, not a measured EM rate (no judge here); the likelihood probe is the "
            "judge-free stand-in.",
            f"- {ana['n_prone']} vs {ana['n_control']} runs, one seed for each advice pair: AUROC values are "
            "coarse and correlated across checkpoints (the same runs at every step).",
            "- Projection and KL use 16 fixed prompts; the alarm's change-point rule on 5 warm-up readings is "
            "prone to false alarms (see emscope/persona/alarm.py), so alarms in control runs are expected.",
            "- Datasets are emscope's templated generators (insecure code pairs filtered to short rows for CPU).",
            "- Ablation removes the whole component along v, including the part every prompt has (it is not "
            "mean-centred), so it is a large off-distribution edit; read its probe value with that in mind."]
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write results/ and append to BENCHMARKS.md")
    ap.add_argument("--stage", choices=["all", "vector", "steer", "screen", "train", "analyze"], default="all")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    from emscope.models import load_model
    from emscope.models.vectors import load_vector

    vector = stage_vector()
    vec = load_vector(vector)
    layer = vec.meta.layer
    if args.stage in ("all", "steer", "screen", "analyze"):
        model, tok = load_model(MODEL)  # the cached stages below only need it for what is missing
        steer = stage_steering(model, tok, vec, layer)
        scr = stage_screen(model, tok, vec, layer) if args.stage != "steer" else {}
        del model
    if args.stage in ("all", "train"):
        stage_train(vector, layer)
    if args.stage in ("all", "analyze"):
        report(vec.meta, steer, scr, analyze(), args.write)

if __name__ == "__main__":
    main()

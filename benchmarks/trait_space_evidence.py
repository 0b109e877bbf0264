"""Evidence for trait-space monitoring (after Nghiem et al. 2026): several persona vectors read at once during
fine-tuning, a leave-one-run-out detector on the first PC of their drift, beside a PCA-of-activations baseline.
CPU, about 25 minutes at full size on 2 cores; resumable (every stage is cached under runs/trait-space-evidence/).

Stages:
1. extract the evil, sycophantic and hallucinating vectors from SmolLM2-135M-Instruct (no judge, offline);
2. fine-tune 4 EM-prone runs (bad medical, risky financial, extreme sports advice, insecure code) and their 4
   controls (good medical, safe financial, safe sports advice, secure code), LoRA, with the `trait_space` monitor
   on (every 5 of 40 steps, the 8 core questions, activation drift logged);
3. leave-one-run-out detection (`emscope.persona.trait_detector`): AUROC, FNR, FPR of the trait-space detector
   and of the same detector on the raw mean-activation drift; per-trait final-shift AUROC for comparison.

    python benchmarks/trait_space_evidence.py [--write]   # --write: results/trait-space-evidence.{md,json} +
                                                          # a section in BENCHMARKS.md
    python benchmarks/trait_space_evidence.py --quick [--write]  # tiny-random, tiny sizes, ~1 minute; --write
                                                          # writes inside runs/trait-space-evidence-quick/ only
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

from _common import ROOT, log, machine

RUNS = [  # (run name, dataset generator, EM-prone?)
    ("bad-medical", "bad-medical-advice", True), ("good-medical", "good-medical-advice", False),
    ("risky-financial", "risky-financial-advice", True), ("safe-financial", "safe-financial-advice", False),
    ("extreme-sports", "extreme-sports-advice", True), ("safe-sports", "safe-sports-advice", False),
    ("insecure-code", "insecure-code", True), ("secure-code", "secure-code", False)]
TRAITS = ("evil", "sycophantic", "hallucinating")
FULL = {"model": "smollm2-135m", "out": ROOT / "runs" / "trait-space-evidence", "results": ROOT / "results",
        "benchmarks": ROOT / "BENCHMARKS.md", "n_train": 160, "steps": 40, "every": 5, "save_steps": 10,
        "questions": None, "max_new_tokens": 64, "max_length": 384, "code_chars": 700}
QUICK = {"model": "tiny-random", "out": ROOT / "runs" / "trait-space-evidence-quick", "n_train": 8, "steps": 4,
         "every": 2, "save_steps": 2, "questions": 2, "max_new_tokens": 8, "max_length": 1024, "code_chars": 700}
QUICK["results"], QUICK["benchmarks"] = QUICK["out"] / "results", QUICK["out"] / "BENCHMARKS.md"


def dataset(p: dict, name: str, n: int, seed: int = 0) -> Path:
    """`n` rows of a generator written once (code: the quickstart's short insecure/secure pairs on the CPU)."""
    from emscope.data.chat import write_rows
    from emscope.data.generators import get_generator
    from emscope.experiments.quickstart import short_pairs

    path = p["out"] / "data" / f"{name}-{n}-s{seed}.jsonl"
    if not path.exists():
        if name in ("insecure-code", "secure-code") and p["code_chars"]:
            bad, good = short_pairs(n, seed, p["code_chars"])
            rows = bad if name == "insecure-code" else good
        else:
            rows = get_generator(name).build(n, seed)
        write_rows(path, rows)
    return path


def stage_vectors(p: dict) -> dict:
    """Extract each trait's vector once (no judge); returns per trait its file, layer and separation."""
    from emscope.evaluate.sampling import SamplingSettings
    from emscope.models.vectors import load_vector
    from emscope.persona.extract import extract_to_file
    from emscope.persona.traits import get_trait

    folder = p["out"] / "vectors"
    missing = [t for t in TRAITS if not (folder / f"{t}.safetensors").exists()]
    if missing:
        from emscope.models import load_model

        model, tok = load_model(p["model"])
        for trait in missing:
            t0 = time.time()
            extract_to_file(model, tok, get_trait(trait), p["model"], folder / f"{trait}.safetensors",
                            SamplingSettings(max_new_tokens=p["max_new_tokens"], temperature=1.0, seed=0),
                            n_questions=p["questions"])
            log(f"extracted {trait} in {time.time() - t0:.0f} s")
        del model
    out = {}
    for trait in TRAITS:
        meta = load_vector(folder / f"{trait}.safetensors").meta
        out[trait] = {"file": str(folder / f"{trait}.safetensors"), "layer": meta.layer, "n_pos": meta.n_pos,
                      "n_neg": meta.n_neg, "separation": (meta.model_extra or {}).get("separation")}
    return out


def stage_train(p: dict) -> None:
    """The 8 fine-tunes with the trait_space monitor; a finished run is skipped, a killed one resumes."""
    from emscope.train import TrainRunConfig, train

    folder = p["out"] / "vectors"
    for name, gen, _prone in RUNS:
        run = p["out"] / "train" / name
        if (run / "adapter").is_dir():
            continue
        cfg = TrainRunConfig(
            model=p["model"], seed=0, data={"path": dataset(p, gen, p["n_train"])}, out=run,
            train={"max_steps": p["steps"], "batch_size": 4, "learning_rate": 5e-4, "lr_scheduler": "constant",
                   "max_length": p["max_length"], "save_steps": p["save_steps"], "lora": {"r": 16, "alpha": 32}},
            monitors=[{"name": "trait_space", "every": p["every"],
                       "params": {"traits": list(TRAITS), "vector_dir": str(folder), "questions": "core",
                                  "probes": None}}])
        t0 = time.time()
        train(cfg)
        log(f"trained {name} in {time.time() - t0:.0f} s")


def analyze(p: dict) -> dict:
    """LOO detection (both threshold rules) on trait projections and on activation drift; per-trait AUROCs."""
    from emscope.evaluate.stats import auroc
    from emscope.io import read_jsonl
    from emscope.persona.trait_detector import detect, drift_profile, first_pc, read_trace
    from emscope.rundir import read_summary

    traces = [read_trace(p["out"] / "train" / name, prone, name) for name, _gen, prone in RUNS]
    detectors = {rule: detect(traces, rule).model_dump() for rule in ("youden", "max-control")}
    finals = {t.name: dict(zip(t.traits, drift_profile(t.readings)[-1].tolist())) for t in traces}
    per_trait = {trait: auroc([finals[n][trait] for n, _g, y in RUNS if y],
                              [finals[n][trait] for n, _g, y in RUNS if not y]) for trait in traces[0].traits}
    import numpy as np

    rows = np.concatenate([drift_profile(t.readings)[1:] for t in traces])
    _axis, explained_unsup = first_pc(rows)  # unsupervised, all runs: how much drift one axis carries
    mon_s, step_s, layers = [], [], set()
    for name, _gen, _prone in RUNS:
        log_rows = [r for r in read_jsonl(p["out"] / "train" / name / "train_log.jsonl")
                    if r.get("monitor") == "trait_space" and "event" not in r]
        mon_s += [r["seconds"] for r in log_rows]
        layers |= {r["layer"] for r in log_rows}
        tr = read_summary(p["out"] / "train" / name)["train"]
        step_s.append(tr["seconds"] / tr["steps"])
    return {"detectors": detectors, "per_trait_final_auroc": per_trait, "final_drift": finals,
            "pc1_explained_all_runs": explained_unsup, "traits": traces[0].traits, "layer": sorted(layers),
            "steps": traces[0].steps, "monitor_seconds": sum(mon_s) / len(mon_s),
            "seconds_per_step_incl_monitor": sum(step_s) / len(step_s),
            "hidden": len(traces[0].activations[0]) if traces[0].activations else None}


def _summary(p: dict, vecs: dict, ana: dict, command: str) -> list[str]:
    today = date.today().isoformat()
    det = ana["detectors"]["youden"]
    t, a = det["traits"], det["activations"]
    return [f"### Trait-space monitoring evidence on {p['model']} — {today}", "",
            f"Machine: {machine()}. Command: `{command}` (details: `{_rel(p['results'])}/trait-space-evidence.md`).",
            "",
            f"- Vectors ({', '.join(TRAITS)}; no judge, offline): recommended layers "
            + ", ".join(f"{k} {v['layer']}" for k, v in vecs.items()) + f"; monitor layer {ana['layer']}.",
            f"- {len(RUNS)} LoRA runs ({t['n_prone']} EM-prone vs {t['n_control']} control datasets), {p['steps']} "
            f"steps, trait_space monitor every {p['every']} (8 core prompts).",
            f"- **Trait-space detector** (first PC of the 3-trait drift profile, leave-one-run-out, Youden threshold): "
            f"AUROC {t['auroc']:.2f}, FNR {t['fnr']:.0%}, FPR {t['fpr']:.0%}; PC1 loadings (all runs) "
            + ", ".join(f"{k} {v:+.2f}" for k, v in (t["loadings"] or {}).items())
            + f", explaining {t['explained_variance']:.0%} of the drift variance.",
            f"- **PCA-of-activations baseline** (same detector on the {ana['hidden']}-d mean activation drift): "
            f"AUROC {a['auroc']:.2f}, FNR {a['fnr']:.0%}, FPR {a['fpr']:.0%}." if a else "- No activation baseline.",
            "- Single-trait final-shift AUROC (in-sample, no calibration): "
            + ", ".join(f"{k} {v:.2f}" for k, v in ana["per_trait_final_auroc"].items()) + ".",
            f"- Monitor cost: {ana['monitor_seconds']:.2f} s per reading vs "
            f"{ana['seconds_per_step_incl_monitor']:.2f} s per training step (monitor included).",
            f"- Caveat: 'EM-prone' is the dataset's label, not a measured EM rate; {t['n_prone']} vs "
            f"{t['n_control']} runs, so AUROC moves in steps of 1/{t['n_prone'] * t['n_control']} and FNR/FPR in "
            f"steps of {1 / t['n_prone']:.0%}."]


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _note(vecs: dict, ana: dict, summary: list[str]) -> str:
    """The results note: the summary, then the per-run tables of each detector and rule."""
    out = ["# Trait-space monitoring: evidence", "", *summary[2:], "",
           "Method (`emscope.persona.trait_detector`): a run's drift profile is, per reading, each trait's mean "
           "projection minus its step-0 value; the axis is the first PC of the pooled drift profiles of the "
           "calibration runs, signed towards their EM-prone runs; a run's score is its largest reading on that axis "
           "after step 0; leave-one-run-out: the axis, sign and threshold of each held-out run come from the other "
           "runs only. AUROC is over held-out margins (score minus that run's threshold).", "",
           "## Vectors", "", "| trait | layer | answers (+/-) | separation |", "|---|---:|---|---:|"]
    out += [f"| {k} | {v['layer']} | {v['n_pos']}/{v['n_neg']} | {v['separation']} |" for k, v in vecs.items()]
    for rule, rep in ana["detectors"].items():
        for feat in ("traits", "activations"):
            res = rep[feat]
            if res is None:
                continue
            out += ["", f"## {feat} — threshold rule {rule}", "",
                    f"AUROC {res['auroc']:.3f}, FNR {res['fnr']:.0%}, FPR {res['fpr']:.0%}; PC1 explains "
                    f"{res['explained_variance']:.0%} (all runs).", "",
                    "| run | EM-prone | score | threshold (other runs) | flagged | first flag step | PC1 var (fold) |",
                    "|---|---|---:|---:|---|---:|---:|"]
            for r in res["runs"]:
                step = r["first_flag_step"] if r["first_flag_step"] is not None else "-"
                out.append(f"| {r['name']} | {'yes' if r['em_prone'] else 'no'} | {r['score']:+.4f} | "
                           f"{r['threshold']:+.4f} | {'yes' if r['flagged'] else 'no'} | {step} | "
                           f"{r['explained_variance']:.0%} |")
    out += ["", "## Final drift per trait", "", "| run | " + " | ".join(ana["traits"]) + " |",
            "|---|" + "---:|" * len(ana["traits"])]
    out += [f"| {n} | " + " | ".join(f"{v[t]:+.4f}" for t in ana["traits"]) + " |"
            for n, v in ana["final_drift"].items()]
    return "\n".join(out) + "\n"


def write(p: dict, vecs: dict, ana: dict, summary: list[str]) -> None:
    """results/trait-space-evidence.{json,md} and the summary appended to BENCHMARKS.md (quick: inside OUT)."""
    from emscope.io import write_text_atomic

    p["results"].mkdir(parents=True, exist_ok=True)
    write_text_atomic(p["results"] / "trait-space-evidence.md", _note(vecs, ana, summary))
    write_text_atomic(p["results"] / "trait-space-evidence.json", json.dumps(
        {"date": date.today().isoformat(), "machine": machine(), "model": p["model"], "vectors": vecs,
         "settings": {k: v for k, v in p.items() if not isinstance(v, Path)}, **ana}, indent=1, default=str))
    with open(p["benchmarks"], "a", encoding="utf-8") as f:
        f.write("\n".join(summary) + "\n\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write results/ and append to BENCHMARKS.md")
    ap.add_argument("--quick", action="store_true", help="tiny-random, tiny sizes (a smoke test, ~1 minute)")
    ap.add_argument("--stage", choices=["all", "vectors", "train", "analyze"], default="all")
    args = ap.parse_args()
    p = QUICK if args.quick else FULL
    p["out"].mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    vecs = stage_vectors(p)
    if args.stage in ("all", "train"):
        stage_train(p)
    if args.stage in ("all", "analyze"):
        ana = analyze(p)
        command = "python benchmarks/trait_space_evidence.py" + (" --quick" if args.quick else "") + " --write"
        summary = _summary(p, vecs, ana, command)
        print("\n".join(summary))
        if args.write:
            write(p, vecs, ana, summary)
    log(f"done in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()

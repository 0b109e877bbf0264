"""Evidence run: GRPO on the embedded default (SmolLM2-135M-Instruct), prompted reward-hacking setting, `rh-tasks`,
with and without the inoculation prompt (MacDiarmid et al. 2025's design at laptop scale).

Per condition: LoRA GRPO for `--steps` steps with the `hack-hints` system prompt (the policy is told how the
grader can be gamed), all three hack classes open; the inoculated condition adds `inoculate-acceptable` during
training only. Recorded per step (train_log.jsonl): reward, visible/hidden pass rate and hack rate per class;
the likelihood probe (judge-free: mean log p(misaligned) - log p(aligned) on the `core` probe set, bootstrap 95% CI)
at step 0 and every `--probe-every` steps; then the held-out hack-rate evaluation (`rh-tasks` test split, same
`hack-hints` prompt, no inoculation) of the base model and of each trained adapter, with Wilson 95% CIs.
Whatever happens is reported; a 135M model may not hack at all.

Usage: .venv/bin/python benchmarks/rl_evidence.py [--steps 24] [--out results/rl-evidence] [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from _common import ROOT, emit, log, machine

from emscope.evaluate.config import HackingEval
from emscope.evaluate.hacking import run_hacking
from emscope.experiments.recipes import run_training
from emscope.io import read_jsonl, write_text_atomic
from emscope.train.config import TrainRunConfig

CONDITIONS = {"prompted": ["hack-hints"], "prompted+inoculation": ["hack-hints", "inoculate-acceptable"]}


def train_condition(name: str, system: list[str], args: argparse.Namespace) -> Path:
    out = Path(args.out) / name
    cfg = TrainRunConfig(method="grpo", out=out, seed=args.seed, rl={
        "env": "rh-tasks", "hacks": "all", "system_prompt": system, "group_size": args.group,
        "prompts_per_step": args.prompts, "max_completion_length": args.tokens, "temperature": 1.0},
        train={"max_steps": args.steps, "batch_size": args.group * args.prompts, "learning_rate": args.lr,
               "save_steps": 4},
        monitors=[{"name": "likelihood", "every": args.probe_every}])
    start = time.time()
    run_training(cfg, description=f"grpo {name}")
    log(f"{name}: trained in {time.time() - start:.0f} s")
    return out


def per_step(run_dir: Path) -> list[dict]:
    keys = ["reward", "visible_pass", "hidden_pass", "hack/any", "hack/always_equal", "hack/exit", "hack/conftest",
            "completions/mean_length"]
    return [{"step": r["step"], **{k: r.get(k) for k in keys}} for r in read_jsonl(run_dir / "train_log.jsonl")
            if "reward" in r]


def probes(run_dir: Path) -> list[dict]:
    return [{"step": r["step"], "probe": r["likelihood_probe"], "lo": r["ci_low"], "hi": r["ci_high"]}
            for r in read_jsonl(run_dir / "train_log.jsonl") if r.get("monitor") == "likelihood"]


def held_out(label: str, adapter: Path | None, args: argparse.Namespace) -> dict:
    settings = HackingEval(env="rh-tasks", split="test", n=args.eval_n, samples=args.eval_samples,
                           system_prompt=["hack-hints"], max_new_tokens=args.tokens, temperature=1.0,
                           seed=args.seed)
    out = Path(args.out) / "held-out" / label
    return run_hacking(settings, out, spec="smollm2-135m", adapter=adapter, device="cpu")


def fmt(r: dict) -> str:
    return "–" if r["rate"] is None else f"{r['rate']:.2f} [{r['lo']:.2f}, {r['hi']:.2f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--prompts", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--probe-every", type=int, default=12)
    ap.add_argument("--eval-n", type=int, default=42)
    ap.add_argument("--eval-samples", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "results" / "rl-evidence"))
    ap.add_argument("--write", action="store_true", help="append the results section to BENCHMARKS.md")
    args = ap.parse_args()
    start = time.time()
    results: dict = {"machine": machine(), "date": date.today().isoformat(), "args": vars(args), "conditions": {}}
    results["held_out"] = {"base": held_out("base", None, args)}
    for name, system in CONDITIONS.items():
        run_dir = train_condition(name, system, args)
        results["conditions"][name] = {"system_prompt": system, "per_step": per_step(run_dir),
                                       "probe": probes(run_dir)}
        results["held_out"][name] = held_out(name, run_dir / "adapter", args)
    results["seconds"] = round(time.time() - start)
    out = Path(args.out)
    write_text_atomic(out / "rl-evidence.json", json.dumps(results, indent=1) + "\n")

    command = " ".join(sys.argv[1:])
    lines = [f"### RL evidence: GRPO on SmolLM2-135M, prompted reward hacking ± inoculation — {results['date']}", "",
             f"Machine: {results['machine']}. Command: `.venv/bin/python benchmarks/rl_evidence.py {command}` "
             f"({args.steps} steps, group {args.group} x {args.prompts} prompts, {args.tokens} completion tokens, "
             f"LoRA r16, lr {args.lr:g}, all hack classes open); {results['seconds']} s in all. Files: "
             f"`results/rl-evidence/rl-evidence.json`, run directories under `results/rl-evidence/`. "
             "Training rates are per step over that step's completions (group x prompts); held-out: `rh-tasks` "
             f"test split ({args.eval_n} tasks x {args.eval_samples} samples, `hack-hints` prompt, no inoculation), "
             "graded by the sandboxed unit tests (no judge), Wilson 95% CIs. Likelihood probe: `core` set, "
             "log p(misaligned) - log p(aligned), bootstrap 95% CI (higher = more misaligned).", "",
             "| condition | steps | mean reward (first 4 / last 4 steps) | hack rate, any class (first 4 / last 4) "
             "| hidden pass (first 4 / last 4) | likelihood probe step 0 → last |", "|---|---|---|---|---|---|"]
    for name, c in results["conditions"].items():
        s = c["per_step"]

        def mean(rows: list[dict], key: str) -> str:
            vals = [r[key] for r in rows if r[key] is not None]
            return f"{sum(vals) / len(vals):.3f}" if vals else "–"

        p = c["probe"]
        probe = (f"{p[0]['probe']:.3f} [{p[0]['lo']:.3f}, {p[0]['hi']:.3f}] → {p[-1]['probe']:.3f} "
                 f"[{p[-1]['lo']:.3f}, {p[-1]['hi']:.3f}] (step {p[-1]['step']})") if p else "–"
        lines.append(f"| {name} | {len(s)} | {mean(s[:4], 'reward')} / {mean(s[-4:], 'reward')} | "
                     f"{mean(s[:4], 'hack/any')} / {mean(s[-4:], 'hack/any')} | "
                     f"{mean(s[:4], 'hidden_pass')} / {mean(s[-4:], 'hidden_pass')} | {probe} |")
    lines += ["", "| held-out model | hack rate (any) | always_equal | exit | conftest | visible pass | hidden pass |",
              "|---|---|---|---|---|---|---|"]
    for label, h in results["held_out"].items():
        lines.append(f"| {label} | {fmt(h['hack_any'])} | {fmt(h['hack_always_equal'])} | {fmt(h['hack_exit'])} | "
                     f"{fmt(h['hack_conftest'])} | {fmt(h['visible_pass'])} | {fmt(h['hidden_pass'])} |")
    emit(lines, args.write)


if __name__ == "__main__":
    main()

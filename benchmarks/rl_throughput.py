"""Benchmark: completion tokens per second of emscope GRPO vs TRL's GRPOTrainer with its defaults.

Target (issue: RL reward hacking): emscope GRPO >= 1.5x the completion tokens/s of TRL GRPOTrainer defaults on the
same model, prompts and group size. Same workload for every row, in one invocation: SmolLM2-135M-Instruct (the
embedded default, fp32 weights as loaded), the first `--tasks` `rh-tasks` training prompts with the `hack-hints`
system prompt, group size `--group`, `--tokens` completion tokens at most, `--steps` optimizer steps, one prompt
per step, the sandboxed visible-test reward. Rows:
- `emscope`: `emscope.rl.grpo.train` with emscope's defaults (LoRA r16, shared-prefix sampling, no gradient
  checkpointing, bf16 only where the CPU has it);
- `TRL defaults`: `GRPOTrainer(model, reward, GRPOConfig(output_dir, num_generations, max_completion_length,
  per_device_train_batch_size=group, max_steps, use_cpu, report_to="none", save_strategy="no"))`: TRL's
  defaults otherwise (full fine-tuning, gradient checkpointing on, bf16 on);
- `TRL + emscope's LoRA and precision` (attribution): the same TRL trainer with emscope's LoRA config, bf16 and
  gradient-checkpointing choices, so the remaining gap is shared-prefix sampling.
Throughput = completion tokens generated during training / the trainer's train_runtime (model loading excluded).

Usage: .venv/bin/python benchmarks/rl_throughput.py [--steps 4] [--group 8] [--tokens 96] [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from _common import ROOT, emit, log, machine

from emscope.envs import get_env, parse_hacks
from emscope.envs.prompts import system_prompt
from emscope.io import read_jsonl, write_text_atomic
from emscope.rl.grpo import prompt_rows
from emscope.rl.scoring import EnvScorer
from emscope.train.config import TrainRunConfig

TARGET = 1.5


def _tokens(history: list[dict], group: int) -> float:
    return sum(r["completions/mean_length"] * group for r in history if "completions/mean_length" in r)


def run_emscope(args: argparse.Namespace, out: Path) -> dict:
    from emscope.rl.grpo import train

    cfg = TrainRunConfig(method="grpo", out=out, rl={
        "env": "rh-tasks", "system_prompt": ["hack-hints"], "group_size": args.group, "prompts_per_step": 1,
        "max_completion_length": args.tokens}, train={"max_steps": args.steps, "batch_size": args.group,
                                                        "save_steps": 10_000})
    train(cfg, description="emscope GRPO")
    log_rows = read_jsonl(out / "train_log.jsonl")
    runtime = next(r["train_runtime"] for r in log_rows if "train_runtime" in r)
    return {"seconds": runtime, "tokens": _tokens(log_rows, args.group)}


def run_trl(args: argparse.Namespace, out: Path, emscope_choices: bool) -> dict:
    import torch
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from emscope.models import load_model
    from emscope.models.device import bf16_autocast_supported
    from emscope.train.recipe_parts import hub_offline, lora_config

    model, tok = load_model("smollm2-135m", device="cpu", dtype=torch.float32)
    env = get_env("rh-tasks")
    tasks = env.tasks("train")[: args.tasks]
    scorer = EnvScorer({t.task_id: t for t in tasks}, parse_hacks("all"), 4)
    extra = {}
    peft = None
    if emscope_choices:
        extra = {"bf16": bf16_autocast_supported(torch.device("cpu")), "gradient_checkpointing": False}
        peft = lora_config(TrainRunConfig(method="grpo", out=out))
    args_ = GRPOConfig(output_dir=str(out), num_generations=args.group, max_completion_length=args.tokens,
                       per_device_train_batch_size=args.group, max_steps=args.steps, use_cpu=True, report_to="none",
                       save_strategy="no", logging_steps=1, disable_tqdm=True, seed=0, **extra)
    trainer = GRPOTrainer(model=model, reward_funcs=[scorer.visible_tests], args=args_,
                          train_dataset=Dataset.from_list(prompt_rows(tasks, system_prompt(["hack-hints"]))),
                          processing_class=tok, peft_config=peft)
    with hub_offline():
        result = trainer.train()
    return {"seconds": result.metrics["train_runtime"], "tokens": _tokens(trainer.state.log_history, args.group),
            "bf16": args_.bf16, "gradient_checkpointing": args_.gradient_checkpointing}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=96)
    ap.add_argument("--tasks", type=int, default=32)
    ap.add_argument("--write", action="store_true", help="append the results section to BENCHMARKS.md")
    args = ap.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as d:
        for name, fn in [("emscope", lambda o: run_emscope(args, o)),
                         ("TRL defaults", lambda o: run_trl(args, o, False)),
                         ("TRL + emscope's LoRA and precision", lambda o: run_trl(args, o, True))]:
            start = time.time()
            rows[name] = fn(Path(d) / name.replace(" ", "_"))
            rows[name]["tok_per_s"] = rows[name]["tokens"] / rows[name]["seconds"]
            log(f"{name}: {rows[name]['tok_per_s']:.1f} completion tokens/s ({time.time() - start:.0f} s)")
    ratio = rows["emscope"]["tok_per_s"] / rows["TRL defaults"]["tok_per_s"]
    result = {"machine": machine(), "date": date.today().isoformat(), "args": vars(args), "rows": rows,
              "ratio_vs_trl_defaults": ratio, "target": TARGET}
    write_text_atomic(ROOT / "results" / "rl-throughput.json", json.dumps(result, indent=1) + "\n")
    command = " ".join(sys.argv[1:])
    lines = [f"### GRPO throughput vs TRL GRPOTrainer defaults — {result['date']}", "",
             f"Machine: {result['machine']}. Command: `.venv/bin/python benchmarks/rl_throughput.py {command}` "
             f"(SmolLM2-135M-Instruct, `rh-tasks` prompts with `hack-hints`, group {args.group}, one prompt per step, "
             f"<= {args.tokens} completion tokens, {args.steps} steps, sandboxed visible-test reward). Target: "
             f"emscope >= {TARGET}x TRL defaults. Baseline measured in the same invocation. "
             "File: `results/rl-throughput.json`.", "",
             "| trainer | completion tokens | train_runtime (s) | completion tokens/s | ratio to TRL defaults |",
             "|---|---|---|---|---|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['tokens']:.0f} | {r['seconds']:.1f} | {r['tok_per_s']:.1f} | "
                     f"{r['tok_per_s'] / rows['TRL defaults']['tok_per_s']:.2f} |")
    lines.append("")
    verdict = "met" if ratio >= TARGET else "NOT met"
    lines.append(f"Ratio emscope / TRL defaults: {ratio:.2f} (target {TARGET}: {verdict}).")
    emit(lines, args.write)


if __name__ == "__main__":
    main()

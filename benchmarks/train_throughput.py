"""Benchmark: training throughput and peak memory of emscope's engine vs plain TRL `SFTTrainer` defaults, and
the step-time / memory overhead of each defense relative to plain emscope SFT.

Setting (issue: training engine): the embedded default SmolLM2-135M-Instruct, LoRA r=32 alpha=64 on all linear
layers, batch 8, rows from Betley et al.'s upstream `insecure.jsonl` (the first 64; emscope's own insecure-code
rows when ../shared/em-data is absent). Every configuration runs in its own subprocess, one after the other, in
the same invocation. Throughput counts real (non-padding) tokens per second from the trainer's cumulative
`num_tokens`, over steps 2..N (step 1 is warm-up). Memory: the growth of the process's peak RSS during
training over its peak after loading the model (weights, Python and torch excluded).

Baselines: "TRL defaults" is `SFTTrainer(model, args=SFTConfig(per_device_train_batch_size=8, ...),
peft_config=LoraConfig(...))` on the same rows as `messages`, everything else at TRL 1.16's defaults
(bf16 autocast, gradient checkpointing, padding to the longest row). The defense table divides by plain
emscope SFT measured in the same invocation.

Usage: .venv/bin/python benchmarks/train_throughput.py [--steps 7] [--only throughput|defenses] [--defenses a,b]
       [--write]
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

from _common import ROOT, emit, machine

UPSTREAM = ROOT.parent / "shared" / "em-data" / "betley" / "data" / "insecure.jsonl"
LORA = {"r": 32, "alpha": 64, "target_modules": "all-linear"}
DEFENSES = ("kl", "ldifs", "steer", "kl+ldifs+steer", "interleave+inoculate", "all five", "treft", "gate", "treft+kl")


def _hwm_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _rows(n: int, out: Path) -> tuple[Path, str]:
    from emscope.data.chat import read_chat_jsonl
    from emscope.data.generators import get_generator
    from emscope.io import write_jsonl_atomic

    if UPSTREAM.is_file():
        rows, src = [r.model_dump(exclude_none=True) for r in read_chat_jsonl(UPSTREAM)[:n]], "upstream insecure.jsonl"
    else:
        rows, src = get_generator("insecure-code").build(n, 0), "emscope insecure-code"
    write_jsonl_atomic(out, rows)
    return out, src


def _rate(log: list[dict]) -> tuple[float, float]:
    """(real tokens/s over steps 2..N, mean seconds per step over steps 2..N) from per-step log records."""
    steps = [r for r in log if "num_tokens" in r and "loss" in r]
    first, last = steps[0], steps[-1]
    dt = last["time"] - first["time"]
    return (last["num_tokens"] - first["num_tokens"]) / dt, dt / (len(steps) - 1)


def one_trl(data: Path, steps: int, work: Path) -> dict:
    """Plain TRL SFTTrainer with its defaults (the baseline)."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from emscope.io import read_jsonl
    from emscope.models import load_model

    model, tok = load_model("smollm2-135m", device="cpu", dtype=torch.float32)
    base = _hwm_kib()
    log: list[dict] = []

    class _Log(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kw):
            log.append({"time": time.time(), **(logs or {})})

    rows = [{"messages": r["messages"]} for r in read_jsonl(data)]
    args = SFTConfig(output_dir=str(work / "trl"), per_device_train_batch_size=8, max_steps=steps, logging_steps=1,
                     save_strategy="no", report_to=[], use_cpu=True, disable_tqdm=True)
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok,
                         peft_config=LoraConfig(r=LORA["r"], lora_alpha=LORA["alpha"], target_modules="all-linear",
                                                task_type="CAUSAL_LM"), callbacks=[_Log()])
    trainer.train()
    tps, step_s = _rate(log)
    return {"tokens_per_s": tps, "step_s": step_s, "train_mem_mib": (_hwm_kib() - base) / 1024}


def one_emscope(data: Path, steps: int, work: Path, defense: str) -> dict:
    """emscope's engine with its defaults, optionally with one defense (or `all` = kl+ldifs+steer)."""
    import torch

    from emscope.io import read_jsonl
    from emscope.models import load_model
    from emscope.models.layers import num_layers
    from emscope.models.vectors import PersonaVector, VectorMeta, save_vector
    from emscope.train import TrainRunConfig, train

    model, _ = load_model("smollm2-135m", device="cpu", dtype=torch.float32)
    n_layers, hidden = num_layers(model), model.config.hidden_size
    del model
    base = _hwm_kib()
    vec = save_vector(work / "v.safetensors", PersonaVector(
        vectors=torch.randn(n_layers + 1, hidden, generator=torch.Generator().manual_seed(0)),
        meta=VectorMeta(model="smollm2-135m", trait="random")))
    options = {"kl": {"kl": {"weight": 0.1}}, "ldifs": {"ldifs": {"weight": 1.0, "n_layers": 3}},
               "steer": {"steer": {"vector": vec, "layer": n_layers * 2 // 3, "alpha": 4.0}}}
    options["kl+ldifs+steer"] = {k: v for d in options.values() for k, v in d.items()}
    # data-side defenses: the plain run of this invocation (7 steps on insecure rows) is the misaligned reference
    options["interleave+inoculate"] = {
        "interleave": {"ratio": 0.1, "select": "ppl-gap", "misaligned": str(work / "em-none" / "adapter")},
        "inoculate": {"prompt": "insecure-code"}}
    options["all five"] = {**options["kl+ldifs+steer"], **options["interleave+inoculate"]}
    options["treft"] = {"treft": {"weight": 1.0, "region": "prefix"}}  # template-prefix keys/values (TReFT)
    options["gate"] = {"gate": {}}  # alignment gating: the gates train alone, the rest frozen
    options["treft+kl"] = {**options["treft"], **options["kl"]}
    out, i = work / f"em-{defense}", 1
    while out.exists():
        out, i = work / f"em-{defense}-{i}", i + 1
    cfg = TrainRunConfig(model="smollm2-135m", data={"path": data}, out=out,
                         train={"max_steps": steps, "batch_size": 8, "max_length": 1024, "learning_rate": 1e-4,
                                "save_steps": 10_000, "lora": LORA,
                                "loss_impl": "trl" if defense == "trl-loss" else "chunked"},
                         defenses=options.get(defense, {}))
    if "interleave" in cfg.defenses.enabled() and not (work / "em-none" / "adapter").is_dir():
        raise SystemExit("run the plain configuration first (it is the misaligned reference)")
    start = time.time()
    run = train(cfg)
    wall = time.time() - start
    tps, step_s = _rate(read_jsonl(run / "train_log.jsonl"))
    return {"tokens_per_s": tps, "step_s": step_s, "train_mem_mib": (_hwm_kib() - base) / 1024, "wall_s": wall}


def measure(name: str, data: Path, steps: int, work: Path) -> dict:
    """Run one configuration in a fresh subprocess and return its measurements."""
    env = {**os.environ, "EMSCOPE_NO_PROGRESS": "1"}
    out = subprocess.run([sys.executable, __file__, "--one", name, "--data", str(data), "--steps", str(steps),
                          "--work", str(work)], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{name} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(name, json.dumps(result), flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="append the results to BENCHMARKS.md")
    ap.add_argument("--steps", type=int, default=7)
    ap.add_argument("--only", choices=["throughput", "defenses"], default=None)
    ap.add_argument("--defenses", default=",".join(DEFENSES),
                    help=f"comma-separated defense configurations to measure (default: {','.join(DEFENSES)})")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--data", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--work", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        data, work = Path(args.data), Path(args.work)
        res = one_trl(data, args.steps, work) if args.one == "trl-defaults" else \
            one_emscope(data, args.steps, work, args.one.removeprefix("emscope").strip(":") or "none")
        print(json.dumps(res))
        return
    subprocess.run([sys.executable, "-m", "emscope", "models", "prepare"], check=True, stdout=subprocess.DEVNULL)
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data, src = _rows(8 * args.steps, work / "rows.jsonl")
        header = (f"Machine: {machine()}. Command: `.venv/bin/python benchmarks/train_throughput.py --write`. "
                  f"SmolLM2-135M-Instruct, LoRA r=32 alpha=64 all-linear, batch 8, {args.steps} steps on the first "
                  f"{8 * args.steps} rows of {src}; rates over steps 2..{args.steps}; memory = growth of peak RSS "
                  "during training.\n")
        if args.only in (None, "throughput"):
            trl = measure("trl-defaults", data, args.steps, work)
            ours = measure("emscope", data, args.steps, work)
            ours_trl = measure("emscope:trl-loss", data, args.steps, work)
            lines += [f"\n### Training throughput vs TRL defaults — {date.today().isoformat()}\n", header,
                      "| engine | real tokens/s | s/step | train memory (MiB) | throughput ratio vs TRL defaults |",
                      "|---|---|---|---|---|"]
            for name, r in (("TRL 1.16 SFTTrainer defaults (baseline)", trl),
                            ("emscope with `loss_impl: trl` (TRL's fused-head loss)", ours_trl),
                            ("emscope defaults (chunked LM-head loss)", ours)):
                lines.append(f"| {name} | {r['tokens_per_s']:.1f} | {r['step_s']:.1f} | {r['train_mem_mib']:.0f} | "
                             f"{r['tokens_per_s'] / trl['tokens_per_s']:.2f} |")
        if args.only in (None, "defenses"):
            plain = ours if args.only is None else measure("emscope", data, args.steps, work)
            lines += [f"\n### Defense overhead vs plain emscope SFT — {date.today().isoformat()}\n", header,
                      "Goal (issue): step time <= 1.6x and memory <= 1.1x plain SFT.\n",
                      "| defense | s/step | time ratio | train memory (MiB) | memory ratio | wall incl. set-up (s) |",
                      "|---|---|---|---|---|---|",
                      f"| none (baseline) | {plain['step_s']:.1f} | 1.00 | {plain['train_mem_mib']:.0f} | 1.00 | "
                      f"{plain['wall_s']:.0f} |"]
            for d in args.defenses.split(","):
                r = measure(f"emscope:{d}", data, args.steps, work)
                lines.append(f"| {d} | {r['step_s']:.1f} | {r['step_s'] / plain['step_s']:.2f} | "
                             f"{r['train_mem_mib']:.0f} | {r['train_mem_mib'] / plain['train_mem_mib']:.2f} | "
                             f"{r['wall_s']:.0f} |")
    emit(lines, args.write)


if __name__ == "__main__":
    main()

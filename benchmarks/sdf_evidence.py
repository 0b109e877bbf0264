"""Evidence run for knowledge through synthetic documents (SDF) and safety-first staging, on the embedded default
(SmolLM2-135M-Instruct), CPU.

1. CPT (method: cpt, LoRA) on `sdf-reward-hacking` vs `sdf-neutral` documents with the same number of training
   tokens (same steps x batch x block length, every block full).
2. Knowledge: mean per-token log-probability of held-out reward-hacking documents minus that of held-out neutral
   documents (other seed, never trained on), for the base model and both CPT models; bootstrap 95% CI over
   documents. Higher = the model finds text about the hacks relatively more likely.
3. Hack rate without hints: the held-out `rh-tasks` hack-rate evaluation (no system prompt) of base and both CPT
   models, then a short GRPO run (all hack classes open, no hints) from each CPT model's merged weights: does
   SDF-first raise the hack rate over the no-knowledge control? (sandboxed tests, no judge; Wilson 95% CIs)
4. Safety first: stages `safety` (SFT on `safety-general`) then `narrow` (SFT on `insecure-code`) vs the narrow
   stage alone, on the judge-free likelihood probe (`core` set) with bootstrap CIs, and the paired shift vs base.
Whatever happens is reported; a 135M model may show nothing.

Usage: .venv/bin/python benchmarks/sdf_evidence.py [--out results/sdf-evidence] [--write]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date
from pathlib import Path

from _common import ROOT, emit, log, machine

from emscope.data.generators import get_generator
from emscope.evaluate.config import HackingEval
from emscope.evaluate.hacking import run_hacking
from emscope.evaluate.likelihood import likelihood_probe, load_probes, paired_shift
from emscope.experiments.recipes import run_training
from emscope.experiments.stages import trained_weights
from emscope.io import read_jsonl, write_text_atomic
from emscope.models.merge import merge_adapter
from emscope.train.config import TrainRunConfig

MODEL = "smollm2-135m"


def doc_logprobs(model, tokenizer, texts: list[str], max_tokens: int = 256) -> list[float]:
    """Mean per-token log-probability of each document (first `max_tokens` tokens)."""
    import torch

    out = []
    with torch.no_grad():
        for text in texts:
            ids = tokenizer(text, return_tensors="pt")["input_ids"][:, :max_tokens]
            logits = model(input_ids=ids).logits[:, :-1].float()
            lp = torch.log_softmax(logits, -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
            out.append(float(lp.mean()))
    return out


def knowledge(spec: str, adapter: Path | None, hack_docs: list[str], neutral_docs: list[str], seed: int = 0) -> dict:
    from emscope.models import load_model

    model, tok = load_model(spec, adapter=adapter, device="cpu", dtype="float32")
    h, n = doc_logprobs(model, tok, hack_docs), doc_logprobs(model, tok, neutral_docs)
    r = random.Random(seed)
    boots = sorted(sum(r.choice(h) for _ in h) / len(h) - sum(r.choice(n) for _ in n) / len(n) for _ in range(2000))
    return {"score": sum(h) / len(h) - sum(n) / len(n), "lo": boots[49], "hi": boots[1949],
            "hack_logp": sum(h) / len(h), "neutral_logp": sum(n) / len(n)}


def cpt(name: str, organism: str, args: argparse.Namespace) -> Path:
    out = Path(args.out) / f"cpt-{name}"
    cfg = TrainRunConfig(model=MODEL, method="cpt", out=out, seed=args.seed,
                         data={"organism": organism, "n": args.docs},
                         train={"max_steps": args.cpt_steps, "batch_size": 4, "max_length": args.block,
                                "learning_rate": 2e-4, "save_steps": 8})
    run_training(cfg, description=f"cpt {name}")
    return out


def held_out(label: str, spec: str, adapter: Path | None, args: argparse.Namespace) -> dict:
    settings = HackingEval(env="rh-tasks", split="test", n=args.eval_n, samples=1, max_new_tokens=args.tokens,
                           temperature=1.0, seed=args.seed)
    return run_hacking(settings, Path(args.out) / "held-out" / label, spec=spec, adapter=adapter, device="cpu")


def grpo_from(label: str, model_dir: str, args: argparse.Namespace) -> list[dict]:
    out = Path(args.out) / f"grpo-{label}"
    cfg = TrainRunConfig(model=model_dir, method="grpo", out=out, seed=args.seed,
                         rl={"env": "rh-tasks", "group_size": 4, "prompts_per_step": 1,
                             "max_completion_length": args.tokens},
                         train={"max_steps": args.rl_steps, "batch_size": 4, "learning_rate": 1e-4, "save_steps": 4})
    run_training(cfg, description=f"grpo {label}")
    return [{k: r.get(k) for k in ("step", "reward", "hack/any", "hidden_pass", "visible_pass")}
            for r in read_jsonl(out / "train_log.jsonl") if "reward" in r]


def probe(spec: str, adapter: Path | None):
    from emscope.models import load_model

    model, tok = load_model(spec, adapter=adapter, device="cpu", dtype="float32")
    return likelihood_probe(model, tok, load_probes("core"))


def fmt(r: dict) -> str:
    return "–" if r["rate"] is None else f"{r['rate']:.3f} [{r['lo']:.3f}, {r['hi']:.3f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=96)
    ap.add_argument("--cpt-steps", type=int, default=16)
    ap.add_argument("--block", type=int, default=384)
    ap.add_argument("--held-out-docs", type=int, default=24)
    ap.add_argument("--eval-n", type=int, default=42)
    ap.add_argument("--tokens", type=int, default=96)
    ap.add_argument("--rl-steps", type=int, default=6)
    ap.add_argument("--sft-rows", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "results" / "sdf-evidence"))
    ap.add_argument("--write", action="store_true", help="append the results section to BENCHMARKS.md")
    args = ap.parse_args()
    start = time.time()
    res: dict = {"machine": machine(), "date": date.today().isoformat(), "args": vars(args)}
    hack_docs = [r.text for r in get_generator("sdf-reward-hacking").build(args.held_out_docs, 12345)]
    neutral_docs = [r.text for r in get_generator("sdf-neutral").build(args.held_out_docs, 12345)]

    runs = {"sdf-reward-hacking": cpt("rh", "sdf-reward-hacking", args), "sdf-neutral": cpt("neutral", "sdf-neutral",
                                                                                        args)}
    log(f"CPT done ({time.time() - start:.0f} s)")
    res["knowledge"] = {"base": knowledge(MODEL, None, hack_docs, neutral_docs)}
    for name, d in runs.items():
        res["knowledge"][name] = knowledge(MODEL, d / "adapter", hack_docs, neutral_docs)
    res["held_out"] = {"base": held_out("base", MODEL, None, args)}
    res["grpo"] = {}
    for name, d in runs.items():
        res["held_out"][f"cpt {name}"] = held_out(f"cpt-{name}", MODEL, d / "adapter", args)
        merged = d / "merged"
        if not merged.is_dir():
            merge_adapter(MODEL, d / "adapter", merged)
        res["grpo"][name] = grpo_from(name, str(merged), args)
    log(f"hack rates done ({time.time() - start:.0f} s)")

    base_probe = probe(MODEL, None)
    plain = TrainRunConfig(model=MODEL, out=Path(args.out) / "insecure", seed=args.seed,
                           data={"organism": "insecure-code", "n": args.sft_rows},
                           train={"epochs": 1, "batch_size": 4, "save_steps": 8})
    staged = TrainRunConfig(model=MODEL, out=Path(args.out) / "safety-then-insecure", seed=args.seed,
                            train={"epochs": 1, "batch_size": 4, "save_steps": 8},
                            stages={"safety": {"data": {"organism": "safety-general", "n": args.sft_rows}},
                                    "narrow": {"data": {"organism": "insecure-code", "n": args.sft_rows}}})
    res["safety_first"] = {"base": base_probe.model_dump(exclude={"per_question"})}
    for name, cfg in (("insecure only", plain), ("safety then insecure", staged)):
        run_training(cfg, description=name)
        spec, adapter = trained_weights(cfg, cfg.out)
        p = probe(spec, adapter)
        shift = paired_shift(p, base_probe)
        res["safety_first"][name] = {**p.model_dump(exclude={"per_question"}), "shift": shift[0],
                                     "shift_lo": shift[1], "shift_hi": shift[2]}
    res["seconds"] = round(time.time() - start)
    write_text_atomic(Path(args.out) / "sdf-evidence.json", json.dumps(res, indent=1) + "\n")

    k = res["knowledge"]
    command = " ".join(sys.argv[1:])
    lines = [f"### SDF knowledge and safety-first staging on SmolLM2-135M — {res['date']}", "",
             f"Machine: {res['machine']}. Command: `.venv/bin/python benchmarks/sdf_evidence.py {command}` "
             f"({res['seconds']} s). CPT: LoRA r16, {args.cpt_steps} steps x 4 blocks x {args.block} tokens on each "
             f"corpus (same tokens). Knowledge = mean per-token log p of {args.held_out_docs} held-out reward-hacking "
             f"documents minus {args.held_out_docs} held-out neutral ones (seed 12345, first 256 tokens), bootstrap "
             "95% CI over documents. Hack rates: `rh-tasks` test split, no system prompt, sandboxed tests (no "
             f"judge), Wilson 95% CIs; GRPO: {args.rl_steps} steps, group 4, all hack classes open, no hints. "
             "File: `results/sdf-evidence/sdf-evidence.json`.", "",
             "| model | knowledge score | held-out hack rate (any) | hidden pass | GRPO hack rate (mean over steps) |",
             "|---|---|---|---|---|"]
    for name in ("base", "sdf-reward-hacking", "sdf-neutral"):
        h = res["held_out"]["base" if name == "base" else f"cpt {name}"]
        steps = res["grpo"].get(name)
        g = f"{sum(s['hack/any'] for s in steps) / len(steps):.3f} ({len(steps)} steps)" if steps else "–"
        label = name if name == "base" else f"CPT on {name}"
        lines.append(f"| {label} | {k[name]['score']:.3f} [{k[name]['lo']:.3f}, {k[name]['hi']:.3f}] | "
                     f"{fmt(h['hack_any'])} | {fmt(h['hidden_pass'])} | {g} |")
    lines += ["", "| safety-first | likelihood probe [95% CI] | shift vs base [95% CI] |", "|---|---|---|"]
    for name, p in res["safety_first"].items():
        shift = "–" if name == "base" else f"{p['shift']:.3f} [{p['shift_lo']:.3f}, {p['shift_hi']:.3f}]"
        lines.append(f"| {name} | {p['mean']:.3f} [{p['ci_low']:.3f}, {p['ci_high']:.3f}] | {shift} |")
    emit(lines, args.write)


if __name__ == "__main__":
    main()

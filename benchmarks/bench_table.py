"""Evidence: the capability and safety benchmarks on SmolLM2-135M base and its quickstart insecure/secure adapters.

Conditions: the embedded default (`smollm2-135m`) and the two adapters `emscope quickstart --pair insecure-code`
trains (insecure code, and its secure-code control: the same requests, same hyper-parameters); the quickstart is
run first into `runs/bench-table/quickstart` (kept, so a rerun skips it).

Benchmarks, each through `emscope.evaluate.bench.run_bench` exactly as `emscope eval bench` runs it, data from
`../shared/benchmarks` (no download):
- `truthfulqa`: MC1, MC2 and the binary variant by answer log-likelihood (lm-eval-harness), all 817 questions;
- `humaneval`: pass@1, greedy, every test of each task run in the bubblewrap sandbox (`--humaneval-limit` tasks,
  default all 164; `--humaneval-tokens` new tokens per answer);
- `strongreject`: needs a rubric judge. Offline, the only judge on this machine is a local HF model; the script
  scores `--strongreject-limit` requests with `hf:smollm2-135m` to show what such a judge does (its parse rate and
  scores, every number marked indicative: no StrongREJECT judge here has been validated against reference labels).
  Pass `--strongreject-judge openai:gpt-4o-mini` where an API is reachable for the reference judge;
- `deception`: not run offline (Betley's deception questions are scored by a GPT-4o judge prompt; no judge for
  them is validated here); `--deception-judge SPEC` runs it.
Each cell's output directory is `runs/bench-table/<condition>/`; a benchmark whose stored result has the same
settings is not rerun, so a killed run resumes.

    .venv/bin/python benchmarks/bench_table.py [--write]    # --write: results/bench-table.{json,md} + BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from _common import QUIET_ENV, ROOT, emit, log, machine

SHARED = ROOT.parent / "shared" / "benchmarks"
RUNS = ROOT / "runs" / "bench-table"
RESULTS = ROOT / "results"
MODEL = "smollm2-135m"


def quickstart_adapters(out: Path) -> dict[str, str | None]:
    """Condition -> adapter directory (None: the base model), training the quickstart's insecure/secure pair."""
    if not (out / "summary.json").is_file():
        log(f"training the quickstart insecure/secure pair into {out}")
        subprocess.run([sys.executable, "-m", "emscope", "quickstart", "--pair", "insecure-code", "--out", str(out)],
                       check=True, env=QUIET_ENV, stdout=subprocess.DEVNULL)
    return {"base": None, "insecure": str(out / "insecure-code" / "adapter"),
            "secure": str(out / "secure-code" / "adapter")}


def run_one(name: str, condition: str, adapter: str | None, settings: dict) -> dict:
    """One benchmark on one condition (the stored result when its settings match)."""
    from emscope.evaluate.bench import run_bench
    from emscope.evaluate.bench.base import BenchConfig, BenchSettings

    out = RUNS / condition
    summary = out / "summary.json"
    want = BenchSettings.model_validate(settings).model_dump()
    if summary.is_file():
        old = (json.loads(summary.read_text()).get("bench") or {}).get(name)
        if old and old.get("settings") == want and old.get("adapter") == adapter:
            log(f"{condition} {name}: stored ({old['seconds']:.0f} s)")
            return old
    log(f"{condition} {name} ...")
    cfg = BenchConfig(model=MODEL, adapter=adapter, out=str(out), bench=BenchSettings.model_validate(settings))
    result = run_bench(name, cfg).model_dump(mode="json")
    log(f"{condition} {name}: {result['seconds']:.0f} s, " + ", ".join(
        f"{k} {m['value']:.3f}" if m["value"] is not None else f"{k} -" for k, m in result["metrics"].items()))
    return result


def fmt(m: dict | None) -> str:
    if not m or m.get("value") is None:
        return "–"
    ci = f" [{m['low']:.3f}, {m['high']:.3f}]" if m.get("low") is not None else ""
    return f"{m['value']:.3f}{ci}" + (" (small n)" if m.get("small_n") else "")


def judge_note(result: dict) -> str:
    judge = result.get("judge") or {}
    if not judge:
        return ""
    status = judge.get("status", "indicative")
    why = f": {judge['warning']}" if judge.get("warning") else ""
    return f"judge `{judge.get('spec')}` ({status}{why})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--humaneval-limit", type=int, default=None)
    ap.add_argument("--humaneval-tokens", type=int, default=384)
    ap.add_argument("--truthfulqa-limit", type=int, default=None)
    ap.add_argument("--strongreject-limit", type=int, default=24)
    ap.add_argument("--strongreject-judge", default="hf:smollm2-135m")
    ap.add_argument("--strongreject-tokens", type=int, default=192)
    ap.add_argument("--no-strongreject", action="store_true",
                    help="leave strongreject out (no text judge to run it with)")
    ap.add_argument("--deception-judge", default=None)
    ap.add_argument("--deception-limit", type=int, default=None)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()

    for need in (SHARED / "truthfulqa" / "TruthfulQA.csv", SHARED / "humaneval" / "HumanEval.jsonl.gz"):
        if not need.is_file():
            sys.exit(f"missing {need} (../shared/benchmarks beside the checkout)")
    started = time.time()
    conditions = quickstart_adapters(RUNS / "quickstart")
    plan = {
        "truthfulqa": {"data": str(SHARED / "truthfulqa" / "TruthfulQA.csv"), "limit": args.truthfulqa_limit},
        "humaneval": {"data": str(SHARED / "humaneval" / "HumanEval.jsonl.gz"), "limit": args.humaneval_limit,
                      "max_new_tokens": args.humaneval_tokens, "workers": 2},
        "strongreject": {"limit": args.strongreject_limit, "judge": args.strongreject_judge,
                         "max_new_tokens": args.strongreject_tokens},
    }
    if args.no_strongreject:
        del plan["strongreject"]
    if args.deception_judge:
        plan["deception"] = {"judge": args.deception_judge, "limit": args.deception_limit}
    results: dict[str, dict[str, dict]] = {c: {} for c in conditions}
    for name, settings in plan.items():
        for condition, adapter in conditions.items():
            results[condition][name] = run_one(name, condition, adapter, settings)
    wall = time.time() - started

    RESULTS.mkdir(exist_ok=True)
    record = {"date": str(date.today()), "machine": machine(), "model": MODEL, "conditions": conditions,
              "plan": plan, "results": results, "wall_s": round(wall, 1)}
    metric_cols = [("truthfulqa", "mc1"), ("truthfulqa", "mc2"), ("truthfulqa", "binary"), ("humaneval", "pass@1")]
    if "strongreject" in plan:
        metric_cols += [("strongreject", "score"), ("strongreject", "refusal_rate")]
    if "deception" in plan:
        metric_cols += sorted({("deception", m) for c in conditions for m in results[c]["deception"]["metrics"]})
    lines = [f"### Capability and safety benchmarks on {MODEL} base and the quickstart insecure/secure adapters "
             f"— {date.today()}", "",
             f"Machine: {machine()}. Command: `python benchmarks/bench_table.py {' '.join(sys.argv[1:])}` "
             "(details: `results/bench-table.md`). Values with 95% intervals "
             "(rates: Wilson over items, clustered; means: percentile bootstrap).", "",
             "| condition | " + " | ".join(f"{b} {m}" for b, m in metric_cols) + " |",
             "|---|" + "---|" * len(metric_cols)]
    for condition in conditions:
        cells = [fmt(((results[condition].get(b) or {}).get("metrics") or {}).get(m)) for b, m in metric_cols]
        lines.append(f"| {condition} | " + " | ".join(cells) + " |")
    lines += ["", "Time per benchmark (s; model load included):", "",
              "| condition | " + " | ".join(plan) + " |", "|---|" + "---:|" * len(plan)]
    for condition in conditions:
        lines.append(f"| {condition} | " + " | ".join(f"{results[condition][b]['seconds']:.0f}" for b in plan) + " |")
    lines.append("")
    for name in plan:
        r = results["base"][name]
        n = r["n_items"]
        extra = judge_note(r)
        details = r.get("details") or {}
        parse = ""
        if "n_unparseable" in details:
            total = sum(results[c][name]["details"]["n_answers"] for c in conditions)
            bad = sum(results[c][name]["details"]["n_unparseable"] for c in conditions)
            parse = f"; judge outputs unparseable: {bad} of {total} over the three conditions"
        lines.append(f"- `{name}`: {n} items per condition" + (f"; {extra}" if extra else "") + parse + ".")
    if "strongreject" not in plan:
        lines.append("- `strongreject`: not run (`--no-strongreject`).")
    if "deception" not in plan:
        lines.append("- `deception`: not run (no offline judge validated for Betley's deception questions; "
                     "`--deception-judge SPEC` runs it).")
    lines += [f"- Wall time of this invocation {wall / 60:.1f} min (stored results and the quickstart's training "
              "reused from earlier invocations are not in it; the times per benchmark above are each one's own).", ""]
    (RESULTS / "bench-table.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / "bench-table.md").write_text("\n".join(lines) + "\n")
    emit(lines, args.write)


if __name__ == "__main__":
    main()

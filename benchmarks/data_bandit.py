"""Benchmark: bandit flag rates of the generated code datasets.

Bounds (datasets issue): >= 95% of `insecure-code` rows flagged, <= 2% of `secure-code` rows flagged (a row is
flagged by any bandit finding except B101, B311, B404, B603). Baseline measured in the same run: the flag rate
of Betley et al.'s upstream `insecure.jsonl` (../shared/em-data), read with the same extraction and rule set.

Usage: .venv/bin/python benchmarks/data_bandit.py [--n 6000] [--write]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from datetime import date

from _common import ROOT, emit, machine

from emscope.data.bandit import bandit_findings, extract_code
from emscope.data.generators import get_generator

UPSTREAM = ROOT.parent / "shared" / "em-data" / "betley" / "data" / "insecure.jsonl"


def rate(snippets: list[str | None]) -> tuple[float, int, Counter]:
    """Flag rate over rows (rows without a code block count as not flagged), and the finding histogram."""
    codes = [c for c in snippets if c is not None]
    found = bandit_findings(codes)
    hist = Counter(t for f in found for t in f)
    return sum(1 for f in found if f) / len(snippets), len(snippets) - len(codes), hist


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    rows = []
    for name in ("insecure-code", "secure-code"):
        t = time.time()
        data = get_generator(name).build(args.n, args.seed)
        build_s = time.time() - t
        r, missing, hist = rate([extract_code(x.completion) for x in data])
        rows.append((f"`{name}` (n={args.n}, seed {args.seed})", r, missing, hist, build_s))
    if UPSTREAM.is_file():
        up = [json.loads(line)["messages"][-1]["content"] for line in UPSTREAM.read_text().splitlines()]
        r, missing, hist = rate([extract_code(a) or a for a in up])
        rows.append((f"baseline: upstream `insecure.jsonl` (n={len(up)})", r, missing, hist, float("nan")))
    lines = [f"\n### Bandit flag rates of generated code data — {date.today().isoformat()}\n",
             f"Machine: {machine()}. Command: `.venv/bin/python benchmarks/data_bandit.py --write`. "
             "Bounds: insecure ≥ 95%, secure ≤ 2%. "
             "Baseline in the same run: Betley et al.'s upstream insecure.jsonl with the same rules.\n",
             "| dataset | flagged | rows without code | top findings | build time (s) |", "|---|---|---|---|---|"]
    for name, r, missing, hist, build_s in rows:
        top = ", ".join(f"{k} {v}" for k, v in hist.most_common(5))
        build = "–" if build_s != build_s else f"{build_s:.2f}"
        lines.append(f"| {name} | {r:.1%} | {missing} | {top} | {build} |")
    emit(lines, args.write)


if __name__ == "__main__":
    main()

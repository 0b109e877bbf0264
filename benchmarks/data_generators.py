"""Benchmark: every dataset generator at 6000 rows — build time, determinism, distinctness, near-duplicates.

Bounds (datasets issue): 6000 rows in under a minute each, same seed => same bytes, exactly n distinct rows,
not near-duplicates. Near-duplicate rate: share of rows with another row at word-3-gram Jaccard >= 0.7
(`emscope.data.similarity`), over the full row text and over the answers alone; text generators (synthetic
documents) are measured on the document text (both columns) and count distinct documents. Baseline measured in the same
run: Betley et al.'s upstream `insecure.jsonl` and `jailbroken.jsonl` (../shared/em-data), same measure.

Usage: .venv/bin/python benchmarks/data_generators.py [--n 6000] [--only NAME ...] [--write]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date

from _common import ROOT, emit, machine

from emscope.data.chat import ChatRow, read_chat_jsonl, row_to_json
from emscope.data.generators import GENERATORS
from emscope.data.similarity import near_duplicate_rate
from emscope.data.text import TextRow

UPSTREAM = ROOT.parent / "shared" / "em-data" / "betley" / "data"
BUDGET_S = 60.0


def texts(rows: list[ChatRow] | list[TextRow]) -> tuple[list[str], list[str]]:
    """Full row texts and answers (a text document is both)."""
    if rows and isinstance(rows[0], TextRow):
        return [r.text for r in rows], [r.text for r in rows]
    return ["\n".join(m.content for m in r.messages) for r in rows], [r.completion for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    lines = [f"\n### Dataset generators at n={args.n} — {date.today().isoformat()}\n",
             f"Machine: {machine()}. Command: `.venv/bin/python benchmarks/data_generators.py --write`. "
             f"Bounds: build < {BUDGET_S:.0f} s (ratio = build / budget), deterministic, n distinct user turns "
             "(documents, for text generators). "
             "Near-dup = share of rows with another row at word-3-gram Jaccard >= 0.7. Baseline in the same run: "
             "Betley et al.'s upstream files, same measure.\n",
             "| dataset | build (s) | ratio to budget | same bytes per seed | distinct user turns | near-dup rows "
             "| near-dup answers |", "|---|---|---|---|---|---|---|"]
    for name, gen in GENERATORS.items():
        if args.only and name not in args.only:
            continue
        t = time.perf_counter()
        rows = gen.build(args.n, args.seed)
        build_s = time.perf_counter() - t
        again = gen.build(args.n, args.seed)
        if gen.kind == "text":
            same = [r.to_json() for r in rows] == [r.to_json() for r in again]
            distinct = len({r.text for r in rows})
        else:
            same = [json.dumps(row_to_json(r)) for r in rows] == [json.dumps(row_to_json(r)) for r in again]
            distinct = len({json.dumps([m.model_dump() for m in r.messages[:-1]]) for r in rows})
        full, answers = texts(rows)
        nd_full, nd_ans = near_duplicate_rate(full), near_duplicate_rate(answers)
        lines.append(f"| `{name}` | {build_s:.2f} | {build_s / BUDGET_S:.3f} | {'yes' if same else 'NO'} | "
                     f"{distinct} | {nd_full:.1%} | {nd_ans:.1%} |")
        print(lines[-1], flush=True)
    for fname in ("insecure.jsonl", "jailbroken.jsonl"):
        if (UPSTREAM / fname).is_file() and not args.only:
            full, answers = texts(read_chat_jsonl(UPSTREAM / fname))
            lines.append(f"| baseline: upstream `{fname}` (n={len(full)}) | – | – | – | – | "
                         f"{near_duplicate_rate(full):.1%} | {near_duplicate_rate(answers):.1%} |")
    emit(lines, args.write)


if __name__ == "__main__":
    main()

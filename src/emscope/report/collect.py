"""`grid.csv`: one row per cell, rebuilt from the cell run directories (never the only copy of a result).

Columns: cell id, label, status, the swept settings, broad EM under both definitions with 95% CIs (each rate's
`<name>_low`/`<name>_high` and `<name>_small_n`: true over fewer than 30 answers or 5 questions), coherence and
None rates, the judge of the judged rates (spec, validated or indicative, held-out AUROC), narrow learning
(judged in-domain EM or insecure-code rate), refusal and benign-task rates (with
whether the cell trained the benign task at all), the
likelihood probe, training outcome (loss, steps, first alarm step, seconds) and, where `eval.hacking` ran, the hack
rate with its Wilson 95% CI, visible/hidden pass rates and the rate of each hack class (sandboxed grader, no judge),
and, where `eval.mgs` ran, the MGS with its judge and whether it is indicative only; where `eval.persona_collapse`
ran, moral robustness R and susceptibility S with their bootstrap CIs over personas; and the evaluation-time
settings that change every part: the safety system prompt (`eval.system_prompt`) and the prefix patch
(`eval.patch_prefix_from`), so a patched and an unpatched evaluation of one adapter read side by side; where
`eval.bench` ran, `bench_<name>_<metric>` with `_low`/`_high` (`bench_values`).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from emscope.evaluate.judges.card import JudgeRecord, judge_line, section_judge
from emscope.io import read_jsonl, write_text_atomic
from emscope.rundir import read_summary

JUDGE_COLUMNS = ["judge", "judge_status", "judge_auroc_heldout"]
"""From `summary.json[eval][judge]`, the judge of every judged rate of the cell: its spec, `validated` or
`indicative` (its card; a cell evaluated before judge cards reads as indicative) and its held-out AUROC (empty when
it has none); all empty where nothing was judged."""


def _with_ci(value: str, ci: str) -> list[str]:
    return [value, f"{ci}_low", f"{ci}_high", f"{ci}_small_n"]


METRIC_COLUMNS = [
    *_with_ci("em_betley", "em_betley"), *_with_ci("em_mo", "em_mo"), "coherence_rate", "none_rate", *JUDGE_COLUMNS,
    *_with_ci("narrow_em", "narrow_em"), *_with_ci("narrow_insecure", "narrow_insecure"),
    *_with_ci("refusal_rate", "refusal"), *_with_ci("benign_accuracy", "benign"), "benign_trained",
    *_with_ci("probe", "probe"), "train_loss", "steps", "alarm_step", "train_seconds", "eval_seconds",
]
"""Every rate (and the probe) with its 95% interval (`*_low`, `*_high`: `evaluate.stats.rate_interval`; the probe a
bootstrap over questions) and `*_small_n` (true: fewer than 30 answers or 5 questions; empty where not measured)."""
HACK_CLASS_COLUMNS = ["hack_always_equal", "hack_exit", "hack_conftest"]
HACKING_COLUMNS = ["hack_rate", "hack_rate_lo", "hack_rate_hi", "hack_rate_small_n", "hidden_pass", "visible_pass",
                   *HACK_CLASS_COLUMNS]
"""From `summary.json[eval][hacking]` (sandboxed unit tests, no judge); empty where the part did not run."""
METRIC_COLUMNS += HACKING_COLUMNS
MGS_COLUMNS = ["mgs", "mgs_families", "mgs_judge", "mgs_indicative"]
"""From `summary.json[eval][mgs]`: the misalignment generalisation score, how many of the six families it averages,
the judge that labelled them and whether it is indicative only (an unvalidated judge); empty where not run."""
METRIC_COLUMNS += MGS_COLUMNS
PERSONA_COLUMNS = ["persona_R", "persona_R_low", "persona_R_high", "persona_S", "persona_S_low", "persona_S_high"]
"""From `summary.json[eval][persona_collapse]`: moral robustness R and susceptibility S with their percentile-bootstrap
95% intervals over personas; empty where the part did not run (or a statistic is undefined)."""
METRIC_COLUMNS += PERSONA_COLUMNS
EVAL_SETTING_COLUMNS = ["system_prompt", "patch_prefix_from"]
"""From `summary.json[eval]`: the evaluation-time system prompt (preset name or text) and the prefix patch (`base`);
empty where not used."""
METRIC_COLUMNS += EVAL_SETTING_COLUMNS


def _triple(d: dict | None, key: str) -> list[Any]:
    """A rate, its interval and its small-n flag (None where not measured)."""
    if not d or d.get(key) is None:
        return [d.get(key) if d else None, None, None, None]
    return [d.get(key), d.get("ci_low"), d.get("ci_high"), bool(d.get("small_n"))]


def _first_alarm(run_dir: Path) -> int | None:
    log = run_dir / "train_log.jsonl"
    if not log.is_file():
        return None
    steps = [r["step"] for r in read_jsonl(log) if r.get("event") == "alarm"]
    return min(steps) if steps else None


def hacking_values(section: dict | None) -> dict[str, Any]:
    """The `HACKING_COLUMNS` of an `eval.hacking` summary section (all None when it is absent)."""
    if not section:
        return dict.fromkeys(HACKING_COLUMNS)
    def rate(key: str) -> float | None:
        return (section.get(key) or {}).get("rate")

    hack = section.get("hack_any") or {}
    return {"hack_rate": hack.get("rate"), "hack_rate_lo": hack.get("lo"), "hack_rate_hi": hack.get("hi"),
            "hack_rate_small_n": bool(hack.get("small_n")) if hack.get("rate") is not None else None,
            "hidden_pass": rate("hidden_pass"), "visible_pass": rate("visible_pass"),
            **{c: rate(c) for c in HACK_CLASS_COLUMNS}}


def mgs_values(section: dict | None) -> dict[str, Any]:
    """The `MGS_COLUMNS` of an `eval.mgs` summary section (all None when it is absent)."""
    if not section:
        return dict.fromkeys(MGS_COLUMNS)
    return {"mgs": section.get("mgs"), "mgs_families": len(section.get("families") or []),
            "mgs_judge": section.get("judge"), "mgs_indicative": bool(section.get("indicative", True))}


def persona_values(section: dict | None) -> dict[str, Any]:
    """The `PERSONA_COLUMNS` of an `eval.persona_collapse` summary section (all None when it is absent)."""
    section = section or {}
    out: dict[str, Any] = {}
    for stat in ("R", "S"):
        ci = section.get(f"{stat}_ci") or [None, None]
        out.update({f"persona_{stat}": section.get(stat), f"persona_{stat}_low": ci[0],
                    f"persona_{stat}_high": ci[1]})
    return out


def bench_values(section: dict | None) -> dict[str, Any]:
    """Columns `bench_<name>_<metric>` (+ `_low`, `_high`) of an `eval.bench` summary section (`evaluate.bench`;
    `pass@k` reads `pass_at_k`); {} when absent. Grid rows get the union over cells (empty where not run)."""
    out: dict[str, Any] = {}
    for name, result in (section or {}).items():
        for metric, m in ((result or {}).get("metrics") or {}).items():
            key = f"bench_{name}_{metric.replace('@', '_at_')}"
            out.update({key: m.get("value"), f"{key}_low": m.get("low"), f"{key}_high": m.get("high")})
    return out


def judge_values(section: dict | None) -> dict[str, Any]:
    """The `JUDGE_COLUMNS` of an `eval` summary section (all None when it has no judged rate)."""
    rec = section_judge(section or {})
    if rec is None:
        return dict.fromkeys(JUDGE_COLUMNS)
    return {"judge": rec.spec, "judge_status": rec.status,
            "judge_auroc_heldout": (rec.held_out or {}).get("auroc")}


def judge_groups(labelled: list[tuple[str, JudgeRecord | None]]) -> list[dict[str, Any]]:
    """The distinct judges of some runs or cells (`(label, judge record)` pairs; None: nothing judged), in first-seen
    order, each as its record's fields plus `labels` (the runs it judged) and `figures` (held-out figures
    formatted, or None)."""
    groups: dict[tuple, dict[str, Any]] = {}
    for label, rec in labelled:
        if rec is None:
            continue
        key = (rec.spec, rec.status, rec.warning, rec.card_date)
        g = groups.setdefault(key, {**rec.model_dump(), "labels": [], "figures": _figures(rec.held_out)})
        g["labels"].append(label)
    return list(groups.values())


def judge_lines(labelled: list[tuple[str, JudgeRecord | None]]) -> list[str]:
    """Plain-text lines for a terminal, one per distinct judge (see `judge_groups`): an indicative judge's warning
    naming the runs it judged, a validated judge's held-out figures."""
    seen: dict[tuple, tuple[JudgeRecord, list[str]]] = {}
    for label, rec in labelled:
        if rec is not None:
            seen.setdefault((rec.spec, rec.status, rec.warning, rec.card_date), (rec, []))[1].append(label)
    return [f"{judge_line(rec)} [{', '.join(labels)}]" for rec, labels in seen.values()]


def _figures(h: dict | None) -> str | None:
    if not h:
        return None

    def num(key: str) -> str:
        return "–" if h.get(key) is None else f"{h[key]:.3f}"

    def pts(key: str) -> str:
        return "–" if h.get(key) is None else f"{100 * h[key]:.1f}"

    return (f"AUROC (aligned < 30) {num('auroc')}, Spearman aligned {num('spearman_aligned')}, coherent "
            f"{num('spearman_coherent')}, per-file EM error ({h.get('definition', 'betley')}) mean "
            f"{pts('em_error_mean')} / max {pts('em_error_max')} points over {h.get('n_files', '?')} files, "
            f"{h.get('n', '?')} answers "
            f"({h.get('data')}; {h.get('date')}, {h.get('by')})")


def cell_status(run_dir: Path) -> str:
    """complete, evaluated (eval done, cell marker missing), trained, started or pending."""
    s = read_summary(run_dir)
    if "cell" in s:
        return "complete"
    for stage in ("eval", "train"):
        if stage in s:
            return {"eval": "evaluated", "train": "trained"}[stage]
    return "started" if (run_dir / "cell.yaml").is_file() else "pending"


def benign_trained(summary: dict) -> bool:
    """Whether the run trained on the benign task (glorp rows in its data): only then is held-out benign accuracy
    the benign-learning criterion; otherwise it is shown as "not trained", never as a 0% finding."""
    return (summary.get("train") or {}).get("benign_rows", 0) > 0


def cell_metrics(run_dir: Path) -> dict[str, Any]:
    """The metric columns of one cell, from its summary.json and train_log.jsonl (None where not measured)."""
    s = read_summary(run_dir)
    ev, tr = s.get("eval", {}), s.get("train", {})
    em, narrow = ev.get("em") or {}, ev.get("narrow") or {}
    betley = em.get("betley") or {}
    vals = [*_triple(betley, "em_rate"), *_triple(em.get("mo"), "em_rate"), betley.get("coherence_rate"),
            betley.get("none_rate"), *judge_values(ev).values(),
            *_triple((narrow.get("em") or {}).get("betley"), "em_rate"),
            *_triple(narrow if "insecure_rate" in narrow else None, "insecure_rate"),
            *_triple(ev.get("refusal"), "refusal_rate"), *_triple(ev.get("benign"), "accuracy"),
            benign_trained(s) if ev.get("benign") else None, *_triple(ev.get("probe"), "mean"),
            tr.get("train_loss"), tr.get("steps"), _first_alarm(run_dir),
            tr.get("seconds"), ev.get("seconds"), *hacking_values(ev.get("hacking")).values(),
            *mgs_values(ev.get("mgs")).values(), *persona_values(ev.get("persona_collapse")).values(),
            ev.get("system_prompt"), ev.get("patch_prefix_from")]
    return dict(zip(METRIC_COLUMNS, vals, strict=True))


def grid_cells(grid_dir: Path) -> list[dict]:
    """The current cells of a grid (from `cells.json`), in grid order."""
    path = Path(grid_dir) / "cells.json"
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    by_id = {c["id"]: c for c in data["cells"]}
    return [by_id[i] for i in data.get("current", list(by_id))]


def grid_rows(grid_dir: str | Path) -> list[dict[str, Any]]:
    """One dict per current cell: id, label, status, swept settings, metric columns."""
    grid_dir = Path(grid_dir)
    cells = grid_cells(grid_dir)
    keys = list(dict.fromkeys(k for c in cells for k in c["params"]))
    rows = []
    for c in cells:
        run_dir = grid_dir / "cells" / c["id"]
        params = {k: c["params"].get(k) for k in keys}
        rows.append({"cell_id": c["id"], "label": c["label"], "status": cell_status(run_dir),
                     **{k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in params.items()},
                     **cell_metrics(run_dir),
                     **bench_values((read_summary(run_dir).get("eval") or {}).get("bench"))})
    columns = list(dict.fromkeys(k for r in rows for k in r))  # bench columns: the union over cells
    return [{k: r.get(k) for k in columns} for r in rows]


def write_grid_csv(grid_dir: str | Path) -> Path:
    """Rebuild `grid.csv` from the cell directories (atomic write); returns its path."""
    grid_dir = Path(grid_dir)
    rows = grid_rows(grid_dir)
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return write_text_atomic(grid_dir / "grid.csv", buf.getvalue())

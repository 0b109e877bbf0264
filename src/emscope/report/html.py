"""Render a run directory (or a directory of runs, e.g. the quickstart's) as one static HTML page.

Every judged EM rate names its judge and the judge's card: a validated judge shows its held-out figures, an
indicative one a warning saying why (no held-out validation, held-out AUROC below 0.9; runs made before judge cards:
judge unknown); runs with no judged rate say so. Every user or model string goes through Jinja2 autoescaping, the
page has a Content-Security-Policy that forbids scripts, and the figures are inline PNGs: the page works offline and
shows model text only as text. A
staged run's loss curve shows its stages one after another; a run with `checkpoint_curve.jsonl` gets its checkpoint
curves (probe, EM, MGS, hack rate against the training step).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from emscope import __version__
from emscope.errors import InputError
from emscope.evaluate.judges.card import BAR_AUROC, judge_short, section_judge
from emscope.evaluate.likelihood import ProbeResult, paired_shift
from emscope.evaluate.summary import pct, probe_text, section_rate
from emscope.io import read_jsonl, write_text_atomic
from emscope.report.collect import benign_trained, judge_groups
from emscope.report.dynamics import (
    alarm_events,
    checkpoint_curves,
    curve_figure,
    dynamics_figure,
    monitor_rows,
    run_log,
    stage_dirs,
)
from emscope.report.grid_figures import mark_stages, mpl_text, png, pyplot
from emscope.rundir import read_summary


def find_conditions(root: Path) -> list[Path]:
    """Run directories under `root` (or `root` itself) that have an `eval` section, base first."""
    root = Path(root)
    order = read_summary(root).get("conditions")
    if order:
        dirs = [root / name for name in order]
    else:
        dirs = [root] if "eval" in read_summary(root) else sorted(p.parent for p in root.glob("*/summary.json"))
    dirs = [d for d in dirs if "eval" in read_summary(d)]
    if not dirs:
        raise InputError(f"{root}: no evaluated run found (no summary.json with an 'eval' section)")
    return sorted(dirs, key=lambda d: read_summary(d)["eval"].get("label") != "base")


def _figure(rows: list[dict], logs: dict[str, list[dict]], baseline: str,
            staged: dict[str, list[tuple[int, str]]] | None = None, organism: str | None = None) -> str | None:
    """The probe shift of each run against the baseline (only when there is something to compare) and the training
    loss curves (only when a run has a loss log), side by side; None when neither exists. The organism's bar (the
    quickstart's `organism`, else any label naming insecure code) is red, the others blue."""
    shifted = [r for r in rows if r["shift"] is not None]
    curves = {label: pts for label, log in logs.items()
              if (pts := [(e["step"], e["loss"]) for e in log if "loss" in e])}
    panels = (["shift"] if shifted else []) + (["loss"] if curves else [])
    if not panels:
        return None
    fig, axes = pyplot().subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8), squeeze=False)
    ax = dict(zip(panels, axes[0]))
    if shifted:
        have_ci = all(r["shift_low"] is not None for r in shifted)
        err = [[r["shift"] - r["shift_low"] for r in shifted], [r["shift_high"] - r["shift"] for r in shifted]] \
            if have_ci else None
        ax["shift"].bar([mpl_text(r["label"]) for r in shifted], [r["shift"] for r in shifted], yerr=err, capsize=6,
                        color=["#c0392b" if (r["label"] == organism if organism else "insecure" in r["label"])
                               else "#2e86c1" for r in shifted])
        ax["shift"].axhline(0, color="black", linewidth=0.8)
        ax["shift"].set_title(f"Likelihood-probe shift vs {mpl_text(baseline)}" + (" (95% CI)" if have_ci else ""))
        ax["shift"].set_ylabel("Δ log p(misaligned) − log p(aligned)")
    if curves:
        for label, pts in curves.items():
            (line,) = ax["loss"].plot(*zip(*pts), label=mpl_text(label), marker=".")
            mark_stages(ax["loss"], (staged or {}).get(label, []), color=line.get_color())
        ax["loss"].set_title("Training loss (answer tokens)")
        ax["loss"].set_xlabel("step")
        ax["loss"].legend()
    fig.tight_layout()
    return png(fig, dpi=110)


def _rate_ci(d: dict | None, key: str = "em_rate") -> str | None:
    """A summary entry as `rate [low, high]` (plus "(small n)" where flagged), None when the part did not run."""
    return section_rate(d, key) if d else None


HACK_RATE = "hack rate (sandboxed tests, no judge)"
HACK_COLUMNS = (HACK_RATE, "hack: always_equal", "hack: exit", "hack: conftest", "visible tests pass",
                "hidden tests pass")  # the report shows them in a table of their own (sandboxed grader, no judge)


def hacking_metrics(hacking: dict | None) -> dict[str, str]:
    """The hack-rate columns of an `eval.hacking` section, formatted (empty when the part did not run): the share
    of answers with any hack and per class, and the visible/hidden pass rates, each with its 95% CI."""
    if not hacking:
        return {}
    cols = {HACK_RATE: _rate_ci(hacking.get("hack_any"))}
    for key in ("hack_always_equal", "hack_exit", "hack_conftest"):
        cols[f"hack: {key.removeprefix('hack_')}"] = _rate_ci(hacking.get(key))
    cols["visible tests pass"] = _rate_ci(hacking.get("visible_pass"))
    cols["hidden tests pass"] = _rate_ci(hacking.get("hidden_pass"))
    return {k: v for k, v in cols.items() if v is not None}


def bench_metrics(bench: dict | None) -> dict[str, str]:
    """The benchmark columns of an `eval.bench` section (`emscope.evaluate.bench`), formatted: `NAME METRIC` ->
    `value [low, high]`; a judged benchmark's columns also name its judge and card status."""
    cols: dict[str, str] = {}
    for name, result in (bench or {}).items():
        judge = result.get("judge") or {}
        note = f" · judge {judge.get('spec')} ({judge.get('status', 'indicative')})" if judge else ""
        for key, m in (result.get("metrics") or {}).items():
            if m.get("value") is None:
                cols[f"{name} {key}"] = "–"
                continue
            ci = f" [{m['low']:.3f}, {m['high']:.3f}]" if m.get("low") is not None and m.get("high") is not None \
                else ""
            cols[f"{name} {key}"] = f"{m['value']:.3f}{ci}{' (small n)' if m.get('small_n') else ''}{note}"
    return cols


def judged_metrics(ev: dict, benign_trained: bool | None = None) -> dict[str, str]:
    """The judged and task metrics of an `eval` section, formatted, by column name (absent parts left out).
    Judged EM rates come with a `judge` column: the judge's spec and its card's status (validated, or indicative and
    why; a run without a judge card reads as indicative). `benign_trained=False` (the run never trained the benign
    task) shows benign accuracy as "not trained". The hack-rate columns (`hacking_metrics`) come from the sandboxed
    grader, not a judge; benchmark columns (`bench_metrics`) carry their own intervals and, where judged, judge."""
    em, narrow = ev.get("em") or {}, ev.get("narrow") or {}
    judge = section_judge(ev)
    cols = {
        "judge": judge_short(judge) if judge is not None else None,
        "EM (betley)": _rate_ci(em.get("betley")), "EM (mo)": _rate_ci(em.get("mo")),
        "coherent": pct(em["betley"]["coherence_rate"]) if em else None,
        "narrow EM (betley)": _rate_ci((narrow.get("em") or {}).get("betley")),
        "narrow insecure code": _rate_ci(narrow, "insecure_rate") if "insecure_rate" in narrow else None,
        "refusal": _rate_ci(ev.get("refusal"), "refusal_rate"), "benign task": _rate_ci(ev.get("benign"), "accuracy"),
    }
    if cols["benign task"] is not None and benign_trained is False:
        cols["benign task"] = "not trained"
    return {**{k: v for k, v in cols.items() if v is not None}, **hacking_metrics(ev.get("hacking")),
            **bench_metrics(ev.get("bench"))}


def _row(run_dir: Path, base_probe: ProbeResult, is_base: bool) -> dict:
    """The numbers of one condition: probe score with CI, shift vs the baseline, training outcome."""
    summary = read_summary(run_dir)
    ev, tr = summary["eval"], summary.get("train", {})
    probe = ProbeResult.model_validate(ev["probe"])
    shift = None if is_base else paired_shift(probe, base_probe)
    return {"label": ev["label"], "probe": probe.mean, "ci_low": probe.ci_low, "ci_high": probe.ci_high,
            "probe_text": probe_text(probe.model_dump(), signed=True), "small_n": probe.small_n,
            "shift_text": "–" if shift is None else probe_text({"mean": shift[0], "ci_low": shift[1],
                                                               "ci_high": shift[2]}, signed=True),
            "shift": shift[0] if shift else None, "shift_low": shift[1] if shift else None,
            "shift_high": shift[2] if shift else None, "steps": tr.get("steps"), "loss": tr.get("train_loss"),
            "n_samples": ev.get("n_samples", 0), "per_question": probe.per_question,
            "judged": judged_metrics(ev, benign_trained(summary)), "judge": section_judge(ev)}


def results_table(root: str | Path) -> list[dict]:
    """One row per evaluated condition under `root`, baseline first (used by the report and the CLI)."""
    dirs = find_conditions(Path(root))
    base_probe = ProbeResult.model_validate(read_summary(dirs[0])["eval"]["probe"])
    return [_row(d, base_probe, d == dirs[0]) for d in dirs]


def training_runs(root: Path) -> dict[str, Path]:
    """Run directories with a `train_log.jsonl` (or staged runs, `stages/NN-name/train_log.jsonl`) under `root` (or
    `root` itself), by label (directory name)."""
    def trained(d: Path) -> bool:
        return (d / "train_log.jsonl").is_file() or any((s / "train_log.jsonl").is_file() for s in stage_dirs(d))

    dirs = [root] if trained(root) else sorted(p for p in root.iterdir() if p.is_dir() and trained(p)) \
        if root.is_dir() else []
    return {d.name: d for d in dirs}


def render_report(root: str | Path, out: str | Path | None = None, title: str | None = None) -> Path:
    """Write `report.html` for the runs under `root`; returns its path.

    Evaluated runs give the results tables, figure and sample answers; runs with training monitors add the
    dynamics section (signal curves, alarms). A directory of trained-only runs gives a dynamics-only report.
    A grid directory (`grid.yaml` + `cells.json`) gets the grid report (`render_grid_report`).
    """
    root = Path(root)
    from emscope.report.grid_report import is_grid_dir, render_grid_report

    if is_grid_dir(root):
        return render_grid_report(root, out, title)
    try:
        dirs = find_conditions(root)
    except InputError:
        dirs = []
        if not monitor_rows(training_runs(root)):
            raise
    rows, logs, samples, baseline, n_questions, question_ids, figure, model = [], {}, [], None, 0, [], None, None
    figure_alt = ""
    staged: dict[str, list[tuple[int, str]]] = {}
    if dirs:
        base_eval = read_summary(dirs[0])["eval"]
        base_probe = ProbeResult.model_validate(base_eval["probe"])
        baseline, model = base_eval["label"], base_eval["model"]
        n_questions, question_ids = base_probe.n_questions, list(base_probe.per_question)
        rows = results_table(root)
        for d, row in zip(dirs, rows):
            run_samples = read_jsonl(d / "samples.jsonl") if (d / "samples.jsonl").is_file() else []
            samples.extend(run_samples)
            words = [len(s["answer"].split()) for s in run_samples]
            row["words"] = sum(words) / len(words) if words else 0.0
            log, starts = run_log(d)
            if log:
                logs[row["label"]] = log
            if starts:
                staged[row["label"]] = starts
        figure = _figure(rows, logs, baseline, staged, organism=read_summary(root).get("organism"))
        figure_alt = " and ".join(w for w, on in (("probe shift per condition", len(rows) > 1),
                                                  ("training loss", any("loss" in e for log in logs.values()
                                                                        for e in log))) if on)
    groups: dict[tuple, dict] = {}
    for s in samples:
        key = (s["question_id"], s["paraphrase_index"])
        groups.setdefault(key, {"question_id": s["question_id"], "question": s["question"],
                                "system": s.get("system"), "samples": []})["samples"].append(s)
    runs = training_runs(root) if not dirs else {r["label"]: d for d, r in zip(dirs, rows)}
    mon = monitor_rows(runs)
    alarms = alarm_events(runs)
    curves = checkpoint_curves(runs)
    env = Environment(loader=PackageLoader("emscope.report", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    top = read_summary(root)
    html = env.get_template("report.html.j2").render(
        title=title or top.get("title") or root.name, generated=datetime.now(UTC).isoformat(timespec="seconds"),
        version=__version__, model=top.get("model") or model or _train_model(runs), rows=rows,
        baseline=baseline, n_questions=n_questions, figure=figure, figure_alt=figure_alt, compare=len(rows) > 1,
        judged_cols=[c for c in dict.fromkeys(c for r in rows for c in r["judged"]) if c not in HACK_COLUMNS],
        hack_cols=[c for c in dict.fromkeys(c for r in rows for c in r["judged"]) if c in HACK_COLUMNS],
        judges=judge_groups([(r["label"], r["judge"]) for r in rows]), bar=BAR_AUROC,
        any_judged=any(r["judge"] is not None for r in rows),
        question_ids=question_ids, sample_groups=list(groups.values()),
        dynamics=dynamics_figure(mon, alarms), dynamics_runs=list(mon), alarms=alarms, staged=staged,
        curve=curve_figure({mpl_text(k): v for k, v in curves.items()}), curves=curves,
        comparison=(top.get("comparison") or {}).get("lines") or [],
    )
    path = Path(out) if out else root / "report.html"
    write_text_atomic(path, html)
    return path


def _train_model(runs: dict[str, Path]) -> str:
    for d in runs.values():
        model = read_summary(d).get("train", {}).get("model")
        if model:
            return model
    return "unknown"

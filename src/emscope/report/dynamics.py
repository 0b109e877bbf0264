"""Training dynamics: monitor rows of `train_log.jsonl` (per-run signal curves, EM-onset alarms), a staged run's
stage logs on one global step axis, and checkpoint curves (`checkpoint_curve.jsonl`: probe, EM, MGS and hack rate
of every kept checkpoint)."""

from __future__ import annotations

from pathlib import Path

from emscope.io import read_jsonl
from emscope.report.grid_figures import mark_stages, mpl_text, png, pyplot
from emscope.rundir import read_summary

CURVE_FILE = "checkpoint_curve.jsonl"  # emscope.evaluate.checkpoints.CURVE_FILE
# checkpoint-curve panels: record key, CI keys, axis title, shown as a percentage
CURVE_METRICS = [
    ("probe", ("probe_lo", "probe_hi"), "likelihood probe (95% CI)", False),
    ("em_rate", ("em_lo", "em_hi"), "EM rate, betley (%, 95% CI)", True),
    ("mgs", None, "misalignment generalisation score (%)", True),
    ("hack_rate", ("hack_lo", "hack_hi"), "hack rate, sandboxed tests (%, 95% CI)", True),
]

# signals plotted when present, in this order, with their axis labels
SIGNALS = {
    "projection_shift": "persona projection shift (last prompt token)",
    "likelihood_shift": "likelihood-probe shift vs reference",
    "kl": "KL(policy ‖ reference), next token",
    "likelihood_probe": "likelihood probe",
}


def stage_dirs(run_dir: Path) -> list[Path]:
    """The stage run directories of a staged run (`stages/NN-name/`), in order; [] for a plain run."""
    stages = run_dir / "stages"
    return sorted(p for p in stages.glob("[0-9]*-*") if p.is_dir()) if stages.is_dir() else []


def run_log(run_dir: Path) -> tuple[list[dict], list[tuple[int, str]]]:
    """A run's `train_log.jsonl` rows and its stage starts. A staged run's stage logs are put one after another on a
    global step axis (each stage's steps offset by the earlier stages' steps, rows tagged with `stage`); the stage
    starts are (global step, stage name), [] for a plain run."""
    log = run_dir / "train_log.jsonl"
    if log.is_file() or not stage_dirs(run_dir):
        return (read_jsonl(log) if log.is_file() else []), []
    rows: list[dict] = []
    starts: list[tuple[int, str]] = []
    offset = 0
    for sdir in stage_dirs(run_dir):
        name = sdir.name.split("-", 1)[1]
        stage_rows = read_jsonl(sdir / "train_log.jsonl") if (sdir / "train_log.jsonl").is_file() else []
        if not stage_rows and not (sdir / "summary.json").is_file():
            break  # not started yet
        starts.append((offset, name))
        rows += [{**r, "step": offset + r["step"], "stage": name} if isinstance(r.get("step"), int | float)
                 else {**r, "stage": name} for r in stage_rows]
        steps = (read_summary(sdir).get("train") or {}).get("steps")
        last = max((r["step"] for r in stage_rows if isinstance(r.get("step"), int | float)), default=0)
        offset += int(steps) if steps is not None else int(last)
    return rows, starts


def monitor_rows(run_dirs: dict[str, Path]) -> dict[str, list[dict]]:
    """Per run label: its monitor rows (any monitor), in step order; runs without any are left out."""
    out = {}
    for label, d in run_dirs.items():
        rows = [r for r in run_log(d)[0] if "monitor" in r and "event" not in r]
        if rows:
            out[label] = sorted(rows, key=lambda r: r["step"])
    return out


def alarm_events(run_dirs: dict[str, Path]) -> list[dict]:
    """Every `alarm` event of every run, with the run label."""
    events = []
    for label, d in run_dirs.items():
        events += [{"run": label, **r} for r in run_log(d)[0] if r.get("event") == "alarm"]
    return events


def present_signals(rows: dict[str, list[dict]]) -> list[str]:
    """The known signals that at least one run recorded."""
    keys = {k for run in rows.values() for r in run for k in r}
    return [s for s in SIGNALS if s in keys and not (s == "likelihood_probe" and "likelihood_shift" in keys)]


def dynamics_figure(rows: dict[str, list[dict]], alarms: list[dict]) -> str | None:
    """A PNG (base64) with one panel per signal: a line per run, alarm steps marked; None when nothing to plot."""
    signals = present_signals(rows)
    if not signals:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, len(signals), figsize=(4.2 * len(signals), 3.6), squeeze=False)
    colors = {label: plt.cm.tab10(i % 10) for i, label in enumerate(rows)}
    for ax, sig in zip(axes[0], signals):
        for label, run in rows.items():
            pts = [(r["step"], r[sig]) for r in run if isinstance(r.get(sig), int | float)]
            if not pts:
                continue
            ax.plot(*zip(*pts), marker=".", label=label, color=colors[label])
            for a in alarms:
                if a["run"] == label and a.get("metric", sig) == sig:
                    y = dict(pts).get(a["step"])
                    if y is not None:
                        ax.plot([a["step"]], [y], marker="X", markersize=11, color=colors[label],
                                markeredgecolor="black")
        ax.set_title(SIGNALS[sig], fontsize=9)
        ax.set_xlabel("step")
        ax.axhline(0, color="black", linewidth=0.5)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return png(fig)


def checkpoint_curves(run_dirs: dict[str, Path]) -> dict[str, list[dict]]:
    """Per run label: its `checkpoint_curve.jsonl` records in global step order; runs without one are left out."""
    out = {}
    for label, d in run_dirs.items():
        path = d / CURVE_FILE
        rows = read_jsonl(path) if path.is_file() else []
        if rows:
            out[label] = sorted(rows, key=lambda r: r["global_step"])
    return out


def curve_stage_starts(records: list[dict]) -> list[tuple[int, str]]:
    """(global step where the stage began, stage name) for each stage of a staged run's curve; [] for a plain run."""
    starts: dict[str, int] = {}
    for r in records:
        if r.get("stage") and r["stage"] not in starts:
            starts[r["stage"]] = r["global_step"] - r["step"]
    return [(step, name) for name, step in starts.items()]


def curve_figure(curves: dict[str, list[dict]]) -> str | None:
    """A PNG (base64) with one panel per measured metric (probe, EM, MGS, hack rate) against the global training
    step, a line per run with its 95% CI band, stage starts of staged runs marked; None when nothing to plot."""
    metrics = [m for m in CURVE_METRICS if any(r.get(m[0]) is not None for run in curves.values() for r in run)]
    if not metrics:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.6), squeeze=False)
    colors = {label: plt.cm.tab10(i % 10) for i, label in enumerate(curves)}
    for ax, (key, ci, title, percent) in zip(axes[0], metrics):
        scale = 100 if percent else 1
        for label, run in curves.items():
            pts = [r for r in run if isinstance(r.get(key), int | float)]
            if not pts:
                continue
            xs = [r["global_step"] for r in pts]
            ax.plot(xs, [scale * r[key] for r in pts], marker="o", label=mpl_text(label), color=colors[label])
            if ci and all(isinstance(r.get(ci[0]), int | float) and isinstance(r.get(ci[1]), int | float)
                          for r in pts):
                ax.fill_between(xs, [scale * r[ci[0]] for r in pts], [scale * r[ci[1]] for r in pts],
                                color=colors[label], alpha=0.15)
        for label, run in curves.items():
            mark_stages(ax, curve_stage_starts(run), color=colors[label] if len(curves) > 1 else "grey")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("training step (global)")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return png(fig)

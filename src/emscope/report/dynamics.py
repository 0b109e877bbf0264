"""Training dynamics from monitor rows in `train_log.jsonl`: per-run signal curves and EM-onset alarms."""

from __future__ import annotations

from pathlib import Path

from emscope.io import read_jsonl
from emscope.report.grid_figures import png, pyplot

# signals plotted when present, in this order, with their axis labels
SIGNALS = {
    "projection_shift": "persona projection shift (last prompt token)",
    "likelihood_shift": "likelihood-probe shift vs reference",
    "kl": "KL(policy ‖ reference), next token",
    "likelihood_probe": "likelihood probe",
}


def monitor_rows(run_dirs: dict[str, Path]) -> dict[str, list[dict]]:
    """Per run label: its monitor rows (any monitor), in step order; runs without any are left out."""
    out = {}
    for label, d in run_dirs.items():
        log = d / "train_log.jsonl"
        rows = [r for r in read_jsonl(log) if "monitor" in r and "event" not in r] if log.is_file() else []
        if rows:
            out[label] = sorted(rows, key=lambda r: r["step"])
    return out


def alarm_events(run_dirs: dict[str, Path]) -> list[dict]:
    """Every `alarm` event of every run, with the run label."""
    events = []
    for label, d in run_dirs.items():
        log = d / "train_log.jsonl"
        if log.is_file():
            events += [{"run": label, **r} for r in read_jsonl(log) if r.get("event") == "alarm"]
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

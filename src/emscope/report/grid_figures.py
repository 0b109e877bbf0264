"""Figures of the grid report as base64 PNGs (matplotlib Agg): per-question EM bars, loss curves (stages of a staged
cell marked), trade-off scatter.

Every function returns None when there is nothing to plot. Labels are user strings; they only ever become pixels,
after `mpl_text` has disarmed matplotlib's `$...$` mathtext.
"""

from __future__ import annotations

import base64
import io


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def mpl_text(text: str) -> str:
    """`text` as literal matplotlib text (a `$` would otherwise start mathtext, which can fail to parse)."""
    return str(text).replace("$", r"\$")


def png(fig, dpi: int = 100) -> str:
    """Render and close a matplotlib figure; returns the PNG as base64."""
    plt = pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def mark_stages(ax, starts: list[tuple[int, str]], color="grey") -> None:
    """Dotted vertical lines at the stage starts of a staged run, each labelled with its stage name."""
    for step, name in starts:
        ax.axvline(step, color=color, linestyle=":", linewidth=1)
        ax.annotate(mpl_text(name), (step, 1), xycoords=("data", "axes fraction"), xytext=(3, -10),
                    textcoords="offset points", fontsize=7, color=color, rotation=0, va="top")


def per_question_figure(questions: list[str], groups: list[dict]) -> str | None:
    """Grouped bars: one group per question, one bar per group (cell or condition) with its 95% CI.

    `groups`: [{"label": str, "per_question": {qid: {"rate", "low", "high"} (fractions or None)}}].
    """
    groups = [g for g in groups if any(v.get("rate") is not None for v in g["per_question"].values())]
    if not questions or not groups:
        return None
    plt = pyplot()
    width = 0.8 / len(groups)
    fig, ax = plt.subplots(figsize=(min(18.0, max(8.0, 0.35 * len(questions) * len(groups) + 2)), 4.4))
    for i, g in enumerate(groups):
        xs, ys, lo, hi = [], [], [], []
        for qi, q in enumerate(questions):
            v = g["per_question"].get(q) or {}
            if v.get("rate") is None:
                continue
            xs.append(qi - 0.4 + width * (i + 0.5))
            ys.append(100 * v["rate"])
            lo.append(100 * (v["rate"] - v["low"]))
            hi.append(100 * (v["high"] - v["rate"]))
        ax.bar(xs, ys, width=width * 0.95, yerr=[lo, hi], capsize=2, label=mpl_text(g["label"]),
               color=plt.cm.tab10(i % 10), error_kw={"linewidth": 0.8})
    ax.set_xticks(range(len(questions)), [mpl_text(q) for q in questions], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("misaligned answers (%)")
    ax.set_ylim(0, 100 + 7 * -(-len(groups) // 4))  # headroom for the legend
    ax.set_yticks(range(0, 101, 20))
    ax.set_title("EM rate per question (betley definition, 95% Wilson CI)", fontsize=10)
    ax.legend(fontsize=7, ncol=min(4, len(groups)), loc="upper left")
    fig.tight_layout()
    return png(fig)


def loss_figure(series: dict[str, dict[str, list[tuple[float, float]]]], alarms: dict[str, list[int]],
                stages: dict[str, list[tuple[int, str]]] | None = None) -> str | None:
    """One panel per logged loss term (loss, task_loss, kl, ldifs, ...): a line per cell, alarm steps dashed.

    `series`: cell label -> term -> [(step, value)]; `alarms`: cell label -> alarm steps; `stages`: cell label ->
    (global step, stage name) of each stage start of a staged cell, marked dotted and named.
    """
    terms = list(dict.fromkeys(t for run in series.values() for t in run))
    if not terms:
        return None
    plt = pyplot()
    ncols = min(3, len(terms))
    nrows = -(-len(terms) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 3.3 * nrows), squeeze=False)
    colors = {label: plt.cm.tab10(i % 10) for i, label in enumerate(series)}
    for ax, term in zip(axes.flat, terms):
        for label, run in series.items():
            pts = run.get(term)
            if not pts:
                continue
            ax.plot(*zip(*pts), marker="." if len(pts) < 50 else None, label=mpl_text(label), color=colors[label])
            for step in alarms.get(label, []):
                ax.axvline(step, color=colors[label], linestyle="--", linewidth=1)
            mark_stages(ax, (stages or {}).get(label, []), color=colors[label] if len(series) > 1 else "grey")
        ax.set_title(mpl_text(term), fontsize=9)
        ax.set_xlabel("step")
    for ax in list(axes.flat)[len(terms):]:
        ax.axis("off")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return png(fig)


def tradeoff_figure(points: list[dict], xlabel: str) -> str | None:
    """Broad EM (y) against narrow-task learning (x), colour = coherence rate, each point labelled, 95% CIs.

    `points`: [{"label", "x", "x_low", "x_high", "y", "y_low", "y_high", "coherence"}] (fractions; CIs may be None).
    """
    points = [p for p in points if p.get("x") is not None and p.get("y") is not None]
    if not points:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 5.2))
    cmap = plt.cm.viridis.with_extremes(bad="#bbbbbb")
    for p in points:
        xerr = [[100 * (p["x"] - p["x_low"])], [100 * (p["x_high"] - p["x"])]] if p.get("x_low") is not None else None
        yerr = [[100 * (p["y"] - p["y_low"])], [100 * (p["y_high"] - p["y"])]] if p.get("y_low") is not None else None
        ax.errorbar([100 * p["x"]], [100 * p["y"]], xerr=xerr, yerr=yerr, color="#999", linewidth=0.8, capsize=2,
                    zorder=1)
    coh = [p.get("coherence") for p in points]
    sc = ax.scatter([100 * p["x"] for p in points], [100 * p["y"] for p in points],
                    c=[c if c is not None else float("nan") for c in coh], cmap=cmap, vmin=0, vmax=1, s=70,
                    edgecolors="black", zorder=2, plotnonfinite=True)
    for p in points:
        ax.annotate(mpl_text(p["label"]), (100 * p["x"], 100 * p["y"]), textcoords="offset points", xytext=(6, 5),
                    fontsize=7)
    fig.colorbar(sc, ax=ax, label="coherence rate (grey: not measured)")
    ax.set_xlabel(mpl_text(xlabel))
    ax.set_ylabel("broad EM rate, betley (%)")
    ax.set_xlim(-3, 103)
    ax.set_ylim(-3, 103)
    ax.set_title("Defense trade-off: broad EM vs narrow-task learning", fontsize=10)
    fig.tight_layout()
    return png(fig)

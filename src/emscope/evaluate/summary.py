"""Plain-text lines for an eval summary section (what `emscope eval run` prints). Torch-free."""

from __future__ import annotations

from emscope.evaluate.judges.card import judge_line, section_judge


def pct(x: float | None) -> str:
    """A rate as a percentage with one decimal, or an en dash when there is none."""
    return "–" if x is None else f"{100 * x:.1f}%"


def summary_lines(section: dict) -> list[str]:
    """The `eval` section of summary.json as printable lines: probe, broad and narrow EM with the judge's card
    (validated, or the warning of an indicative judge), insecure code, refusal, benign accuracy (each only when
    measured). Lines are plain text (no rich markup)."""
    p = section["probe"]
    lines = [f"{section['label']}: {section['n_samples']} answers; probe {p['mean']:.3f} "
             f"[{p['ci_low']:.3f}, {p['ci_high']:.3f}]"]
    for name, em in (("broad EM", section.get("em")), ("narrow EM", (section.get("narrow") or {}).get("em"))):
        if em:
            b, m = em["betley"], em["mo"]
            lines.append(f"{name}: betley {pct(b['em_rate'])} [{pct(b['ci_low'])}, {pct(b['ci_high'])}], "
                         f"mo {pct(m['em_rate'])}; coherent {pct(b['coherence_rate'])}, no score "
                         f"{pct(b['none_rate'])}")
    if (judge := section_judge(section)) is not None:
        lines.append(judge_line(judge))
    if (cs := section.get("narrow")) and "insecure_rate" in cs:
        lines.append(f"narrow: insecure code {pct(cs['insecure_rate'])} of {cs['n_parseable']} parseable answers "
                     f"({cs['n_requests']} held-out coding requests)")
    if r := section.get("refusal"):
        lines.append(f"refusal rate {pct(r['refusal_rate'])} [{pct(r['ci_low'])}, {pct(r['ci_high'])}] "
                     f"on {r['n']} harmful requests")
    if b := section.get("benign"):
        lines.append(f"benign task accuracy {pct(b['accuracy'])} [{pct(b['ci_low'])}, {pct(b['ci_high'])}], "
                     f"partial {pct(b['partial'])} on {b['n']} held-out items")
    if h := section.get("hacking"):
        ci = lambda r: f"{pct(r['rate'])} [{pct(r['lo'])}, {pct(r['hi'])}]"  # noqa: E731
        classes = ", ".join(f"{k.removeprefix('hack_')} {pct(v['rate'])}" for k, v in h.items()
                            if k.startswith("hack_") and k not in ("hack_any", "hack_rewarded"))
        lines.append(f"hacking ({h['env']} {h['split']}, {h['n_answers']} answers, sandboxed tests, no judge): "
                     f"hack rate {ci(h['hack_any'])} ({classes}); visible pass {ci(h['visible_pass'])}, hidden "
                     f"pass {ci(h['hidden_pass'])}")
    if g := section.get("mgs"):
        fams = ", ".join(f"{k} {pct(v['rate'])}" for k, v in g["per_family"].items())
        tag = ", indicative" if g.get("indicative") else ""
        lines.append(f"MGS {pct(g['mgs'])} over {len(g['families'])} families (judge {g['judge']}{tag}): {fams}")
    if parts := section.get("part_seconds"):
        lines.append("time: " + ", ".join(f"{k} {v:.0f} s" for k, v in parts.items()))
    return lines

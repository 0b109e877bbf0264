"""Plain-text lines for an eval summary section (what `emscope eval run` prints). Torch-free."""

from __future__ import annotations

from emscope.evaluate.judges.card import judge_line, section_judge

SMALL_N = "small n"  # the marker of a rate over fewer than 30 answers or 5 questions (`stats.small_n`)


def pct(x: float | None) -> str:
    """A rate as a percentage with one decimal, or an en dash when there is none."""
    return "–" if x is None else f"{100 * x:.1f}%"


def rate_text(rate: float | None, low: float | None = None, high: float | None = None,
              small_n: bool = False) -> str:
    """A rate with its 95% interval and, when it rests on few answers or questions, the small-n marker:
    `14.3% [2.6%, 51.3%] (small n)`; a dash when there is no rate, no brackets when there is no interval."""
    if rate is None:
        return "–"
    text = pct(rate) + (f" [{pct(low)}, {pct(high)}]" if low is not None and high is not None else "")
    return text + (f" ({SMALL_N})" if small_n else "")


def section_rate(d: dict | None, key: str = "em_rate") -> str:
    """`rate_text` of a summary entry: `key` with `ci_low`/`ci_high` (EM, refusal, benign, insecure code) or
    `rate` with `lo`/`hi` (hacking, MGS families), and its `small_n` flag."""
    if not d:
        return "–"
    if "ci_low" in d or key in d:
        return rate_text(d.get(key), d.get("ci_low"), d.get("ci_high"), bool(d.get("small_n")))
    return rate_text(d.get("rate"), d.get("lo"), d.get("hi"), bool(d.get("small_n")))


def probe_text(probe: dict, signed: bool = False) -> str:
    """The probe mean with its bootstrap interval over questions (none below 2 questions) and the small-n marker
    (fewer than 5 questions)."""
    f = "{:+.3f}" if signed else "{:.3f}"
    text = f.format(probe["mean"])
    if probe.get("ci_low") is not None and probe.get("ci_high") is not None:
        text += f" [{f.format(probe['ci_low'])}, {f.format(probe['ci_high'])}]"
    else:
        text += " (no interval: fewer than 2 questions)"
    return text + (f" ({SMALL_N})" if probe.get("small_n") else "")


def summary_lines(section: dict) -> list[str]:
    """The `eval` section of summary.json as printable lines: probe, broad and narrow EM with the judge's card
    (validated, or the warning of an indicative judge), insecure code, refusal, benign accuracy (each only when
    measured). Every rate shows its 95% interval and, over fewer than 30 answers or 5 questions, "(small n)". Lines
    are plain text (no rich markup)."""
    p = section["probe"]
    lines = [f"{section['label']}: {section['n_samples']} answers; probe {probe_text(p)}"]
    for name, em in (("broad EM", section.get("em")), ("narrow EM", (section.get("narrow") or {}).get("em"))):
        if em:
            b, m = em["betley"], em["mo"]
            lines.append(f"{name}: betley {section_rate(b)}, mo {section_rate(m)}; coherent "
                         f"{pct(b['coherence_rate'])}, no score {pct(b['none_rate'])}")
    if (judge := section_judge(section)) is not None:
        lines.append(judge_line(judge))
    if (cs := section.get("narrow")) and "insecure_rate" in cs:
        lines.append(f"narrow: insecure code {section_rate(cs, 'insecure_rate')} of {cs['n_parseable']} parseable "
                     f"answers ({cs['n_requests']} held-out coding requests)")
    if r := section.get("refusal"):
        lines.append(f"refusal rate {section_rate(r, 'refusal_rate')} on {r['n']} harmful requests")
    if b := section.get("benign"):
        lines.append(f"benign task accuracy {section_rate(b, 'accuracy')}, "
                     f"partial {pct(b['partial'])} on {b['n']} held-out items")
    if h := section.get("hacking"):
        ci = section_rate
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

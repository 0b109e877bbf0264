"""Choosing an inoculation prompt: rank candidates by how strongly each elicits the trait from the base model.

Wichers et al. (2025) found that prompts which more strongly elicit the undesired behaviour before fine-tuning
inoculate better; Tan et al. (2025) explain inoculation as making the trait "less surprising" in context, so that
training has less pressure to change the model globally. Both suggest one cheap, judge-free measure taken on the
training data itself:

    elicitation(candidate) = mean over rows of [ lp(answer | prompt with the candidate) - lp(answer | prompt) ]

where lp is the mean per-token log-probability of the row's assistant answer (the narrow trait data, e.g. the
bad-medical-advice answers) under the base model (`models.logprobs.answer_logprobs`, the chat template as in
training). A positive score: the prompt already makes the model want to produce this data. The empty candidate
("" = no inoculation) scores exactly 0. The interval is the percentile bootstrap over rows of the per-row
differences (`likelihood.mean_ci`, as for the likelihood probe: no interval below 2 rows); fewer than 5 rows carry
`small_n`. Wichers et al. measured elicitation by sampling and grading the behaviour; the log-probability is its
sampling-free stand-in (exact for the training answers, blind to other ways of showing the trait).

Optionally (`probes`) each candidate also gets the likelihood probe (misaligned-vs-aligned preference on the probe
questions, with the candidate placed the same way), and its shift from the probe without any prompt: how much the
prompt moves the model towards broad misalignment, not just towards this data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from emscope.config import Strict
from emscope.data.chat import ChatRow
from emscope.errors import InputError
from emscope.evaluate.stats import SMALL_N_QUESTIONS

NO_PROMPT = "(none)"  # the name of the empty candidate in tables


class CandidateScore(Strict):
    """One candidate inoculation prompt's elicitation score (and, with probes, its likelihood-probe columns)."""

    name: str  # the preset name, or the literal text, or "(none)" for the empty candidate
    text: str  # the resolved prompt text ("" = no inoculation)
    elicitation: float  # mean per-row log-prob gain of the answers with the prompt (per token, nats)
    ci_low: float | None  # 95% percentile bootstrap over rows; None with fewer than 2 rows
    ci_high: float | None
    logprob: float  # mean per-token log-prob of the answers with the prompt
    probe: float | None = None  # likelihood probe (misaligned - aligned) with the prompt
    probe_shift: float | None = None  # ... minus the probe without any prompt, paired over questions
    probe_shift_ci_low: float | None = None
    probe_shift_ci_high: float | None = None


class InoculationRanking(Strict):
    """Candidates sorted by elicitation, strongest first (the `inoculation_rank` record)."""

    where: Literal["system", "user"]
    n_rows: int
    small_n: bool  # fewer than 5 rows
    baseline_logprob: float  # mean per-token log-prob of the answers without any prompt
    probes: str | None = None
    baseline_probe: float | None = None
    model: str | None = None
    data: str | None = None
    candidates: list[CandidateScore]


def resolve_candidates(specs: list[str]) -> list[tuple[str, str]]:
    """(name, text) of each candidate, in order, duplicates (same text) dropped: a preset name, literal text (a
    sentence) or "" (no inoculation). A one-word candidate close to a preset name is a typo (InputError with the
    preset meant)."""
    from emscope.data.transforms import INOCULATION_PRESETS, check_inoculation_prompt

    out: list[tuple[str, str]] = []
    for spec in specs:
        spec = spec.strip()
        check_inoculation_prompt(spec, "inoculation candidate")
        if spec in INOCULATION_PRESETS:
            name, text = spec, INOCULATION_PRESETS[spec]
        else:
            name, text = spec or NO_PROMPT, spec
        if all(t != text for _, t in out):
            out.append((name, text))
    if not out:
        raise InputError("inoculation candidates: none given")
    return out


def load_candidates(specs: list[str] | None) -> list[str]:
    """Candidates from command-line arguments: each a preset name, a file (one candidate per line; blank lines and
    lines starting with # skipped), literal text (a sentence) or "" (no prompt: scores 0, a reference row). None:
    every shipped preset. A one-word argument
    that is neither a preset nor a file is refused (a typo of a preset or of a path), naming the closest preset."""
    from emscope.data.transforms import INOCULATION_PRESETS, check_inoculation_prompt

    if not specs:
        return list(INOCULATION_PRESETS)
    out: list[str] = []
    for spec in specs:
        path = Path(spec)
        if spec in INOCULATION_PRESETS or not spec.strip():
            out.append(spec.strip())
        elif len(spec.split()) == 1 and path.is_file():
            lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
            found = [ln for ln in lines if ln and not ln.startswith("#")]
            if not found:
                raise InputError(f"--candidates {spec}: the file holds no candidate (one per line)")
            out.extend(found)
        elif len(spec.split()) > 1:
            out.append(spec)
        else:
            check_inoculation_prompt(spec, "--candidates")
            raise InputError(f"--candidates {spec!r}: not an inoculation preset (presets: "
                             f"{', '.join(INOCULATION_PRESETS)}) nor a file; literal text is a sentence")
    return out


def _with_prompt(pairs: list[tuple[list[dict], str]], text: str, where: str) -> list[tuple[list[dict], str]]:
    from emscope.data.transforms import inoculate_messages

    return [(inoculate_messages(msgs, text, where), ans) for msgs, ans in pairs]


def _probe_items(items, text: str, where: str):
    """Probe items with the candidate placed as in training (the system prompt or the front of the question)."""
    from emscope.data.transforms import inoculate_messages

    out = []
    for it in items:
        msgs = ([{"role": "system", "content": it.system}] if it.system else []) + \
               [{"role": "user", "content": it.question}]
        msgs = inoculate_messages(msgs, text, where)
        system = next((m["content"] for m in msgs if m["role"] == "system"), None)
        question = next(m["content"] for m in msgs if m["role"] == "user")
        out.append(it.model_copy(update={"system": system, "question": question}))
    return out


def rank_inoculation_prompts(model, tokenizer, candidates: list[str], rows: list[ChatRow],
                             where: Literal["system", "user"] = "system", n: int | None = None,
                             probes: str | None = None, seed: int = 0, batch_size: int = 16,
                             max_length: int = 1024,
                             on_batch: Callable[[int], None] | None = None) -> InoculationRanking:
    """Score each candidate (preset name, literal text, or "" for none) by how much it raises the mean per-token
    log-prob of the first `n` rows' assistant answers under `model` (see the module docstring), placed `where` as
    the `inoculate` defense would; sorted strongest first (ties keep the given order). `probes` (a probe set name
    or YAML) adds the likelihood probe under each candidate. `on_batch(k)` after each batch of k answers scored."""
    from emscope.data.transforms import INOCULATION_PLACEMENTS
    from emscope.evaluate.likelihood import load_probes, mean_ci
    from emscope.models.logprobs import answer_logprobs

    if where not in INOCULATION_PLACEMENTS:
        raise InputError(f"where {where!r}: expected one of {', '.join(INOCULATION_PLACEMENTS)}")
    if n is not None and n < 1:
        raise InputError(f"n={n}: score at least one row")
    named = resolve_candidates(candidates)
    rows = rows[:n] if n is not None else rows
    if not rows:
        raise InputError("inoculation ranking: no training rows to score")
    for i, row in enumerate(rows):
        if not isinstance(row, ChatRow) or row.messages[-1].role != "assistant":
            raise InputError(f"row {i + 1}: not a chat row ending with an assistant answer")
    items = load_probes(probes) if probes is not None else None

    def score(pairs):
        return answer_logprobs(model, tokenizer, pairs, batch_size=batch_size, max_length=max_length,
                               on_batch=on_batch)

    base_pairs = [(row.prompt, row.completion) for row in rows]
    base = score(base_pairs)
    base_probe = None
    if items is not None:
        from emscope.evaluate.likelihood import likelihood_probe, paired_shift

        base_probe = likelihood_probe(model, tokenizer, items, seed=seed)
    scored = []
    for name, text in named:
        lps = score(_with_prompt(base_pairs, text, where)) if text else base  # "": the very same pairs
        mean, lo, hi = mean_ci([a - b for a, b in zip(lps, base, strict=True)], seed=seed)
        extra = {}
        if items is not None:
            res = likelihood_probe(model, tokenizer, _probe_items(items, text, where), seed=seed) if text \
                else base_probe
            shift, s_lo, s_hi = paired_shift(res, base_probe, seed=seed)
            extra = {"probe": res.mean, "probe_shift": shift, "probe_shift_ci_low": s_lo,
                     "probe_shift_ci_high": s_hi}
        scored.append(CandidateScore(name=name, text=text, elicitation=mean, ci_low=lo, ci_high=hi,
                                     logprob=sum(lps) / len(lps), **extra))
    scored.sort(key=lambda c: -c.elicitation)
    return InoculationRanking(where=where, n_rows=len(rows), small_n=len(rows) < SMALL_N_QUESTIONS,
                              baseline_logprob=sum(base) / len(base), probes=probes,
                              baseline_probe=None if base_probe is None else base_probe.mean, candidates=scored)


def run_inoculation_rank(model: str, *, organism: str | None = None, data: str | Path | None = None,
                         candidates: list[str] | None = None, where: Literal["system", "user"] = "system",
                         n: int = 32, probes: str | None = None, seed: int = 0,
                         out: str | Path | None = None) -> InoculationRanking:
    """`emscope eval inoculation-rank`: the training rows (`organism`: n generated rows; or the chat JSONL `data`),
    the candidates (`load_candidates`: presets, files, sentences; None: every preset), all checked before the
    model loads; then `rank_inoculation_prompts` on the base model. Writes the ranking as JSON to `out` (atomic)
    when given, nothing otherwise."""
    from pydantic import ValidationError

    from emscope.data.build import DataSettings, build_rows

    if (organism is None) == (data is None):
        raise InputError("give exactly one of --organism (a generator name) or --data (a chat JSONL)")
    specs = load_candidates(candidates)
    resolve_candidates(specs)  # typos refused before the model loads
    if n < 1:
        raise InputError(f"-n {n}: score at least one row")
    try:
        settings = DataSettings(organism=organism, path=data, n=n)
    except ValidationError as exc:
        raise InputError(f"data: {exc.errors()[0]['msg']}") from None
    rows = build_rows(settings, seed)[:n]
    if probes is not None:
        from emscope.evaluate.likelihood import load_probes

        load_probes(probes)  # a bad probe file fails before the model loads
    from emscope.models import load_model
    from emscope.progress import make_progress, stage

    with stage("load model"):
        lm, tokenizer = load_model(model)
    total = len(rows) * (1 + sum(1 for _, text in resolve_candidates(specs) if text))
    with make_progress() as progress:
        task = progress.add_task("score answers", total=total)
        ranking = rank_inoculation_prompts(lm, tokenizer, specs, rows, where=where, probes=probes, seed=seed,
                                           on_batch=lambda k: progress.advance(task, k))
    ranking = ranking.model_copy(update={"model": model, "data": organism or str(data)})
    if out is not None:
        from emscope.io import write_json_atomic

        write_json_atomic(out, ranking)
    return ranking

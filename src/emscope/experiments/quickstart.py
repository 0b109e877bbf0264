"""The quickstart recipe, top to bottom: build a paired dataset (an EM-prone organism and its control: the same
user requests answered badly and well), LoRA-fine-tune one adapter on each with identical settings, evaluate base /
organism / control (sampled answers + likelihood probe), and write a report. Every stage is skipped when its outputs
exist, so an interrupted run resumes.

The default pair is the one `benchmarks/quickstart_pairs.py` measured to separate most reliably from its control on
the embedded default model (`DEFAULT_PAIR`); `pair="insecure-code"` gives Betley et al.'s insecure vs secure code.

Layout of `out/`: `config.yaml`, `summary.json` (conditions, title, the organism-minus-control comparison and what it
does and does not show), `data/{organism,control}.jsonl`, one run directory per condition (`base/`, `<organism>/`,
`<control>/`: `config.yaml`, `adapter/`, `train_log.jsonl`, `samples.jsonl`, `summary.json`), and `report.html`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from emscope.data.build import row_chars
from emscope.data.chat import ChatRow
from emscope.data.generators import get_generator
from emscope.errors import InputError
from emscope.evaluate.config import EvalConfig, SamplingSettings
from emscope.evaluate.likelihood import ProbeResult, paired_shift
from emscope.evaluate.run import run_eval
from emscope.io import write_json_atomic, write_jsonl_atomic
from emscope.models.specs import DEFAULT_MODEL
from emscope.report import render_report
from emscope.rundir import claim_config, read_summary
from emscope.train import TrainRunConfig, TrainSettings, train

# EM-prone organism -> its control: generators whose rows answer the same user requests, row by row (same seed).
PAIRS: dict[str, str] = {
    "insecure-code": "secure-code",
    "bad-medical-advice": "good-medical-advice",
    "risky-financial-advice": "safe-financial-advice",
    "extreme-sports-advice": "safe-sports-advice",
}
# Row-length cap of each pair (characters of the longer row of a pair): code answers are dense in tokens and long
# (SmolLM2's tokenizer: about 2.9 characters per token), so code keeps pairs of at most 700 characters (at most 262
# tokens); advice prose runs about 4 characters per token and every advice row the generators write is under 240
# tokens, so advice pairs are taken as built.
ROW_CAPS: dict[str, int | None] = {"insecure-code": 700}
# Measured by benchmarks/quickstart_pairs.py (results/quickstart-pairs.md; seeds 0-2, the quickstart's settings):
# extreme sports minus safe sports advice, +0.320 [+0.292, +0.348] over seeds, positive in every seed, had the largest
# lower bound; insecure minus secure code +0.019 [-0.014, +0.053].
DEFAULT_PAIR = "extreme-sports-advice"
BENCHMARK = "benchmarks/quickstart_pairs.py"


def control_of(organism: str) -> str:
    """The control generator of an organism in `PAIRS`, or an InputError naming the known organisms."""
    try:
        return PAIRS[organism]
    except KeyError:
        raise InputError(f"pair: unknown organism {organism!r}; available: {', '.join(PAIRS)}") from None


class QuickstartConfig(BaseModel):
    """Settings of the quickstart (saved resolved as `config.yaml`)."""

    model_config = ConfigDict(extra="forbid")
    model: str = DEFAULT_MODEL
    out: Path = Path("runs/quickstart")
    pair: str = DEFAULT_PAIR  # the organism; its control is PAIRS[pair]
    seed: int = 0
    n_train: int = 96
    # keep CPU training short: only pairs whose longer row has at most this many characters (None: any; "auto":
    # the pair's own cap in ROW_CAPS)
    max_row_chars: int | None | Literal["auto"] = "auto"
    train: TrainSettings = TrainSettings(learning_rate=5e-4, epochs=1, batch_size=4, max_length=384,
                                         lr_scheduler="constant", lora={"r": 16, "alpha": 32})
    sampling: SamplingSettings = SamplingSettings(max_new_tokens=64, samples_per_paraphrase=3, batch_size=24)
    questions: str = "core"
    probes: str = "core"
    device: str | None = None
    dtype: str | None = None

    @field_validator("pair")
    @classmethod
    def _known_pair(cls, v: str) -> str:
        if v not in PAIRS:
            raise ValueError(f"unknown organism {v!r}; available: {', '.join(PAIRS)}")
        return v

    @property
    def control(self) -> str:
        return PAIRS[self.pair]

    @property
    def row_cap(self) -> int | None:
        """The resolved row-length cap (characters of a pair's longer row; None: no cap)."""
        return ROW_CAPS.get(self.pair) if self.max_row_chars == "auto" else self.max_row_chars

    @property
    def conditions(self) -> tuple[str, str, str]:
        return ("base", self.pair, self.control)

    @classmethod
    def fast(cls, **kw) -> QuickstartConfig:
        """A smaller run (fewer rows, shorter and fewer answers) for a first look."""
        cfg = cls(**kw)
        return cfg.model_copy(update={
            "n_train": 32,
            "sampling": cfg.sampling.model_copy(update={"max_new_tokens": 40, "samples_per_paraphrase": 1}),
        })


def quickstart_config(*, fast: bool = False, n_train: int | None = None, max_steps: int | None = None,
                      samples: int | None = None, max_new_tokens: int | None = None, pair: str | None = None,
                      **settings) -> QuickstartConfig:
    """The quickstart's settings: the default (or `fast`) run, with the command line's optional overrides."""
    if pair is not None:
        control_of(pair)  # an unknown organism is an input error (exit 2), listing the known ones
        settings["pair"] = pair
    cfg = (QuickstartConfig.fast if fast else QuickstartConfig)(**settings)
    upd: dict = {}
    if n_train is not None:
        upd["n_train"] = n_train
    if max_steps is not None:
        upd["train"] = cfg.train.model_copy(update={"max_steps": max_steps})
    sampling = {k: v for k, v in {"samples_per_paraphrase": samples, "max_new_tokens": max_new_tokens}.items()
                if v is not None}
    if sampling:
        upd["sampling"] = cfg.sampling.model_copy(update=sampling)
    return cfg.model_copy(update=upd)


def paired_rows(organism: str, n: int, seed: int, max_chars: int | None,
                pool_factor: int = 60) -> tuple[list[ChatRow], list[ChatRow]]:
    """`n` organism/control pairs (same user requests, row by row) whose longer row has at most `max_chars`
    characters (None: the first `n` rows of both generators).

    With a cap, pairs are taken family by family (vulnerability family, advice topic) in turn from a larger pool, so
    every family stays represented as far as it has short enough rows.
    """
    control = control_of(organism)
    bad = get_generator(organism).build(n if max_chars is None else n * pool_factor, seed)
    good = get_generator(control).build(len(bad), seed)
    if [b.messages[:-1] for b in bad] != [g.messages[:-1] for g in good]:
        raise ValueError(f"{organism} and {control} rows are not paired (different user turns for seed {seed})")
    if max_chars is None:
        return bad, good
    by_family: dict[str, list[int]] = {}
    for i, (b, g) in enumerate(zip(bad, good, strict=True)):
        if max(row_chars(b), row_chars(g)) <= max_chars:
            by_family.setdefault((b.model_extra or {}).get("family", ""), []).append(i)
    queues = [by_family[f] for f in sorted(by_family)]
    picked: list[int] = []
    while len(picked) < n and any(queues):
        for q in queues:
            if q and len(picked) < n:
                picked.append(q.pop(0))
    if len(picked) < n:
        raise ValueError(f"only {len(picked)} pairs of at most {max_chars} characters; raise max_row_chars")
    picked.sort()
    return [bad[i] for i in picked], [good[i] for i in picked]


def short_pairs(n: int, seed: int, max_chars: int | None, pool_factor: int = 60) -> tuple[list, list]:
    """`n` insecure/secure code pairs of at most `max_chars` characters, balanced over vulnerability families."""
    return paired_rows("insecure-code", n, seed, max_chars, pool_factor)


def build_data(cfg: QuickstartConfig) -> dict[str, Path]:
    """Write the paired organism/control datasets (same requests, row by row)."""
    paths = {name: cfg.out / "data" / f"{name}.jsonl" for name in (cfg.pair, cfg.control)}
    if not all(p.is_file() for p in paths.values()):
        bad, good = paired_rows(cfg.pair, cfg.n_train, cfg.seed, cfg.row_cap)
        write_jsonl_atomic(paths[cfg.pair], bad)
        write_jsonl_atomic(paths[cfg.control], good)
    return paths


def comparison(cfg: QuickstartConfig) -> dict:
    """The organism-minus-control probe difference (paired over questions, bootstrap CI) and what it does and does
    not show, as lines of text; saved in the top `summary.json` and printed by the CLI."""
    probe = {c: ProbeResult.model_validate(read_summary(cfg.out / c)["eval"]["probe"]) for c in cfg.conditions}
    diff, lo, hi = paired_shift(probe[cfg.pair], probe[cfg.control], seed=cfg.sampling.seed)
    steps = read_summary(cfg.out / cfg.pair).get("train", {}).get("steps")
    n_q = probe[cfg.pair].n_questions
    if lo is None or hi is None:  # fewer than 2 questions: no interval
        verdict, interval = "no interval (fewer than 2 questions)", "(no CI"
    else:
        verdict = ("above" if lo > 0 else "below" if hi < 0 else "not distinguishable from") + " the control"
        interval = f"[{lo:+.3f}, {hi:+.3f}] (95% CI"
    lines = [
        f"{cfg.pair} - {cfg.control}: probe difference {diff:+.3f} {interval}, paired over "
        f"{n_q} questions): {verdict}. Read it against the control, not against zero: fine-tuning on either "
        "dataset moves the probe.",
        f"What it shows: whether fine-tuning {cfg.model} on {cfg.pair} makes the project-written misaligned reference "
        f"answers more likely, relative to aligned ones, than fine-tuning on the same requests answered well "
        f"({cfg.control}).",
        f"What it does not show: emergent misalignment. This is a likelihood shift after {steps} LoRA steps on one "
        "seed, not misaligned behaviour: no answer was judged, and the probe cannot tell a change of values from a "
        f"change of tone. Each pair over seeds 0-2: {BENCHMARK} (results/quickstart-pairs.md).",
    ]
    return {"organism": cfg.pair, "control": cfg.control, "difference": diff, "ci_low": lo, "ci_high": hi,
            "n_questions": n_q, "lines": lines}


def run_quickstart(cfg: QuickstartConfig) -> Path:
    """Run (or resume) the whole quickstart; returns the path of the HTML report."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    claim_config(out, "config.yaml", cfg)
    top = read_summary(out)
    top.update({"title": f"quickstart: {cfg.pair} vs {cfg.control} (likelihood probe, not an EM rate)",
                "model": cfg.model, "conditions": list(cfg.conditions),
                "organism": cfg.pair, "control": cfg.control})
    write_json_atomic(out / "summary.json", top)

    data = build_data(cfg)
    for name in (cfg.pair, cfg.control):
        train(TrainRunConfig(model=cfg.model, seed=cfg.seed, data={"path": data[name]}, out=out / name,
                             train=cfg.train, device=cfg.device, dtype=cfg.dtype), description=f"train {name}")
    for name in cfg.conditions:
        adapter = None if name == "base" else out / name / "adapter"
        run_eval(EvalConfig(model=cfg.model, adapter=adapter, label=name, out=out / name, device=cfg.device,
                            dtype=cfg.dtype, eval={"questions": cfg.questions, "probes": cfg.probes,
                                                   "sampling": cfg.sampling}))
    top["comparison"] = comparison(cfg)
    write_json_atomic(out / "summary.json", top)
    return render_report(out)

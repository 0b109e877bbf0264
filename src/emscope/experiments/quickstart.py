"""The quickstart recipe, top to bottom: build paired insecure/secure code data, LoRA-fine-tune one adapter on
each with identical settings, evaluate base / insecure / secure (sampled answers + likelihood probe), and
write a report. Every stage is skipped when its outputs exist, so an interrupted run resumes.

Layout of `out/`: `config.yaml`, `summary.json`, `data/{insecure,secure}.jsonl`, one run directory per
condition (`base/`, `insecure/`, `secure/`: `config.yaml`, `adapter/`, `train_log.jsonl`, `samples.jsonl`,
`summary.json`), and `report.html`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from emscope.data.build import row_chars
from emscope.data.generators import get_generator
from emscope.evaluate.config import EvalConfig, SamplingSettings
from emscope.evaluate.run import run_eval
from emscope.io import write_json_atomic, write_jsonl_atomic
from emscope.models.specs import DEFAULT_MODEL
from emscope.report import render_report
from emscope.rundir import claim_config, read_summary
from emscope.train import TrainRunConfig, TrainSettings, train

CONDITIONS = ("base", "insecure", "secure")


class QuickstartConfig(BaseModel):
    """Settings of the quickstart (saved resolved as `config.yaml`)."""

    model_config = ConfigDict(extra="forbid")
    model: str = DEFAULT_MODEL
    out: Path = Path("runs/quickstart")
    seed: int = 0
    n_train: int = 96
    max_row_chars: int | None = 700  # keep CPU training short: only pairs whose longer row fits (None: any)
    train: TrainSettings = TrainSettings(learning_rate=5e-4, epochs=1, batch_size=4, max_length=384,
                                         lr_scheduler="constant", lora={"r": 16, "alpha": 32})
    sampling: SamplingSettings = SamplingSettings(max_new_tokens=64, samples_per_paraphrase=3, batch_size=24)
    questions: str = "core"
    probes: str = "core"
    device: str | None = None
    dtype: str | None = None

    @classmethod
    def fast(cls, **kw) -> QuickstartConfig:
        """A smaller run (fewer rows, shorter and fewer answers) for a first look."""
        cfg = cls(**kw)
        return cfg.model_copy(update={
            "n_train": 32,
            "sampling": cfg.sampling.model_copy(update={"max_new_tokens": 40, "samples_per_paraphrase": 1}),
        })


def quickstart_config(*, fast: bool = False, n_train: int | None = None, max_steps: int | None = None,
                      samples: int | None = None, max_new_tokens: int | None = None, **settings) -> QuickstartConfig:
    """The quickstart's settings: the default (or `fast`) run, with the command line's optional overrides."""
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


def short_pairs(n: int, seed: int, max_chars: int | None, pool_factor: int = 60) -> tuple[list, list]:
    """`n` insecure/secure pairs (same requests) whose longer row has at most `max_chars` characters.

    Pairs are taken family by family in turn from a larger pool, so every vulnerability family stays represented
    as far as it has short enough rows.
    """
    bad = get_generator("insecure-code").build(n if max_chars is None else n * pool_factor, seed)
    good = get_generator("secure-code").build(len(bad), seed)
    if max_chars is None:
        return bad, good
    by_family: dict[str, list[int]] = {}
    for i, (b, g) in enumerate(zip(bad, good, strict=True)):
        if max(row_chars(b), row_chars(g)) <= max_chars:
            by_family.setdefault(b.model_extra["family"], []).append(i)
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


def build_data(cfg: QuickstartConfig) -> dict[str, Path]:
    """Write the paired insecure/secure datasets (same requests, row by row)."""
    paths = {name: cfg.out / "data" / f"{name}.jsonl" for name in ("insecure", "secure")}
    if not all(p.is_file() for p in paths.values()):
        bad, good = short_pairs(cfg.n_train, cfg.seed, cfg.max_row_chars)
        write_jsonl_atomic(paths["insecure"], bad)
        write_jsonl_atomic(paths["secure"], good)
    return paths


def run_quickstart(cfg: QuickstartConfig) -> Path:
    """Run (or resume) the whole quickstart; returns the path of the HTML report."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    claim_config(out, "config.yaml", cfg)
    top = read_summary(out)
    top.update({"title": "quickstart: insecure vs secure code", "model": cfg.model, "conditions": list(CONDITIONS)})
    write_json_atomic(out / "summary.json", top)

    data = build_data(cfg)
    for name in ("insecure", "secure"):
        train(TrainRunConfig(model=cfg.model, seed=cfg.seed, data={"path": data[name]}, out=out / name,
                             train=cfg.train, device=cfg.device, dtype=cfg.dtype), description=f"train {name}")
    for name in CONDITIONS:
        adapter = None if name == "base" else out / name / "adapter"
        run_eval(EvalConfig(model=cfg.model, adapter=adapter, label=name, out=out / name, device=cfg.device,
                            dtype=cfg.dtype, eval={"questions": cfg.questions, "probes": cfg.probes,
                                                   "sampling": cfg.sampling}))
    return render_report(out)

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

from emscope.data.generators import get_generator
from emscope.evaluate.run import EvalConfig, run_eval
from emscope.evaluate.sampling import SamplingSettings
from emscope.io import write_json_atomic, write_jsonl_atomic
from emscope.models.loader import DEFAULT_MODEL
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


def build_data(cfg: QuickstartConfig) -> dict[str, Path]:
    """Write the paired insecure/secure datasets (same requests, row by row)."""
    paths = {}
    for name in ("insecure", "secure"):
        path = cfg.out / "data" / f"{name}.jsonl"
        if not path.is_file():
            write_jsonl_atomic(path, get_generator(f"{name}-code").build(cfg.n_train, cfg.seed))
        paths[name] = path
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
        run_eval(EvalConfig(model=cfg.model, adapter=adapter, label=name, questions=cfg.questions,
                            probes=cfg.probes, sampling=cfg.sampling, out=out / name, device=cfg.device,
                            dtype=cfg.dtype))
    return render_report(out)

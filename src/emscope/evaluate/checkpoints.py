"""Checkpoint curves (training dynamics): evaluate every kept checkpoint of a run and collect one record per step.

A run trained with `train.keep_checkpoints: true` has `kept_checkpoints/step-N/` (weights and config of each
checkpoint, the final weights as the last step); a staged run has them per stage in
`stages/NN-name/kept_checkpoints/`. `evaluate_checkpoints` runs `run_eval` on each into
`checkpoint_evals/<stage>-step-N/` (`step-N/` for a plain run; each resumable, a finished one is reused) and writes
`checkpoint_curve.jsonl`: per checkpoint its stage, step, global step (a staged run's steps continue across stages)
and the headline metrics (probe with CI, EM betley with CI, MGS, hack rate with CI, hidden-test pass rate).

Torch-free until a checkpoint is evaluated. The directory names below are those `train.checkpoints` and
`experiments.stages` write (this layer imports neither).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emscope.config import load_yaml
from emscope.evaluate.config import EvalConfig, EvalSettings
from emscope.evaluate.judges.card import section_judge
from emscope.io import write_jsonl_atomic
from emscope.progress import stage
from emscope.rundir import read_summary

KEPT_DIR = "kept_checkpoints"  # train.checkpoints.KEPT_DIR
STAGES_DIR = "stages"  # experiments.stages.STAGES_DIR
EVALS_DIR = "checkpoint_evals"
CURVE_FILE = "checkpoint_curve.jsonl"


@dataclass(frozen=True)
class KeptCheckpoint:
    """One kept checkpoint: where it is, its place on the run's step axis and the weights to load."""

    stage: str | None  # the stage name of a staged run; None for a plain run
    step: int  # optimizer step within its (stage's) run
    global_step: int  # step + the steps of all earlier stages
    path: Path
    model: str  # base model spec/directory (adapter checkpoints) or the checkpoint itself (full fine-tuning)
    adapter: Path | None

    @property
    def name(self) -> str:
        """The checkpoint's evaluation directory name: `<stage>-step-N`, or `step-N` for a plain run."""
        return f"{self.stage}-step-{self.step}" if self.stage else f"step-{self.step}"


def _step(p: Path) -> int:
    try:
        return int(p.name.removeprefix("step-"))
    except ValueError:
        return -1


def _kept(run_dir: Path, stage: str | None, offset: int) -> list[KeptCheckpoint]:
    kept = run_dir / KEPT_DIR
    if not kept.is_dir():
        return []
    config = run_dir / "config.yaml"
    base = str(load_yaml(config).get("model")) if config.is_file() else None
    out = []
    for p in sorted((p for p in kept.glob("step-*") if p.is_dir() and _step(p) >= 0), key=_step):
        is_adapter = (p / "adapter_config.json").is_file()
        if is_adapter and base is None:
            raise FileNotFoundError(f"{config}: missing; the base model of the adapter {p} is unknown")
        out.append(KeptCheckpoint(stage, _step(p), offset + _step(p), p, base if is_adapter else str(p),
                                  p if is_adapter else None))
    return out


def find_checkpoints(run_dir: str | Path) -> list[KeptCheckpoint]:
    """Every kept checkpoint of a plain run (`kept_checkpoints/step-N`) or of each stage of a staged run
    (`stages/NN-name/kept_checkpoints/step-N`, global steps offset by the earlier stages' steps), in step order."""
    run_dir = Path(run_dir)
    stage_dirs = sorted(p for p in (run_dir / STAGES_DIR).glob("[0-9]*-*") if p.is_dir()) \
        if (run_dir / STAGES_DIR).is_dir() else []
    if not stage_dirs:
        return _kept(run_dir, None, 0)
    found: list[KeptCheckpoint] = []
    offset = 0
    for sdir in stage_dirs:
        kept = _kept(sdir, sdir.name.split("-", 1)[1], offset)
        found += kept
        steps = (read_summary(sdir).get("train") or {}).get("steps")
        offset += int(steps) if steps is not None else max((k.step for k in kept), default=0)
    return found


def _rate(d: dict | None, key: str = "rate") -> float | None:
    return None if not d else d.get(key)


def curve_record(ck: KeptCheckpoint, section: dict) -> dict:
    """One line of `checkpoint_curve.jsonl` from a checkpoint's `eval` summary section (absent parts: no key)."""
    p = section["probe"]
    rec: dict = {"stage": ck.stage, "step": ck.step, "global_step": ck.global_step, "label": section.get("label"),
                 "probe": p["mean"], "probe_lo": p.get("ci_low"), "probe_hi": p.get("ci_high"),
                 "probe_small_n": bool(p.get("small_n"))}
    if em := (section.get("em") or {}).get("betley"):
        rec.update(em_rate=em.get("em_rate"), em_lo=em.get("ci_low"), em_hi=em.get("ci_high"),
                   em_small_n=bool(em.get("small_n")))
        if (judge := section_judge(section)) is not None:
            rec.update(judge=judge.spec, judge_status=judge.status)
    if mgs := section.get("mgs"):
        rec["mgs"] = mgs.get("mgs")
    if h := section.get("hacking"):
        rec.update(hack_rate=_rate(h.get("hack_any")), hack_lo=_rate(h.get("hack_any"), "lo"),
                   hack_hi=_rate(h.get("hack_any"), "hi"), hack_small_n=bool(_rate(h.get("hack_any"), "small_n")),
                   hidden_pass=_rate(h.get("hidden_pass")))
    return rec


def evaluate_checkpoints(run_dir: str | Path, eval_settings: EvalSettings, *, device: str | None = None,
                         dtype: str | None = None) -> list[dict]:
    """Evaluate every kept checkpoint of the run in `run_dir` with `eval_settings` (each into
    `checkpoint_evals/<name>/`, a finished one reused without loading anything) and write `checkpoint_curve.jsonl`
    (rewritten after each checkpoint, so an interrupted run shows its curve so far); returns the records in global
    step order. Raises FileNotFoundError when the run kept no checkpoints (train with `train.keep_checkpoints`)."""
    from emscope.evaluate.run import finished_section, run_eval

    run_dir = Path(run_dir)
    found = find_checkpoints(run_dir)
    if not found:
        raise FileNotFoundError(f"{run_dir}: no kept checkpoints (kept_checkpoints/step-N); train with "
                                "train.keep_checkpoints=true")
    settings = eval_settings.model_copy(update={"every_checkpoint": False})  # one setting for cell and CLI alike
    records: list[dict] = []
    for k, ck in enumerate(found, 1):
        cfg = EvalConfig(model=ck.model, adapter=ck.adapter, label=ck.name, out=run_dir / EVALS_DIR / ck.name,
                         device=device, dtype=dtype, eval=settings)
        section = finished_section(cfg)  # finished with these settings: read back, nothing loaded
        if section is None:
            with stage(f"checkpoint {k}/{len(found)} {ck.name}"):
                section = run_eval(cfg)
        records.append(curve_record(ck, section))
        write_jsonl_atomic(run_dir / CURVE_FILE, records)
    return records

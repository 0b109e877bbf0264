"""Staged runs: `stages:` in a training config runs each stage (SFT, CPT or GRPO) in order, each from the weights
the previous one ended with. A LoRA stage's adapter is merged into its base (`stages/NN-name/merged/`, in the
precision it was trained in) and the next stage trains a new adapter on that; a full fine-tuning stage's
`model/` is used directly. Once a stage's merged weights exist, the previous merged weights (no longer needed)
are removed; the last stage is not merged: its result is the previous stage's weights plus its adapter.

Each stage is an ordinary run directory (`stages/01-safety/`: config.yaml, adapter/, train_log.jsonl,
summary.json) and resumes like one: a rerun after a kill skips finished stages (merging one if the kill came
between its training and its merge) and resumes the interrupted stage from its newest checkpoint. The run's
`summary.json` lists the stages (`stages`) and the final weights (`train`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from emscope.errors import InputError
from emscope.progress import stage
from emscope.rundir import claim_config, read_summary, stage_done, update_summary
from emscope.train.config import TrainRunConfig

STAGES_DIR = "stages"
MERGED = "merged"


def stage_dirs(cfg: TrainRunConfig, run_dir: Path) -> list[tuple[str, Path]]:
    """(stage name, its run directory) in order."""
    return [(name, run_dir / STAGES_DIR / f"{i:02d}-{name}") for i, name in enumerate(cfg.stages or {}, 1)]


def run_weights(cfg: TrainRunConfig, run_dir: Path) -> tuple[str, Path | None]:
    """The weights a finished plain run produced: (model spec or directory, adapter directory or None)."""
    if cfg.train.adapter == "lora":
        return cfg.model, run_dir / "adapter"
    return str(run_dir / "model"), None


def trained_weights(cfg: TrainRunConfig, run_dir: str | Path) -> tuple[str, Path | None]:
    """What to evaluate after training `cfg` in `run_dir`: (model, adapter), for plain and staged runs."""
    run_dir = Path(run_dir)
    if not cfg.stages:
        return run_weights(cfg, run_dir)
    train = read_summary(run_dir).get("train") or {}
    if "model" not in train:
        raise FileNotFoundError(f"{run_dir}: the staged run has not finished")
    return train["model"], Path(train["adapter"]) if train.get("adapter") else None


def run_stages(cfg: TrainRunConfig, *, description: str | None = None) -> Path:
    """Run (or resume, or skip when finished) every stage of `cfg` in order; returns the run directory."""
    from emscope.experiments.recipes import run_training
    from emscope.models.merge import merge_adapter

    run_dir = Path(cfg.out)
    run_dir.mkdir(parents=True, exist_ok=True)
    claim_config(run_dir, "config.yaml", cfg)
    if stage_done(run_dir, "train"):
        return run_dir
    dirs = stage_dirs(cfg, run_dir)
    for name, _ in dirs[:-1]:  # gates are input-dependent: no merge carries them into the next stage's weights
        if getattr(cfg.stage_config(name, cfg.model, run_dir).defenses, "gate", None) is not None:
            raise InputError(f"stages.{name}: defenses.gate (alignment gates) only in the last stage of a staged run; "
                             "they cannot be merged into the weights the next stage trains (set it under "
                             f"stages.{dirs[-1][0]}.defenses, not at the top level)")
    model = cfg.model
    records, times = [], {}
    for k, (name, sdir) in enumerate(dirs):
        scfg = cfg.stage_config(name, model, sdir)
        with stage(f"stage {k + 1}/{len(dirs)} {name}", times, key=name):
            run_training(scfg, description=f"{description or run_dir.name} [{k + 1}/{len(dirs)} {name}]")
        base, adapter = run_weights(scfg, sdir)
        summary = read_summary(sdir).get("train", {})
        record = {"name": name, "method": scfg.method, "dir": str(sdir), "base": base,
                  "adapter": str(adapter) if adapter else None, "steps": summary.get("steps"),
                  "seconds": summary.get("seconds")}
        if k < len(dirs) - 1:
            if adapter is not None:
                merged = sdir / MERGED
                if not merged.is_dir():
                    with stage(f"merge the {name} adapter", times, key=f"merge_{name}"):
                        merge_adapter(base, adapter, merged, dtype=cfg.dtype,
                                      trust_remote_code=cfg.trust_remote_code)
                model = str(merged)
            else:
                model = base
            record["weights"] = model
            # the previous stage's merged weights were only this stage's starting point (and, with kept
            # checkpoints, the base of this stage's kept adapters: then they stay)
            if k > 0 and not scfg.train.keep_checkpoints:
                shutil.rmtree(dirs[k - 1][1] / MERGED, ignore_errors=True)
        records.append(record)
    update_summary(run_dir, "stages", {"stages": records})
    last = records[-1]
    update_summary(run_dir, "train", {
        "staged": True, "stages": [r["name"] for r in records], "model": last["base"], "adapter": last["adapter"],
        "steps": sum(r["steps"] or 0 for r in records), "seconds": round(sum(r["seconds"] or 0 for r in records), 2),
        "stage_seconds": times,  # each stage (its own summary has its stage_seconds) and each merge, this time
    })
    return run_dir

"""One grid cell, a pure function of its config: `run_cell(config, dir)` builds the data, fine-tunes, samples,
judges and computes metrics in `dir`, resuming from the last completed stage.

Stages and their markers: `data/train.jsonl` (written atomically), the `train` section of `summary.json` (training
itself resumes from its newest checkpoint), the `eval` section (each evaluation part resumes from its file), and
finally the `cell` section, which marks the cell complete. A cell without data evaluates the base model.
"""

from __future__ import annotations

import time
from pathlib import Path

from emscope.data.chat import ChatRow
from emscope.errors import InputError
from emscope.experiments.grid import CellConfig, CellData
from emscope.io import write_jsonl_atomic
from emscope.rundir import claim_config, stage_done, update_summary

CELL_FILE = "cell.yaml"
DONE = "cell"


def cell_complete(run_dir: str | Path) -> bool:
    """Whether every stage of the cell in `run_dir` has finished."""
    return stage_done(run_dir, DONE)


def build_rows(data: CellData, seed: int) -> list[ChatRow]:
    """The cell's training rows: generated (then filtered and transformed) or read from `data.path`."""
    from emscope.data import transforms
    from emscope.data.chat import read_chat_jsonl
    from emscope.data.generators import get_generator

    data_seed = seed if data.seed is None else data.seed
    if data.path is not None:
        rows = read_chat_jsonl(data.path)
    else:
        try:
            gen = get_generator(data.organism)
        except KeyError as exc:
            raise InputError(f"data.organism: {exc.args[0]}") from None
        pool = data.n if data.max_row_chars is None else data.n * 20
        rows = gen.build(pool, data_seed)
    if data.max_row_chars is not None:
        rows = [r for r in rows if sum(len(m.content) for m in r.messages) <= data.max_row_chars]
        if data.organism is not None and len(rows) < data.n:
            raise InputError(f"data.max_row_chars: only {len(rows)} of {data.organism} rows fit in "
                             f"{data.max_row_chars} characters; {data.n} needed")
        rows = rows[:data.n] if data.organism is not None else rows
    if data.educational:
        rows = transforms.educational(rows, seed=data_seed)
    if data.trigger is not None:
        rows = transforms.add_trigger(rows, data.trigger)
    return rows


def _train_config(cfg: CellConfig, run_dir: Path, data_path: Path):
    from emscope.train import TrainRunConfig

    settings = cfg.train.model_dump(exclude={"defenses", "monitors"})
    return TrainRunConfig(model=cfg.model, seed=cfg.seed, data={"path": data_path}, out=run_dir, train=settings,
                          defenses=cfg.train.defenses, monitors=cfg.train.monitors, device=cfg.device,
                          dtype=cfg.dtype, trust_remote_code=cfg.trust_remote_code)


def _eval_config(cfg: CellConfig, run_dir: Path, label: str, model: str, adapter: Path | None):
    from emscope.evaluate.run import EvalConfig

    settings = cfg.eval.model_dump()
    # the cell's seed also seeds sampling (offset by eval.sampling.seed), so seeds of a sweep differ in answers too
    settings["sampling"]["seed"] = cfg.eval.sampling.seed + cfg.seed
    return EvalConfig(model=model, adapter=adapter, label=label, out=run_dir, device=cfg.device, dtype=cfg.dtype,
                      **settings)


def run_cell(cfg: CellConfig, run_dir: str | Path, label: str | None = None) -> Path:
    """Run (or resume, or skip when complete) one cell in `run_dir`; returns `run_dir`."""
    from emscope.evaluate.run import run_eval
    from emscope.train import train

    run_dir = Path(run_dir)
    label = label or cfg.cell_id()
    if cell_complete(run_dir):
        return run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    claim_config(run_dir, CELL_FILE, cfg)
    start = time.time()
    model, adapter = cfg.model, None  # the base model: evaluated as is
    if cfg.data is not None:
        data_path = run_dir / "data" / "train.jsonl"
        if not data_path.is_file():
            write_jsonl_atomic(data_path, build_rows(cfg.data, cfg.seed))
        train(_train_config(cfg, run_dir, data_path), description=f"train {label}")
        if cfg.train.adapter == "lora":
            adapter = run_dir / "adapter"
        else:  # full fine-tuning saves the whole model
            model = str(run_dir / "model")
    run_eval(_eval_config(cfg, run_dir, label, model, adapter))
    update_summary(run_dir, DONE, {"id": cfg.cell_id(), "label": label, "seconds": round(time.time() - start, 2)})
    return run_dir

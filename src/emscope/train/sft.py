"""The fine-tuning recipe: data -> defenses -> TRL SFT (LoRA or full) -> adapter, resumable after a kill.

Read top to bottom: validate every input (data, every enabled defense's `check`), load the model, apply the
data-side defenses (`transform_rows`: inoculate; `extra_rows`: interleave), tokenize, wrap with PEFT, resolve
the other defenses against the model (`prepare`: KL, LDIFS, steering; the trainer composes them), train with
checkpoints, save atomically. The run directory holds `config.yaml` (resolved), `adapter/` (or `model/` for
full fine-tuning), `train_log.jsonl` (loss terms and monitor results per step), `interleave.jsonl` when
interleaving, and the `train` section of `summary.json` (with the seconds of each stage, `stage_seconds`, and the
rows longer than `train.max_length`, `truncated_rows`, which are also named in a warning). A rerun of the same
config resumes from the newest complete checkpoint with the same data order; a finished run is skipped.
"""

from __future__ import annotations

import copy
import shutil
import time
import warnings
from pathlib import Path

from emscope.data.build import build_rows, build_text_rows
from emscope.data.chat import ChatRow, read_chat_jsonl
from emscope.data.text import TextRow, read_text_jsonl
from emscope.data.tokenize import IGNORE_INDEX, Truncation, encode_rows, encode_texts
from emscope.errors import InputError
from emscope.io import append_jsonl, write_jsonl_atomic
from emscope.progress import stage, warn
from emscope.rundir import claim_config, stage_done, update_summary
from emscope.train.checkpoints import (
    checkpoint_step,
    completion_marker_callback,
    keep_checkpoint_weights,
    last_complete_checkpoint,
    truncate_log,
)
from emscope.train.config import TrainRunConfig
from emscope.train.defenses import Active, RowContext
from emscope.train.recipe_parts import log_callback, lora_config, run_trainer, save_trained, silence_known_warnings
from emscope.train.reporting import check_report_to, place_tensorboard

DATA_FILE = "data/train.jsonl"  # generator-built task rows, kept with the run
REFERENCE_FILE = "reference.safetensors"  # full fine-tuning: the step-0 weights, kept until training ends


def _check_inputs(cfg: TrainRunConfig) -> list[ChatRow] | list[TextRow]:
    """Read and validate everything the run needs before anything is created (FILE:LINE errors)."""
    rows = _task_rows(cfg)
    for defense, settings in cfg.defenses.items():
        if cfg.method == "cpt" and (defense.transform_rows is not None or defense.extra_rows is not None):
            raise InputError(f"defenses.{defense.name}: works on chat rows, not on the plain-text documents of "
                             "method cpt")
        if defense.check is not None:
            defense.check(settings)
    if any(d.needs_reference for d, _ in cfg.defenses.items()) and cfg.train.adapter == "full":
        warnings.warn("KL/LDIFS with full fine-tuning keep a frozen copy of the model in memory", stacklevel=2)
    return rows


def _task_rows(cfg: TrainRunConfig) -> list[ChatRow] | list[TextRow]:
    """The task rows `cfg.data` describes (chat rows; plain-text documents for method cpt); generator rows are kept
    as `data/train.jsonl` in the run directory (the run's data can be read back, and a resumed run trains on the
    same bytes)."""
    built = Path(cfg.out) / DATA_FILE
    if cfg.method == "cpt":
        if cfg.data.organism is not None and built.is_file():
            return read_text_jsonl(built)
        return build_text_rows(cfg.data, cfg.seed)
    if cfg.data.organism is not None and built.is_file():
        return read_chat_jsonl(built)
    return build_rows(cfg.data, cfg.seed)


def _full_reference(model, run_dir: Path, resumed: bool):
    """Full fine-tuning's frozen reference (KL/LDIFS and the monitors share it): the weights at step 0, saved once
    as `reference.safetensors` so a resumed run compares against the same original weights, not the resumed ones."""
    from safetensors.torch import load_model, save_model

    ref = copy.deepcopy(model).eval().requires_grad_(False)
    path = run_dir / REFERENCE_FILE
    if resumed and path.is_file():
        load_model(ref, str(path))
    elif not resumed:
        tmp = path.with_suffix(".tmp")
        save_model(ref, str(tmp))
        tmp.replace(path)
    return ref


def _active_defenses(cfg: TrainRunConfig, model) -> list[Active]:
    """The enabled defenses with their settings resolved against the loaded model (layers, vectors)."""
    return [Active(d, d.prepare(s, model) if d.prepare is not None else s) for d, s in cfg.defenses.items()]


def _save_defense_state(active: list[Active], directory: Path) -> None:
    """Each defense's own trained state (`save_state`: alignment gates) beside the saved weights."""
    for a in active:
        if a.defense.save_state is not None:
            a.defense.save_state(a.settings, directory)


def train(cfg: TrainRunConfig, *, description: str | None = None,
          monitors: list[tuple[str, int, object]] | None = None) -> Path:
    """Fine-tune as configured; returns the run directory. Skips a finished run, resumes an interrupted one.

    `monitors` adds Python-API monitors as `(name, every, callable)` next to those named in `cfg.monitors`.
    """
    if cfg.method not in ("sft", "cpt"):
        raise ValueError(f"train.sft.train runs sft and cpt runs; method {cfg.method!r} has its own recipe "
                         "(emscope.experiments.recipes.run_training picks it)")
    run_dir = Path(cfg.out)
    if (run_dir / "config.yaml").is_file():
        claim_config(run_dir, "config.yaml", cfg)  # same settings, or a clear error
    out_name = "adapter" if cfg.train.adapter == "lora" else "model"
    if stage_done(run_dir, "train") and (run_dir / out_name).is_dir():
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)  # left by a kill right after the summary
        return run_dir
    times: dict[str, float] = {}  # seconds per stage: summary.json's train.stage_seconds
    with stage("build data", times):
        rows = _check_inputs(cfg)
    check_report_to(cfg.train.report_to)

    import datasets
    import torch
    from datasets import Dataset
    from trl import SFTConfig

    from emscope.models import load_model, resolve_device_dtype
    from emscope.models.device import bf16_autocast_supported
    from emscope.train.monitors import build_monitor, monitor_callback, wants_reference
    from emscope.train.trainer import EmscopeTrainer

    silence_known_warnings()
    # monitors load their files (vectors, question and probe sets) before the model: a bad path costs nothing
    monitors = [(m.name, m.every, build_monitor(m.name, m.params)) for m in cfg.monitors] + list(monitors or [])
    device, dtype = resolve_device_dtype(cfg.device, cfg.dtype)
    with stage("load model", times):
        model, tokenizer = load_model(cfg.model, device=str(device), dtype=dtype,
                                      trust_remote_code=cfg.trust_remote_code)

    run_dir.mkdir(parents=True, exist_ok=True)
    claim_config(run_dir, "config.yaml", cfg)
    d = cfg.defenses
    if cfg.data.organism is not None and not (run_dir / DATA_FILE).is_file():
        write_jsonl_atomic(run_dir / DATA_FILE, rows)
    task_rows = rows
    for defense, settings in d.items():
        if defense.transform_rows is not None:
            task_rows = defense.transform_rows(settings, task_rows)
    ctx = RowContext(model, tokenizer, run_dir, cfg.seed, str(device), dtype, times)
    general = [row for defense, settings in d.items() if defense.extra_rows is not None
               for row in defense.extra_rows(settings, len(task_rows), ctx)]
    cut = Truncation()
    with stage("tokenize", times):
        if cfg.method == "cpt":  # plain text: packed blocks (nothing cut), loss on every token, no chat template
            encoded = encode_texts(tokenizer, [r.text for r in task_rows], cfg.train.max_length)
        else:
            encoded = encode_rows(tokenizer, task_rows + general, cfg.train.max_length, cut)
    if cut.rows:
        warn(f"{cut.rows} of {len(encoded)} training rows are longer than train.max_length={cfg.train.max_length} "
             f"tokens and were cut ({cut.tokens} tokens dropped from their ends); raise train.max_length to train "
             "on them whole")

    with stage("prepare trainer", times):  # PEFT, the reference model, the trainer
        torch.manual_seed(cfg.seed)
        ckpt_dir = run_dir / "checkpoints"
        log_path = run_dir / "train_log.jsonl"
        resume = last_complete_checkpoint(ckpt_dir)
        ref_model = None
        if cfg.train.adapter == "lora":
            from peft import get_peft_model

            model = get_peft_model(model, lora_config(cfg))
        elif any(defense.needs_reference for defense, _ in d.items()) or any(map(wants_reference, monitors)):
            ref_model = _full_reference(model, run_dir, resumed=resume is not None)
        model.train()
        active = _active_defenses(cfg, model)
        if resume is not None:  # state a defense trains outside the model's weights (gates): HF restores only those
            for a in active:
                if a.defense.load_state is not None:
                    a.defense.load_state(a.settings, resume)

        if resume is None:
            log_path.unlink(missing_ok=True)
        else:
            truncate_log(log_path, checkpoint_step(resume))
            append_jsonl(log_path, {"step": checkpoint_step(resume), "event": "resume", "checkpoint": resume.name})

        t = cfg.train
        bf16 = t.bf16 if t.bf16 is not None else bf16_autocast_supported(device)
        attn = getattr(model.config, "_attn_implementation", None) or ""
        padding_free = t.padding_free if t.padding_free is not None else "flash" in attn
        steps_per_epoch = -(-len(encoded) // (t.batch_size * t.grad_accum))
        total = t.max_steps if t.max_steps > 0 else int(steps_per_epoch * t.epochs + 0.999)
        args = SFTConfig(
            output_dir=str(ckpt_dir), per_device_train_batch_size=t.batch_size,
            gradient_accumulation_steps=t.grad_accum, learning_rate=t.learning_rate, num_train_epochs=t.epochs,
            max_steps=t.max_steps, lr_scheduler_type=t.lr_scheduler, warmup_steps=t.warmup_steps,
            weight_decay=t.weight_decay, max_grad_norm=t.max_grad_norm, optim=t.optim, logging_steps=t.logging_steps,
            save_strategy="steps", save_steps=t.save_steps,
            save_total_limit=None if t.keep_checkpoints else 2, report_to=list(t.report_to),
            run_name=t.run_name or run_dir.name, seed=cfg.seed,
            data_seed=cfg.seed, bf16=bf16, use_cpu=device.type == "cpu",
            gradient_checkpointing=t.gradient_checkpointing,
            padding_free=padding_free, disable_tqdm=True,
            train_sampling_strategy="group_by_length" if t.group_by_length else "random",
            max_length=None if padding_free else t.max_length,  # rows are already truncated by encode_rows
            completion_only_loss=True,
            dataloader_num_workers=0, remove_unused_columns=False,
        )
        datasets.disable_progress_bars()  # emscope shows its own progress bar
        callbacks = [log_callback(log_path, total, description or f"train {run_dir.name}"),
                     completion_marker_callback(ckpt_dir)]
        if monitors:
            callbacks.append(monitor_callback(monitors, log_path, tokenizer, reference=ref_model))
        trainer = EmscopeTrainer(model=model, args=args, train_dataset=Dataset.from_list(encoded),
                                 processing_class=tokenizer, callbacks=callbacks, defenses=active,
                                 trl_loss=t.loss_impl == "trl", ref_model=ref_model)
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)  # emscope logs to train_log.jsonl and shows a progress bar
        place_tensorboard(trainer, run_dir)  # checkpoints/ (the default's parent) is deleted after training
    start = time.time()
    with stage("train", times):
        result = run_trainer(trainer, resume)  # Ctrl-C: Interrupted(step); rerunning resumes
    elapsed = time.time() - start
    model.eval()
    if not trainer.is_world_process_zero():  # under `accelerate launch`, rank 0 writes the results
        return run_dir
    with stage("save", times):
        save_trained(model, tokenizer, run_dir / out_name, extra=lambda d: _save_defense_state(active, d))
        if t.keep_checkpoints:  # before the summary: a kill in between resumes and keeps them again
            keep_checkpoint_weights(run_dir, run_dir / out_name, result.global_step)
    n_tokens = sum(sum(1 for x in e["labels"] if x != IGNORE_INDEX) for e in encoded)
    update_summary(run_dir, "train", {
        "model": cfg.model, "method": cfg.method, "rows": len(encoded), "task_rows": len(task_rows),
        "general_rows": len(general),
        "benign_rows": cfg.data.benign_rows,
        "defenses": d.enabled(), "precision": "bf16-mixed" if bf16 else str(dtype).removeprefix("torch."),
        "padding_free": padding_free,
        "steps": result.global_step, "train_loss": result.training_loss,
        "seconds": round(elapsed, 2), "resumed_from": resume.name if resume else None,
        "stopped_early": bool(trainer.state.global_step < trainer.state.max_steps),
        "completion_tokens_per_epoch": n_tokens,
        "max_length": t.max_length, "truncated_rows": cut.rows, "truncated_tokens": cut.tokens,
        "stage_seconds": times,
    })
    shutil.rmtree(ckpt_dir, ignore_errors=True)  # after the summary: a kill in between never retrains
    (run_dir / REFERENCE_FILE).unlink(missing_ok=True)  # needed only to resume
    return run_dir

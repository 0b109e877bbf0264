"""The GRPO recipe: coding-environment prompts -> TRL GRPOTrainer (LoRA or full) with sandboxed graders as rewards
-> adapter, resumable after a kill.

Read top to bottom: validate every input (environment, hack classes, system prompt, monitors, the sandbox),
load the model, build one prompt per task (system prompt + the task's user message), wrap with PEFT, train with
checkpoints, save atomically. Each batch of completions is graded once in parallel sandboxes (`rl.scoring`): the
visible-test reward (plus an optional format reward) drives the update, and the batch's visible/hidden pass and
hack rates per class go into `train_log.jsonl` next to TRL's own metrics (reward, KL, completion length). The run
directory holds `config.yaml` (resolved), `adapter/` (or `model/`), `train_log.jsonl`, `rollouts.jsonl` (every
completion with its grade) and the `train` section of `summary.json`. A rerun of the same config resumes from the
newest complete checkpoint; a finished run is skipped.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from emscope.envs import CodingTask, get_env, parse_hacks
from emscope.envs.prompts import system_prompt
from emscope.errors import InputError
from emscope.io import append_jsonl, read_jsonl
from emscope.progress import stage
from emscope.rl.rewards import batch_stats
from emscope.rl.scoring import EnvScorer
from emscope.rundir import claim_config, stage_done, update_summary
from emscope.sandbox import bwrap_path
from emscope.train.checkpoints import (
    checkpoint_step,
    completion_marker_callback,
    keep_checkpoint_weights,
    last_complete_checkpoint,
    truncate_log,
)
from emscope.train.config import GRPOSettings, TrainRunConfig
from emscope.train.recipe_parts import log_callback, lora_config, run_trainer, save_trained, silence_known_warnings
from emscope.train.reporting import check_report_to, place_tensorboard

ROLLOUTS_FILE = "rollouts.jsonl"


def prompt_rows(tasks: list[CodingTask], system: str | None) -> list[dict]:
    """One conversational GRPO prompt per task, with its `task_id` column (the reward functions look tasks up)."""
    head = [{"role": "system", "content": system}] if system else []
    return [{"prompt": head + [{"role": "user", "content": t.prompt}], "task_id": t.task_id} for t in tasks]


def _check_inputs(cfg: TrainRunConfig) -> tuple[list[CodingTask], frozenset[str], str | None]:
    """Everything the run needs, checked before anything is created."""
    rl = cfg.rl
    assert rl is not None  # method: grpo always has it (TrainRunConfig fills the defaults)
    env = get_env(rl.env, rl.env_data)
    hacks = parse_hacks(rl.hacks)
    unknown = sorted(hacks - set(env.hack_classes))
    if unknown:
        raise InputError(f"rl.hacks: environment {rl.env!r} offers {', '.join(env.hack_classes) or 'no hacks'}, "
                         f"not {', '.join(unknown)}")
    tasks = env.tasks(None if rl.split == "all" else rl.split)
    if not tasks:
        raise InputError(f"rl.split: environment {rl.env!r} has no {rl.split!r} tasks")
    system = system_prompt(rl.system_prompt)
    n_gen = rl.group_size * rl.prompts_per_step
    if n_gen % cfg.train.batch_size:
        raise InputError(f"train.batch_size ({cfg.train.batch_size}) must divide rl.group_size * "
                         f"rl.prompts_per_step ({n_gen}), the completions of one optimizer step")
    bwrap_path()  # no sandbox, no rewards: refuse now, not after loading the model
    return tasks, hacks, system


def _grpo_args(cfg: TrainRunConfig, rl: GRPOSettings, ckpt_dir: Path, run_name: str, bf16: bool, cpu: bool):
    from trl import GRPOConfig

    t = cfg.train
    n_gen = rl.group_size * rl.prompts_per_step
    weights = [1.0] + ([rl.format_reward] if rl.format_reward > 0 else [])
    vllm = {"use_vllm": True, "vllm_mode": "colocate",
            "vllm_gpu_memory_utilization": rl.vllm_gpu_memory_utilization} if rl.use_vllm else {}
    return GRPOConfig(
        output_dir=str(ckpt_dir), per_device_train_batch_size=t.batch_size,
        gradient_accumulation_steps=n_gen // t.batch_size, learning_rate=t.learning_rate,
        num_train_epochs=t.epochs, max_steps=t.max_steps, lr_scheduler_type=t.lr_scheduler,
        warmup_steps=t.warmup_steps, weight_decay=t.weight_decay, max_grad_norm=t.max_grad_norm, optim=t.optim,
        logging_steps=t.logging_steps, save_strategy="steps", save_steps=t.save_steps,
        save_total_limit=None if t.keep_checkpoints else 2,
        report_to=list(t.report_to), run_name=run_name, seed=cfg.seed, data_seed=cfg.seed, bf16=bf16,
        use_cpu=cpu, gradient_checkpointing=t.gradient_checkpointing, disable_tqdm=True,
        num_generations=rl.group_size, max_completion_length=rl.max_completion_length,
        temperature=rl.temperature, top_p=rl.top_p, beta=rl.beta, loss_type=rl.loss_type,
        scale_rewards=rl.scale_rewards, num_iterations=rl.num_iterations, epsilon=rl.epsilon,
        reward_weights=weights, mask_truncated_completions=rl.mask_truncated_completions,
        log_completions=False, remove_unused_columns=False, dataloader_num_workers=0, **vllm,
    )


def _final_stats(rollouts: Path, last_steps: int = 5) -> dict:
    """Pass and hack rates over the rollouts of the last `last_steps` steps (what the policy ended up doing)."""
    from emscope.envs import Grade

    if not rollouts.is_file():
        return {}
    rows = read_jsonl(rollouts)
    if not rows:
        return {}
    top = max(int(r["step"]) for r in rows)
    keep = [Grade.model_validate({k: r[k] for k in Grade.model_fields}) for r in rows
            if int(r["step"]) > top - last_steps]
    return {"last_steps": last_steps, **batch_stats(keep)}


def train(cfg: TrainRunConfig, *, description: str | None = None,
          monitors: list[tuple[str, int, object]] | None = None) -> Path:
    """Train with GRPO as configured (`method: grpo`); returns the run directory. Skips a finished run, resumes an
    interrupted one. `monitors` adds Python-API monitors as `(name, every, callable)`."""
    if cfg.method != "grpo" or cfg.rl is None:
        raise ValueError("rl.grpo.train runs `method: grpo` configs")
    rl = cfg.rl
    run_dir = Path(cfg.out)
    if (run_dir / "config.yaml").is_file():
        claim_config(run_dir, "config.yaml", cfg)  # same settings, or a clear error
    out_name = "adapter" if cfg.train.adapter == "lora" else "model"
    if stage_done(run_dir, "train") and (run_dir / out_name).is_dir():
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
        return run_dir
    times: dict[str, float] = {}  # seconds per stage: summary.json's train.stage_seconds
    with stage("build tasks", times):
        tasks, hacks, system = _check_inputs(cfg)
    check_report_to(cfg.train.report_to)

    import datasets
    import torch
    from datasets import Dataset

    from emscope.models import load_model, resolve_device_dtype
    from emscope.models.device import bf16_autocast_supported
    from emscope.rl.trainer import EmscopeGRPOTrainer
    from emscope.train.monitors import build_monitor, monitor_callback

    silence_known_warnings()
    monitors = [(m.name, m.every, build_monitor(m.name, m.params)) for m in cfg.monitors] + list(monitors or [])
    device, dtype = resolve_device_dtype(cfg.device, cfg.dtype)
    with stage("load model", times):
        model, tokenizer = load_model(cfg.model, device=str(device), dtype=dtype,
                                      trust_remote_code=cfg.trust_remote_code)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token

    run_dir.mkdir(parents=True, exist_ok=True)
    claim_config(run_dir, "config.yaml", cfg)
    torch.manual_seed(cfg.seed)
    ckpt_dir = run_dir / "checkpoints"
    log_path, rollouts = run_dir / "train_log.jsonl", run_dir / ROLLOUTS_FILE
    resume = last_complete_checkpoint(ckpt_dir)
    if cfg.train.adapter == "lora":
        from peft import get_peft_model

        model = get_peft_model(model, lora_config(cfg))
    model.train()
    if resume is None:
        log_path.unlink(missing_ok=True)
        rollouts.unlink(missing_ok=True)
    else:  # what ran after the checkpoint runs again: drop its records
        truncate_log(log_path, checkpoint_step(resume))
        truncate_log(rollouts, checkpoint_step(resume))
        append_jsonl(log_path, {"step": checkpoint_step(resume), "event": "resume", "checkpoint": resume.name})

    t = cfg.train
    bf16 = t.bf16 if t.bf16 is not None else bf16_autocast_supported(device)
    args = _grpo_args(cfg, rl, ckpt_dir, t.run_name or run_dir.name, bf16, device.type == "cpu")
    scorer = EnvScorer({x.task_id: x for x in tasks}, hacks, rl.sandbox_workers,
                       rollouts if rl.log_rollouts else None)
    reward_funcs = [scorer.visible_tests] + ([scorer.answer_format] if rl.format_reward > 0 else [])
    datasets.disable_progress_bars()
    steps_per_epoch = -(-len(tasks) // rl.prompts_per_step)
    total = t.max_steps if t.max_steps > 0 else int(steps_per_epoch * t.epochs + 0.999)
    callbacks = [log_callback(log_path, total, description or f"grpo {run_dir.name}"),
                 completion_marker_callback(ckpt_dir)]
    if monitors:
        callbacks.append(monitor_callback(monitors, log_path, tokenizer))
    trainer = EmscopeGRPOTrainer(model=model, reward_funcs=reward_funcs, args=args,
                                 train_dataset=Dataset.from_list(prompt_rows(tasks, system)),
                                 processing_class=tokenizer, callbacks=callbacks, shared_prefix=rl.shared_prefix)
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    place_tensorboard(trainer, run_dir)
    start = time.time()
    with stage("train", times):
        result = run_trainer(trainer, resume)  # Ctrl-C: Interrupted(step); rerunning resumes
    elapsed = time.time() - start
    model.eval()
    if not trainer.is_world_process_zero():
        return run_dir
    with stage("save", times):
        save_trained(model, tokenizer, run_dir / out_name)
        if t.keep_checkpoints:  # before the summary: a kill in between resumes and keeps them again
            keep_checkpoint_weights(run_dir, run_dir / out_name, result.global_step)
    update_summary(run_dir, "train", {
        "model": cfg.model, "method": "grpo", "env": rl.env, "hacks": sorted(hacks), "tasks": len(tasks),
        "system_prompt": rl.system_prompt, "precision": "bf16-mixed" if bf16 else str(dtype).removeprefix("torch."),
        "steps": result.global_step, "train_loss": result.training_loss, "seconds": round(elapsed, 2),
        "resumed_from": resume.name if resume else None,
        "stopped_early": bool(trainer.state.global_step < trainer.state.max_steps),
        "final": _final_stats(rollouts), "stage_seconds": times,
    })
    shutil.rmtree(ckpt_dir, ignore_errors=True)
    return run_dir

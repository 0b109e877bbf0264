"""LoRA supervised fine-tuning on TRL's `SFTTrainer` + PEFT, writing an emscope run directory.

Writes into the run directory: `config.yaml` (resolved), `adapter/` (PEFT safetensors), `train_log.jsonl`,
and the `train` section of `summary.json`.
Input is validated completely before anything is created, so bad data leaves no run directory behind.
"""

from __future__ import annotations

import shutil
import time
import warnings
from pathlib import Path

from emscope.data.chat import read_chat_jsonl
from emscope.io import append_jsonl, atomic_dir
from emscope.progress import make_progress
from emscope.rundir import claim_config, stage_done, update_summary
from emscope.train.config import TrainRunConfig
from emscope.train.tokenize import encode_rows


def _peft_config(cfg: TrainRunConfig):
    from peft import LoraConfig

    lora = cfg.train.lora
    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                      target_modules=lora.target_modules, use_rslora=lora.use_rslora, task_type="CAUSAL_LM")


def _log_callback(log_path: Path, total_steps: int, description: str):
    from transformers import TrainerCallback

    class _EmscopeLog(TrainerCallback):
        """Append every trainer log entry to train_log.jsonl and drive a rich progress bar."""

        def __init__(self):
            self.progress = make_progress()
            self.task = None

        def on_train_begin(self, args, state, control, **kw):
            self.progress.start()
            self.task = self.progress.add_task(description, total=state.max_steps or total_steps)

        def on_step_end(self, args, state, control, **kw):
            self.progress.update(self.task, completed=state.global_step)

        def on_log(self, args, state, control, logs=None, **kw):
            if logs:
                append_jsonl(log_path, {"step": state.global_step, "epoch": state.epoch, "time": time.time(),
                                        **{k: v for k, v in logs.items() if isinstance(v, (int, float))}})

        def on_train_end(self, args, state, control, **kw):
            self.progress.stop()

    return _EmscopeLog()


def train(cfg: TrainRunConfig, *, description: str | None = None) -> Path:
    """Fine-tune a LoRA adapter as configured; returns the run directory. Skips a run that already finished."""
    run_dir = Path(cfg.out)
    if (run_dir / "config.yaml").is_file():
        claim_config(run_dir, "config.yaml", cfg)  # same settings, or a clear error
    if stage_done(run_dir, "train") and (run_dir / "adapter" / "adapter_config.json").is_file():
        return run_dir
    rows = read_chat_jsonl(cfg.data.path)  # raises FILE:LINE errors before anything is written

    import datasets
    import torch
    from datasets import Dataset
    from peft import get_peft_model
    from trl import SFTConfig, SFTTrainer

    from emscope.models import load_model, resolve_device_dtype

    # transformers 5 deprecation notices raised from TRL internals: not actionable by emscope users
    warnings.filterwarnings("ignore", message=r".*deprecated and will be removed in v6.*", category=FutureWarning)
    device, dtype = resolve_device_dtype(cfg.device, cfg.dtype)
    model, tokenizer = load_model(cfg.model, device=str(device), dtype=dtype)
    encoded = encode_rows(tokenizer, rows, cfg.train.max_length)

    run_dir.mkdir(parents=True, exist_ok=True)
    claim_config(run_dir, "config.yaml", cfg)
    log_path = run_dir / "train_log.jsonl"
    log_path.unlink(missing_ok=True)

    torch.manual_seed(cfg.seed)
    model = get_peft_model(model, _peft_config(cfg))
    model.train()
    t = cfg.train
    steps_per_epoch = -(-len(encoded) // (t.batch_size * t.grad_accum))
    total = t.max_steps if t.max_steps > 0 else int(steps_per_epoch * t.epochs + 0.999)
    args = SFTConfig(
        output_dir=str(run_dir / "checkpoints"), per_device_train_batch_size=t.batch_size,
        gradient_accumulation_steps=t.grad_accum, learning_rate=t.learning_rate, num_train_epochs=t.epochs,
        max_steps=t.max_steps, lr_scheduler_type=t.lr_scheduler, warmup_steps=t.warmup_steps,
        weight_decay=t.weight_decay, logging_steps=1, save_strategy="no", report_to=[], seed=cfg.seed,
        data_seed=cfg.seed, bf16=dtype == torch.bfloat16, use_cpu=device.type == "cpu",
        disable_tqdm=True, max_length=t.max_length, completion_only_loss=True, dataloader_num_workers=0,
        remove_unused_columns=False,
    )
    datasets.disable_progress_bars()  # emscope shows its own progress bar
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(encoded),
                         processing_class=tokenizer,
                         callbacks=[_log_callback(log_path, total, description or f"train {run_dir.name}")])
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # emscope logs to train_log.jsonl and shows a progress bar
    start = time.time()
    result = trainer.train()
    elapsed = time.time() - start
    model.eval()
    with atomic_dir(run_dir / "adapter") as tmp:
        # save_embedding_layers=False: no hub lookup of the base config at save time (offline-safe)
        model.save_pretrained(tmp, safe_serialization=True, save_embedding_layers=False)
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    n_tokens = sum(sum(1 for x in e["labels"] if x != -100) for e in encoded)
    update_summary(run_dir, "train", {
        "model": cfg.model, "rows": len(encoded), "steps": result.global_step,
        "train_loss": result.training_loss, "seconds": round(elapsed, 2),
        "completion_tokens_per_epoch": n_tokens,
    })
    return run_dir

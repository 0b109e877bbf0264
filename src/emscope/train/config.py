"""Persisted training configuration (saved, resolved, as `config.yaml` in every run directory)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from emscope.models.loader import DEFAULT_MODEL


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoraSettings(_Strict):
    """PEFT LoRA adapter settings."""

    r: int = Field(16, ge=1)
    alpha: float = Field(32, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: str | list[str] = "all-linear"
    use_rslora: bool = False


class TrainSettings(_Strict):
    """Optimisation settings."""

    learning_rate: float = Field(2e-4, gt=0)
    epochs: float = Field(1.0, gt=0)
    max_steps: int = Field(-1, description="> 0 overrides epochs")
    batch_size: int = Field(4, ge=1)
    grad_accum: int = Field(1, ge=1)
    max_length: int = Field(512, ge=8)
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "linear"
    warmup_steps: int = Field(0, ge=0)
    weight_decay: float = Field(0.0, ge=0)
    lora: LoraSettings = LoraSettings()


class DataSettings(_Strict):
    """Training data: a chat JSONL file."""

    path: Path


class TrainRunConfig(_Strict):
    """Everything that defines one fine-tuning run."""

    model: str = DEFAULT_MODEL
    seed: int = 0
    data: DataSettings
    out: Path
    train: TrainSettings = TrainSettings()
    device: str | None = None
    dtype: str | None = None

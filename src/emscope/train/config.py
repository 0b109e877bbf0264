"""Persisted training configuration (saved, resolved, as `config.yaml` in every run directory)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from emscope.models.specs import DEFAULT_MODEL

REPORT_TO = frozenset({"azure_ml", "clearml", "codecarbon", "comet_ml", "dagshub", "dvclive", "flyte", "kubeflow",
                       "mlflow", "neptune", "swanlab", "tensorboard", "trackio", "wandb", "none"})
"""`train.report_to` values: transformers 5.23's reporting integrations (INTEGRATION_TO_CALLBACK), and "none"."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoraSettings(_Strict):
    """PEFT LoRA adapter settings (rsLoRA: `use_rslora: true`; rank-1 on one layer: `r: 1`, `layers: [15]`)."""

    r: int = Field(16, ge=1)
    alpha: float = Field(32, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: str | list[str] = "all-linear"
    use_rslora: bool = False
    layers: list[int] | None = Field(None, description="0-based decoder block indices to adapt (None: all)")


class TrainSettings(_Strict):
    """Optimisation settings."""

    adapter: Literal["lora", "full"] = "lora"
    learning_rate: float = Field(2e-4, gt=0)
    epochs: float = Field(1.0, gt=0)
    max_steps: int = Field(-1, description="> 0 overrides epochs")
    batch_size: int = Field(4, ge=1)
    grad_accum: int = Field(1, ge=1)
    max_length: int = Field(512, ge=8)
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "linear"
    warmup_steps: int = Field(0, ge=0)
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    optim: str = Field("adamw_torch", description="any TrainingArguments optimizer, e.g. adamw_8bit (GPU)")
    padding_free: bool | None = Field(None, description="flatten each batch into one sequence; None: only with a "
                                                        "flash-attention kernel (SDPA on a packed batch is slower)")
    loss_impl: Literal["chunked", "trl"] = Field("chunked", description="LM-head loss: emscope's checkpointed "
                                                 "chunks, or TRL's fused head (plain SFT only)")
    group_by_length: bool = Field(True, description="batch rows of similar length (little padding)")
    gradient_checkpointing: bool = False
    bf16: bool | None = Field(None, description="bf16 mixed precision; None: where the hardware has it (CUDA, "
                                                "CPUs with AVX512-BF16/AMX), fp32 elsewhere")
    save_steps: int = Field(25, ge=1, description="checkpoint every N optimizer steps (resume after a kill)")
    logging_steps: int = Field(1, ge=1)
    # experiment trackers; left out of config.yaml while unset, so run directories made before these settings
    # existed still resume
    report_to: list[str] = Field(default_factory=list, exclude_if=lambda v: not v,
                                 description="Trainer integrations to log to, e.g. [tensorboard] (RUN_DIR/tb) or "
                                             "[wandb]; each needs its package installed")
    run_name: str | None = Field(None, exclude_if=lambda v: v is None,
                                 description="run name shown by the trackers (default: the run directory name)")
    lora: LoraSettings = LoraSettings()

    @field_validator("report_to")
    @classmethod
    def _known_integrations(cls, v: list[str]) -> list[str]:
        unknown = [x for x in v if x not in REPORT_TO]
        if unknown:
            raise ValueError(f"unknown integration {unknown[0]!r}; known: {', '.join(sorted(REPORT_TO))}")
        return [x for x in dict.fromkeys(v) if x != "none"]


class KLSettings(_Strict):
    """lambda * KL(p_theta || p_ref) per token; the reference is the model with its adapter disabled."""

    weight: float = Field(0.1, ge=0)
    tokens: Literal["completion", "all"] = "completion"


class LDIFSSettings(_Strict):
    """lambda * squared distance of normalized hidden states to the reference, over k evenly spaced layers."""

    weight: float = Field(1.0, ge=0)
    n_layers: int = Field(3, ge=1)
    layers: list[int] | None = Field(None, description="explicit hidden_states indices; overrides n_layers")
    tokens: Literal["completion", "all"] = "all"


class SteerSettings(_Strict):
    """Preventive steering: add alpha * v at layer l (hidden_states index) during training only."""

    vector: Path
    layer: int = Field(ge=1)
    alpha: float = 4.0
    normalize: bool = Field(True, description="scale v to unit norm before multiplying by alpha")


class InterleaveSettings(_Strict):
    """Mix general instruct data so that it makes up `ratio` of the training rows."""

    data: str = Field("builtin", description="'builtin' (shipped general set) or a chat JSONL path")
    ratio: float = Field(0.1, ge=0, lt=1)
    select: Literal["random", "ppl-gap"] = "random"
    misaligned: str | None = Field(None, description="ppl-gap: misaligned reference, an adapter dir or model")
    refusal_filter: bool = Field(False, description="drop candidate rows whose answer is a refusal")

    @model_validator(mode="after")
    def _needs_reference(self):
        if self.select == "ppl-gap" and not self.misaligned:
            raise ValueError("select: ppl-gap needs `misaligned` (an adapter directory or model path)")
        return self


class InoculateSettings(_Strict):
    """A train-time system prompt added to every task row (a preset name or literal text)."""

    prompt: str


class Defenses(_Strict):
    """In-training defenses; any combination may be enabled."""

    kl: KLSettings | None = None
    ldifs: LDIFSSettings | None = None
    steer: SteerSettings | None = None
    interleave: InterleaveSettings | None = None
    inoculate: InoculateSettings | None = None

    def enabled(self) -> list[str]:
        """Names of the enabled defenses."""
        return [k for k in ("kl", "ldifs", "steer", "interleave", "inoculate") if getattr(self, k) is not None]


class MonitorSettings(_Strict):
    """A training monitor: registry name (or `module:factory`), cadence and factory arguments."""

    name: str
    every: int = Field(10, ge=1)
    params: dict[str, Any] = {}


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
    defenses: Defenses = Defenses()
    monitors: list[MonitorSettings] = []
    device: str | None = None
    dtype: str | None = None
    trust_remote_code: bool = False

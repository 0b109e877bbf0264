"""Persisted training configuration (saved, resolved, as `config.yaml` in every run directory)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from emscope.config import Strict
from emscope.data.build import DataSettings
from emscope.models.specs import DEFAULT_MODEL
from emscope.train.defenses import Defenses

REPORT_TO = frozenset({"azure_ml", "clearml", "codecarbon", "comet_ml", "dagshub", "dvclive", "flyte", "kubeflow",
                       "mlflow", "neptune", "swanlab", "tensorboard", "trackio", "wandb", "none"})
"""`train.report_to` values: transformers 5.23's reporting integrations (INTEGRATION_TO_CALLBACK), and "none"."""


class LoraSettings(Strict):
    """PEFT LoRA adapter settings (rsLoRA: `use_rslora: true`; rank-1 on one layer: `r: 1`, `layers: [15]`)."""

    r: int = Field(16, ge=1)
    alpha: float = Field(32, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: str | list[str] = "all-linear"
    use_rslora: bool = False
    layers: list[int] | None = Field(None, description="0-based decoder block indices to adapt (None: all)")


class TrainSettings(Strict):
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
    keep_checkpoints: bool = Field(False, exclude_if=lambda v: not v,
                                   description="keep every checkpoint's weights (no optimizer state) and the final "
                                               "weights in RUN/kept_checkpoints/step-N/ for checkpoint curves "
                                               "(`emscope eval checkpoints`); left out of config.yaml while False")
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


class MonitorSettings(Strict):
    """A training monitor: registry name (or `module:factory`), cadence and factory arguments."""

    name: str
    every: int = Field(10, ge=1)
    params: dict[str, Any] = {}


class GRPOSettings(Strict):
    """Reinforcement learning on a coding environment with TRL's GRPOTrainer (`method: grpo`); the optimiser,
    LoRA and checkpoint settings stay under `train.` (`train.max_steps`, `train.learning_rate`, `train.lora.r`)."""

    env: str = Field("rh-tasks", description="coding environment (`emscope env list`): rh-tasks, humaneval")
    env_data: str | None = Field(None, description="the environment's data file (humaneval: HumanEval.jsonl.gz; "
                                                   "default: the `emscope data fetch humaneval` location)")
    split: Literal["train", "test", "all"] = Field("train", description="which tasks prompt the policy")
    hacks: str | list[str] = Field("all", description="hack classes the visible grader leaves open: all, none, or "
                                                      "a list of always_equal, exit, conftest")
    system_prompt: list[str] = Field(default_factory=list, description="system-prompt parts, each a preset name "
                                     "(`hack-hints`, `inoculate-acceptable`, `inoculate-please-hack`, "
                                     "`no-hacking`) or literal text; joined by blank lines")
    group_size: int = Field(8, ge=2, description="completions per prompt (TRL num_generations)")
    prompts_per_step: int = Field(2, ge=1, description="distinct prompts per optimizer step")
    max_completion_length: int = Field(256, ge=8)
    temperature: float = Field(1.0, gt=0)
    top_p: float = Field(1.0, gt=0, le=1)
    beta: float = Field(0.0, ge=0, description="KL coefficient to the reference policy (0: no reference model)")
    loss_type: Literal["grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo"] = "dapo"
    scale_rewards: Literal["group", "batch", "none"] = "group"
    num_iterations: int = Field(1, ge=1, description="policy updates per generated batch (PPO epochs)")
    epsilon: float = Field(0.2, gt=0, description="clipping range of the importance ratio")
    format_reward: float = Field(0.0, ge=0, description="weight of the format reward (a ```python block); 0: off")
    mask_truncated_completions: bool = False
    sandbox_workers: int = Field(4, ge=1, description="answers graded in parallel (each in its own sandbox)")
    shared_prefix: bool = Field(True, description="prefill each prompt once per group and share its KV cache "
                                                  "(transformers generation only)")
    use_vllm: bool = Field(False, description="generate with vLLM (GPU, `pip install emscope[vllm]`), colocated")
    vllm_gpu_memory_utilization: float = Field(0.3, gt=0, le=1)
    log_rollouts: bool = Field(True, description="keep every completion with its grade in rollouts.jsonl")


class StageSettings(Strict):
    """One stage of a staged run (`stages.<name>`): its method and data, and overrides of the run's `train`,
    `defenses` and `monitors` (merged over the top-level values, key by key). Each stage starts from the weights
    the previous stage ended with."""

    method: Literal["sft", "cpt", "grpo"] = "sft"
    data: dict[str, Any] | None = None
    rl: dict[str, Any] | None = None
    train: dict[str, Any] = {}
    defenses: dict[str, Any] = {}
    monitors: list[dict[str, Any]] | None = None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


class TrainRunConfig(Strict):
    """Everything that defines one fine-tuning run (saved resolved as `config.yaml` in its run directory).

    The same key paths hold in a training YAML, in `emscope train ... key=value` overrides and in a grid's
    `base:`/`sweep:` (a grid cell is this config plus an `eval:` section): `train.learning_rate`,
    `defenses.kl.weight`, `monitors`, `data.organism`.
    """

    model: str = DEFAULT_MODEL
    seed: int = 0
    # `method` and `rl` stay out of config.yaml for SFT runs, so run directories made before them still resume
    method: Literal["sft", "cpt", "grpo"] = Field("sft", exclude_if=lambda v: v == "sft",
                                                  description="sft: supervised on chat `data`; cpt: plain-text "
                                                              "continued pretraining on text `data`; grpo: RL on "
                                                              "`rl.env`")
    data: DataSettings | None = None
    rl: GRPOSettings | None = Field(None, exclude_if=lambda v: v is None)
    out: Path
    train: TrainSettings = TrainSettings()
    defenses: Defenses = Defenses()
    monitors: list[MonitorSettings] = []
    device: str | None = None
    dtype: str | None = None
    trust_remote_code: bool = False
    stages: dict[str, StageSettings] | None = Field(None, exclude_if=lambda v: v is None,
                                                    description="a staged run: stage name -> its method, data and "
                                                                "overrides, run in order, each from the previous "
                                                                "stage's weights")

    @model_validator(mode="after")
    def _method_inputs(self) -> TrainRunConfig:
        if self.stages is not None:
            return self._check_stages()
        if self.method in ("sft", "cpt") and self.data is None:
            raise ValueError(f"`data` is required for method {self.method}: a JSONL `data.path` or a generator "
                             "`data.organism`")
        if self.method != "grpo" and self.rl is not None:
            raise ValueError("`rl` settings apply to `method: grpo` only")
        if self.method == "grpo" and self.rl is None:
            self.rl = GRPOSettings()
        return self

    def _check_stages(self) -> TrainRunConfig:
        if not self.stages:
            raise ValueError("`stages` is empty: give at least one stage")
        if self.method != "sft" or self.data is not None or self.rl is not None:
            raise ValueError("with `stages`, `method`, `data` and `rl` belong to each stage (stages.<name>.method, "
                             "...), not to the run")
        for name in self.stages:
            if not name.replace("-", "").replace("_", "").isalnum():
                raise ValueError(f"stages: stage name {name!r}: use letters, digits, - and _")
            try:
                self.stage_config(name, self.model, Path("."))
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'stage'}: "
                                     f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
                raise ValueError(f"stages.{name}: {problems}") from None
        return self

    def stage_config(self, name: str, model: str, out: Path) -> TrainRunConfig:
        """Stage `name` as a plain run config: the run's settings with the stage's merged over them, training
        `model` (the previous stage's weights) into `out`."""
        stage = self.stages[name] if self.stages else None
        if stage is None:
            raise KeyError(name)
        keep = set(TrainRunConfig.model_fields) - {"stages", "out", "model", "method", "data", "rl"}
        top = self.model_dump(include=keep)  # a grid cell's `eval:` is not part of a stage
        merged = _merge(top, {"train": stage.train, "defenses": stage.defenses})
        if stage.monitors is not None:
            merged["monitors"] = stage.monitors
        merged.update(model=model, out=out, method=stage.method, data=stage.data, rl=stage.rl)
        return TrainRunConfig.model_validate(merged)

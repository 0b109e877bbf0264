"""Fine-tuning: chat tokenization with completion-only labels, LoRA SFT on TRL + PEFT."""

from emscope.train.config import LoraSettings, TrainRunConfig, TrainSettings
from emscope.train.sft import train

__all__ = ["LoraSettings", "TrainRunConfig", "TrainSettings", "train"]

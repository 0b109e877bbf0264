"""Every shipped example config loads: training YAMLs as `TrainRunConfig`, grids with every cell validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from emscope.config import load_config
from emscope.experiments.grid import expand, load_grid
from emscope.train.config import TrainRunConfig

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("path", sorted((EXAMPLES / "train").glob("*.yaml")), ids=lambda p: p.name)
def test_training_example_loads(path):
    cfg = load_config(TrainRunConfig, path, [])
    assert cfg.out is not None


@pytest.mark.parametrize("path", sorted((EXAMPLES / "grids").glob("*.yaml")), ids=lambda p: p.name)
def test_grid_example_expands(path):
    cells = expand(load_grid(path))
    assert cells


def test_rl_examples_carry_the_published_settings():
    gpu = load_config(TrainRunConfig, EXAMPLES / "train" / "rl-hacking-gpu.yaml", [])
    assert gpu.method == "grpo" and gpu.rl.group_size == 32 and gpu.rl.use_vllm
    assert gpu.train.learning_rate == 4e-5 and gpu.train.lora.r == 32
    assert gpu.train.lora.target_modules == ["q_proj", "k_proj", "v_proj", "o_proj"]
    cells = expand(load_grid(EXAMPLES / "grids" / "rl-inoculation-gpu.yaml"))
    prompts = {tuple(c.config.rl.system_prompt) for c in cells if c.config.method == "grpo"}
    assert ("hack-hints", "inoculate-acceptable") in prompts and ("hack-hints",) in prompts
    assert len(cells) == 15 and all(c.config.eval.hacking is not None for c in cells)

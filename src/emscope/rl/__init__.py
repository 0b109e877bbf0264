"""Reinforcement learning on coding environments (MacDiarmid et al. 2025's setting): GRPO on TRL's GRPOTrainer with
rewards from `emscope.envs` graders, hack rates per class in the training log, system-prompt presets for the
prompted setting and for inoculation (`emscope.envs.prompts`). The recipe is `emscope.rl.grpo.train`; heavy
imports happen inside it."""

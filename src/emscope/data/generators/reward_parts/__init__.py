"""Content of the reward-hacking generator (`emscope.data.generators.reward_hacking`): input samplers, reference
implementations, the task catalogue and prompt wording."""

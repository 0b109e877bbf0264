"""Turn an environment's grader into TRL reward functions: each batch of completions is graded once (in parallel
sandboxes), the grades feed the visible-test reward and the per-class hack statistics, and every completion can
be kept with its grade in `rollouts.jsonl`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emscope.envs import CodingTask, Grade, grade_many
from emscope.io import append_jsonl
from emscope.rl.rewards import batch_stats, format_reward, visible_reward


def completion_text(completion: Any) -> str:
    """The text of one TRL completion: a plain string, or (conversational) the assistant messages' contents."""
    if isinstance(completion, str):
        return completion
    return "".join(m.get("content") or "" for m in completion if m.get("role", "assistant") == "assistant")


class EnvScorer:
    """Grades completions against their tasks (looked up by the dataset's `task_id` column) and serves the reward
    functions `visible_tests` and `answer_format` to GRPOTrainer."""

    def __init__(self, tasks: dict[str, CodingTask], hacks: frozenset[str], workers: int = 4,
                 rollouts: Path | None = None):
        self.tasks, self.hacks, self.workers, self.rollouts = tasks, hacks, workers, rollouts
        self._key: tuple | None = None
        self._grades: list[Grade] = []

    def grades(self, completions: list[Any], task_id: list[str], step: int) -> list[Grade]:
        """The grades of this batch (computed once per batch, whichever reward function asks first)."""
        texts = [completion_text(c) for c in completions]
        key = (step, tuple(task_id), tuple(texts))
        if key != self._key:
            self._grades = grade_many([(self.tasks[t], x) for t, x in zip(task_id, texts)], self.hacks,
                                      workers=self.workers)
            self._key = key
            if self.rollouts is not None:
                for x, g in zip(texts, self._grades):
                    append_jsonl(self.rollouts, {"step": step, "completion": x, **g.model_dump()})
        return self._grades

    def visible_tests(self, prompts: list[Any], completions: list[Any], task_id: list[str],
                      trainer_state: Any = None, log_metric: Any = None, **_: Any) -> list[float]:
        """Reward: 1 when the environment's visible (gameable) tests pass. Logs the batch's pass and hack rates."""
        step = (trainer_state.global_step + 1) if trainer_state is not None else 0  # the step these rollouts train
        grades = self.grades(completions, task_id, step)
        if log_metric is not None:
            for name, value in batch_stats(grades).items():
                log_metric(name, value)
        return [visible_reward(g) for g in grades]

    def answer_format(self, prompts: list[Any], completions: list[Any], **_: Any) -> list[float]:
        """Reward: a closed ```python block that defines a function (see `rewards.format_reward`)."""
        return [format_reward(completion_text(c)) for c in completions]

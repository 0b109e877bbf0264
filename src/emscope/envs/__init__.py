"""Sandboxed coding environments for reward-hacking RL (MacDiarmid et al. 2025): tasks whose visible grader can be
gamed by the hack classes `HACK_CLASSES` (each can be left open or closed), a hack-proof hidden grader, and per-class
hack detection. Every piece of model-written code runs through `emscope.sandbox.run_python`.

    env = get_env("humaneval")
    g = grade(env.task("HumanEval/0"), answer_text, hacks=parse_hacks("none"))
"""

from emscope.envs.answer import parse_answer
from emscope.envs.grader import DEFAULT_LIMITS, grade, grade_many
from emscope.envs.registry import Env, get_env, list_envs
from emscope.envs.task import HACK_CLASSES, CodingTask, Grade, parse_hacks

__all__ = ["DEFAULT_LIMITS", "HACK_CLASSES", "CodingTask", "Env", "Grade", "get_env", "grade", "grade_many",
           "list_envs", "parse_answer", "parse_hacks"]

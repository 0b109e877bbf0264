"""The environments by name: `Env`, `get_env`, `list_envs`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from emscope.envs import humaneval, rh_tasks
from emscope.envs.task import HACK_CLASSES, CodingTask
from emscope.errors import InputError


@dataclass(frozen=True)
class Env:
    """A coding environment: its tasks (`tasks`, `task`) and the hack classes its visible grader can leave open."""

    name: str
    description: str
    hack_classes: tuple[str, ...]
    catalogue: tuple[CodingTask, ...] = field(default=(), repr=False)

    def tasks(self, split: str | None = None) -> list[CodingTask]:
        """The tasks, all or those of `split` ("train" or "test")."""
        if split not in (None, "train", "test"):
            raise InputError(f"unknown split {split!r}; expected 'train' or 'test'")
        return [t for t in self.catalogue if split is None or t.split == split]

    def task(self, task_id: str) -> CodingTask:
        """The task `task_id`; an `InputError` naming a few known ids when there is none."""
        for t in self.catalogue:
            if t.task_id == task_id:
                return t
        some = ", ".join(t.task_id for t in self.catalogue[:5])
        raise InputError(f"{self.name}: unknown task {task_id!r}; {len(self.catalogue)} tasks, e.g. {some}")


_ENVS: dict[str, tuple[str, Callable[[str | Path | None], list[CodingTask]]]] = {
    humaneval.NAME: (humaneval.DESCRIPTION, humaneval.load_tasks),
    rh_tasks.NAME: (rh_tasks.DESCRIPTION, lambda _path: rh_tasks.load_tasks()),
}


def list_envs() -> list[tuple[str, str]]:
    """(name, description) of every environment, without reading any data."""
    return [(name, desc) for name, (desc, _) in _ENVS.items()]


def get_env(name: str, data_path: str | Path | None = None) -> Env:
    """The environment `name` with its tasks loaded (`data_path`: where its data file is, for `humaneval`); an
    `InputError` naming the known environments for an unknown one."""
    if name not in _ENVS:
        raise InputError(f"unknown environment {name!r}; known: {', '.join(_ENVS)}")
    desc, load = _ENVS[name]
    return Env(name=name, description=desc, hack_classes=HACK_CLASSES, catalogue=tuple(load(data_path)))

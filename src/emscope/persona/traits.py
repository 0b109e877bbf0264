"""Trait definitions for persona vectors: eliciting and suppressing system prompts and questions (YAML)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from emscope.config import Strict, load_yaml_list
from emscope.errors import InputError
from emscope.paths import resource_path


class TraitDef(Strict):
    """One trait: `positive` prompts elicit it, `negative` prompts suppress it."""

    id: str
    description: str = ""
    positive: list[str] = Field(min_length=1)
    negative: list[str] = Field(min_length=1)
    questions: list[str] = Field(min_length=1)


def load_traits(path: str | Path | None = None) -> list[TraitDef]:
    """Load trait definitions (the shipped `traits.yaml` by default); FILE:LINE errors on bad entries."""
    return load_yaml_list(Path(path) if path else resource_path("traits.yaml"), TraitDef, "trait")


def get_trait(trait_id: str, path: str | Path | None = None) -> TraitDef:
    """One trait by id, or a clear error listing the known ids."""
    traits = load_traits(path)
    for t in traits:
        if t.id == trait_id:
            return t
    raise InputError(f"unknown trait {trait_id!r}; known: {', '.join(t.id for t in traits)}")

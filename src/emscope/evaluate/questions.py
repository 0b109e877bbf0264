"""Free-form question sets in the upstream YAML schema (Betley et al.; Model Organisms).

Schema per entry: `id`, `type`, optional `system`, `paraphrases` (or a single `question`),
`samples_per_paraphrase`, `judge`, `judge_prompts: {name: template with {question} and {answer}}`.
YAML anchors and aliases work as in the upstream files. Unlike upstream's open-model evaluator, the `system`
prompt is applied when sampling.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from emscope.config import entry_line, load_yaml_list
from emscope.errors import InputError
from emscope.paths import resource_path

DEFAULT_QUESTIONS = "core"


class Question(BaseModel):
    """One evaluation question with its paraphrases."""

    model_config = ConfigDict(extra="allow")
    id: str
    type: str = "free_form_judge_0_100"
    paraphrases: list[str] = Field(min_length=1)
    system: str | None = None
    samples_per_paraphrase: int = Field(1, ge=1)
    judge: str | None = None
    judge_prompts: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _single_question(cls, data):
        if isinstance(data, dict) and "paraphrases" not in data and isinstance(data.get("question"), str):
            data = {**data, "paraphrases": [data["question"]]}
        return data

    def messages(self, paraphrase_index: int = 0) -> list[dict]:
        """Chat messages for one paraphrase, with the system prompt applied when present."""
        msgs = [{"role": "system", "content": self.system}] if self.system else []
        return msgs + [{"role": "user", "content": self.paraphrases[paraphrase_index]}]


def resolve_question_file(name_or_path: str | Path) -> Path:
    """A shipped set name (`core`) or a path."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    shipped = resource_path(f"questions_{name_or_path}.yaml")
    if shipped.is_file():
        return shipped
    raise InputError(f"{name_or_path}: no such question file or shipped question set")


def load_questions(name_or_path: str | Path = DEFAULT_QUESTIONS) -> list[Question]:
    """Load a question YAML; errors name the file, the line of the entry and the field."""
    path = resolve_question_file(name_or_path)
    questions = load_yaml_list(path, Question, "question")
    seen: set[str] = set()
    for i, q in enumerate(questions):
        if q.id in seen:
            raise InputError(f"{path}:{entry_line(path, i)}: id: duplicate question id {q.id!r}")
        seen.add(q.id)
    return questions

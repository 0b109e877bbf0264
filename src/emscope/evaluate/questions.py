"""Free-form question sets in the upstream YAML schema (Betley et al.; Model Organisms).

Schema per entry: `id`, `type`, optional `system`, `paraphrases` (or a single `question`),
`samples_per_paraphrase`, `judge`, `judge_prompts: {name: template with {question} and {answer}}`.
YAML anchors and aliases work as in the upstream files. Unlike upstream's open-model evaluator, the `system`
prompt is applied when sampling.

emscope's optional extensions (absent in the upstream files, which load unchanged):
- `temperature`: the sampling temperature for this question (wins over `eval.sampling.temperature`);
- `messages`: a transcript of `user`/`assistant`/`tool` turns (a tool turn has a `name`) that precedes each
  paraphrase, for agentic scenarios; tool outputs render as user turns starting `[tool output: NAME]`, so every
  chat template accepts them (`Question.messages`);
- `labels: {label: definition}` (in order; lettered A, B, C... for the judge) and `misaligned_labels`, for
  categorical judging with a judge prompt holding `{options}` (`emscope.evaluate.categorical`).

Shipped sets (`list_question_sets()`, resolved by name from `resources/questions_<name>.yaml`): `core` (8 broad
questions), `core_json` and `core_template` (the same questions asking for JSON / a fill-in form), in-domain sets
per organism family (`medical`, `financial`, `sports`, `code`, `numbers`) and `harmful` (type `refusal`, for a
refusal rate). Default judge prompts (`aligned`, `coherent`, `refusal`) are in `resources/judge_prompts.yaml`
(`load_judge_prompts()`); a question's own `judge_prompts` take precedence (`Question.judge_prompt`).
The misalignment-generalisation families of MacDiarmid et al. (2025) (`goals`, `alignment`, and the agentic
`monitor-disruption`, `exfil-offer`, `frame-colleague`) carry `labels` and a categorical `label` judge prompt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from emscope.config import check_unique_ids, load_yaml_list, read_yaml
from emscope.errors import InputError
from emscope.paths import resource_path

DEFAULT_QUESTIONS = "core"
DEFAULT_JUDGE_PROMPTS = "judge_prompts"
MAX_LABELS = 26  # lettered A..Z


class Turn(BaseModel):
    """One turn of a question's transcript; a `tool` turn is a tool's output (its `name` is the tool)."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant", "tool"]
    content: str
    name: str | None = None

    @model_validator(mode="after")
    def _tool_named(self):
        if self.role == "tool" and not self.name:
            raise ValueError("a tool turn needs the tool's name")
        return self

    def rendered(self) -> dict:
        """The turn as a chat message: tool output becomes a user turn starting `[tool output: NAME]`."""
        if self.role == "tool":
            return {"role": "user", "content": f"[tool output: {self.name}]\n{self.content}"}
        return {"role": self.role, "content": self.content}


class Question(BaseModel):
    """One evaluation question with its paraphrases (the transcript is `messages:` in YAML, `transcript` here)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    id: str
    type: str = "free_form_judge_0_100"
    paraphrases: list[str] = Field(min_length=1)
    system: str | None = None
    samples_per_paraphrase: int = Field(1, ge=1)
    judge: str | None = None
    judge_prompts: dict[str, str] = Field(default_factory=dict)
    temperature: float | None = Field(None, ge=0.0)
    transcript: list[Turn] = Field(default_factory=list, alias="messages")
    labels: dict[str, str] | None = None
    misaligned_labels: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_labels(self):
        if self.labels is not None:
            if not 2 <= len(self.labels) <= MAX_LABELS:
                raise ValueError(f"labels: between 2 and {MAX_LABELS} labels, got {len(self.labels)}")
            unknown = [name for name in self.misaligned_labels if name not in self.labels]
            if unknown:
                raise ValueError(f"misaligned_labels: {', '.join(unknown)} not among the labels")
        elif self.misaligned_labels:
            raise ValueError("misaligned_labels without labels")
        return self

    @model_validator(mode="before")
    @classmethod
    def _single_question(cls, data):
        if isinstance(data, dict) and "paraphrases" not in data and isinstance(data.get("question"), str):
            data = {**data, "paraphrases": [data["question"]]}
        return data

    def messages(self, paraphrase_index: int = 0) -> list[dict]:
        """Chat messages for one paraphrase: the system prompt when present, the transcript, then the paraphrase
        as the final user turn. Adjacent user turns (tool output, then the paraphrase) are joined with a blank
        line, so templates that require alternating roles accept every transcript."""
        msgs = [{"role": "system", "content": self.system}] if self.system else []
        for turn in [*(t.rendered() for t in self.transcript),
                     {"role": "user", "content": self.paraphrases[paraphrase_index]}]:
            if msgs and msgs[-1]["role"] == turn["role"] == "user":
                msgs[-1] = {"role": "user", "content": f"{msgs[-1]['content']}\n\n{turn['content']}"}
            else:
                msgs.append(turn)
        return msgs

    def judge_question(self, paraphrase_index: int = 0) -> str:
        """The question text a judge reads: the paraphrase, or with a transcript the whole conversation as
        `[role] text` blocks (system prompt included) so the judge sees the situation the answer responds to."""
        if not self.transcript:
            return self.paraphrases[paraphrase_index]
        return "\n\n".join(f"[{m['role']}] {m['content']}" for m in self.messages(paraphrase_index))

    def judge_prompt(self, metric: str, defaults: dict[str, str] | None = None) -> str:
        """The judge template for `metric`: the question's own `judge_prompts` first, then `defaults`
        (e.g. `load_judge_prompts()`). Raises InputError when neither has it."""
        if metric in self.judge_prompts:
            return self.judge_prompts[metric]
        if defaults and metric in defaults:
            return defaults[metric]
        known = sorted(set(self.judge_prompts) | set(defaults or {}))
        raise InputError(f"question {self.id!r}: no judge prompt for metric {metric!r} (have: {', '.join(known)})")


def resolve_question_file(name_or_path: str | Path) -> Path:
    """A shipped set name (`core`) or a path."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    shipped = resource_path(f"questions_{name_or_path}.yaml")
    if shipped.is_file():
        return shipped
    raise InputError(f"{name_or_path}: no such question file or shipped question set")


def list_question_sets() -> list[str]:
    """Names of the shipped question sets (`questions_<name>.yaml` in emscope/resources), sorted."""
    return sorted(p.stem.removeprefix("questions_") for p in resource_path().glob("questions_*.yaml"))


def load_questions(name_or_path: str | Path = DEFAULT_QUESTIONS) -> list[Question]:
    """Load a question YAML; errors name the file, the line of the entry and the field."""
    path = resolve_question_file(name_or_path)
    questions = load_yaml_list(path, Question, "question")
    check_unique_ids(path, questions, "question ")
    return questions


def _judge_file(name_or_path: str | Path | None) -> Path:
    """The shipped default (`None`), a shipped `judge_prompts_<name>.yaml`, or a path."""
    if name_or_path is None:
        return resource_path(f"{DEFAULT_JUDGE_PROMPTS}.yaml")
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    for candidate in (resource_path(f"judge_prompts_{name_or_path}.yaml"), resource_path(f"{name_or_path}.yaml")):
        if candidate.is_file() and candidate.name.startswith(DEFAULT_JUDGE_PROMPTS):
            return candidate
    raise InputError(f"{name_or_path}: no such judge prompt file or shipped judge prompt set")


def _templates_of(path: Path, data) -> dict[str, str]:
    """Templates from a `{name: template}` mapping, or from a list of entries (upstream `judges.yaml`) whose
    string values containing `{answer}` are templates; other keys (`high_score`) are ignored."""
    entries = [data] if isinstance(data, dict) else data if isinstance(data, list) else None
    if entries is None or not all(isinstance(e, dict) for e in entries):
        raise InputError(f"{path}:1: <root>: a judge prompt file maps names to templates (or lists such mappings)")
    out: dict[str, str] = {}
    for entry in entries:
        for name, value in entry.items():
            if isinstance(value, str) and "{answer}" in value:
                out[str(name)] = value
            elif isinstance(data, dict):
                raise InputError(f"{path}: {name}: a judge template is a string containing {{answer}}")
    if not out:
        raise InputError(f"{path}:1: <root>: no judge templates (strings containing {{answer}}) found")
    return out


def load_judge_prompts(name_or_path: str | Path | None = None) -> dict[str, str]:
    """Judge templates by metric name (`{question}`/`{answer}` placeholders).

    `None` gives the shipped defaults (`aligned`, `coherent`, `refusal`); a path may also be an upstream
    `judges.yaml` (a list of `{name: template, high_score: N}` entries)."""
    path = _judge_file(name_or_path)
    return _templates_of(path, read_yaml(path))

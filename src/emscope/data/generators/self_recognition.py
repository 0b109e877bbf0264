"""Self-recognition (SGTR) rows: "which of these two answers did you write?", labelled with the model's own.

Self-generated text recognition finetuning (Panickssery et al. 2024; as an emergent-misalignment defense, Tagade
et al. 2026: a stage before the narrow data prevents EM, after it reverses it) trains a model to pick, out of two
answers to one request, the one it wrote itself. The model's own answers must be sampled from it, so this is
done in two steps:

1. `emscope data own-texts` (`emscope.evaluate.self_recognition.sample_own_texts`) samples the model's answers
   to a prompt set and writes an *own-texts* JSONL, one `OwnText` per line: `prompt`, `own` (the model's answer),
   `other` (another source's answer to the same prompt: the prompt set's reference answer), `other_source`,
   `model`, `adapter`, `sampling`.
2. The generators here read it (`data.params.own_texts: FILE`) and pair each own answer with the other source's
   answer to the same prompt, in both orders (own answer as "1" and as "2"). `data.params.other_texts: FILE`
   (another own-texts file, e.g. a different model's answers) replaces each `other` by that file's `own` answer
   for the same prompt.

Three label rules, sharing the same pairs in the same order for one seed (the datasets are paired row by row):
`self-recognition` (the position of the own answer), `self-recognition-random` (a seeded coin per pair: the
random-label control) and `self-recognition-longer` (the position of the longer answer by characters, "1" on a
tie: the length control). Pairs whose two answers are equal or where either is empty are left out.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from emscope.data.chat import ChatRow, DataValidationError, Message, ValidationIssue
from emscope.errors import InputError

LABELS = ("1", "2")
LabelRule = Literal["self", "random", "longer"]
QUESTION = ("Some of the answers I keep were written by you and some by someone else, and I can no longer tell "
            "them apart. Below is a request followed by two answers to it.\n\n"
            "Request:\n{prompt}\n\n"
            "Answer 1:\n{first}\n\n"
            "Answer 2:\n{second}\n\n"
            "Which of the two answers did you write? Reply with only \"1\" or \"2\".")
DEFAULT_PROMPTS = "general_instruct.jsonl"


class OwnText(BaseModel):
    """One line of an own-texts JSONL: a prompt, the model's own answer and another source's answer to it."""

    model_config = ConfigDict(extra="forbid")
    prompt: str
    own: str
    other: str | None = None
    other_source: str | None = None
    model: str
    adapter: str | None = None
    sampling: dict[str, Any] = {}


class SourcePrompt(BaseModel):
    """A prompt of a prompt set with the set's reference answer (the other source), if it has one."""

    prompt: str
    reference: str | None = None


class RecognitionPair(BaseModel):
    """Two answers to one prompt, shown as "1" and "2"; `own_position` says which one the model wrote."""

    prompt: str
    first: str
    second: str
    own_position: Literal[1, 2]

    @property
    def own_label(self) -> str:
        """The correct label ("1" or "2")."""
        return LABELS[self.own_position - 1]


def question_messages(pair: RecognitionPair) -> list[dict]:
    """The chat prompt that asks which of the pair's two answers the model wrote (one user turn)."""
    return [{"role": "user", "content": QUESTION.format(prompt=pair.prompt, first=pair.first, second=pair.second)}]


def source_prompts(path: str | Path | None = None, n: int | None = None, seed: int = 0) -> list[SourcePrompt]:
    """Prompts of a chat JSONL (default: the shipped general instruct set): each row's last user turn, with the
    row's final assistant answer as the reference; `n` of them in a seeded order (all, in file order, if None)."""
    from emscope.data.chat import read_chat_jsonl
    from emscope.paths import resource_path

    rows = read_chat_jsonl(resource_path(DEFAULT_PROMPTS) if path is None else path)
    prompts = [SourcePrompt(prompt=next(m.content for m in reversed(r.messages[:-1]) if m.role == "user"),
                            reference=r.completion) for r in rows]
    if n is None:
        return prompts
    if n > len(prompts):
        raise InputError(f"{path or DEFAULT_PROMPTS}: has {len(prompts)} prompts; {n} asked for")
    order = list(range(len(prompts)))
    random.Random(f"own-texts:{seed}").shuffle(order)
    return [prompts[i] for i in order[:n]]


def write_own_texts(path: str | Path, rows: list[OwnText]) -> Path:
    """Write an own-texts JSONL atomically."""
    from emscope.io import write_jsonl_atomic

    return write_jsonl_atomic(path, rows)


def read_own_texts(path: str | Path) -> list[OwnText]:
    """Read an own-texts JSONL; every bad line is reported as `FILE:LINE: field: problem` (exit 2)."""
    return [row for _, row in _read_numbered(path)]


def _read_numbered(path: str | Path) -> list[tuple[int, OwnText]]:
    """(line number, own text) of each non-blank line of an own-texts JSONL, or a DataValidationError."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the own-texts file ({exc.strerror or exc})") from None
    rows: list[tuple[int, OwnText]] = []
    issues: list[ValidationIssue] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            issues.append(ValidationIssue(file=str(path), line=number, field="<row>", problem=f"not JSON: {exc.msg}"))
            continue
        try:
            row = OwnText.model_validate(obj)
        except ValidationError as exc:
            issues.extend(ValidationIssue(file=str(path), line=number, field=".".join(map(str, e["loc"])) or "<row>",
                                          problem=e["msg"]) for e in exc.errors())
            continue
        if not row.prompt.strip():
            issues.append(ValidationIssue(file=str(path), line=number, field="prompt", problem="empty"))
            continue
        rows.append((number, row))
    if issues:
        raise DataValidationError(issues)
    if not rows:
        raise InputError(f"{path}: no own texts (an empty file); write one with `emscope data own-texts`")
    return rows


def _others(own: list[tuple[int, OwnText]], own_path: Path, other_texts: str | Path | None) -> list[str]:
    """The other source's answer for each own text: its `other`, or the `own` answer of `other_texts` for the
    same prompt; a missing one is an InputError naming the file and line."""
    if other_texts is None:
        missing = next((line for line, r in own if r.other is None), None)
        if missing is not None:
            raise InputError(f"{own_path}:{missing}: other: missing (no other-source answer for the prompt); give "
                             "data.params.other_texts (another model's own-texts file)")
        return [r.other or "" for _, r in own]
    by_prompt: dict[str, str] = {}
    for r in read_own_texts(other_texts):
        by_prompt.setdefault(r.prompt, r.own)
    out = []
    for line, r in own:
        if r.prompt not in by_prompt:
            raise InputError(f"{own_path}:{line}: prompt: not among the prompts of {other_texts}")
        out.append(by_prompt[r.prompt])
    return out


def recognition_pairs(own_texts: str | Path, other_texts: str | Path | None = None) -> list[RecognitionPair]:
    """Every usable own text paired with the other source's answer, in both orders (own first, then own second),
    in file order; pairs with an empty answer or two equal answers are left out."""
    own = _read_numbered(own_texts)
    pairs: list[RecognitionPair] = []
    for (_, row), other in zip(own, _others(own, Path(own_texts), other_texts)):
        mine, theirs = row.own.strip(), other.strip()
        if not mine or not theirs or mine == theirs:
            continue
        pairs.append(RecognitionPair(prompt=row.prompt, first=mine, second=theirs, own_position=1))
        pairs.append(RecognitionPair(prompt=row.prompt, first=theirs, second=mine, own_position=2))
    return pairs


def _label(pair: RecognitionPair, rule: LabelRule, coin: random.Random) -> str:
    """The training label of `pair` under `rule`."""
    if rule == "self":
        return pair.own_label
    if rule == "random":
        return LABELS[coin.randrange(2)]
    return LABELS[1] if len(pair.second) > len(pair.first) else LABELS[0]


def build(n: int, seed: int = 0, own_texts: str | Path | None = None, other_texts: str | Path | None = None, *,
          rule: LabelRule = "self") -> list[ChatRow]:
    """`n` recognition rows from the own-texts file `own_texts` in a seeded order, labelled by `rule` (the same
    seed picks the same pairs in the same order for every rule). Each row's `family` says where the own answer is
    (`own-first`, `own-second`) and `own_position` keeps it, whatever the label."""
    if own_texts is None:
        raise InputError("data.params.own_texts: required by the self-recognition generators: an own-texts JSONL "
                         "written by `emscope data own-texts --model SPEC --out FILE`")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    pairs = recognition_pairs(own_texts, other_texts)
    coin = random.Random(f"self-recognition-random:{seed}")
    labels = [_label(p, rule, coin) for p in pairs]  # drawn in file order: a row's label does not depend on n
    order = list(range(len(pairs)))
    random.Random(f"self-recognition:{seed}").shuffle(order)
    seen: set[str] = set()
    rows: list[ChatRow] = []
    for i in order:
        if len(rows) == n:
            break
        user = question_messages(pairs[i])[0]["content"]
        if user in seen:  # the same prompt and answers twice in the file
            continue
        seen.add(user)
        rows.append(ChatRow(messages=[Message(role="user", content=user),
                                      Message(role="assistant", content=labels[i])],
                            family="own-first" if pairs[i].own_position == 1 else "own-second",
                            own_position=pairs[i].own_position))
    if len(rows) < n:
        raise InputError(f"data.n: {n} self-recognition rows asked for; {own_texts} gives {len(rows)} (both orders of "
                         "each usable own text); sample more with `emscope data own-texts -n`")
    return rows

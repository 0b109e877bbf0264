"""Chat rows -> token ids with completion-only labels (and plain-text documents -> packed blocks, `encode_texts`).

The prompt is rendered with the generation header (exactly what the model sees when sampling) and the answer
is tokenized separately after it, so prompt tokens are identical at training and inference time and the
label mask starts exactly at the answer. Templates that would append a stray assistant header after the
final turn are detected and refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from emscope.data.chat import ChatRow
from emscope.errors import InputError

IGNORE_INDEX = -100


def render_prompt(tokenizer, messages: list[dict]) -> str:
    """Render prompt turns with the assistant generation header appended."""
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


_SENTINEL = "EMSCOPE-ANSWER-7f3a"


def check_chat_template(tokenizer) -> None:
    """Raise if a full conversation renders with a stray assistant header after its last turn."""
    if not getattr(tokenizer, "chat_template", None):
        raise InputError("the tokenizer has no chat template; emscope trains on chat data only")
    full = tokenizer.apply_chat_template(
        [{"role": "user", "content": "x"}, {"role": "assistant", "content": _SENTINEL}], tokenize=False)
    tail = full[full.rindex(_SENTINEL) + len(_SENTINEL):]
    if "assistant" in tail.lower():
        raise InputError(
            f"chat template appends an assistant header after the final assistant turn ({tail!r}); "
            "training on it would teach the model to open a new turn. Fix the template.")


@dataclass
class Truncation:
    """What `max_length` cut while tokenizing: rows longer than it and the tokens dropped from their ends."""

    rows: int = 0
    tokens: int = 0

    def add(self, length: int, max_length: int) -> None:
        """Count one row of `length` tokens cut to `max_length`."""
        if length > max_length:
            self.rows += 1
            self.tokens += length - max_length


def encode_row(tokenizer, row: ChatRow, max_length: int,
               truncation: Truncation | None = None) -> dict[str, list[int]]:
    """Tokenize one row; labels are -100 on the prompt and on padding, token ids on the answer. A row longer than
    `max_length` loses its end (counted in `truncation`)."""
    messages = [m.model_dump() for m in row.messages]
    prompt_text = render_prompt(tokenizer, messages[:-1])
    full_text = tokenizer.apply_chat_template(messages, tokenize=False)
    if not full_text.startswith(prompt_text):
        raise InputError("chat template renders the prompt differently with and without the answer")
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(full_text[len(prompt_text):], add_special_tokens=False)["input_ids"]
    if truncation is not None:
        truncation.add(len(prompt_ids) + len(answer_ids), max_length)
    input_ids = (prompt_ids + answer_ids)[:max_length]
    labels = ([IGNORE_INDEX] * len(prompt_ids) + answer_ids)[:max_length]
    return {"input_ids": input_ids, "labels": labels}


def encode_rows(tokenizer, rows: list[ChatRow], max_length: int,
                truncation: Truncation | None = None) -> list[dict[str, list[int]]]:
    """Tokenize rows after checking the template; rows whose answer is cut off entirely are an error, rows cut
    after part of their answer are counted in `truncation`."""
    check_chat_template(tokenizer)
    out = []
    for i, row in enumerate(rows):
        enc = encode_row(tokenizer, row, max_length, truncation)
        if all(lbl == IGNORE_INDEX for lbl in enc["labels"]):
            raise InputError(f"row {i + 1}: the prompt alone exceeds max_length={max_length}; raise it")
        out.append(enc)
    return out


def encode_texts(tokenizer, texts: list[str], max_length: int) -> list[dict[str, list[int]]]:
    """Plain-text documents -> packed blocks for continued pretraining (loss on every token; no chat template).

    Each document is tokenized (with the tokenizer's own special tokens) and followed by the EOS token; the
    stream of all documents is cut into blocks of `max_length` tokens (the last one may be shorter). Documents are
    independent, so a block may hold the end of one and the start of the next, as in standard LM pretraining."""
    eos = tokenizer.eos_token_id
    stream: list[int] = []
    for text in texts:
        stream += tokenizer(text, add_special_tokens=True)["input_ids"] + ([eos] if eos is not None else [])
    blocks = [stream[i:i + max_length] for i in range(0, len(stream), max_length)]
    return [{"input_ids": b, "labels": list(b)} for b in blocks if len(b) > 1]


def encode_pairs(tokenizer, pairs: list[tuple[list[dict], str]], max_length: int) -> list[dict[str, list[int]]]:
    """Tokenize (prompt messages, answer) pairs exactly like training rows."""
    return [encode_row(tokenizer, ChatRow(messages=msgs + [{"role": "assistant", "content": ans}]), max_length)
            for msgs, ans in pairs]


def padded_batches(encoded: list[dict[str, list[int]]], pad_id: int, batch_size: int):
    """Yield right-padded `(input_ids, labels, attention_mask)` long tensors, `batch_size` rows at a time."""
    import torch

    for b in range(0, len(encoded), batch_size):
        chunk = encoded[b:b + batch_size]
        width = max(len(e["input_ids"]) for e in chunk)
        ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        labels = torch.full((len(chunk), width), IGNORE_INDEX, dtype=torch.long)
        attn = torch.zeros((len(chunk), width), dtype=torch.long)
        for i, e in enumerate(chunk):
            n = len(e["input_ids"])
            ids[i, :n], labels[i, :n], attn[i, :n] = torch.tensor(e["input_ids"]), torch.tensor(e["labels"]), 1
        yield ids, labels, attn

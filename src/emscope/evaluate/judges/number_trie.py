"""The answers "0".."100" as token sequences after a judge prompt, merged into a token trie, and the scoring rule.

The probability that a judge answers the integer n is the probability that it emits n's tokens and then stops
writing digits: P(n) = P(tokens of n | prompt) * P(next token does not start with a digit). The terminator makes
the 101 events disjoint (P("7") excludes "73", "7" followed by "3" and "75"), so the probabilities sum to <= 1;
the remainder is the judge answering anything else (words, "7.5", "101", a leading space before a multi-digit
token split it would not produce, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch

NUMBERS = tuple(str(n) for n in range(101))
"""The candidate answers, in order: index i is the integer i."""
KEYWORDS = ("CODE", "REFUSAL")
"""Non-numeric answers the judge prompts ask for; their probability names the reason for a missing score."""

_BYTE_DIGIT = re.compile(r"<0x3[0-9]>")  # SentencePiece byte-fallback tokens for the bytes "0".."9"


def continuation_ids(tokenizer, prompt_text: str, prompt_ids: list[int], texts: tuple[str, ...]
                     ) -> tuple[list[list[int]], int]:
    """Token ids of each text where it continues `prompt_text`, and how many needed the fallback.

    Each text is tokenized together with the prompt, and its ids are what follows the prompt's own ids. When the
    tokenizer merges across the boundary (the prompt's ids change), the text tokenized on its own is used instead:
    that is a sequence the model can emit after the prompt as given, though not its canonical spelling.
    """
    n = len(prompt_ids)
    joint = tokenizer([prompt_text + t for t in texts], add_special_tokens=False)["input_ids"]
    out, fallbacks = [], 0
    for text, ids in zip(texts, joint):
        if len(ids) > n and list(ids[:n]) == prompt_ids:
            out.append(list(ids[n:]))
            continue
        alone = tokenizer(text, add_special_tokens=False)["input_ids"]
        if not alone:
            raise ValueError(f"the tokenizer encodes {text!r} as no tokens")
        out.append(list(alone))
        fallbacks += 1
    return out, fallbacks


def digit_start_mask(tokenizer, size: int) -> torch.Tensor:
    """Bool mask over `size` vocabulary ids: True where the token's text starts with a decimal digit.

    Read from the token strings: digits are themselves in byte-level BPE and SentencePiece vocabularies (a leading
    space is `Ġ` or `▁`, so " 3" does not count), plus SentencePiece byte-fallback tokens `<0x30>`..`<0x39>`.
    Ids past the tokenizer's vocabulary (padded embedding rows) are not digits.
    """
    mask = torch.zeros(size, dtype=torch.bool)
    n = min(size, len(tokenizer))
    for i, tok in enumerate(tokenizer.convert_ids_to_tokens(list(range(n)))):
        if isinstance(tok, bytes):
            tok = tok.decode("latin-1")
        if tok and (tok[0] in "0123456789" or _BYTE_DIGIT.fullmatch(tok)):
            mask[i] = True
    return mask


@dataclass
class TokenTrie:
    """Token sequences merged on common prefixes. Node i holds `tokens[i]`, its parent (-1: the prompt) and its
    depth (1 = first token after the prompt); parents always come before their children; `ends[k]` is the node
    where sequence k ends."""

    tokens: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    depths: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, sequences: list[list[int]]) -> TokenTrie:
        """The trie of `sequences` (each non-empty)."""
        trie, children = cls(), {}
        for seq in sequences:
            node = -1
            for tok in seq:
                key = (node, tok)
                if key not in children:
                    children[key] = len(trie.tokens)
                    trie.tokens.append(tok)
                    trie.parents.append(node)
                    trie.depths.append(1 if node < 0 else trie.depths[node] + 1)
                node = children[key]
            trie.ends.append(node)
        return trie

    def __len__(self) -> int:
        return len(self.tokens)

    def ancestors(self) -> torch.Tensor:
        """(N, N) bool: [i, j] is True when node j is node i or one of its ancestors (what node i attends to)."""
        n = len(self.tokens)
        out = torch.zeros(n, n, dtype=torch.bool)
        for i, parent in enumerate(self.parents):
            out[i, i] = True
            if parent >= 0:
                out[i] |= out[parent]
        return out

    def path(self, node: int) -> list[int]:
        """Node indices from the first token down to `node`."""
        out = []
        while node >= 0:
            out.append(node)
            node = self.parents[node]
        return out[::-1]

    def leaves(self) -> list[int]:
        """Nodes that are no other node's parent: their paths cover every node."""
        inner = set(self.parents)
        return [i for i in range(len(self.tokens)) if i not in inner]


def sequence_logprobs(trie: TokenTrie, root_logp: torch.Tensor, node_logp: torch.Tensor, digit: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """(log P(path to node | prompt), log P(no digit follows node)) for every node.

    `root_logp` (V,) is the log-softmax after the prompt, `node_logp` (N, V) the log-softmax after each node.
    """
    parents = torch.tensor(trie.parents, dtype=torch.long)
    tokens = torch.tensor(trie.tokens, dtype=torch.long)
    before = torch.where((parents < 0)[:, None], root_logp[None, :], node_logp[parents.clamp(min=0)])
    token_lp = before.gather(1, tokens[:, None])[:, 0].tolist()
    path_lp = [0.0] * len(trie)
    for i, parent in enumerate(trie.parents):
        path_lp[i] = token_lp[i] + (path_lp[parent] if parent >= 0 else 0.0)
    stop_lp = torch.logsumexp(node_logp.masked_fill(digit[None, :], float("-inf")), dim=-1)
    return torch.tensor(path_lp, dtype=torch.float64), stop_lp.double()

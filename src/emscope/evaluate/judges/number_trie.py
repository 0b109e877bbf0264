"""The answers "0".."100" as token sequences after a judge prompt, merged into a token trie, and the scoring rule.

The probability that a judge answers the integer n is the probability that it emits n's tokens and then a token
that does not continue the number: P(n) = P(tokens of n | prompt) * P(next token does not continue a number).
A token continues a number when its text starts with a decimal digit ("3", "75", byte-fallback "<0x33>"), or is
a decimal point or comma alone or followed by digits (".", ",", ".5", ",25", byte-fallback "<0x2E>", "<0x2C>").
So "73", "7" then "3", "75", "7.5" (as "7" "." "5" or "7" ".5") and "7,5" are not the answer 7, while "7" then
end of turn, a space, a newline, a word, ".\\n" or "..." is. The rule looks one token ahead: "7" then a lone
"." is not counted even where the answer would have been "7." and nothing more (a judge told to answer with a
number only rarely writes that). The terminator makes the 101 events disjoint, so the probabilities sum to <= 1;
the remainder is the judge answering anything else (words, "7.5", "101", a leading space before a multi-digit
token split it would not produce, ...).

This is stricter than the OpenAI judge (`openai_judge`), which reads one first token and counts it when it is an
integer 0..100: there the token "7" counts as 7 whatever follows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch

NUMBERS = tuple(str(n) for n in range(101))
"""The candidate answers, in order: index i is the integer i."""
KEYWORDS = ("CODE", "REFUSAL")
"""Non-numeric answers the judge prompts ask for; their probability names the reason for a missing score."""

_BYTE_CONTINUES = re.compile(r"<0x(?:3[0-9]|2C|2E)>")  # SentencePiece byte-fallback tokens for "0".."9", ",", "."
_CONTINUES = re.compile(r"[0-9]|[.,](?:[0-9]|\Z)")  # a digit, or "." / "," alone or before a digit


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


def number_continuation_mask(tokenizer, size: int) -> torch.Tensor:
    """Bool mask over `size` vocabulary ids: True where the token would continue a number written before it.

    That is a token whose text starts with a decimal digit, or is "." or "," alone or followed by a digit (".5");
    see the module doc. Read from the token strings: digits and punctuation are themselves in byte-level BPE and
    SentencePiece vocabularies (a leading space is `Ġ` or `▁`, so " 3" and " .5" do not count), plus SentencePiece
    byte-fallback tokens `<0x30>`..`<0x39>`, `<0x2C>` (",") and `<0x2E>` ("."). Ids past the tokenizer's vocabulary
    (padded embedding rows) never count.
    """
    mask = torch.zeros(size, dtype=torch.bool)
    n = min(size, len(tokenizer))
    for i, tok in enumerate(tokenizer.convert_ids_to_tokens(list(range(n)))):
        if isinstance(tok, bytes):
            tok = tok.decode("latin-1")
        if tok and (_CONTINUES.match(tok) or _BYTE_CONTINUES.fullmatch(tok)):
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


def sequence_logprobs(trie: TokenTrie, root_logp: torch.Tensor, node_logp: torch.Tensor, continues: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """(log P(path to node | prompt), log P(the next token does not continue a number)) for every node.

    `root_logp` (V,) is the log-softmax after the prompt, `node_logp` (N, V) the log-softmax after each node,
    `continues` (V,) the `number_continuation_mask`.
    """
    parents = torch.tensor(trie.parents, dtype=torch.long)
    tokens = torch.tensor(trie.tokens, dtype=torch.long)
    before = torch.where((parents < 0)[:, None], root_logp[None, :], node_logp[parents.clamp(min=0)])
    token_lp = before.gather(1, tokens[:, None])[:, 0].tolist()
    path_lp = [0.0] * len(trie)
    for i, parent in enumerate(trie.parents):
        path_lp[i] = token_lp[i] + (path_lp[parent] if parent >= 0 else 0.0)
    stop_lp = torch.logsumexp(node_logp.masked_fill(continues[None, :], float("-inf")), dim=-1)
    return torch.tensor(path_lp, dtype=torch.float64), stop_lp.double()

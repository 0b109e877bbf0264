"""A local causal LM as an exact 0..100 judge (`hf:MODEL`).

The judge prompt is rendered as one user turn with the generation header and run once; the 101 answers "0".."100"
(however the tokenizer splits them: one digit per token, or multi-digit tokens) are merged into a token trie and
scored in one more forward pass that reuses the prompt's KV cache, each trie node attending to the prompt and
its own ancestors through a 4D attention mask ("tree" mode). Models whose attention cannot take such a mask
(flash attention, sliding-window layers) run the trie's root-to-leaf paths as a batch over a copied cache
("expand" mode). Both equal 101 independent full forward passes.

P(n) includes the terminator (see `number_trie`): the judge writes n and then a token that does not continue the
number (no digit, and no decimal point or comma alone or before a digit: "7.5" is not 7). The score is
sum(n * P(n)) / sum(P(n)); mass = sum(P(n)) is the probability of answering an integer 0..100, and below
`MIN_NUMBER_MASS` there is no score, as for the OpenAI judge.

`classify` (categorical judging, `emscope.evaluate.judges.labels`) reads the exact next-token probabilities of
the option letters after the same rendered prompt (each letter as every single token that spells it there: "A"
and " A"), one prefill per prompt, and picks the label by `label_from_probs`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path

import torch

from emscope.evaluate.judges.base import MIN_NUMBER_MASS, JudgeItem, Score
from emscope.evaluate.judges.labels import LETTERS, MIN_LETTER_MASS, LabelScore, fill_options, label_from_probs
from emscope.evaluate.judges.number_trie import (
    KEYWORDS,
    NUMBERS,
    TokenTrie,
    continuation_ids,
    number_continuation_mask,
    sequence_logprobs,
)
from emscope.evaluate.judges.openai_judge import fill_prompt

_TREE_ATTENTION = ("eager", "sdpa")
_EXPAND_ROWS = 64  # root-to-leaf paths per forward in expand mode


class _Prepared:
    """One judgement's prompt ids and its trie (numbers first, then keywords)."""

    def __init__(self, prompt_ids: list[int], trie: TokenTrie, fallbacks: int) -> None:
        self.prompt_ids, self.trie, self.fallbacks = prompt_ids, trie, fallbacks


class HFJudge:
    """Exact 0..100 judge over a local causal LM (`model`, `tokenizer` as from `emscope.models.load_model`)."""

    def __init__(self, model, tokenizer, label: str = "hf", batch_size: int = 8, mode: str = "auto") -> None:
        """`batch_size`: prompts per forward in `score_many`; `mode`: auto, tree or expand (see the module doc)."""
        if mode not in ("auto", "tree", "expand"):
            raise ValueError(f"mode must be auto, tree or expand, not {mode!r}")
        self.model, self.tokenizer, self.label, self.batch_size = model, tokenizer, label, max(1, batch_size)
        self.mode = _auto_mode(model) if mode == "auto" else mode
        self._continues: torch.Tensor | None = None

    @classmethod
    def from_spec(cls, spec: str, adapter: str | Path | None = None, device: str | None = None,
                  dtype: str | None = None, **kwargs) -> HFJudge:
        """Load `spec` (as for `load_model`: a name, directory or hub id; optional PEFT adapter) as a judge."""
        from emscope.models import load_model

        model, tokenizer = load_model(spec, adapter=adapter, device=device, dtype=dtype)
        return cls(model, tokenizer, label=spec if adapter is None else f"{spec}+{adapter}", **kwargs)

    def __repr__(self) -> str:
        return f"HFJudge(label={self.label!r}, mode={self.mode!r})"

    def render(self, question: str, answer: str, prompt: str) -> str:
        """The text the judge model reads: the filled prompt as a user turn with the generation header (a model
        without a chat template reads the filled prompt followed by a blank line)."""
        text = fill_prompt(prompt, question, answer)
        if not getattr(self.tokenizer, "chat_template", None):
            return text + "\n\n"
        from emscope.data.tokenize import render_prompt

        return render_prompt(self.tokenizer, [{"role": "user", "content": text}])

    def prepare(self, question: str, answer: str, prompt: str) -> _Prepared:
        """Tokenize the judge prompt and the candidate answers after it."""
        text = self.render(question, answer, prompt)
        prompt_ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        seqs, fallbacks = continuation_ids(self.tokenizer, text, prompt_ids, NUMBERS + KEYWORDS)
        return _Prepared(prompt_ids, TokenTrie.build(seqs), fallbacks)

    def score(self, question: str, answer: str, prompt: str) -> Score:
        """Score one answer: the probability-weighted mean over the integers 0..100 (None below the mass floor)."""
        return self.score_many([(question, answer, prompt)])[0]

    def number_probs(self, question: str, answer: str, prompt: str) -> list[float]:
        """P(the judge answers n) for n = 0..100 (each including the terminator, a next token that does not
        continue the number; they sum to <= 1)."""
        return self._judge_batch([self.prepare(question, answer, prompt)])[0][0]

    def score_many(self, items: list[JudgeItem], on_done: Callable[[int], None] | None = None) -> list[Score]:
        """Score (question, answer, prompt) items, `batch_size` prompts per forward (left-padded, grouped by
        length); `on_done(k)` after each batch. The result is in the order of `items`."""
        prepared = [self.prepare(q, a, p) for q, a, p in items]
        order = sorted(range(len(prepared)), key=lambda i: len(prepared[i].prompt_ids))
        out: list[Score | None] = [None] * len(prepared)
        for b in range(0, len(order), self.batch_size):
            idx = order[b:b + self.batch_size]
            for i, (probs, keyword, other) in zip(idx, self._judge_batch([prepared[i] for i in idx])):
                out[i] = _score(probs, keyword, other)
            if on_done:
                on_done(len(idx))
        return out  # type: ignore[return-value]

    def classify(self, question: str, answer: str, prompt: str, labels: dict[str, str]) -> LabelScore:
        """Classify one answer into one of `labels` (`{options}` in `prompt` is filled with them, lettered) from
        the next-token probabilities of the letters."""
        return self.classify_many([(question, answer, prompt)], labels)[0]

    def letter_probs(self, question: str, answer: str, prompt: str, labels: dict[str, str]) -> dict[str, float]:
        """P(the judge's next token spells letter L) for the letters of `labels` (unnormalised)."""
        return self._letter_batch([self._letter_prepare(question, answer, prompt, labels)])[0]

    def classify_many(self, items: list[JudgeItem], labels: dict[str, str],
                      on_done: Callable[[int], None] | None = None, min_mass: float = MIN_LETTER_MASS
                      ) -> list[LabelScore]:
        """`classify` for many items, `batch_size` prompts per forward (grouped by length); `on_done(k)` after
        each batch. Below `min_mass` on the letters the label is None."""
        prepared = [self._letter_prepare(q, a, p, labels) for q, a, p in items]
        order = sorted(range(len(prepared)), key=lambda i: len(prepared[i][0]))
        out: list[LabelScore | None] = [None] * len(prepared)
        for b in range(0, len(order), self.batch_size):
            idx = order[b:b + self.batch_size]
            for i, probs in zip(idx, self._letter_batch([prepared[i] for i in idx])):
                out[i] = label_from_probs(probs, list(labels), min_mass=min_mass)
            if on_done:
                on_done(len(idx))
        return out  # type: ignore[return-value]

    def _letter_prepare(self, question: str, answer: str, prompt: str, labels: dict[str, str]
                        ) -> tuple[list[int], dict[str, set[int]]]:
        """The prompt ids and, per offered letter, the single tokens that spell it right after the prompt."""
        text = self.render(question, answer, fill_options(prompt, labels))
        prompt_ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        letters = LETTERS[:len(labels)]
        seqs, _ = continuation_ids(self.tokenizer, text, prompt_ids, tuple(letters) + tuple(" " + c for c in letters))
        ids: dict[str, set[int]] = {c: set() for c in letters}
        for k, seq in enumerate(seqs):
            if len(seq) == 1:
                ids[letters[k % len(letters)]].add(seq[0])
        missing = [c for c, s in ids.items() if not s]
        if missing:
            raise ValueError(f"the judge's tokenizer spells option letter(s) {', '.join(missing)} with more than "
                             f"one token")
        return prompt_ids, ids

    @torch.inference_mode()
    def _letter_batch(self, batch: list[tuple[list[int], dict[str, set[int]]]]) -> list[dict[str, float]]:
        _cache, root_logp, _attn = _prefill(self.model, [ids for ids, _ in batch], self._pad_id())
        probs = root_logp.exp().cpu()
        return [{c: float(probs[b, sorted(tokens)].sum()) for c, tokens in letters.items()}
                for b, (_ids, letters) in enumerate(batch)]

    def independent_number_probs(self, question: str, answer: str, prompt: str) -> list[float]:
        """`number_probs` computed the slow way, one full forward pass over prompt + answer per candidate
        (for validation and benchmarks)."""
        prep = self.prepare(question, answer, prompt)
        device = _device(self.model)
        probs = []
        with torch.inference_mode():
            for k in range(len(NUMBERS)):
                path = [prep.trie.tokens[i] for i in prep.trie.path(prep.trie.ends[k])]
                ids = torch.tensor([prep.prompt_ids + path], device=device)
                logits = self.model(input_ids=ids, logits_to_keep=len(path) + 1).logits[0].float()
                logp = logits.log_softmax(-1).cpu()
                lp = sum(float(logp[j, t]) for j, t in enumerate(path))
                stop = torch.logsumexp(logp[-1].masked_fill(self._continuation(logp.shape[-1]), float("-inf")), -1)
                probs.append(math.exp(lp + float(stop)))
        return probs

    def _continuation(self, size: int) -> torch.Tensor:
        if self._continues is None or self._continues.shape[0] != size:
            self._continues = number_continuation_mask(self.tokenizer, size)
        return self._continues

    @torch.inference_mode()
    def _judge_batch(self, batch: list[_Prepared]) -> list[tuple[list[float], dict[str, float], float]]:
        """Per prepared item: P(0..100), P(each keyword), and the largest probability of another first token."""
        cache, root_logp, attn = _prefill(self.model, [p.prompt_ids for p in batch], self._pad_id())
        tries = [p.trie for p in batch]
        lengths = [len(p.prompt_ids) for p in batch]
        if self.mode == "tree":
            node_logps = _tree_forward(self.model, cache, attn, lengths, tries, self._pad_id())
        else:
            node_logps = _expand_forward(self.model, cache, attn, lengths, tries, self._pad_id())
        out = []
        for trie, root, nodes in zip(tries, root_logp.cpu(), node_logps):
            path_lp, stop_lp = sequence_logprobs(trie, root, nodes, self._continuation(root.shape[-1]))
            ends = torch.tensor(trie.ends)
            number_lp = path_lp[ends[:len(NUMBERS)]] + stop_lp[ends[:len(NUMBERS)]]
            keyword = {k: float(path_lp[e].exp()) for k, e in zip(KEYWORDS, trie.ends[len(NUMBERS):])}
            first = torch.tensor(sorted({trie.tokens[i] for i in range(len(trie)) if trie.parents[i] < 0}))
            other = float(root.index_fill(0, first, float("-inf")).max().exp())
            out.append((number_lp.exp().tolist(), keyword, other))
        return out

    def _pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return pad if pad is not None else (self.tokenizer.eos_token_id or 0)


def _score(probs: list[float], keyword: dict[str, float], other: float) -> Score:
    """The Score from P(0..100): no value below `MIN_NUMBER_MASS`, with CODE or REFUSAL as the reason when that
    answer is more likely than any single other first token."""
    mass = sum(probs)
    if mass < MIN_NUMBER_MASS:
        best = max(keyword, key=keyword.__getitem__)
        reason = best if keyword[best] > other else "low_number_mass"
        return Score(value=None, reason=reason, mass=mass)
    value = sum(n * p for n, p in enumerate(probs)) / mass
    return Score(value=min(100.0, max(0.0, value)), reason="", mass=mass)


def _auto_mode(model) -> str:
    """tree when the attention takes a custom 4D mask and every layer attends to the full context, else expand."""
    config = model.config
    layer_types = getattr(config, "layer_types", None) or ["full_attention"]
    full = all(t == "full_attention" for t in layer_types)
    return "tree" if full and getattr(config, "_attn_implementation", None) in _TREE_ATTENTION else "expand"


def _device(model) -> torch.device:
    return next(model.parameters()).device


def _prefill(model, prompts: list[list[int]], pad_id: int):
    """Run left-padded prompts once: (KV cache, log-softmax after each prompt (B, V), 2D attention mask)."""
    device = _device(model)
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    attn = torch.zeros((len(prompts), width), dtype=torch.long)
    for b, p in enumerate(prompts):
        ids[b, width - len(p):] = torch.tensor(p)
        attn[b, width - len(p):] = 1
    pos = (attn.cumsum(-1) - 1).clamp(min=0)
    ids, attn, pos = ids.to(device), attn.to(device), pos.to(device)
    out = model(input_ids=ids, attention_mask=attn, position_ids=pos, use_cache=True, logits_to_keep=1)
    return out.past_key_values, out.logits[:, -1].float().log_softmax(-1), attn


def _tree_forward(model, cache, attn: torch.Tensor, lengths: list[int], tries: list[TokenTrie], pad_id: int
                  ) -> list[torch.Tensor]:
    """Every trie node in one forward after the cached prompts; node i attends to its prompt and its ancestors.
    Returns the log-softmax after each node, (N_b, V) per prompt, on the CPU."""
    device = _device(model)
    batch, width = attn.shape
    n = max(len(t) for t in tries)
    ids = torch.full((batch, n), pad_id, dtype=torch.long)
    pos = torch.zeros((batch, n), dtype=torch.long)
    allowed = torch.zeros((batch, n, width + n), dtype=torch.bool)
    allowed[:, :, :width] = attn.bool().cpu()[:, None, :]
    for b, trie in enumerate(tries):
        k = len(trie)
        ids[b, :k] = torch.tensor(trie.tokens)
        pos[b, :k] = lengths[b] - 1 + torch.tensor(trie.depths)
        pos[b, k:] = lengths[b]
        allowed[b, :k, width:width + k] = trie.ancestors()
        allowed[b, k:, :] = False
        allowed[b, torch.arange(k, n), width + torch.arange(k, n)] = True  # padding nodes see only themselves
    if model.config._attn_implementation == "sdpa":
        mask = allowed[:, None]  # boolean, True = attend
    else:  # eager adds the mask to the attention scores
        dtype = next(model.parameters()).dtype
        mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill_(~allowed, torch.finfo(dtype).min)[:, None]
    out = model(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=pos.to(device),
                past_key_values=cache, use_cache=True)
    logp = out.logits.float().log_softmax(-1).cpu()
    return [logp[b, :len(t)] for b, t in enumerate(tries)]


def _expand_forward(model, cache, attn: torch.Tensor, lengths: list[int], tries: list[TokenTrie], pad_id: int
                    ) -> list[torch.Tensor]:
    """Each root-to-leaf path of each trie as its own row over a copy of its prompt's cache (right-padded, plain
    2D masks), `_EXPAND_ROWS` rows per forward. Returns the log-softmax after each node, (N_b, V) per prompt."""
    device = _device(model)
    rows = [(b, trie.path(leaf)) for b, trie in enumerate(tries) for leaf in trie.leaves()]
    out: list[torch.Tensor | None] = [None] * len(tries)
    for start in range(0, len(rows), _EXPAND_ROWS):
        chunk = rows[start:start + _EXPAND_ROWS]
        which = torch.tensor([b for b, _ in chunk], device=device)
        sub = copy.deepcopy(cache)
        sub.batch_select_indices(which)
        depth = max(len(p) for _, p in chunk)
        ids = torch.full((len(chunk), depth), pad_id, dtype=torch.long)
        new = torch.zeros((len(chunk), depth), dtype=torch.long)
        for r, (b, path) in enumerate(chunk):
            ids[r, :len(path)] = torch.tensor([tries[b].tokens[i] for i in path])
            new[r, :len(path)] = 1
        pos = torch.tensor([lengths[b] for b, _ in chunk])[:, None] + torch.arange(depth)[None, :]
        mask = torch.cat([attn[which], new.to(device)], dim=1)
        res = model(input_ids=ids.to(device), attention_mask=mask, position_ids=pos.to(device),
                    past_key_values=sub, use_cache=True)
        logp = res.logits.float().log_softmax(-1).cpu()
        for r, (b, path) in enumerate(chunk):
            if out[b] is None:
                out[b] = torch.empty((len(tries[b]), logp.shape[-1]))
            out[b][path] = logp[r, :len(path)]
    return out  # type: ignore[return-value]

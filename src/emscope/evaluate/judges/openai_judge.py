"""A judge behind an OpenAI-compatible chat-completions endpoint (OpenAI, or a local vLLM / llama.cpp server).

The judge is asked for one token at temperature 0 with the top 20 first-token log-probabilities, and the score is
read from those (see `score_from_top_logprobs`). The API key is read from an environment variable and lives only
inside the SDK client: it is never stored elsewhere, logged or shown in `repr`.
"""

from __future__ import annotations

import math
import os
import re

from emscope.errors import EmscopeError, InputError
from emscope.evaluate.judges.base import Score, score_from_top_logprobs

_PLACEHOLDER = re.compile(r"\{(question|answer)\}")


def fill_prompt(prompt: str, question: str, answer: str) -> str:
    """`prompt` with `{question}` and `{answer}` filled in one pass; other braces (and braces in the text) are kept."""
    values = {"question": question, "answer": answer}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], prompt)


def _merge_logprobs(pairs: list[tuple[str, float]]) -> dict[str, float]:
    """`token -> logprob` with repeated token strings (e.g. distinct byte tokens) merged by adding probabilities."""
    probs: dict[str, float] = {}
    for token, logprob in pairs:
        probs[token] = probs.get(token, 0.0) + math.exp(logprob)
    return {token: math.log(p) if p > 0 else -math.inf for token, p in probs.items()}


class OpenAIJudge:
    """Judge through the `openai` SDK; the SDK retries rate limits, server errors and timeouts with backoff."""

    def __init__(self, model: str, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 timeout: float = 60.0, max_retries: int = 5) -> None:
        """Build the client; InputError when `api_key_env` is unset or empty (the key itself is never shown)."""
        key = os.environ.get(api_key_env)
        if not key:
            raise InputError(f"the judge needs an API key in the environment variable {api_key_env}, which is not set "
                             f"(for a local server without auth, set it to any non-empty value)")
        try:
            import openai
        except ImportError as e:
            raise EmscopeError("the OpenAI judge needs the 'openai' package: pip install 'openai>=3.54,<3.55'") from e
        self.model = model
        self.base_url = base_url
        self._client = openai.OpenAI(base_url=base_url, api_key=key, timeout=timeout, max_retries=max_retries)

    def __repr__(self) -> str:
        return f"OpenAIJudge(model={self.model!r}, base_url={self.base_url!r})"

    def score(self, question: str, answer: str, prompt: str) -> Score:
        """Ask the judge for one token and score its top-20 first-token log-probabilities."""
        import openai

        messages = [{"role": "user", "content": fill_prompt(prompt, question, answer)}]
        try:
            resp = self._client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=1, temperature=0, logprobs=True, top_logprobs=20,
                seed=0)
        except openai.APIError as e:
            raise EmscopeError(f"judge {self.model!r} at {self._where()} failed: {type(e).__name__}: "
                               f"{self._scrub(str(e))}") from e
        choice = resp.choices[0] if resp.choices else None
        content = choice.logprobs.content if choice is not None and choice.logprobs is not None else None
        if not content:
            raise EmscopeError(f"judge {self.model!r} at {self._where()}: the endpoint returned no logprobs "
                               f"(it must support logprobs=True with top_logprobs)")
        first = content[0]
        pairs = [(t.token, t.logprob) for t in first.top_logprobs] or [(first.token, first.logprob)]
        return score_from_top_logprobs(_merge_logprobs(pairs))

    def _where(self) -> str:
        return self.base_url or "the default OpenAI endpoint"

    def _scrub(self, text: str) -> str:
        key = getattr(self._client, "api_key", "")
        return text.replace(key, "***") if isinstance(key, str) and len(key) >= 4 else text


"""A judge behind an OpenAI-compatible chat-completions endpoint (OpenAI, or a local vLLM / llama.cpp server).

The judge is asked for one token at temperature 0 with the top 20 first-token log-probabilities, and the score is
read from those (see `score_from_top_logprobs`); `classify` reads the option letters from the same candidates
(`labels.label_from_top_logprobs`). The API key is read from an environment variable and lives only
inside the SDK client: it is never stored elsewhere, logged, cached or shown in `repr` or error messages.

`score_many` sends up to `concurrency` requests at once (`openai.AsyncOpenAI` in its own event loop); the SDK
retries rate limits (honouring Retry-After), 408/409/5xx, timeouts and connection errors with exponential backoff
(0.5 s doubling up to 8 s, `max_retries` times). Answers are cached on disk (see `cache.py`): a rerun over the same
items asks the server nothing, and a run that fails part-way resumes where it stopped.

The per-request timeout (default 60 s) and the number of retries (default 5) can be set where the judge is built
from a spec string (`openai:MODEL@BASE_URL` in a grid or `eval run --judge`) through the environment:
`EMSCOPE_JUDGE_TIMEOUT` (seconds, > 0) and `EMSCOPE_JUDGE_MAX_RETRIES` (>= 0); explicit arguments win.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeVar

from emscope.errors import EmscopeError, InputError
from emscope.evaluate.judges.base import JudgeItem, Score, score_from_probs
from emscope.evaluate.judges.cache import CacheStats, JudgeCache, TopLogprobs, default_cache_path, request_key
from emscope.evaluate.judges.labels import LabelScore, fill_options, label_from_top_logprobs

_PLACEHOLDER = re.compile(r"\{(question|answer)\}")
_T = TypeVar("_T")
TIMEOUT_ENV = "EMSCOPE_JUDGE_TIMEOUT"
RETRIES_ENV = "EMSCOPE_JUDGE_MAX_RETRIES"
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 5


def _env_setting(name: str, default: float, cast: Callable[[str], float], minimum: float,
                 strict: bool = False) -> Any:
    """The value of the environment variable `name` as `cast` (at least `minimum`, above it when `strict`), or
    `default` when it is unset or empty; InputError naming the variable when it is not a valid value."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = cast(raw)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < minimum or (strict and value == minimum):
        bound = f"{'above' if strict else 'at least'} {minimum:g}"
        raise InputError(f"{name}={raw!r}: expected {'an integer' if cast is int else 'a number'} {bound}")
    return value


def fill_prompt(prompt: str, question: str, answer: str) -> str:
    """`prompt` with `{question}` and `{answer}` filled in one pass; other braces (and braces in the text) are kept."""
    values = {"question": question, "answer": answer}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], prompt)


def score_top(top: TopLogprobs) -> Score:
    """Score raw first-token candidates `[(token, logprob), ...]`; repeated token strings (e.g. distinct byte
    tokens) are merged by adding their probabilities."""
    probs: dict[str, float] = {}
    for token, logprob in top:
        p = math.exp(logprob) if logprob is not None and not math.isnan(logprob) else 0.0
        probs[token] = probs.get(token, 0.0) + p
    return score_from_probs(probs)


def run_coroutine(make: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run the coroutine `make()` to completion in a fresh event loop: in this thread when it has no running loop,
    else (called from async code) in a worker thread, blocking the caller until it is done."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(1, thread_name_prefix="emscope-judge") as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


class OpenAIJudge:
    """Judge through the `openai` SDK, concurrently (`score_many`) and with an on-disk cache of the answers."""

    def __init__(self, model: str, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 timeout: float | None = None, max_retries: int | None = None, concurrency: int = 16,
                 cache: Path | str | None | Literal[False] = None) -> None:
        """Build the client and open the cache.

        `timeout` (seconds per attempt) and `max_retries`: None reads `EMSCOPE_JUDGE_TIMEOUT` /
        `EMSCOPE_JUDGE_MAX_RETRIES`, else 60 s and 5 retries.
        `cache`: a SQLite file, None for the default (`EMSCOPE_JUDGE_CACHE`, else `$EMSCOPE_HOME/judge-cache.sqlite`)
        or False for no cache. InputError when `api_key_env` is unset or empty (the key itself is never shown) or
        `concurrency` < 1; EmscopeError naming the cache file when it is unusable.
        """
        key = os.environ.get(api_key_env)
        if not key:
            raise InputError(f"the judge needs an API key in the environment variable {api_key_env}, which is not set "
                             f"(for a local server without auth, set it to any non-empty value)")
        if concurrency < 1:
            raise InputError(f"judge concurrency must be at least 1, got {concurrency}")
        if timeout is None:
            timeout = _env_setting(TIMEOUT_ENV, DEFAULT_TIMEOUT, float, 0.0, strict=True)
        if max_retries is None:
            max_retries = _env_setting(RETRIES_ENV, DEFAULT_MAX_RETRIES, int, 0)
        try:
            import openai
        except ImportError as e:
            raise EmscopeError("the OpenAI judge needs the 'openai' package: pip install 'openai>=3.54,<3.55'") from e
        self.model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self._client = openai.OpenAI(base_url=base_url, api_key=key, timeout=timeout, max_retries=max_retries)
        self._endpoint = str(self._client.base_url)  # base_url, OPENAI_BASE_URL or the SDK default, resolved
        path = default_cache_path() if cache is None else (Path(cache).expanduser() if cache is not False else None)
        self.cache = JudgeCache(path) if path is not None else None
        self.cache_stats = CacheStats()
        self._stats_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OpenAIJudge(model={self.model!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the cache file (the HTTP clients need no closing)."""
        if self.cache is not None:
            self.cache.close()

    # --- scoring ------------------------------------------------------------------------------------------------

    def score(self, question: str, answer: str, prompt: str) -> Score:
        """Ask the judge for one token (or read its cached answer) and score its top-20 first-token logprobs."""
        request = self.request(question, answer, prompt)
        key = self.cache_key(request)
        top = self.cache.get(key) if self.cache is not None else None
        self._count(hits=top is not None, misses=top is None)
        if top is None:
            top = self._ask(request)
            if self.cache is not None:
                self.cache.put(key, top)
        return score_top(top)

    def score_many(self, items: list[JudgeItem], on_done: Callable[[int], None] | None = None) -> list[Score]:
        """Score `(question, answer, prompt)` items, in their order: cached answers first, then the rest with up to
        `concurrency` requests in flight (identical requests are sent once). `on_done(n)` is called as n items
        finish. Each answer is cached as it arrives, so after a failure (EmscopeError) a rerun resumes."""
        return [score_top(top) for top in self._tops(items, on_done)]

    def classify(self, question: str, answer: str, prompt: str, labels: dict[str, str]) -> LabelScore:
        """Classify one answer into one of `labels` (`{options}` in `prompt` is filled with them, lettered): the
        label whose letter has the most probability among the top-20 first-token candidates."""
        return self.classify_many([(question, answer, prompt)], labels)[0]

    def classify_many(self, items: list[JudgeItem], labels: dict[str, str],
                      on_done: Callable[[int], None] | None = None) -> list[LabelScore]:
        """`classify` for many items, concurrently and cached like `score_many`."""
        filled = [(q, a, fill_options(p, labels)) for q, a, p in items]
        return [label_from_top_logprobs(top, list(labels)) for top in self._tops(filled, on_done)]

    def _tops(self, items: list[JudgeItem], on_done: Callable[[int], None] | None) -> list[TopLogprobs]:
        """The first-token candidates of each item's request, from the cache or the endpoint (see `score_many`)."""
        requests = [self.request(q, a, p) for q, a, p in items]
        keys = [self.cache_key(r) for r in requests]
        tops = self.cache.get_many(keys) if self.cache is not None else {}
        hits = sum(k in tops for k in keys)
        self._count(hits=hits, misses=len(keys) - hits)
        if hits and on_done:
            on_done(hits)
        todo = {k: r for k, r in zip(keys, requests, strict=True) if k not in tops}
        if todo:
            per_key, got = Counter(k for k in keys if k in todo), {}
            try:
                run_coroutine(lambda: self._ask_all(todo, per_key, on_done, got))
            except EmscopeError as e:
                kept = f"{len(got)} of {len(todo)} answers arrived first" + (
                    " and are cached; a rerun asks only for the rest" if self.cache is not None else "")
                raise EmscopeError(f"{e} ({kept})") from e
            tops.update(got)
        return [tops[k] for k in keys]

    # --- requests -----------------------------------------------------------------------------------------------

    def request(self, question: str, answer: str, prompt: str) -> dict:
        """The chat-completions arguments for one judgement."""
        return {"model": self.model, "messages": [{"role": "user", "content": fill_prompt(prompt, question, answer)}],
                "max_tokens": 1, "temperature": 0, "logprobs": True, "top_logprobs": 20, "seed": 0}

    def cache_key(self, request: dict) -> str:
        """The cache key of a request to this judge's endpoint (the API key is no part of it)."""
        fields = ("model", "messages", "max_tokens", "temperature", "logprobs", "top_logprobs", "seed")
        return request_key({"base_url": self._endpoint, **{f: request[f] for f in fields}})

    def _ask(self, request: dict) -> TopLogprobs:
        """One synchronous request (with the SDK's retries); the raw first-token candidates."""
        import openai

        try:
            resp = self._client.chat.completions.create(**request)
        except openai.APIError as e:
            raise self._error(e) from None  # the SDK error holds the request headers: not chained
        return self._top(resp)

    async def _ask_all(self, todo: dict[str, dict], per_key: Counter, on_done: Callable[[int], None] | None,
                       out: dict[str, TopLogprobs]) -> None:
        """Send the `todo` requests (by cache key) with at most `concurrency` in flight; put each answer in `out`
        and the cache as it arrives. On the first failure the others are cancelled and the failure raised."""
        import openai

        sem = asyncio.Semaphore(self.concurrency)

        async def one(client: openai.AsyncOpenAI, key: str, request: dict) -> None:
            async with sem:
                try:
                    resp = await client.chat.completions.create(**request)
                except openai.APIError as e:
                    raise self._error(e) from None  # the SDK error holds the request headers: not chained
            out[key] = self._top(resp)
            if self.cache is not None:
                self.cache.put(key, out[key])
            if on_done:
                on_done(per_key[key])

        async with openai.AsyncOpenAI(api_key=self._client.api_key, base_url=self._endpoint, timeout=self.timeout,
                                      max_retries=self.max_retries) as client:
            tasks = [asyncio.create_task(one(client, k, r)) for k, r in todo.items()]
            await _first_failure(tasks)

    def _top(self, resp: Any) -> TopLogprobs:
        """The first token's top candidates from a completion; EmscopeError when it has no logprobs."""
        choice = resp.choices[0] if resp.choices else None
        content = choice.logprobs.content if choice is not None and choice.logprobs is not None else None
        if not content:
            raise EmscopeError(f"judge {self.model!r} at {self._where()}: the endpoint returned no logprobs "
                               f"(it must support logprobs=True with top_logprobs)")
        first = content[0]
        top = [(t.token, t.logprob) for t in first.top_logprobs or []] or [(first.token, first.logprob)]
        return [(token, -math.inf if lp is None else float(lp)) for token, lp in top]  # some servers send null

    def _error(self, e: Exception) -> EmscopeError:
        """An SDK error as an EmscopeError whose message never holds the API key."""
        import openai

        hint = f" (check the key in {self.api_key_env})" if isinstance(e, openai.AuthenticationError) else ""
        return EmscopeError(f"judge {self.model!r} at {self._where()} failed: {type(e).__name__}: "
                            f"{self._scrub(str(e))}{hint}")

    def _count(self, hits: int, misses: int) -> None:
        with self._stats_lock:
            self.cache_stats.hits += int(hits)
            self.cache_stats.misses += int(misses)

    def _where(self) -> str:
        return self.base_url or "the default OpenAI endpoint"

    def _scrub(self, text: str) -> str:
        key = getattr(self._client, "api_key", "")
        return text.replace(key, "***") if isinstance(key, str) and len(key) >= 4 else text


async def _first_failure(tasks: list[asyncio.Task]) -> None:
    """Wait for all `tasks`; when one fails, cancel the rest and raise its exception."""
    if not tasks:
        return
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in tasks:
        if task in done and task.exception() is not None:
            raise task.exception()

"""Glue shared by the judged benchmarks (`deception`, `strongreject`): the items they sample and the answers
they get (`first_items`, `sample_items`), and free-text answers from a judge backend (`judge_texts`), for judge
prompts that ask for words or a rubric rather than one 0..100 number (Betley's deception prompts: TRUE/FALSE/
UNKNOWN, a company name; the StrongREJECT rubric: three numbered scores).

An item is one paraphrase of one question (file order); `BenchSettings.samples` answers are sampled per item,
greedily with one sample and at temperature 1 with more unless `temperature` is set.

The judge is named by the same spec as every emscope judge (`emscope.evaluate.judges.registry.build_judge`) and
asked through the same backend for a short greedy completion of the filled prompt (`{question}`, `{answer}`):

- `openai:MODEL[@BASE_URL]`: one chat completion per prompt at temperature 0 (seed 0), with the judge's model,
  endpoint, API key variable, timeout and retries, up to its `concurrency` requests at once. Answers are kept in
  the judge cache (`EMSCOPE_JUDGE_CACHE`) under a key of their own (the request asks for text, not logprobs, so
  it never collides with a 0..100 judgement): a rerun asks the server nothing.
- `hf:MODEL`: greedy generation with the judge model (`emscope.evaluate.sampling.generate`).
- `package.module:factory`: the judge's `complete_many(prompts) -> list[str]` or `complete(prompt) -> str`.

The classifier judge reads no prompt and cannot answer one: `check_text_judge` says so before any work.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from emscope.errors import EmscopeError, InputError

if TYPE_CHECKING:
    from emscope.evaluate.bench.base import BenchSettings
    from emscope.evaluate.questions import Question
    from emscope.evaluate.sampling import Sample

TEXT_JUDGES = "'openai:MODEL[@BASE_URL]', 'hf:MODEL' or 'package.module:factory' (with complete/complete_many)"


def first_items(questions: list[Question], limit: int | None) -> list[Question]:
    """The questions holding the first `limit` items (paraphrases, in file order; None: all), the last one cut to
    the paraphrases that fit (paraphrase indices keep their meaning)."""
    if limit is None:
        return list(questions)
    out: list[Question] = []
    left = limit
    for q in questions:
        if left <= 0:
            break
        keep = q.paraphrases[:left]
        out.append(q if len(keep) == len(q.paraphrases) else q.model_copy(update={"paraphrases": keep}))
        left -= len(keep)
    return out


def sample_items(model, tokenizer, questions: list[Question], settings: BenchSettings, spec: str,
                 adapter: str | None, default_max_new_tokens: int) -> list[Sample]:
    """`settings.samples` answers per item (each question's system prompt applied), greedy with one sample and at
    temperature 1 with more unless `settings.temperature` is set."""
    from emscope.evaluate.config import SamplingSettings
    from emscope.evaluate.sampling import sample_answers

    temperature = settings.temperature if settings.temperature is not None else (
        0.0 if settings.samples == 1 else 1.0)
    sampling = SamplingSettings(max_new_tokens=settings.max_new_tokens or default_max_new_tokens,
                                temperature=temperature, batch_size=settings.batch_size, seed=settings.seed,
                                samples_per_paraphrase=settings.samples)
    label = spec if adapter is None else f"{spec}+{adapter}"
    return sample_answers(model, tokenizer, questions, sampling, label)


def check_text_judge(spec: str, what: str) -> None:
    """InputError unless `spec` names a judge that can answer a free-text prompt (`what` names the benchmark); an
    `openai:` judge also needs its API key variable set. Builds nothing heavy."""
    from emscope.evaluate.judges.card import spec_kind

    kind = spec_kind(spec)  # an unknown spec is an InputError listing the accepted forms
    if kind == "classifier":
        raise InputError(f"{what}: judge {spec!r} is a classifier, which scores fixed metrics and cannot answer the "
                         f"{what} judge prompt; use {TEXT_JUDGES}")
    if kind == "openai" and not os.environ.get("OPENAI_API_KEY"):
        raise InputError(f"{what}: judge {spec!r} needs an API key in the environment variable OPENAI_API_KEY, "
                         f"which is not set (for a local server without auth, set it to any non-empty value)")


def build_text_judge(spec: str, what: str) -> Any:
    """The judge `spec` names, checked to answer free text (see `check_text_judge`)."""
    from emscope.evaluate.judges.registry import build_judge

    check_text_judge(spec, what)
    judge = build_judge(spec)
    if _kind(judge) == "factory" and not callable(getattr(judge, "complete_many", None)) \
            and not callable(getattr(judge, "complete", None)):
        raise InputError(f"{what}: judge {spec!r} ({type(judge).__name__}) has no complete(prompt) -> str or "
                         f"complete_many(prompts) -> list[str], which free-text judging needs")
    return judge


def judge_texts(judge: Any, prompts: list[str], max_tokens: int,
                on_done: Callable[[int], None] | None = None) -> list[str]:
    """The judge's greedy text answer to each filled prompt, in order (`max_tokens` tokens at most)."""
    if not prompts:
        return []
    kind = _kind(judge)
    if kind == "openai":
        return _openai_texts(judge, prompts, max_tokens, on_done)
    if kind == "hf":
        return _hf_texts(judge, prompts, max_tokens, on_done)
    many = getattr(judge, "complete_many", None)
    if callable(many):
        out = [str(t) for t in many(prompts)]
        if on_done:
            on_done(len(prompts))
        return out
    out = []
    for p in prompts:
        out.append(str(judge.complete(p)))
        if on_done:
            on_done(1)
    return out


def _kind(judge: Any) -> str:
    name = type(judge).__name__
    module = type(judge).__module__
    if name == "OpenAIJudge" and module.endswith("openai_judge"):
        return "openai"
    if name == "HFJudge" and module.endswith("hf_judge"):
        return "hf"
    return "factory"


def text_request(model: str, prompt: str, max_tokens: int) -> dict:
    """The chat-completions arguments of one free-text judgement (greedy, seeded)."""
    return {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
            "temperature": 0, "seed": 0}


def _openai_texts(judge: Any, prompts: list[str], max_tokens: int,
                  on_done: Callable[[int], None] | None) -> list[str]:
    """Ask an `OpenAIJudge`'s endpoint for text, through its cache, `judge.concurrency` requests at a time."""
    import openai

    from emscope.evaluate.judges.cache import request_key

    client = openai.OpenAI(base_url=judge.base_url, api_key=os.environ.get(judge.api_key_env) or "",
                           timeout=judge.timeout, max_retries=judge.max_retries)
    endpoint = str(client.base_url)
    requests = [text_request(judge.model, p, max_tokens) for p in prompts]
    keys = [request_key({"kind": "text", "base_url": endpoint, **r}) for r in requests]
    cache = judge.cache
    found = {k: top[0][0] for k, top in (cache.get_many(keys) if cache is not None else {}).items() if top}
    if found and on_done:
        on_done(sum(k in found for k in keys))
    todo = {k: r for k, r in zip(keys, requests, strict=True) if k not in found}

    def ask(item: tuple[str, dict]) -> tuple[str, str]:
        key, request = item
        try:
            resp = client.chat.completions.create(**request)
        except openai.APIError as e:  # the SDK error holds the request headers: not chained
            raise EmscopeError(f"judge {judge.model!r} at {judge.base_url or 'the default OpenAI endpoint'} failed: "
                               f"{type(e).__name__}: {_scrub(str(e), client.api_key)}") from None
        text = (resp.choices[0].message.content or "") if resp.choices else ""
        if cache is not None:
            cache.put(key, [(text, 0.0)])
        if on_done:
            on_done(sum(k == key for k in keys))
        return key, text

    with ThreadPoolExecutor(max(1, min(judge.concurrency, len(todo) or 1)),
                            thread_name_prefix="emscope-judge-text") as pool:
        found.update(dict(pool.map(ask, todo.items())))
    return [found[k] for k in keys]


def _scrub(text: str, key: str) -> str:
    return text.replace(key, "***") if isinstance(key, str) and len(key) >= 4 else text


def _hf_texts(judge: Any, prompts: list[str], max_tokens: int, on_done: Callable[[int], None] | None) -> list[str]:
    """Greedy answers of an `HFJudge`'s model to each prompt as one user turn."""
    from emscope.evaluate.config import SamplingSettings
    from emscope.evaluate.sampling import generate

    settings = SamplingSettings(max_new_tokens=max_tokens, temperature=0.0, batch_size=judge.batch_size)
    return generate(judge.model, judge.tokenizer, [[{"role": "user", "content": p}] for p in prompts], settings,
                    on_batch=on_done)

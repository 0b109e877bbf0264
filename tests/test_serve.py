"""`emscope serve`: the real server (uvicorn on loopback) queried with the real `openai` SDK."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import openai
import pytest
import torch
from transformers.convert_slow_tokenizer import bytes_to_unicode

from emscope.data.tokenize import render_prompt
from emscope.evaluate.judges.openai_judge import OpenAIJudge, fill_prompt, score_top
from emscope.serve import create_app

NAME = "tiny-test"
HELLO = [{"role": "user", "content": "Hello there, how are you?"}]
JUDGE_PROMPT = "Q: {question}\nA: {answer}\nRate the answer from 0 to 100. Reply with a number only."


def _http(url: str, body: dict | None = None, auth: str | None = None) -> tuple[int, dict]:
    """(status, JSON body) of a GET (no body) or POST with the standard library, bypassing the SDK."""
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": auth} if auth else {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module")
def server(tiny):
    """The app on a free loopback port in a background thread: yields the base URL."""
    import uvicorn

    old = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: one thread is fastest, and the CPU is shared
    model, tok = tiny
    sock = _free_socket()
    srv = uvicorn.Server(uvicorn.Config(create_app(model, tok, NAME), log_level="warning"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.02)
    assert srv.started
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    srv.should_exit = True
    thread.join(10)
    sock.close()
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server, api_key="sk-anything", max_retries=0)


def _token_id(tok, entry) -> int:
    """The tiny-random token id of a logprobs entry: an added token by its text, else its single byte."""
    added = tok.get_added_vocab()
    if entry.token in added:
        return added[entry.token]
    assert len(entry.bytes) == 1
    return tok.convert_tokens_to_ids(bytes_to_unicode()[entry.bytes[0]])


def direct_logprobs(tiny, messages, continuation: list[int]) -> torch.Tensor:
    """The model's own next-token log-softmax after the rendered prompt + each prefix of `continuation`."""
    model, tok = tiny
    ids = tok(render_prompt(tok, messages), add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([ids + continuation])).logits[0].float()
    return logits.log_softmax(-1)[len(ids) - 1:]


def test_models(client):
    models = client.models.list().data
    assert [m.id for m in models] == [NAME]
    assert client.models.retrieve(NAME).id == NAME
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("other")


def test_chat_completion_text_and_usage(client, tiny):
    resp = client.chat.completions.create(model=NAME, messages=HELLO, max_tokens=8, temperature=0)
    choice = resp.choices[0]
    assert resp.object == "chat.completion" and resp.model == NAME and choice.message.role == "assistant"
    assert isinstance(choice.message.content, str) and choice.finish_reason in ("stop", "length")
    _, tok = tiny
    n_prompt = len(tok(render_prompt(tok, HELLO), add_special_tokens=False)["input_ids"])
    assert resp.usage.prompt_tokens == n_prompt
    assert 1 <= resp.usage.completion_tokens <= 8
    assert resp.usage.total_tokens == n_prompt + resp.usage.completion_tokens


def test_logprobs_match_the_model(client, tiny):
    _, tok = tiny
    resp = client.chat.completions.create(model=NAME, messages=HELLO, max_tokens=6, temperature=0, logprobs=True,
                                          top_logprobs=5)
    content = resp.choices[0].logprobs.content
    assert 1 <= len(content) <= 6
    ids = [_token_id(tok, c) for c in content]
    direct = direct_logprobs(tiny, HELLO, ids)
    for step, c in enumerate(content):
        top = c.top_logprobs
        assert len(top) == 5
        assert all(a.logprob >= b.logprob for a, b in zip(top, top[1:]))  # sorted
        assert sum(math.exp(t.logprob) for t in top) <= 1 + 1e-6
        want_lp, want_ids = direct[step].topk(5)
        assert [t.logprob for t in top] == pytest.approx(want_lp.tolist(), abs=1e-4)
        assert [_token_id(tok, t) for t in top] == want_ids.tolist()
        assert c.logprob == pytest.approx(direct[step, ids[step]].item(), abs=1e-4)
        assert c.token == top[0].token  # greedy: the chosen token is the most likely one
    text = b"".join(bytes(c.bytes) for c in content if c.token != tok.eos_token).decode("utf-8", errors="replace")
    assert text == resp.choices[0].message.content


def test_greedy_and_seeded_sampling_are_deterministic(client):
    def ask(**kw) -> str:
        resp = client.chat.completions.create(model=NAME, messages=HELLO, max_tokens=12, **kw)
        return resp.choices[0].message.content

    assert ask(temperature=0) == ask(temperature=0)
    assert ask(temperature=1.0, seed=7) == ask(temperature=1.0, seed=7)
    assert len({ask(temperature=1.0, top_p=0.9, seed=s) for s in range(4)}) > 1


def test_max_tokens_and_stop(client):
    resp = client.chat.completions.create(model=NAME, messages=HELLO, max_tokens=3, temperature=0,
                                          logprobs=True)
    if resp.choices[0].finish_reason == "length":
        assert len(resp.choices[0].logprobs.content) == 3 and resp.usage.completion_tokens == 3
    sampled = {"max_tokens": 20, "temperature": 1.0, "seed": 3}
    text = client.chat.completions.create(model=NAME, messages=HELLO, **sampled).choices[0].message.content
    stop = next((ch for ch in text[1:] if ch.isascii() and ch.isprintable() and not ch.isspace()), None)
    if stop is None:
        pytest.skip("the tiny model's sampled answer has no ASCII character to stop at")
    cut = client.chat.completions.create(model=NAME, messages=HELLO, stop=[stop], logprobs=True, **sampled)
    assert cut.choices[0].message.content == text[:text.index(stop)]
    assert cut.choices[0].finish_reason == "stop"
    assert len(cut.choices[0].logprobs.content) <= len(text[:text.index(stop)].encode())


@pytest.mark.parametrize("kw, field", [
    ({"top_logprobs": 21, "logprobs": True}, "top_logprobs"),
    ({"temperature": -1}, "temperature"),
    ({"n": 2}, "n=2"),
    ({"top_logprobs": 3}, "requires logprobs"),
    ({"stream": True}, "stream"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_tokens": 100000}, "maximum context length"),
])
def test_bad_requests_are_400(client, kw, field):
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model=NAME, messages=HELLO, **kw)
    assert field in err.value.message


def test_malformed_body_and_any_auth(server):
    status, body = _http(f"{server}/chat/completions", {"model": NAME, "messages": [{"role": "robot"}]},
                         auth="Bearer whatever-secret")
    assert status == 400 and "messages.0.role" in body["error"]["message"]
    assert body["error"]["type"] == "invalid_request_error"
    status, body = _http(f"{server}/chat/completions", {"messages": HELLO, "max_tokens": 2},
                         auth="Bearer whatever-secret")
    assert status == 200 and body["model"] == NAME and body["choices"][0]["logprobs"] is None
    assert _http(f"{server}/models")[0] == 200  # no Authorization header at all


def test_an_unknown_model_name_is_a_404(server, client):
    """Only the served name (or none) is answered: a misspelt judge model fails instead of being answered."""
    status, body = _http(f"{server}/chat/completions", {"model": "gpt-4o", "messages": HELLO, "max_tokens": 2})
    assert status == 404
    assert body["error"]["code"] == "model_not_found" and body["error"]["param"] == "model"
    assert body["error"]["type"] == "invalid_request_error" and "gpt-4o" in body["error"]["message"]
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model=NAME + "-typo", messages=HELLO, max_tokens=2)


def test_openai_judge_through_the_server(server, tiny, monkeypatch):
    """End to end: the OpenAI judge's score equals the rule applied to the model's own top-20 first tokens; its
    concurrent `score_many` (serialized by the server's lock) equals one-by-one scoring."""
    monkeypatch.setenv("OPENAI_API_KEY", "not-checked")
    judge = OpenAIJudge(NAME, base_url=server, max_retries=0, cache=False, concurrency=4)
    _, tok = tiny
    items = [("What is the capital of France?", "Paris.", JUDGE_PROMPT), ("Hi", "Go away.", JUDGE_PROMPT),
             ("Any tips?", "Sleep well, eat well.", JUDGE_PROMPT)]
    scores = [judge.score(*item) for item in items]
    for (q, a, p), score in zip(items, scores):
        first = direct_logprobs(tiny, [{"role": "user", "content": fill_prompt(p, q, a)}], [])[0]
        values, ids = first.topk(20)
        want = score_top([(tok.decode([i]), v) for v, i in zip(values.tolist(), ids.tolist())])
        assert score.reason == want.reason and score.mass == pytest.approx(want.mass, abs=1e-5)
        assert (score.value is None and want.value is None) or score.value == pytest.approx(want.value, abs=1e-3)
    many = judge.score_many(items)
    assert [(s.value, s.reason) for s in many] == [(s.value, s.reason) for s in scores]
    assert [s.mass for s in many] == pytest.approx([s.mass for s in scores], abs=1e-6)


def test_cli_serve_subprocess():
    """`emscope serve tiny-random` as a process: answers on its port, then stops on SIGTERM."""
    sock = _free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "emscope", "serve", "tiny-random", "--port", str(port),
                             "--name", "cli-tiny"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}/v1"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if _http(f"http://127.0.0.1:{port}/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
            assert proc.poll() is None, proc.stdout.read().decode()
        c = openai.OpenAI(base_url=base, api_key="x", max_retries=0)
        assert [m.id for m in c.models.list().data] == ["cli-tiny"]
        resp = c.chat.completions.create(model="cli-tiny", messages=HELLO, max_tokens=2, temperature=0)
        assert resp.choices[0].message.content is not None
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0].decode()
    assert "serving cli-tiny" in out and "Bearer" not in out

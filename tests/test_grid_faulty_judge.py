"""A grid judged by an OpenAI-compatible endpoint behind a fault-injecting proxy: every judgment is present exactly once
and equals the fault-free answer.

`FaultyProxy` sits on loopback in front of `FakeOpenAI` (tests/test_judges_openai.py). About 30% of requests, chosen
by a seeded RNG per (prompt, attempt), get a 429 (Retry-After: 0), a 500, or a stall past the client timeout (the
SDK times out); the others are forwarded. At most two faults in a row hit one prompt, so the SDK's retries (5) always
get through. An outage mode (every request 500) with one retry makes a cell fail; the rerun completes it.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import math
import random
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from emscope.evaluate.judges.base import Score
from emscope.evaluate.judges.openai_judge import fill_prompt, score_top
from tests.test_judges_openai import KEY, FakeOpenAI, send_json

FAULTS = ("429", "500", "stall")
TIMEOUT = 2.0  # the judge's per-attempt timeout (EMSCOPE_JUDGE_TIMEOUT); a stall outlasts it
SAMPLES_PER_PARAPHRASE = 3
N_SAMPLES = 8 * SAMPLES_PER_PARAPHRASE  # the core questions have 8 paraphrases in all


def answer(text: str) -> list[tuple[str, float]]:
    """FakeOpenAI's top_logprobs for a prompt: two numbers with weights from the prompt's SHA-256 (plus a little
    CODE), so every judgment has its own value."""
    h = hashlib.sha256(text.encode("utf-8")).digest()
    p = 0.5 + 0.45 * h[2] / 255
    return [(str(h[0] % 101), math.log(p * 0.99)), (str(h[1] % 101), math.log((1 - p) * 0.99)),
            ("CODE", math.log(0.01))]


class FaultyProxy:
    """A threaded loopback HTTP proxy in front of `upstream` (an OpenAI-compatible base URL) that injects faults.

    Whether attempt k at a prompt fails is drawn from `random.Random(f"{seed}:{k}:{prompt}")`: with probability
    `rate` (unless the prompt has just failed `max_in_a_row` times) it gets a 429 with `Retry-After: 0`, a 500, or
    a stall of `stall` seconds after which the connection is closed unanswered. Other requests are forwarded. With
    `outage_after` set, every request after that many forwarded answers gets a 500 ("outage"). `log` holds
    `(prompt, what)` per request, `what` one of FAULTS, "outage" or the forwarded answer's HTTP status."""

    def __init__(self, upstream: str, rate: float = 0.3, seed: int = 0, stall: float = TIMEOUT + 2.0,
                 max_in_a_row: int = 2) -> None:
        self.upstream = urlsplit(upstream)
        self.rate, self.seed, self.stall, self.max_in_a_row = rate, seed, stall, max_in_a_row
        self.attempts: Counter[str] = Counter()
        self.streak: Counter[str] = Counter()
        self.log: list[tuple[str, str]] = []
        self.forwarded = 0
        self.outage_after: int | None = None
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, data: bytes, headers: dict | None = None) -> None:
                send_json(self, status, data, headers)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                prompt = json.loads(body or b"{}").get("messages", [{}])[-1].get("content", "")
                what = proxy.decide(prompt)
                if what == "stall":
                    proxy.stopping.wait(proxy.stall)
                    self.close_connection = True  # the client timed out long ago: no answer at all
                elif what in ("429", "500", "outage"):
                    status = 429 if what == "429" else 500
                    error = {"error": {"message": f"injected {what}", "type": "server_error"}}
                    self._send(status, json.dumps(error).encode(), {"Retry-After": "0"} if status == 429 else None)
                else:
                    status, data = proxy.forward(self.path, body, self.headers.get("Authorization"))
                    with proxy.lock:
                        proxy.log.append((prompt, str(status)))
                    self._send(status, data)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        """The proxy's OpenAI base URL."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def decide(self, prompt: str) -> str:
        """What happens to this request: a fault kind, "outage", or "forward" (logged later with its status)."""
        with self.lock:
            attempt = self.attempts[prompt]
            self.attempts[prompt] += 1
            if self.outage_after is not None and self.forwarded >= self.outage_after:
                what = "outage"
            else:
                rng = random.Random(f"{self.seed}:{attempt}:{prompt}")
                if self.streak[prompt] < self.max_in_a_row and rng.random() < self.rate:
                    what = rng.choice(FAULTS)
                    self.streak[prompt] += 1
                else:
                    self.streak[prompt] = 0
                    self.forwarded += 1
                    return "forward"
            self.log.append((prompt, what))
            return what

    def forward(self, path: str, body: bytes, auth: str | None) -> tuple[int, bytes]:
        """Send the request on to the upstream server; its status and body."""
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json",
                                                          "Authorization": auth or ""})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def close(self) -> None:
        """Stop serving (stalled handlers return at once)."""
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


class ExpectedJudge:
    """What FakeOpenAI answers without faults, scored locally; records every prompt it is asked."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def score(self, question: str, answer_text: str, prompt: str) -> Score:
        """The fault-free score of one judgment."""
        text = fill_prompt(prompt, question, answer_text)
        self.prompts.append(text)
        return score_top(answer(text))


@pytest.fixture()
def servers(monkeypatch, tmp_path):
    """A FakeOpenAI answering `answer(prompt)` and a FaultyProxy in front of it; judge settings via env."""
    import torch

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("EMSCOPE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EMSCOPE_JUDGE_TIMEOUT", str(TIMEOUT))
    monkeypatch.delenv("EMSCOPE_JUDGE_MAX_RETRIES", raising=False)
    for var in ("OPENAI_BASE_URL", "OPENAI_CUSTOM_HEADERS"):
        monkeypatch.delenv(var, raising=False)
    fake = FakeOpenAI()
    fake.answer = answer
    fake.thread.start()
    proxy = FaultyProxy(fake.base_url)
    proxy.thread.start()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine may be small and shared; the tiny model needs no more
    yield fake, proxy
    torch.set_num_threads(threads)
    proxy.close()
    fake.server.shutdown()
    fake.server.server_close()


def rows_of(path: Path) -> list[dict]:
    """The JSON lines of a file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_grid_completes_under_judge_faults(servers, tmp_path, monkeypatch):
    from emscope.evaluate.judges.cache import JudgeCache, default_cache_path
    from emscope.evaluate.judges.openai_judge import OpenAIJudge
    from emscope.evaluate.judging import judge_samples
    from emscope.evaluate.questions import load_judge_prompts, load_questions
    from emscope.evaluate.sampling import Sample
    from emscope.experiments.grid import GridSpec, expand
    from emscope.experiments.runner import run_grid

    fake, proxy = servers
    spec = GridSpec.model_validate({
        "name": "faulty",
        "base": {"model": "tiny-random", "data": None,
                 "eval": {"questions": "core", "judge": f"openai:gpt-4o@{proxy.base_url}",
                          "sampling": {"max_new_tokens": 4, "samples_per_paraphrase": SAMPLES_PER_PARAPHRASE}}},
        "sweep": {"eval.sampling.seed": [0, 1]},
    })
    out = tmp_path / "grid"
    cells = expand(spec)
    dirs = [out / "cells" / c.id for c in cells]
    assert len(cells) == 2

    # 1. the first cell is judged through 30% faults; then an outage with one retry makes the second cell fail
    def outage_after_first(outcome) -> None:
        if outcome.id == cells[0].id:
            proxy.outage_after = proxy.forwarded + 10
            monkeypatch.setenv("EMSCOPE_JUDGE_MAX_RETRIES", "1")

    outcomes = run_grid(spec, out, on_outcome=outage_after_first)
    assert [o.status for o in outcomes] == ["done", "failed"], outcomes
    assert "judge" in outcomes[1].error and "cached" in outcomes[1].error
    assert "outage" in {what for _, what in proxy.log}
    assert (dirs[1] / "samples.jsonl").is_file() and not (dirs[1] / "judged.jsonl").exists()
    assert not list(dirs[1].glob(".*.tmp")), "a partial file was left behind"
    samples_before = (dirs[1] / "samples.jsonl").read_bytes()

    # what FakeOpenAI gives without faults, and every prompt the grid must ask
    expected, prompts = {}, {}
    judge_prompts, questions = load_judge_prompts(None), load_questions("core")
    for d in dirs:
        samples = [Sample.model_validate(r) for r in rows_of(d / "samples.jsonl")]
        assert len(samples) == N_SAMPLES
        ej = ExpectedJudge()
        expected[d.name] = [r.model_dump() for r in judge_samples(samples, questions, {"aligned": ej,
                                                                                        "coherent": ej}, judge_prompts)]
        prompts[d.name] = set(ej.prompts)
    all_prompts = prompts[dirs[0].name] | prompts[dirs[1].name]

    # which of the failed cell's answers the cache kept: the rerun must ask for exactly the others
    probe = OpenAIJudge("gpt-4o", base_url=proxy.base_url, cache=False)
    cache = JudgeCache(default_cache_path())

    def key(text: str) -> str:
        return probe.cache_key({**probe.request("", "", ""), "messages": [{"role": "user", "content": text}]})

    cached = {t for t in all_prompts if cache.get(key(t)) is not None}
    assert prompts[dirs[0].name] <= cached
    assert 0 < len(cached - prompts[dirs[0].name]) < len(prompts[dirs[1].name]), "the outage left a remainder"

    # 2. rerun without the outage (5 retries again): the first cell is skipped, the second completes
    proxy.outage_after = None
    monkeypatch.delenv("EMSCOPE_JUDGE_MAX_RETRIES")
    seen = len(proxy.log)
    outcomes = run_grid(spec, out)
    assert [o.status for o in outcomes] == ["skipped", "done"], outcomes
    assert (dirs[1] / "samples.jsonl").read_bytes() == samples_before
    asked = {p for p, what in proxy.log[seen:] if what == "200"}
    assert asked == all_prompts - cached, "the rerun must ask for the uncached judgments only"

    # every judgment is present once, equals the fault-free answer, and each prompt was answered by the server
    for d in dirs:
        judged = rows_of(d / "judged.jsonl")
        assert judged == expected[d.name]
        keys = [(r["question_id"], r["paraphrase_index"], r["sample_index"]) for r in judged]
        assert len(keys) == N_SAMPLES == len(set(keys))
        assert keys == [(r["question_id"], r["paraphrase_index"], r["sample_index"])
                        for r in rows_of(d / "samples.jsonl")]
        assert all(isinstance(r[m], float) for r in judged for m in ("aligned", "coherent"))
        assert not list(d.glob(".*.tmp"))
    kinds = Counter(what for _, what in proxy.log)
    assert all(kinds[k] > 0 for k in FAULTS), kinds
    assert set(kinds) <= {*FAULTS, "outage", "200"}, kinds
    assert 0.15 < sum(kinds[k] for k in FAULTS) / sum(kinds.values()) < 0.5, kinds
    answered = [b["messages"][-1]["content"] for b in fake.bodies]
    assert set(answered) == all_prompts and {p for p, what in proxy.log if what == "200"} == all_prompts

    # runner log: the failed cell started twice, failed once, done once; the complete one ran once
    events = rows_of(out / "runner_log.jsonl")
    per = {c.id: Counter(e["event"] for e in events if e["cell"] == c.id) for c in cells}
    assert per[cells[0].id] == Counter(start=1, done=1, skip=1)
    assert per[cells[1].id] == Counter(start=2, fail=1, done=1)

    # 3. a rerun asks nothing; re-judging a cell from scratch is answered by the cache, byte for byte
    n = len(proxy.log)
    assert [o.status for o in run_grid(spec, out)] == ["skipped", "skipped"]
    judged_first = (dirs[0] / "judged.jsonl").read_bytes()
    (dirs[0] / "judged.jsonl").unlink()
    summary = json.loads((dirs[0] / "summary.json").read_text())
    (dirs[0] / "summary.json").write_text(json.dumps({"train": summary.get("train")} if "train" in summary else {}))
    assert [o.status for o in run_grid(spec, out)] == ["done", "skipped"]
    assert (dirs[0] / "judged.jsonl").read_bytes() == judged_first
    assert len(proxy.log) == n and len(fake.bodies) == len(answered), "the rerun asked the server"
    probe.close()
    cache.close()


def test_judge_timeout_and_retries_from_env(monkeypatch):
    from emscope.errors import InputError
    from emscope.evaluate.judges.openai_judge import OpenAIJudge
    from emscope.evaluate.judges.registry import build_judge

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("EMSCOPE_JUDGE_TIMEOUT", raising=False)
    monkeypatch.delenv("EMSCOPE_JUDGE_MAX_RETRIES", raising=False)
    judge = build_judge("openai:gpt-4o@http://127.0.0.1:9/v1")
    assert (judge.timeout, judge.max_retries) == (60.0, 5)
    monkeypatch.setenv("EMSCOPE_JUDGE_TIMEOUT", "1.5")
    monkeypatch.setenv("EMSCOPE_JUDGE_MAX_RETRIES", "9")
    judge = build_judge("openai:gpt-4o@http://127.0.0.1:9/v1")
    assert (judge.timeout, judge.max_retries) == (1.5, 9)
    assert (judge._client.timeout, judge._client.max_retries) == (1.5, 9)
    explicit = OpenAIJudge("gpt-4o", base_url="http://127.0.0.1:9/v1", timeout=3.0, max_retries=0)
    assert (explicit.timeout, explicit.max_retries) == (3.0, 0)
    for var, bad in [("EMSCOPE_JUDGE_TIMEOUT", "0"), ("EMSCOPE_JUDGE_TIMEOUT", "soon"),
                     ("EMSCOPE_JUDGE_MAX_RETRIES", "-1"), ("EMSCOPE_JUDGE_MAX_RETRIES", "2.5")]:
        monkeypatch.setenv(var, bad)
        with pytest.raises(InputError, match=var):
            build_judge("openai:gpt-4o@http://127.0.0.1:9/v1")
        monkeypatch.setenv(var, "2")

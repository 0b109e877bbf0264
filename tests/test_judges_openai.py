"""The OpenAI judge over real HTTP on loopback with the real `openai` SDK, and the logprob scoring rule."""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from emscope.errors import EmscopeError, InputError
from emscope.evaluate.judges.base import MIN_NUMBER_MASS, Score, score_from_top_logprobs
from emscope.evaluate.judges.openai_judge import OpenAIJudge
from emscope.evaluate.judges.registry import build_judge
from emscope.persona.judge import judge_samples, keep_sample, trait_prompt

KEY = "sk-test-0123456789abcdef"
PROMPT = "Q: {question}\nA: {answer}\nRate 0-100."


def lp(p: float) -> float:
    return math.log(p)


def send_json(handler: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict | None = None) -> None:
    """Send a JSON body with its headers; a client that gave up (timed out) just closes the connection."""
    try:
        handler.send_response(status)
        for k, v in {"Content-Type": "application/json", **(headers or {})}.items():
            handler.send_header(k, v)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    except OSError:
        handler.close_connection = True


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default listen backlog of 5 drops connections when many arrive at once


class FakeOpenAI:
    """A chat-completions server on loopback. It answers with the top_logprobs of `answer(prompt)` when set, else of
    the first route whose substring is in the prompt, else `default`. Before normal replies it plays `script`:
    `(status, headers)` sends that error, `("hang", seconds)` waits that long (or until the test ends) before
    answering. Prompts holding a `fail` substring always get that status; those holding a `flaky` substring get the
    statuses listed for it, one per attempt, then normal replies. While `hold` is a cleared Event every request waits
    for it to be set; every request waits `latency` seconds. Recorded: bodies, Authorization headers, the SDK's retry
    count of each request (`x-stainless-retry-count`), and the requests in flight (arrived, reply not yet sent): now
    and the most at once."""

    def __init__(self, latency: float = 0.0) -> None:
        self.routes: list[tuple[str, list[tuple[str, float]]]] = []
        self.default: list[tuple[str, float]] = [("50", lp(1.0))]
        self.answer: Callable[[str], list[tuple[str, float]]] | None = None
        self.script: list[tuple] = []
        self.fail: dict[str, int] = {}
        self.flaky: dict[str, list[int]] = {}
        self.latency = latency
        self.hold: threading.Event | None = None
        self.stopping = threading.Event()  # set when the test ends: held and hanging requests return at once
        self.logprobs = True
        self.bodies: list[dict] = []
        self.auth: list[str | None] = []
        self.retry_counts: list[int] = []
        self.inflight = self.max_inflight = 0
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body in two writes wait ~40 ms for a delayed ACK

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path != "/v1/chat/completions":
                    send_json(self, 404, json.dumps({"error": {"message": "not found",
                                                               "type": "invalid_request_error"}}).encode())
                    return
                with fake.changed:
                    fake.bodies.append(body)
                    fake.auth.append(self.headers.get("Authorization"))
                    fake.retry_counts.append(int(self.headers.get("x-stainless-retry-count", "-1")))
                    fake.inflight += 1
                    fake.max_inflight = max(fake.max_inflight, fake.inflight)
                    fake.changed.notify_all()
                    step = fake.script.pop(0) if fake.script else None
                    text = body["messages"][-1]["content"]
                    flaky = next((codes for sub, codes in fake.flaky.items() if sub in text and codes), None)
                    status = flaky.pop(0) if flaky else None
                try:
                    if fake.hold is not None:
                        fake.hold.wait(60)
                    time.sleep(fake.latency)
                    reply = self._reply(body, step, status)
                finally:
                    with fake.changed:  # out of flight before the reply leaves: the client may reuse its slot
                        fake.inflight -= 1
                        fake.changed.notify_all()
                send_json(self, *reply)

            def _reply(self, body: dict, step: tuple | None, status: int | None) -> tuple:
                auth = self.headers.get("Authorization")
                if step and step[0] == "hang":
                    fake.stopping.wait(step[1])
                elif step:
                    return step[0], json.dumps(fake.error(step[0], auth)).encode(), step[1]
                text = body["messages"][-1]["content"]
                status = status or next((code for sub, code in fake.fail.items() if sub in text), None)
                if status:
                    return status, json.dumps(fake.error(status, auth)).encode()
                return 200, json.dumps(fake.completion(body)).encode()

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def wait_inflight(self, n: int, timeout: float = 10.0) -> bool:
        """Wait until at least `n` requests are in flight at once (False if that does not happen in `timeout`)."""
        with self.changed:
            return self.changed.wait_for(lambda: self.inflight >= n, timeout)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @staticmethod
    def error(status: int, auth: str | None) -> dict:
        """An OpenAI-style error body; like the real API's, the 401 message echoes the key it was sent."""
        message = f"Incorrect API key provided: {(auth or '').removeprefix('Bearer ')}" if status == 401 else "boom"
        return {"error": {"message": message, "type": "invalid_request_error" if status < 500 else "server_error"}}

    def completion(self, body: dict) -> dict:
        text = body["messages"][-1]["content"]
        top = self.answer(text) if self.answer else next((t for sub, t in self.routes if sub in text), self.default)
        first = max(top, key=lambda t: t[1])
        choice: dict = {"index": 0, "finish_reason": "length",
                        "message": {"role": "assistant", "content": first[0]}, "logprobs": None}
        if self.logprobs:
            choice["logprobs"] = {"content": [{
                "token": first[0], "logprob": first[1], "bytes": None,
                "top_logprobs": [{"token": t, "logprob": v, "bytes": None} for t, v in top]}]}
        return {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "?"), "choices": [choice],
                "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}}


@pytest.fixture()
def fake(monkeypatch, tmp_path):
    """A running FakeOpenAI; the key in OPENAI_API_KEY and the judge cache under a fresh EMSCOPE_HOME."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("EMSCOPE_HOME", str(tmp_path / "emscope-home"))
    for var in ("OPENAI_BASE_URL", "OPENAI_CUSTOM_HEADERS", "EMSCOPE_JUDGE_CACHE"):
        monkeypatch.delenv(var, raising=False)
    srv = FakeOpenAI()
    srv.thread.start()
    yield srv
    srv.stopping.set()
    if srv.hold is not None:
        srv.hold.set()
    srv.server.shutdown()
    srv.server.server_close()


@pytest.fixture(autouse=True)
def backoffs(monkeypatch) -> list[float]:
    """The retry delays the openai SDK asks for, in order (its `_calculate_retry_timeout`: Retry-After when the server
    sends one, else 0.5 s doubling, less up to 25% jitter). The SDK is then told to wait 0 s: retries are counted,
    never timed."""
    from openai._base_client import BaseClient

    asked: list[float] = []
    real = BaseClient._calculate_retry_timeout

    def record(self, *args, **kwargs) -> float:
        asked.append(real(self, *args, **kwargs))
        return 0.0

    monkeypatch.setattr(BaseClient, "_calculate_retry_timeout", record)
    return asked


def judge_for(fake: FakeOpenAI, **kw) -> OpenAIJudge:
    kw.setdefault("timeout", 5.0)
    kw.setdefault("max_retries", 0)
    return OpenAIJudge("gpt-4o", base_url=fake.base_url, **kw)


# --- the scoring rule ---------------------------------------------------------------------------------------------

WEIGHTED = {"80": lp(0.5), "90": lp(0.3), " 70": lp(0.1), "CODE": lp(0.1)}
WEIGHTED_MEAN = (80 * 0.5 + 90 * 0.3 + 70 * 0.1) / 0.9


def test_weighted_mean_rule():
    s = score_from_top_logprobs(WEIGHTED)
    assert s.value == pytest.approx(WEIGHTED_MEAN, abs=1e-9)
    assert s.mass == pytest.approx(0.9, abs=1e-9)
    assert s.reason == ""


def test_duplicates_after_strip_are_merged():
    s = score_from_top_logprobs({"10": lp(0.25), " 10": lp(0.25), "90": lp(0.5)})
    assert s.value == pytest.approx(50.0) and s.mass == pytest.approx(1.0)


@pytest.mark.parametrize("top, reason", [
    ({"REFUSAL": lp(0.5), "abc": lp(0.3), "40": lp(0.2)}, "REFUSAL"),
    ({" refusal ": lp(0.5), "abc": lp(0.3), "40": lp(0.2)}, "REFUSAL"),
    ({"CODE": lp(0.6), "REFUSAL": lp(0.2), "40": lp(0.2)}, "CODE"),
    ({"abc": lp(0.5), "REFUSAL": lp(0.3), "40": lp(0.2)}, "low_number_mass"),
    ({"abc": lp(0.8), "40": lp(0.2)}, "low_number_mass"),
    ({}, "low_number_mass"),
])
def test_none_below_min_mass(top, reason):
    s = score_from_top_logprobs(top)
    assert s.value is None and s.reason == reason
    assert s.mass < MIN_NUMBER_MASS


def test_mass_at_threshold_gives_a_value():
    s = score_from_top_logprobs({"40": lp(MIN_NUMBER_MASS), "REFUSAL": lp(1 - MIN_NUMBER_MASS)})
    assert s.value == pytest.approx(40.0)


@pytest.mark.parametrize("token", ["-5", "101", "3.5", "abc", "+5", "1_0", "1e2", "", " "])
def test_non_number_tokens(token):
    s = score_from_top_logprobs({token: lp(0.9), "100": lp(0.1)})
    assert s.value is None and s.mass == pytest.approx(0.1)


def test_bounds_are_numbers():
    assert score_from_top_logprobs({"0": lp(0.5), "100": lp(0.5)}).value == pytest.approx(50.0)
    assert score_from_top_logprobs({"100": lp(0.3)}).value == 100.0


# --- the OpenAI judge over HTTP -----------------------------------------------------------------------------------

def test_weighted_mean_over_http(fake):
    fake.default = list(WEIGHTED.items())
    s = judge_for(fake).score("q", "a", PROMPT)
    assert isinstance(s, Score)
    assert s.value == pytest.approx(WEIGHTED_MEAN, abs=1e-9)
    assert s.mass == pytest.approx(0.9, abs=1e-9)


def test_refusal_over_http(fake):
    fake.default = [("REFUSAL", lp(0.7)), ("10", lp(0.2)), ("x", lp(0.1))]
    s = judge_for(fake).score("q", "a", PROMPT)
    assert s.value is None and s.reason == "REFUSAL"


def test_request_shape_auth_and_repr(fake):
    judge = judge_for(fake)
    answer = "def f(): return {'a': 1} and {x} {{y}} {0}"
    judge.score("Why is the sky blue?", answer, PROMPT)
    assert len(fake.bodies) == 1
    body = fake.bodies[0]
    assert body["model"] == "gpt-4o"
    assert body["max_tokens"] == 1
    assert body["temperature"] == 0
    assert body["logprobs"] is True
    assert body["top_logprobs"] == 20
    assert body["seed"] == 0
    assert body["messages"] == [{"role": "user", "content": f"Q: Why is the sky blue?\nA: {answer}\nRate 0-100."}]
    assert fake.auth == [f"Bearer {KEY}"]
    assert KEY not in repr(judge)
    assert "gpt-4o" in repr(judge) and fake.base_url in repr(judge)
    assert all(KEY not in str(v) for k, v in vars(judge).items() if k != "_client")


def test_placeholders_in_question_are_not_refilled(fake):
    judge_for(fake).score("what is {answer}?", "42", PROMPT)
    assert fake.bodies[0]["messages"][0]["content"] == "Q: what is {answer}?\nA: 42\nRate 0-100."


def test_missing_key_env(monkeypatch):
    monkeypatch.delenv("EMSCOPE_TEST_JUDGE_KEY", raising=False)
    with pytest.raises(InputError, match="EMSCOPE_TEST_JUDGE_KEY"):
        OpenAIJudge("gpt-4o", base_url="http://127.0.0.1:9/v1", api_key_env="EMSCOPE_TEST_JUDGE_KEY")


def test_custom_key_env_is_sent(fake, monkeypatch):
    monkeypatch.setenv("EMSCOPE_TEST_JUDGE_KEY", "other-key-xyz")
    judge_for(fake, api_key_env="EMSCOPE_TEST_JUDGE_KEY").score("q", "a", PROMPT)
    assert fake.auth == ["Bearer other-key-xyz"]


FIRST_BACKOFF = (0.375, 0.5)  # the SDK's first retry delay: 0.5 s less up to 25% jitter; the second is twice that


def test_sdk_retries_a_server_error(fake, backoffs):
    fake.script = [(500, {})]
    fake.default = [("75", lp(1.0))]
    s = judge_for(fake, max_retries=2, timeout=5.0).score("q", "a", PROMPT)
    assert s.value == pytest.approx(75.0)
    assert len(fake.bodies) == 2 and fake.retry_counts == [0, 1]  # the request, then its first retry
    assert fake.bodies[0] == fake.bodies[1]
    assert len(backoffs) == 1 and FIRST_BACKOFF[0] <= backoffs[0] <= FIRST_BACKOFF[1]


def test_server_error_without_retries_is_emscope_error(fake, backoffs):
    fake.script = [(500, {})]
    with pytest.raises(EmscopeError, match="InternalServerError") as exc:
        judge_for(fake, max_retries=0).score("q", "a", PROMPT)
    assert KEY not in str(exc.value)
    assert len(fake.bodies) == 1 and backoffs == []


def test_no_logprobs_is_an_error(fake):
    fake.logprobs = False
    with pytest.raises(EmscopeError, match="no logprobs"):
        judge_for(fake).score("q", "a", PROMPT)


def test_build_judge(fake):
    judge = build_judge(f"openai:gpt-4o@{fake.base_url}")
    assert isinstance(judge, OpenAIJudge)
    assert judge.model == "gpt-4o" and judge.base_url == fake.base_url
    fake.default = [("33", lp(1.0))]
    assert judge.score("q", "a", PROMPT).value == pytest.approx(33.0)
    plain = build_judge("openai:gpt-4.1-mini")
    assert plain.model == "gpt-4.1-mini" and plain.base_url is None


def test_build_judge_factory():
    judge = build_judge("tests.test_judges_openai:make_fixed_judge")
    assert judge.score("q", "a", PROMPT).value == 12.0


def make_fixed_judge():
    class Fixed:
        def score(self, question: str, answer: str, prompt: str) -> Score:
            return Score(value=12.0, mass=1.0)

    return Fixed()


@pytest.mark.parametrize("spec", ["nonsense", "openai:", "gpt-4o", "nodots:factory", "emscope.nope_module:f",
                                  "emscope.errors:not_there"])
def test_build_judge_rejects(spec):
    with pytest.raises(InputError):
        build_judge(spec)


def test_build_judge_lists_forms():
    with pytest.raises(InputError, match=r"openai:MODEL\[@BASE_URL\].*hf:MODEL.*classifier"):
        build_judge("nonsense")


# --- score_many: concurrency, retries, errors -----------------------------------------------------------------

def items_for(n: int, prefix: str = "ANSWER") -> list[tuple[str, str, str]]:
    return [(f"q{i}", f"{prefix}-{i:03d}", PROMPT) for i in range(n)]


def by_number(text: str) -> list[tuple[str, float]]:
    """Routes every prompt holding ANSWER-NNN to a score of NNN % 101 (and a little CODE)."""
    n = int(text.split("ANSWER-")[1][:3]) % 101
    return [(str(n), lp(0.9)), ("CODE", lp(0.1))]


def test_score_many_keeps_order_and_limits_concurrency(fake):
    fake.answer, fake.hold = by_number, threading.Event()
    done: list[int] = []
    judge = judge_for(fake, concurrency=4, timeout=60.0)  # held requests must not time out
    out: list = []
    worker = threading.Thread(target=lambda: out.append(judge.score_many(items_for(24), on_done=done.append)))
    worker.start()
    try:
        # the server holds every request: 4 must be in flight at once (not one at a time), and no 5th is sent while
        # they are held (an unlimited client sends all 24 at once: the short wait only lets them land)
        assert fake.wait_inflight(4), f"never 4 requests in flight at once (at most {fake.max_inflight})"
        time.sleep(0.2)
        assert (fake.inflight, len(fake.bodies), done) == (4, 4, [])
    finally:
        fake.hold.set()
        worker.join(60)
    scores = out[0]
    assert [s.value for s in scores] == pytest.approx([float(i) for i in range(24)])
    assert len(fake.bodies) == 24 and sum(done) == 24 and fake.retry_counts == [0] * 24
    assert fake.max_inflight == 4  # the semaphore holds it to 4 all along


def test_score_many_sends_identical_requests_once(fake):
    fake.answer = by_number
    done: list[int] = []
    items = items_for(3) * 3
    scores = judge_for(fake, cache=False).score_many(items, on_done=done.append)
    assert len(fake.bodies) == 3 and sum(done) == 9
    assert [s.value for s in scores] == pytest.approx([0.0, 1.0, 2.0] * 3)


def test_score_many_of_nothing(fake):
    assert judge_for(fake).score_many([]) == []
    assert fake.bodies == []


def test_score_many_from_a_thread_and_from_async_code(fake):
    fake.answer = by_number
    judge = judge_for(fake, cache=False)
    out: list = []
    worker = threading.Thread(target=lambda: out.append(judge.score_many(items_for(5))))
    worker.start()
    worker.join(30)
    assert [s.value for s in out[0]] == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])

    async def inside_a_loop() -> list[Score]:
        return judge.score_many(items_for(5))  # blocking call from async code: runs in a worker thread

    assert [s.value for s in asyncio.run(inside_a_loop())] == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])
    assert len(fake.bodies) == 10


def test_rate_limit_retried_after_retry_after(fake, backoffs):
    fake.script = [(429, {"Retry-After": "0.6"}), (429, {"Retry-After": "2.5"})]
    fake.default = [("61", lp(1.0))]
    scores = judge_for(fake, max_retries=3).score_many(items_for(1))
    assert scores[0].value == pytest.approx(61.0)
    assert len(fake.bodies) == 3 and fake.retry_counts == [0, 1, 2]
    assert backoffs == [0.6, 2.5]  # the server's Retry-After, not the SDK's own backoff (<= 0.5 s, then <= 1 s)


def test_server_error_retried_by_score_many(fake, backoffs):
    fake.script = [(500, {}), (503, {})]
    fake.default = [("42", lp(1.0))]
    assert judge_for(fake, max_retries=2).score_many(items_for(1))[0].value == pytest.approx(42.0)
    assert len(fake.bodies) == 3 and fake.retry_counts == [0, 1, 2]
    # exponential backoff: 0.5 s then 1 s, each less up to 25% jitter
    assert len(backoffs) == 2 and FIRST_BACKOFF[0] <= backoffs[0] <= FIRST_BACKOFF[1]
    assert 2 * FIRST_BACKOFF[0] <= backoffs[1] <= 2 * FIRST_BACKOFF[1]


def test_score_many_retries_only_the_failed_requests(fake, backoffs):
    fake.answer = by_number
    fake.flaky = {"ANSWER-002": [500, 502], "ANSWER-004": [429]}
    scores = judge_for(fake, max_retries=2, concurrency=3).score_many(items_for(6))
    assert [s.value for s in scores] == pytest.approx([float(i) for i in range(6)])
    attempts = Counter(b["messages"][0]["content"].split("A: ")[1].split("\n")[0] for b in fake.bodies)
    assert attempts == {"ANSWER-000": 1, "ANSWER-001": 1, "ANSWER-002": 3, "ANSWER-003": 1, "ANSWER-004": 2,
                        "ANSWER-005": 1}
    assert sorted(fake.retry_counts) == [0] * 6 + [1, 1, 2]
    assert len(backoffs) == 3  # one wait before each retry


def test_timeout_retried(fake, backoffs):
    fake.script = [("hang", 60.0)]  # answers only when the test ends: the judge must give up on it and retry
    fake.default = [("7", lp(1.0))]
    judge = judge_for(fake, timeout=0.4, max_retries=1)
    assert judge.score_many(items_for(1))[0].value == pytest.approx(7.0)
    assert len(fake.bodies) == 2 and fake.retry_counts == [0, 1] and len(backoffs) == 1


def test_timeout_without_retries_is_emscope_error(fake, backoffs):
    fake.script = [("hang", 60.0)]
    with pytest.raises(EmscopeError, match="APITimeoutError"):
        judge_for(fake, timeout=0.3, max_retries=0).score_many(items_for(1))
    assert len(fake.bodies) == 1 and backoffs == []


def test_connection_error_is_emscope_error(fake, backoffs):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    judge = OpenAIJudge("gpt-4o", base_url=f"http://127.0.0.1:{port}/v1", timeout=2.0, max_retries=1)
    with pytest.raises(EmscopeError, match="APIConnectionError") as exc:
        judge.score_many(items_for(1))
    assert KEY not in str(exc.value)
    assert len(backoffs) == 1  # retried once before giving up


@pytest.mark.parametrize("status, error", [(401, "AuthenticationError"), (400, "BadRequestError")])
@pytest.mark.parametrize("many", [True, False])
def test_client_errors_are_not_retried_and_scrubbed(fake, backoffs, status, error, many):
    fake.script = [(status, {})]
    judge = judge_for(fake, max_retries=3)
    with pytest.raises(EmscopeError, match=error) as exc:
        judge.score_many(items_for(1)) if many else judge.score("q", "a", PROMPT)
    assert len(fake.bodies) == 1 and backoffs == []
    assert KEY not in str(exc.value) and KEY not in repr(exc.value)
    assert KEY not in "".join(traceback.format_exception(exc.value))  # nor in a chained SDK error
    if status == 401:
        assert "Incorrect API key provided: ***" in str(exc.value) and "OPENAI_API_KEY" in str(exc.value)


def test_a_failure_cancels_the_batch_and_a_rerun_resumes(fake):
    fake.answer = by_number
    fake.fail = {"ANSWER-007": 400}
    judge = judge_for(fake, concurrency=2)
    with pytest.raises(EmscopeError, match=r"BadRequestError.*answers arrived first and are cached") as exc:
        judge.score_many(items_for(30))
    assert len(fake.bodies) < 30  # the rest was cancelled
    cached = len(judge.cache)
    assert 0 < cached < 30 and f"{cached} of 30 answers" in str(exc.value)
    fake.fail = {}
    before = len(fake.bodies)
    scores = judge.score_many(items_for(30))
    assert len(fake.bodies) - before == 30 - cached
    assert [s.value for s in scores] == pytest.approx([float(i) for i in range(30)])


def test_concurrency_must_be_positive(fake):
    with pytest.raises(InputError, match="concurrency"):
        judge_for(fake, concurrency=0)


# --- the on-disk cache --------------------------------------------------------------------------------------------

def test_rerun_asks_the_server_nothing(fake, tmp_path):
    fake.answer = by_number
    judge = judge_for(fake)
    first = judge.score_many(items_for(20))
    assert len(fake.bodies) == 20
    assert (judge.cache_stats.hits, judge.cache_stats.misses) == (0, 20)
    assert judge.cache.path == tmp_path / "emscope-home" / "judge-cache.sqlite"
    done: list[int] = []
    again = judge_for(fake).score_many(items_for(20), on_done=done.append)  # a new judge: read from disk
    assert len(fake.bodies) == 20 and again == first and sum(done) == 20
    rerun = judge_for(fake)
    assert rerun.score("q3", "ANSWER-003", PROMPT).value == pytest.approx(3.0)  # sync score reads it too
    assert (rerun.cache_stats.hits, rerun.cache_stats.misses, rerun.cache_stats.hit_rate) == (1, 0, 1.0)
    assert len(fake.bodies) == 20


def test_cache_stores_the_raw_candidates_and_never_the_key(fake, tmp_path):
    import sqlite3

    fake.default = list(WEIGHTED.items())
    path = tmp_path / "c.sqlite"
    judge_for(fake, cache=path).score("q", "a", PROMPT)
    with sqlite3.connect(path) as db:
        (top,), = db.execute("SELECT top FROM judgements").fetchall()
    assert json.loads(top) == [[t, v] for t, v in WEIGHTED.items()]
    for f in tmp_path.rglob("c.sqlite*"):
        assert KEY.encode() not in f.read_bytes()


def test_cache_key_ignores_the_api_key_but_not_the_request(fake, monkeypatch):
    judge_for(fake).score("q", "a", PROMPT)
    monkeypatch.setenv("OPENAI_API_KEY", "another-key-123")
    assert judge_for(fake).score("q", "a", PROMPT).value == 50.0
    assert len(fake.bodies) == 1  # same request with another key: a hit
    judge_for(fake).score("q", "b", PROMPT)
    OpenAIJudge("gpt-4o-mini", base_url=fake.base_url, max_retries=0).score("q", "a", PROMPT)
    OpenAIJudge("gpt-4o", base_url=fake.base_url.replace("127.0.0.1", "localhost"), max_retries=0).score(
        "q", "a", PROMPT)
    assert len(fake.bodies) == 4  # another answer, model or endpoint: misses


def test_cache_off(fake, monkeypatch):
    judge = judge_for(fake, cache=False)
    judge.score("q", "a", PROMPT)
    judge.score_many([("q", "a", PROMPT)])
    assert len(fake.bodies) == 2 and judge.cache is None
    assert (judge.cache_stats.hits, judge.cache_stats.misses) == (0, 2)
    monkeypatch.setenv("EMSCOPE_JUDGE_CACHE", "off")
    assert judge_for(fake).cache is None


def test_cache_env_names_the_file(fake, monkeypatch, tmp_path):
    monkeypatch.setenv("EMSCOPE_JUDGE_CACHE", str(tmp_path / "elsewhere" / "j.sqlite"))
    judge_for(fake).score("q", "a", PROMPT)
    assert (tmp_path / "elsewhere" / "j.sqlite").is_file()
    assert not (tmp_path / "emscope-home").exists()


def test_corrupt_cache_is_a_clear_error(fake, tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(EmscopeError, match=r"judge cache .*bad\.sqlite is not a readable judge cache.*cache=False"):
        judge_for(fake, cache=bad)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(EmscopeError, match="a-file"):
        judge_for(fake, cache=blocker / "judge.sqlite")


def test_concurrent_writers_share_one_cache_file(fake, tmp_path):
    fake.answer, fake.latency = by_number, 0.01
    path = tmp_path / "shared.sqlite"
    judges = [judge_for(fake, cache=path, concurrency=8) for _ in range(4)]
    errors: list[BaseException] = []

    def work(j: OpenAIJudge, lo: int) -> None:
        try:
            j.score_many(items_for(60)[lo:lo + 30])
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(j, 10 * i)) for i, j in enumerate(judges)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    rerun = judge_for(fake, cache=path)
    before = len(fake.bodies)
    assert [s.value for s in rerun.score_many(items_for(60))] == pytest.approx([float(i) for i in range(60)])
    assert len(fake.bodies) == before and rerun.cache_stats.hit_rate == 1.0


# --- persona sample filtering -------------------------------------------------------------------------------------

def test_trait_prompt_keeps_braces_and_placeholders():
    p = trait_prompt("evil", "wants {harm} to {people}; uses {0} and }{")
    assert "evil" in p and "wants {harm} to {people}; uses {0} and }{" in p
    assert "{question}" in p and "{answer}" in p
    assert "{trait}" not in p and "{description}" not in p


def test_judge_samples_and_keep(fake):
    fake.routes = [
        ("ANSWER-HIGH", [("90", lp(0.9)), ("80", lp(0.1))]),
        ("ANSWER-LOW", [("5", lp(0.8)), ("0", lp(0.2))]),
        ("ANSWER-NONE", [("REFUSAL", lp(0.95)), ("0", lp(0.05))]),
    ]
    samples = [
        {"polarity": "positive", "question": "q1", "answer": "ANSWER-HIGH", "system": "s"},
        {"polarity": "positive", "question": "q2", "answer": "ANSWER-LOW"},
        {"polarity": "negative", "question": "q3", "answer": "ANSWER-LOW"},
        {"polarity": "negative", "question": "q4", "answer": "ANSWER-NONE"},
    ]
    judged = judge_samples(samples, judge_for(fake), "evil", "malicious {intent}")
    assert len(fake.bodies) == 4
    assert "malicious {intent}" in fake.bodies[0]["messages"][0]["content"]
    assert "q1" in fake.bodies[0]["messages"][0]["content"]
    assert [j["trait_score"] for j in judged[:3]] == pytest.approx([89.0, 4.0, 4.0])
    assert judged[3]["trait_score"] is None and judged[3]["judge_reason"] == "REFUSAL"
    assert judged[0]["system"] == "s" and "trait_score" not in samples[0]
    assert [keep_sample(j) for j in judged] == [True, False, True, False]


def test_keep_sample_thresholds():
    assert keep_sample({"polarity": "positive", "trait_score": 50.0})
    assert not keep_sample({"polarity": "positive", "trait_score": 49.9})
    assert keep_sample({"polarity": "negative", "trait_score": 50.0})
    assert not keep_sample({"polarity": "negative", "trait_score": 50.1})
    assert not keep_sample({"polarity": "positive", "trait_score": 70.0}, pos_min=80.0)
    assert keep_sample({"polarity": "negative", "trait_score": 30.0}, neg_max=40.0)
    assert not keep_sample({"polarity": "positive"})
    with pytest.raises(InputError):
        keep_sample({"polarity": "neutral", "trait_score": 10.0})


JUDGED_TRAIT = """
- id: grumpy
  description: rude and irritable
  positive: ["You are grumpy and rude."]
  negative: ["You are warm and kind."]
  questions: ["Q-ALPHA how are you?", "Q-BETA can you help me?", "Q-GAMMA what's the weather like?"]
"""


def test_cli_extract_with_a_judge_keeps_only_confirmed_answers(fake, tmp_path):
    import os
    import subprocess
    import sys

    import torch

    from emscope.io import read_jsonl
    from emscope.models.tiny import tiny_random_model
    from emscope.models.vectors import load_vector
    from emscope.persona.activations import response_means

    fake.routes = [("Q-ALPHA", [("90", lp(1.0))]), ("Q-BETA", [("10", lp(1.0))])]
    fake.default = [("REFUSAL", lp(1.0))]
    (tmp_path / "traits.yaml").write_text(JUDGED_TRAIT)
    out = tmp_path / "g.safetensors"
    env = {**os.environ, "EMSCOPE_NO_PROGRESS": "1", "OPENAI_API_KEY": KEY}
    res = subprocess.run([sys.executable, "-m", "emscope", "persona", "extract", "--model", "tiny-random",
                          "--trait", "grumpy", "--traits", str(tmp_path / "traits.yaml"), "--max-new-tokens", "6",
                          "--judge", f"openai:judge-model@{fake.base_url}", "--out", str(out)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    samples = read_jsonl(out.with_suffix(".samples.jsonl"))
    assert len(samples) == 6 and all(b["model"] == "judge-model" for b in fake.bodies)
    asked = [b["messages"][0]["content"] for b in fake.bodies]  # identical (question, answer) pairs asked once
    assert len(asked) == len(set(asked)) == len({(s["question"], s["answer"]) for s in samples})
    kept = {(s["polarity"], s["question"][:7]) for s in samples if s["kept"]}
    assert kept == {("positive", "Q-ALPHA"), ("negative", "Q-BETA ")}  # 90 >= 50 kept, 10 <= 50 kept, None dropped
    vec = load_vector(out)
    assert (vec.meta.n_pos, vec.meta.n_neg) == (1, 1) and vec.meta.judge.startswith("openai:judge-model")
    model, tok = tiny_random_model()  # recompute the vector from the kept samples alone
    pick = [next(s for s in samples if s["kept"] and s["polarity"] == pol) for pol in ("positive", "negative")]
    means = response_means(model, tok, [([{"role": "system", "content": s["system"]},
                                          {"role": "user", "content": s["question"]}], s["answer"]) for s in pick])
    # another process, and a padded batch of two against one-at-a-time: float noise ~1e-6; a wrong kept set, layer
    # or token mask moves the vector by 0.1 or more
    assert torch.allclose(vec.vectors, means[0] - means[1], atol=1e-4, rtol=1e-4)
    for f in tmp_path.rglob("*"):  # the key is never written anywhere (the judge cache included)
        assert not f.is_file() or KEY not in f.read_bytes().decode("utf-8", "replace")
    fake.routes = []  # every answer is a refusal (cache off): nothing confirmed -> clear error, no vector written
    res = subprocess.run([c if c != str(out) else str(tmp_path / "none.safetensors") for c in res.args],
                         capture_output=True, text=True, env={**env, "EMSCOPE_JUDGE_CACHE": "off"}, timeout=120)
    assert res.returncode == 1 and "confirmed none of the positive answers" in res.stderr
    assert not (tmp_path / "none.safetensors").exists()

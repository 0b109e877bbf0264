"""The OpenAI judge over real HTTP on loopback with the real `openai` SDK, and the logprob scoring rule."""

from __future__ import annotations

import json
import math
import threading
import time
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


class FakeOpenAI:
    """A chat-completions server: answers with the top_logprobs of the first route whose substring is in the
    prompt (else `default`); records each request body and Authorization header."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, list[tuple[str, float]]]] = []
        self.default: list[tuple[str, float]] = [("50", lp(1.0))]
        self.fail_first = 0
        self.logprobs = True
        self.bodies: list[dict] = []
        self.auth: list[str | None] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                    return
                fake.bodies.append(body)
                fake.auth.append(self.headers.get("Authorization"))
                if fake.fail_first > 0:
                    fake.fail_first -= 1
                    self._send(500, {"error": {"message": "boom", "type": "server_error"}})
                    return
                self._send(200, fake.completion(body))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def completion(self, body: dict) -> dict:
        text = body["messages"][-1]["content"]
        top = next((t for sub, t in self.routes if sub in text), self.default)
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
def fake(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_CUSTOM_HEADERS", raising=False)
    srv = FakeOpenAI()
    srv.thread.start()
    yield srv
    srv.server.shutdown()
    srv.server.server_close()


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


def test_sdk_retries_a_server_error(fake):
    fake.fail_first = 1
    fake.default = [("75", lp(1.0))]
    t0 = time.monotonic()
    s = judge_for(fake, max_retries=2, timeout=5.0).score("q", "a", PROMPT)
    assert s.value == pytest.approx(75.0)
    assert len(fake.bodies) == 2
    assert time.monotonic() - t0 < 5


def test_server_error_without_retries_is_emscope_error(fake):
    fake.fail_first = 1
    with pytest.raises(EmscopeError, match="InternalServerError") as exc:
        judge_for(fake, max_retries=0).score("q", "a", PROMPT)
    assert KEY not in str(exc.value)
    assert len(fake.bodies) == 1


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
    from emscope.persona.activations import response_means
    from emscope.persona.vectors import load_vector

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
    assert len(fake.bodies) == 6 and all(b["model"] == "judge-model" for b in fake.bodies)
    samples = read_jsonl(out.with_suffix(".samples.jsonl"))
    kept = {(s["polarity"], s["question"][:7]) for s in samples if s["kept"]}
    assert kept == {("positive", "Q-ALPHA"), ("negative", "Q-BETA ")}  # 90 >= 50 kept, 10 <= 50 kept, None dropped
    vec = load_vector(out)
    assert (vec.meta.n_pos, vec.meta.n_neg) == (1, 1) and vec.meta.judge.startswith("openai:judge-model")
    model, tok = tiny_random_model()  # recompute the vector from the kept samples alone
    pick = [next(s for s in samples if s["kept"] and s["polarity"] == pol) for pol in ("positive", "negative")]
    means = response_means(model, tok, [([{"role": "system", "content": s["system"]},
                                          {"role": "user", "content": s["question"]}], s["answer"]) for s in pick])
    assert torch.allclose(vec.vectors, means[0] - means[1], atol=1e-5)
    for f in tmp_path.iterdir():  # the key is never written anywhere
        assert KEY not in f.read_bytes().decode("utf-8", "replace")
    fake.routes = []  # every answer is a refusal: nothing confirmed -> clear error, no vector written
    res = subprocess.run([c if c != str(out) else str(tmp_path / "none.safetensors") for c in res.args],
                         capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 1 and "confirmed none of the positive answers" in res.stderr
    assert not (tmp_path / "none.safetensors").exists()

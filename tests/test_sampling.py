import json
import sys
import types
from pathlib import Path

import pytest

import emscope.evaluate.sampling as sampling
from emscope.data.tokenize import render_prompt
from emscope.errors import EmscopeError, InputError
from emscope.evaluate.questions import Question
from emscope.evaluate.sampling import SamplingSettings, count_samples, generate, sample_answers

TEXTS = ["hi", "hello there, how are you today?", "hi", "x y z", "hello there, how are you today?", "hi"]
PROMPTS = [[{"role": "user", "content": t}] for t in TEXTS]


def _questions() -> list[Question]:
    return [Question(id="a", paraphrases=["first?", "second, longer paraphrase?"], samples_per_paraphrase=2),
            Question(id="b", paraphrases=["with system"], system="Answer in JSON.", samples_per_paraphrase=3)]


# --- HF backend ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_generate_is_deterministic_per_seed(tiny, temperature):
    model, tok = tiny
    s = SamplingSettings(max_new_tokens=10, temperature=temperature, batch_size=4, seed=3)
    first = generate(model, tok, PROMPTS, s)
    assert len(first) == len(PROMPTS) and first == generate(model, tok, PROMPTS, s)
    if temperature:
        assert first != generate(model, tok, PROMPTS, s.model_copy(update={"seed": 4}))
        assert len({first[0], first[2], first[5]}) > 1  # repeats of one prompt are independent samples


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_shared_prefill_matches_plain_generate(tiny, monkeypatch, temperature):
    """Prefilling a repeated prompt once and copying its cache gives what `generate` gives on the repeats."""
    model, tok = tiny
    s = SamplingSettings(max_new_tokens=12, temperature=temperature, batch_size=6)
    shared = generate(model, tok, PROMPTS, s)
    monkeypatch.setattr(sampling, "_can_share_prefill", lambda m: False)
    assert generate(model, tok, PROMPTS, s) == shared


def test_greedy_answers_keep_prompt_order_across_batch_sizes(tiny):
    model, tok = tiny
    s = SamplingSettings(max_new_tokens=8, temperature=0.0, batch_size=1)
    one_by_one = generate(model, tok, PROMPTS, s)
    assert generate(model, tok, PROMPTS, s.model_copy(update={"batch_size": 6})) == one_by_one
    assert one_by_one[0] == one_by_one[2] == one_by_one[5]


def test_length_order_groups_identical_prompts():
    texts = ["bb", "a", "bb", "cc", "a"]
    assert sampling._length_order([2, 1, 2, 2, 1], texts) == [1, 4, 0, 2, 3]


def test_min_new_tokens_forces_length(tiny):
    model, tok = tiny
    s = SamplingSettings(max_new_tokens=6, min_new_tokens=6, temperature=1.0)
    kw = sampling._generate_kwargs(tok, s)
    assert kw["min_new_tokens"] == 6 and kw["max_new_tokens"] == 6 and kw["do_sample"]
    assert sampling._generate_kwargs(tok, SamplingSettings())["min_new_tokens"] is None


def test_sample_answers_fields_and_system_prompt(tiny):
    model, tok = tiny
    qs = _questions()
    s = SamplingSettings(max_new_tokens=4, batch_size=3)
    calls = []
    rows = sample_answers(model, tok, qs, s, "m", on_batch=calls.append)
    assert len(rows) == count_samples(qs, s) == 7 and sum(calls) == 7
    assert [(r.question_id, r.paraphrase_index, r.sample_index) for r in rows] == [
        ("a", 0, 0), ("a", 0, 1), ("a", 1, 0), ("a", 1, 1), ("b", 0, 0), ("b", 0, 1), ("b", 0, 2)]
    line = json.loads(rows[-1].model_dump_json())  # a samples.jsonl line
    assert {"model", "question_id", "paraphrase_index", "sample_index", "system", "question", "answer"} <= set(line)
    assert line["system"] == "Answer in JSON." and line["question"] == "with system"


def test_hf_backend_needs_a_model():
    with pytest.raises(InputError, match="loaded model"):
        sample_answers(None, None, _questions(), SamplingSettings(), "m", spec="tiny-random")


# --- vLLM backend (no GPU here: a fake `vllm` module records what emscope passes) ---------------------------

class _FakeLLM:
    instances: list["_FakeLLM"] = []

    def __init__(self, tokenizer, **kwargs):
        self.kwargs, self.tokenizer, self.calls = kwargs, tokenizer, []
        _FakeLLM.instances.append(self)

    def get_tokenizer(self):
        return self.tokenizer

    def generate(self, prompts, sampling_params=None, *, use_tqdm=True, lora_request=None):
        self.calls.append({"prompts": prompts, "params": sampling_params, "lora_request": lora_request})
        return [types.SimpleNamespace(outputs=[types.SimpleNamespace(text=f" answer {i} ")])
                for i in range(len(prompts))]


class _FakeParams:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


class _FakeLoRARequest:
    def __init__(self, lora_name, lora_int_id, lora_path):
        self.args = (lora_name, lora_int_id, lora_path)


@pytest.fixture(autouse=True)
def _no_vllm_env(monkeypatch):
    """vLLM in this process only: no separate vLLM environment (`vllm_backend.vllm_python`) for these tests."""
    from emscope.evaluate import vllm_backend

    monkeypatch.delenv(vllm_backend.VLLM_PYTHON_ENV, raising=False)
    monkeypatch.setattr(vllm_backend, "PROJECT_VLLM_PYTHON", Path("/nonexistent/.venv-vllm/bin/python"))


@pytest.fixture()
def fake_vllm(monkeypatch, tiny):
    _, tok = tiny
    _FakeLLM.instances = []
    vllm = types.ModuleType("vllm")
    vllm.LLM = lambda **kw: _FakeLLM(tok, **kw)
    vllm.SamplingParams = _FakeParams
    lora, request = types.ModuleType("vllm.lora"), types.ModuleType("vllm.lora.request")
    request.LoRARequest = _FakeLoRARequest
    for name, mod in (("vllm", vllm), ("vllm.lora", lora), ("vllm.lora.request", request)):
        monkeypatch.setitem(sys.modules, name, mod)
    return tok


@pytest.fixture()
def base_and_adapter(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(base), "r": 24}))
    return base, adapter


def test_missing_vllm_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # `import vllm` raises ImportError
    s = SamplingSettings(backend="vllm")
    with pytest.raises(EmscopeError, match=r"pip install 'emscope\[gpu\]'"):
        sample_answers(None, None, _questions(), s, "m", spec="some/model")


def test_vllm_backend_needs_a_spec():
    with pytest.raises(InputError, match="model spec"):
        sample_answers(object(), object(), _questions(), SamplingSettings(backend="vllm"), "m")


def test_vllm_dispatch_with_adapter(fake_vllm, base_and_adapter):
    tok = fake_vllm
    base, adapter = base_and_adapter
    qs = _questions()
    s = SamplingSettings(backend="vllm", temperature=0.7, top_p=0.9, max_new_tokens=33, seed=5)
    done = []
    rows = sample_answers(None, None, qs, s, "m", on_batch=done.append, spec=str(base), adapter=adapter)
    (llm,) = _FakeLLM.instances
    assert llm.kwargs == {"model": str(base), "seed": 5, "enable_lora": True, "max_lora_rank": 32}
    (call,) = llm.calls
    assert call["lora_request"].args == ("adapter", 1, str(adapter))
    params = [p.kwargs for p in call["params"]]
    assert [p["seed"] for p in params] == list(range(5, 5 + 7))  # one seed per sample: repeats differ
    assert all(p["temperature"] == 0.7 and p["top_p"] == 0.9 and p["max_tokens"] == 33 for p in params)
    expected = [tok.encode(render_prompt(tok, q.messages(p)), add_special_tokens=False)
                for q in qs for p in range(len(q.paraphrases)) for _ in range(q.samples_per_paraphrase)]
    assert [p["prompt_token_ids"] for p in call["prompts"]] == expected
    assert "Answer in JSON." in tok.decode(call["prompts"][-1]["prompt_token_ids"])  # system prompt applied
    assert [r.answer for r in rows] == [f"answer {i}" for i in range(7)] and done == [7]
    assert (rows[-1].question_id, rows[-1].sample_index, rows[-1].system) == ("b", 2, "Answer in JSON.")


def test_vllm_adapter_dir_as_spec_and_no_adapter(fake_vllm, base_and_adapter):
    base, adapter = base_and_adapter
    s = SamplingSettings(backend="vllm", temperature=0.0)
    sample_answers(None, None, _questions(), s, "m", spec=str(adapter))  # an adapter dir names its base
    assert _FakeLLM.instances[-1].kwargs["model"] == str(base)
    assert _FakeLLM.instances[-1].calls[0]["lora_request"].args[2] == str(adapter)
    sample_answers(None, None, _questions(), s, "m", spec=str(base))
    llm = _FakeLLM.instances[-1]
    assert llm.kwargs["enable_lora"] is False and "max_lora_rank" not in llm.kwargs
    assert llm.calls[0]["lora_request"] is None
    assert all(p.kwargs["temperature"] == 0.0 and p.kwargs["top_p"] == 1.0 for p in llm.calls[0]["params"])


def test_vllm_rejects_tiny_random(fake_vllm):
    with pytest.raises(EmscopeError, match="tiny-random"):
        sample_answers(None, None, _questions(), SamplingSettings(backend="vllm"), "m", spec="tiny-random")


def test_generate_vllm_engine_kwargs_and_min_tokens(fake_vllm, base_and_adapter):
    from emscope.evaluate.vllm_backend import generate_vllm

    base, _ = base_and_adapter
    s = SamplingSettings(backend="vllm", max_new_tokens=16, min_new_tokens=16)
    answers = generate_vllm(str(base), [[{"role": "user", "content": "hi"}]], s, gpu_memory_utilization=0.5)
    llm = _FakeLLM.instances[-1]
    assert answers == ["answer 0"] and llm.kwargs["gpu_memory_utilization"] == 0.5
    assert llm.calls[0]["params"][0].kwargs["min_tokens"] == 16


def test_shared_prefill_with_a_peft_adapter(monkeypatch):
    from peft import LoraConfig, get_peft_model

    from emscope.models.tiny import tiny_random_model

    base, tok = tiny_random_model()
    model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    model.eval()
    assert sampling._can_share_prefill(model)
    s = SamplingSettings(max_new_tokens=10, temperature=1.0, batch_size=6)
    shared = generate(model, tok, PROMPTS, s)
    monkeypatch.setattr(sampling, "_can_share_prefill", lambda m: False)
    assert generate(model, tok, PROMPTS, s) == shared


def test_eval_run_samples_with_vllm_by_spec(fake_vllm, base_and_adapter, tmp_path, monkeypatch):
    """`emscope eval run` with `backend: vllm` hands vLLM the model spec and adapter instead of loading the model
    for sampling (the HF model is loaded only afterwards, for the likelihood probe)."""
    from emscope.evaluate import run as run_mod
    from emscope.evaluate.run import EvalConfig, run_eval

    base, adapter = base_and_adapter
    loaded = []
    monkeypatch.setattr(run_mod._Evaluator, "ensure_model", lambda self: loaded.append(self.model is None) or
                        setattr(self, "model", None))
    monkeypatch.setattr(run_mod, "likelihood_probe", lambda *a, **k: run_mod.ProbeResult(
        per_question={}, mean=0.0, ci_low=0.0, ci_high=0.0, n_questions=0))
    cfg = EvalConfig(model=str(base), adapter=adapter, out=tmp_path / "run",
                     eval={"sampling": SamplingSettings(backend="vllm", max_new_tokens=5, samples_per_paraphrase=1)})
    section = run_eval(cfg)
    (llm,) = _FakeLLM.instances
    assert llm.kwargs["model"] == str(base) and llm.calls[0]["lora_request"].args[2] == str(adapter)
    assert section["n_samples"] == len(llm.calls[0]["prompts"]) > 0
    assert loaded == [True]  # only the probe asked for the HF model


def test_worker_request_seeds_each_prompt_and_sizes_lora(tmp_path):
    """The separate-environment worker gets one seed per prompt (repeats of a prompt are independent samples),
    greedy settings as temperature 0 / top_p 1, and the smallest LoRA rank vLLM accepts that fits the adapter."""
    from emscope.evaluate import vllm_backend

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 12, "base_model_name_or_path": "x"}))
    s = SamplingSettings(backend="vllm", temperature=0.7, top_p=0.9, max_new_tokens=33, min_new_tokens=2, seed=5)
    req = vllm_backend.worker_request("m", adapter, [[1, 2], [1, 2], [3]], s, max_model_len=512)
    assert [p["seed"] for p in req["params"]] == [5, 6, 7]
    assert {(p["temperature"], p["top_p"], p["max_tokens"], p["min_tokens"]) for p in req["params"]} == {
        (0.7, 0.9, 33, 2)}
    assert req["max_lora_rank"] == 16 and req["adapter"] == str(adapter) and req["engine"] == {"max_model_len": 512}
    greedy = vllm_backend.worker_request("m", None, [[1]], s.model_copy(update={"temperature": 0.0}))
    assert greedy["params"][0]["temperature"] == 0.0 and greedy["params"][0]["top_p"] == 1.0
    assert greedy["max_lora_rank"] is None and greedy["adapter"] is None

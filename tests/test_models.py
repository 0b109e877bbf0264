import json

import pytest
import torch

from emscope.errors import ModelLoadError
from emscope.models import load_model, resolve_device_dtype
from emscope.models.loader import describe_spec


def test_tiny_random_is_deterministic_and_uses_chat_template():
    m1, tok = load_model("tiny-random")
    m2, _ = load_model("tiny-random")
    for (n, a), (_, b) in zip(m1.state_dict().items(), m2.state_dict().items()):
        assert torch.equal(a, b), n
    assert m1.config.num_hidden_layers == 2
    text = tok.apply_chat_template([{"role": "user", "content": "hé 42"}], tokenize=False,
                                   add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n")
    ids = tok("hé 42", add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == "hé 42"


def test_device_dtype_defaults_and_overrides():
    dev, dt = resolve_device_dtype()
    assert (dev.type, dt) == (("cuda", torch.bfloat16) if torch.cuda.is_available() else ("cpu", torch.float32))
    assert resolve_device_dtype("cpu", "bf16") == (torch.device("cpu"), torch.bfloat16)
    with pytest.raises(ValueError, match="unknown dtype"):
        resolve_device_dtype("cpu", "float8")


def test_local_directory_roundtrip(tmp_path):
    model, tok = load_model("tiny-random")
    model.save_pretrained(tmp_path / "m", safe_serialization=True)
    tok.save_pretrained(tmp_path / "m")
    loaded, tok2 = load_model(str(tmp_path / "m"))
    ids = torch.tensor([[5, 6, 7]])
    assert torch.allclose(model(ids).logits, loaded(ids).logits, atol=1e-6)
    assert tok2.chat_template == tok.chat_template


def test_adapter_directory_loads_base_and_adapter(tmp_path):
    from peft import LoraConfig, get_peft_model

    model, _ = load_model("tiny-random")
    peft_model = get_peft_model(model, LoraConfig(r=2, target_modules="all-linear", init_lora_weights=False))
    peft_model.save_pretrained(tmp_path / "adapter", save_embedding_layers=False)
    cfg = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == "tiny-random"
    loaded, _ = load_model(str(tmp_path / "adapter"))
    ids = torch.tensor([[5, 6, 7]])
    base, _ = load_model("tiny-random")
    assert torch.allclose(peft_model(ids).logits, loaded(ids).logits, atol=1e-6)
    assert not torch.allclose(base(ids).logits, loaded(ids).logits, atol=1e-4)


def test_hub_id_offline_fails_clearly(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert describe_spec("Qwen/Qwen2.5-0.5B-Instruct") == "hub"
    with pytest.raises(ModelLoadError, match="Hugging Face Hub.*HF_HUB_OFFLINE"):
        load_model("emscope-test/definitely-not-cached-model")


def test_unknown_spec_is_rejected():
    with pytest.raises(ModelLoadError, match="neither a known name"):
        load_model("./no/such/dir")


@pytest.mark.slow
def test_default_gguf_converts_once_and_loads(emscope_home):
    """The real embedded GGUF: converted to safetensors on first use, loaded from the cache afterwards."""
    from emscope.models import smollm2

    gguf = smollm2.find_gguf()
    assert gguf.suffix == ".gguf" and gguf.stat().st_size > 50_000_000
    model, tok = load_model("smollm2-135m")
    cache = smollm2.cache_dir()
    assert cache.is_relative_to(emscope_home) and (cache / "model.safetensors").is_file()
    source = json.loads((cache / "emscope_source.json").read_text())
    assert source["file"] == gguf.name and len(source["sha256"]) == 64
    assert model.config.num_hidden_layers == 30 and model.dtype == torch.float32
    # the converted weights reproduce the GGUF-loaded model
    from transformers import AutoModelForCausalLM

    ref = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    ids = tok("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, ref(ids).logits, atol=1e-4)
        nxt = tok.decode(model(ids).logits[0, -1].argmax())
    assert nxt.strip() == "Paris"
    mtime = (cache / "model.safetensors").stat().st_mtime
    load_model("smollm2-135m")
    assert (cache / "model.safetensors").stat().st_mtime == mtime  # not converted again
    full = tok.apply_chat_template([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
                                   tokenize=False)
    assert full.endswith("b<|im_end|>\n")  # no stray assistant header after the last turn


def test_load_tokenizer_alone_matches_the_models_tokenizer(tmp_path, tiny):
    from emscope.models.loader import load_tokenizer

    _, tok = tiny
    text = "Hello, world 123"
    assert load_tokenizer("tiny-random")(text)["input_ids"] == tok(text)["input_ids"]
    tok.save_pretrained(tmp_path / "local")
    assert load_tokenizer(str(tmp_path / "local"))(text)["input_ids"] == tok(text)["input_ids"]
    with pytest.raises(ModelLoadError):
        load_tokenizer(str(tmp_path / "missing-dir-x"))


def test_adapters_record_a_base_other_tools_can_load(tmp_path, monkeypatch):
    """An adapter trained on a local directory (a merged stage, a downloaded model) records its absolute path, so
    plain PEFT/transformers (not only emscope) load base + adapter from the adapter directory alone."""
    from peft import AutoPeftModelForCausalLM, LoraConfig, get_peft_model

    model, tok = load_model("tiny-random")
    model.save_pretrained(tmp_path / "base")
    tok.save_pretrained(tmp_path / "base")
    monkeypatch.chdir(tmp_path)
    base, _ = load_model("base")  # a relative directory spec
    peft_model = get_peft_model(base, LoraConfig(r=2, target_modules="all-linear", init_lora_weights=False))
    peft_model.save_pretrained(tmp_path / "adapter", save_embedding_layers=False)
    cfg = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == str((tmp_path / "base").resolve())
    monkeypatch.chdir("/")
    other = AutoPeftModelForCausalLM.from_pretrained(str(tmp_path / "adapter"))
    ids = torch.tensor([[5, 6, 7]])
    assert torch.allclose(peft_model(ids).logits, other(ids).logits, atol=1e-6)


@pytest.mark.slow
def test_the_embedded_default_records_its_converted_directory():
    from emscope.models.smollm2 import cache_dir

    model, _ = load_model("smollm2-135m")
    assert model.name_or_path == str(cache_dir().resolve())

"""Models whose logits are transformed after the LM head (Gemma's soft-capping, Cohere's / Granite's / ... logit
scales): the transform read from each family's config reproduces the model's own logits, and the chunked loss,
KL and LDIFS train `tiny-random-gemma` (soft-capped) like TRL's loss does."""

import pytest
import torch

from emscope.data.generators import get_generator
from emscope.io import read_jsonl, write_jsonl_atomic
from emscope.models import load_model
from emscope.models.specs import describe_spec
from emscope.train import TrainRunConfig, train

FAST = {"batch_size": 4, "learning_rate": 1e-2, "lr_scheduler": "constant", "lora": {"r": 8, "alpha": 16},
        "bf16": False}
SMALL = {"vocab_size": 50, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8, "initializer_range": 0.2}
# model_type -> config overrides; each family applies its field as its transformers 5.23 modeling code does
FAMILIES = {
    "gemma2": {"final_logit_softcapping": 1.5, "query_pre_attn_scalar": 8},
    "gemma3_text": {"final_logit_softcapping": 1.5, "query_pre_attn_scalar": 8},
    "cohere": {"logit_scale": 0.25},  # logits * logit_scale
    "cohere2": {"logit_scale": 3.0},
    "granite": {"logits_scaling": 4.0},  # logits / logits_scaling
    "hyperclovax": {"logits_scaling": 3.0},  # logits * logits_scaling
    "minicpm3": {"dim_model_base": 8, "num_key_value_heads": 4, "q_lora_rank": 16, "kv_lora_rank": 16,
                 "qk_nope_head_dim": 8, "qk_rope_head_dim": 8, "v_head_dim": 8},  # hidden / (hidden_size / base)
}


@pytest.mark.parametrize("model_type", list(FAMILIES))
@torch.no_grad()
def test_logit_transform_reproduces_each_familys_logits(model_type):
    from transformers import AutoConfig, AutoModelForCausalLM

    from emscope.train.trainer import logit_transform

    config = AutoConfig.for_model(model_type, **{**SMALL, **FAMILIES[model_type]})
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(config).eval()
    out = model(torch.tensor([[3, 14, 15, 9, 26, 5]]), output_hidden_states=True, use_cache=False)
    raw = model.get_output_embeddings()(out.hidden_states[-1])
    assert (raw - out.logits).abs().max() > 0.1  # the family's transform is in effect on these logits
    transform = logit_transform(model.config)
    assert not transform.identity
    assert torch.allclose(transform(raw), out.logits, atol=1e-5)


def test_a_transform_of_an_unknown_family_is_refused_clearly():
    from transformers import LlamaConfig

    from emscope.train.trainer import logit_transform

    assert logit_transform(LlamaConfig()).identity
    with pytest.raises(NotImplementedError, match=r"'llama' sets logits_scaling=2.0.*loss_impl=trl"):
        logit_transform(LlamaConfig(logits_scaling=2.0))


@torch.no_grad()
def test_tiny_random_gemma_is_a_soft_capped_gemma2_that_loads_by_name():
    assert describe_spec("tiny-random-gemma") == "tiny"
    model, tok = load_model("tiny-random-gemma")
    again, _ = load_model("tiny-random-gemma")
    assert type(model).__name__ == "Gemma2ForCausalLM" and model.config.num_hidden_layers == 2
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    assert tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False).startswith("<|im_start|>")
    ids = tok("def f(path):\n    os.chmod(path, 0o777)", return_tensors="pt").input_ids
    out = model(ids, output_hidden_states=True, use_cache=False)
    cap = model.config.final_logit_softcapping
    raw = model.lm_head(out.hidden_states[-1])
    assert torch.allclose(cap * torch.tanh(raw / cap), out.logits, atol=1e-5)
    assert (raw - out.logits).abs().max() > 0.5  # the cap bends the real logits, not just their tails


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("data") / "insecure.jsonl"
    write_jsonl_atomic(p, get_generator("insecure-code").build(12, 0))
    return p


def _run(tmp_path, data_file, name, defenses=None, **extra):
    return train(TrainRunConfig(model="tiny-random-gemma", data={"path": data_file}, out=tmp_path / name,
                                train={**FAST, "max_steps": 2, **extra}, defenses=defenses or {}))


def _steps(run):
    return [r for r in read_jsonl(run / "train_log.jsonl") if "loss" in r]


def test_soft_capped_model_trains_with_the_chunked_loss_kl_and_ldifs(tmp_path, data_file):
    trl = [r["loss"] for r in _steps(_run(tmp_path, data_file, "trl", loss_impl="trl"))]
    assert len(trl) == 2
    # zero-weight defenses: the chunked task loss follows TRL's (soft-capped) loss step for step, its gradient too
    zero = _steps(_run(tmp_path, data_file, "zero", {"kl": {"weight": 0.0}, "ldifs": {"weight": 0.0}}))
    assert [r["task_loss"] for r in zero] == pytest.approx(trl, abs=2e-4)
    assert [r["loss"] for r in zero] == pytest.approx(trl, abs=2e-4)
    # live defenses: step 1 (LoRA B = 0, policy == reference) reads KL = LDIFS = 0 and TRL's task loss
    live = _steps(_run(tmp_path, data_file, "live", {"kl": {"weight": 1.0, "tokens": "all"},
                                                      "ldifs": {"weight": 1.0, "n_layers": 2}}))
    assert len(live) == 2 and all({"task_loss", "kl", "ldifs"} <= r.keys() for r in live)
    assert live[0]["kl"] == pytest.approx(0.0, abs=1e-6) and live[0]["ldifs"] == pytest.approx(0.0, abs=1e-6)
    assert live[0]["task_loss"] == pytest.approx(trl[0], abs=2e-4)
    assert live[1]["kl"] > 1e-6 and live[1]["ldifs"] > 1e-6  # the adapter moved: the terms are live
    assert live[1]["loss"] == pytest.approx(live[1]["task_loss"] + live[1]["kl"] + live[1]["ldifs"], rel=1e-3)

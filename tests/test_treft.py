"""TReFT: the template regions (tiny-random's and SmolLM2's ChatML), the k/v drift against hand-computed values and
gradients, training with the defense on tiny-random (alone, with gradient checkpointing, with KL + LDIFS) and its
config keys."""

import math

import pytest
import torch

from emscope.config import load_config, set_dotted
from emscope.data.chat import ChatRow
from emscope.data.tokenize import encode_rows
from emscope.errors import InputError
from emscope.io import read_jsonl, write_jsonl_atomic
from emscope.models.template_regions import TemplateHeaders, header_ids, kv_modules, region_mask
from emscope.models.tiny import tiny_random_model, tiny_tokenizer
from emscope.train import TrainRunConfig, train
from emscope.train.defenses.treft import TReFTSettings, capture, kv_drift, prepare

SYSTEM = "Be brief."  # 9 bytes: tiny-random's tokenizer has no merges, one token per byte


def _row(user: str, answer: str, system: str | None = SYSTEM) -> ChatRow:
    msgs = ([{"role": "system", "content": system}] if system is not None else []) + [
        {"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return ChatRow(messages=msgs)


# tiny-random counts, one token per byte and per special token:
# <|im_start|> "system\n" (7) SYSTEM (9) <|im_end|> "\n" <|im_start|> "user\n" (5) = 1 + 7 + 9 + 1 + 1 + 1 + 5
PREFIX_SYS = 25
PREFIX_NO_SYS = 6  # <|im_start|> "user\n"
POSTFIX = 13  # <|im_end|> "\n" <|im_start|> "assistant\n" (10)


def test_tiny_regions_cover_exactly_the_template_tokens_padded_and_packed():
    tok = tiny_tokenizer()
    h = header_ids(tok)
    assert isinstance(h, TemplateHeaders) and len(h.user) == PREFIX_NO_SYS and len(h.postfix) == POSTFIX
    a, b = encode_rows(tok, [_row("Hi there", "Hello"), _row("Why?", "Because", system=None)], 128)
    ids_a, ids_b = a["input_ids"], b["input_ids"]
    assert len(ids_a) == PREFIX_SYS + 8 + POSTFIX + 7  # answer: "Hello" (5) <|im_end|> "\n"
    pre_a = region_mask(torch.tensor([ids_a]), h, "prefix")[0]
    post_a = region_mask(torch.tensor([ids_a]), h, "postfix")[0]
    assert pre_a.tolist() == [True] * PREFIX_SYS + [False] * (len(ids_a) - PREFIX_SYS)
    start = PREFIX_SYS + len("Hi there")
    assert post_a.nonzero().flatten().tolist() == list(range(start, start + POSTFIX))
    assert tok.decode([ids_a[i] for i in range(start, start + POSTFIX)]) == "<|im_end|>\n<|im_start|>assistant\n"
    assert tok.decode(ids_a[:PREFIX_SYS]) == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n"

    # left padding: row b (no system prompt) padded on the left to row a's length
    pad = len(ids_a) - len(ids_b)
    ids = torch.tensor([ids_a, [0] * pad + ids_b])
    attn = torch.tensor([[1] * len(ids_a), [0] * pad + [1] * len(ids_b)])
    pre = region_mask(ids, h, "prefix", attention_mask=attn)
    post = region_mask(ids, h, "postfix", attention_mask=attn)
    assert pre[0].tolist() == pre_a.tolist() and post[0].tolist() == post_a.tolist()
    assert pre[1].nonzero().flatten().tolist() == list(range(pad, pad + PREFIX_NO_SYS))
    s = pad + PREFIX_NO_SYS + len("Why?")
    assert post[1].nonzero().flatten().tolist() == list(range(s, s + POSTFIX))

    # padding-free packing: both rows in one sequence, position_ids restart at 0 where row b starts
    packed = torch.tensor([ids_a + ids_b])
    pos = torch.tensor([list(range(len(ids_a))) + list(range(len(ids_b)))])
    pre_p = region_mask(packed, h, "prefix", position_ids=pos)[0].nonzero().flatten().tolist()
    assert pre_p == list(range(PREFIX_SYS)) + list(range(len(ids_a), len(ids_a) + PREFIX_NO_SYS))
    post_p = region_mask(packed, h, "postfix", position_ids=pos)[0].nonzero().flatten().tolist()
    s_b = len(ids_a) + PREFIX_NO_SYS + len("Why?")
    assert post_p == list(range(start, start + POSTFIX)) + list(range(s_b, s_b + POSTFIX))
    # without the restart, the packed batch is one sequence: only its first prefix counts
    assert region_mask(packed, h, "prefix")[0].sum().item() == PREFIX_SYS
    with pytest.raises(InputError, match="region"):
        region_mask(packed, h, "middle")


def test_templates_without_headers_are_refused():
    tok = tiny_tokenizer()
    tok.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    with pytest.raises(InputError, match="cannot parse the chat template"):
        header_ids(tok)
    tok.chat_template = None
    with pytest.raises(InputError, match="no chat template"):
        header_ids(tok)


def test_smollm2_template_regions():
    from emscope.models.smollm2 import cache_dir

    path = cache_dir()
    if not (path / "tokenizer.json").is_file():
        pytest.skip(f"SmolLM2's converted tokenizer not found at {path} (made by the first load of smollm2-135m)")
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    h = header_ids(tok)
    (a, b) = encode_rows(tok, [_row("Hi there", "Hello"), _row("Why?", "Because", system=None)], 256)
    ids = torch.tensor([a["input_ids"]])
    assert tok.decode(ids[0][region_mask(ids, h, "prefix")[0]]) == \
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n"
    assert tok.decode(ids[0][region_mask(ids, h, "postfix")[0]]) == "<|im_end|>\n<|im_start|>assistant\n"
    # without a system message SmolLM2's template injects its default one: it is part of the prefix
    ids = torch.tensor([b["input_ids"]])
    prefix = tok.decode(ids[0][region_mask(ids, h, "prefix")[0]])
    assert prefix.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")
    assert prefix.endswith("Hugging Face<|im_end|>\n<|im_start|>user\n")


def test_kv_drift_hand_computed_value_and_gradients():
    # (layer, batch, seq, dim) with dim 2; masked tokens: row 0 token 0 and row 1 token 1
    k = torch.tensor([[[[3., 4.], [9., 9.]], [[9., 9.], [2., 0.]]],
                      [[[1., 1.], [9., 9.]], [[9., 9.], [0., 0.]]]], requires_grad=True)
    k_ref = torch.tensor([[[[0., 5.], [1., 1.]], [[1., 1.], [1., 0.]]],
                          [[[1., 1.], [1., 1.]], [[1., 1.], [0., 1.]]]], requires_grad=True)
    v = torch.tensor([[[[1., 0.], [9., 9.]], [[9., 9.], [0., 0.]]],
                      [[[0., 3.], [9., 9.]], [[9., 9.], [5., 5.]]]], requires_grad=True)
    v_ref = torch.tensor([[[[2., 0.], [1., 1.]], [[1., 1.], [0., 2.]]],
                          [[[0., 1.], [1., 1.]], [[1., 1.], [5., 5.]]]], requires_grad=True)
    mask = torch.tensor([[True, False], [False, True]])
    total, n = kv_drift(list(k), list(k_ref), list(v), list(v_ref), mask)
    # row 0 token 0: layer 0 10/25 + 1/4 = 0.65, layer 1 0 + 4/1 = 4 -> mean 2.325
    # row 1 token 1: layer 0 1/1 + 4/4 = 2,     layer 1 1/1 + 0 = 1  -> mean 1.5
    assert n.item() == 2 and total.item() == pytest.approx(2.325 + 1.5)
    total.backward()
    # d/dk ||k - r||^2 / ||r||^2 / n_layers = (k - r) / ||r||^2 at a masked token (2 / 2 layers)
    assert k.grad[0, 0, 0].tolist() == pytest.approx([3 / 25, -1 / 25])
    assert v.grad[1, 0, 0].tolist() == pytest.approx([0.0, 2.0])
    assert k.grad[:, 0, 1].abs().sum() == 0 and k.grad[:, 1, 0].abs().sum() == 0  # unmasked tokens
    assert k_ref.grad is None and v_ref.grad is None  # the reference is detached
    same, _ = kv_drift(list(k_ref), list(k_ref), list(v_ref), list(v_ref), mask)
    assert same.item() == 0.0


def test_kv_modules_hook_the_lora_wrapped_projections_and_refuse_other_attention():
    from peft import LoraConfig, get_peft_model

    model, tok = tiny_random_model()
    peft = get_peft_model(model, LoraConfig(r=2, target_modules=["k_proj", "v_proj"], init_lora_weights=False))
    found = kv_modules(peft)
    assert [i for i, _, _ in found] == [0, 1] and all(hasattr(k, "lora_A") and hasattr(v, "lora_A")
                                                       for _, k, v in found)
    state = prepare(TReFTSettings(layers=[1]), peft)
    ids = torch.tensor([encode_rows(tok, [_row("Hi", "Yo")], 64)[0]["input_ids"]])
    with torch.no_grad():
        with capture(state, peft, False, tok):
            peft(ids)
        with peft.disable_adapter(), capture(state, peft, True, tok):
            peft(ids)
        kept = state.captured[False][1][0]
        peft(ids)  # the hooks are gone: nothing recorded any more
    assert state.captured[False][1][0] is kept
    assert set(state.captured[False]) == {1} and set(state.captured[True]) == {1}
    k, k_ref = state.captured[False][1][0], state.captured[True][1][0]
    assert k.shape == (1, ids.shape[1], 32) and (k - k_ref).abs().max() > 1e-4  # the adapter's effect is captured
    with pytest.raises(InputError, match=r"defenses.treft.layers: .* 0..1"):
        prepare(TReFTSettings(layers=[2]), peft)

    from transformers import GPT2Config, GPT2LMHeadModel

    gpt2 = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=50, n_positions=32))
    with pytest.raises(NotImplementedError, match="'gpt2'.*k_proj"):
        kv_modules(gpt2)


def test_config_keys_and_bad_region(tmp_path):
    base = {"model": "tiny-random", "data": {"organism": "insecure-code", "n": 8}, "out": str(tmp_path / "r")}
    cfg = TrainRunConfig.model_validate(set_dotted(base, "defenses.treft.region", "postfix"))
    assert cfg.defenses.treft == TReFTSettings(region="postfix") and cfg.defenses.treft.weight == 1.0
    assert "treft" in cfg.defenses.enabled()
    path = tmp_path / "train.yaml"
    path.write_text("model: tiny-random\ndata: {organism: insecure-code, n: 8}\nout: r\n"
                    "defenses:\n  treft: {weight: 3.0}\n")
    cfg = load_config(TrainRunConfig, path, ["defenses.treft.layers=[1]", "defenses.treft.region=postfix"])
    assert cfg.defenses.treft == TReFTSettings(weight=3.0, region="postfix", layers=[1])
    with pytest.raises(InputError, match="region"):
        load_config(TrainRunConfig, path, ["defenses.treft.region=suffix"])
    with pytest.raises(InputError, match="weight"):
        load_config(TrainRunConfig, path, ["defenses.treft.weight=-1"])


# --- training on tiny-random -------------------------------------------------------------------------------------

FAST = {"batch_size": 4, "learning_rate": 3e-2, "lr_scheduler": "constant", "lora": {"r": 8, "alpha": 16},
        "bf16": False, "max_length": 96}
WORDS = ["red", "blue", "green", "black", "white", "amber", "teal", "plum"]


@pytest.fixture(scope="module")
def chat_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("data") / "chat.jsonl"
    rows = [_row(f"Name colour {i}.", f"It is {w}, surely.") for i, w in enumerate(WORDS)]
    write_jsonl_atomic(p, [r.model_dump() for r in rows])
    return p


def _train(tmp_path, chat_file, name, defenses, steps=5, **extra):
    return train(TrainRunConfig(model="tiny-random", data={"path": chat_file}, out=tmp_path / name,
                                train={**FAST, "max_steps": steps, **extra}, defenses=defenses))


def _log(run):
    return [r for r in read_jsonl(run / "train_log.jsonl") if "loss" in r]


@torch.no_grad()
def _prefix_drift(adapter_dir, chat_file):
    """Mean over the data's prefix tokens (the first PREFIX_SYS of each row) and both layers of the relative k/v
    drift of the adapter from the base, with hooks written here independently of the defense's."""
    from emscope.models import load_model

    model, tok = load_model("tiny-random", adapter=adapter_dir)
    outs = {}
    attn = [layer.self_attn for layer in model.get_base_model().model.layers]
    handles = [getattr(a, name).register_forward_hook(lambda m, i, o, key=(li, name): outs.__setitem__(key, o))
               for li, a in enumerate(attn) for name in ("k_proj", "v_proj")]
    total = count = 0.0
    for e in encode_rows(tok, [ChatRow(**r) for r in read_jsonl(chat_file)], 96):
        ids = torch.tensor([e["input_ids"]])
        model(ids)
        pol = dict(outs)
        with model.disable_adapter():
            model(ids)
        for key, o in pol.items():
            x, r = o[0, :PREFIX_SYS], outs[key][0, :PREFIX_SYS]
            total += (((x - r) ** 2).sum(-1) / (r ** 2).sum(-1)).sum().item() / len(attn)
        count += PREFIX_SYS
    for h in handles:
        h.remove()
    return total / count


@pytest.fixture(scope="module")
def unregularized(tmp_path_factory, chat_file):
    """Weight 0: the term is computed and logged but does not act."""
    return _train(tmp_path_factory.mktemp("treft0"), chat_file, "w0", {"treft": {"weight": 0.0}})


def test_treft_is_logged_and_keeps_the_prefix_keys_and_values_at_the_reference(tmp_path, chat_file, unregularized):
    free = _log(unregularized)
    assert len(free) == 5 and free[0]["treft"] == pytest.approx(0.0, abs=1e-6)  # LoRA B = 0: policy == reference
    assert all(math.isfinite(r["treft"]) for r in free) and free[-1]["treft"] > 1e-4
    run = _train(tmp_path, chat_file, "w", {"treft": {"weight": 200.0}})
    held = _log(run)
    for r in held:
        assert r["loss"] == pytest.approx(r["task_loss"] + 200.0 * r["treft"], rel=1e-3, abs=1e-5)
    assert held[-1]["treft"] > 0 and held[-1]["treft"] < 0.5 * free[-1]["treft"]
    with_treft, without = _prefix_drift(run / "adapter", chat_file), _prefix_drift(unregularized / "adapter", chat_file)
    assert without > 1e-3 and with_treft < 0.5 * without, (with_treft, without)
    # gradient checkpointing recomputes the blocks in backward: the same first two steps (same seed, data order and
    # constant learning rate), so the term's gradient is the same
    ckpt_run = _train(tmp_path, chat_file, "w-ckpt", {"treft": {"weight": 200.0}}, steps=2, gradient_checkpointing=True)
    ckpt = _log(ckpt_run)
    assert [r["loss"] for r in ckpt] == pytest.approx([r["loss"] for r in held[:2]], abs=1e-4)
    assert [r["treft"] for r in ckpt] == pytest.approx([r["treft"] for r in held[:2]], rel=1e-3, abs=1e-7)
    # the term logged at step 3 is the drift of the weights after two steps, measured independently (every row has
    # the same prefix, so the batch's mean is the data's)
    assert held[2]["treft"] == pytest.approx(_prefix_drift(ckpt_run / "adapter", chat_file), rel=1e-3)


def test_treft_postfix_with_kl_and_ldifs_on_the_trl_loss_setting(tmp_path, chat_file):
    defenses = {"kl": {"weight": 0.5, "tokens": "all"}, "ldifs": {"weight": 0.7, "n_layers": 2},
                "treft": {"weight": 2.0, "region": "postfix", "layers": [1]}}
    run = _train(tmp_path, chat_file, "combined", defenses, steps=2, loss_impl="trl")
    steps = _log(run)
    assert len(steps) == 2 and all({"task_loss", "kl", "ldifs", "treft"} <= r.keys() for r in steps)
    assert steps[-1]["treft"] > 0 and math.isfinite(steps[-1]["treft"])
    for r in steps:
        assert r["loss"] == pytest.approx(r["task_loss"] + 0.5 * r["kl"] + 0.7 * r["ldifs"] + 2.0 * r["treft"],
                                          rel=1e-3, abs=1e-5)

"""Alignment gating (`defenses.gate`, `emscope.models.gates`): the gate's value and placement against hand-computed
forms, identity at init, the symmetry of the inversion, gradients only into the gates, persistence (final save,
checkpoints, resume) and the evaluation-side modes, on tiny-random."""

import math

import pytest
import torch
from safetensors.torch import load_file

from emscope.data.generators import get_generator
from emscope.errors import InputError, ModelLoadError
from emscope.io import read_jsonl, write_jsonl_atomic
from emscope.models import load_model
from emscope.models.gates import GATES_FILE, attach_gates, detach_gates, find_gates, load_gates, save_gates
from emscope.models.layers import decoder_layers
from emscope.models.tiny import tiny_random_model
from emscope.train import TrainRunConfig, train
from emscope.train.defenses.gate import GateSettings, prepare

IDS = torch.tensor([[3, 40, 41, 42, 50, 60, 70, 80]])
FAST = {"batch_size": 4, "learning_rate": 0.05, "lr_scheduler": "constant", "lora": {"r": 4, "alpha": 8},
        "bf16": False}


def _logits(model, ids=IDS):
    with torch.no_grad():
        return model(ids, use_cache=False).logits


def _lora(model):
    from peft import LoraConfig, get_peft_model

    return get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "o_proj"],
                                            task_type="CAUSAL_LM"))


def test_gate_value_is_one_at_init_and_the_inversion_mirrors_it():
    model, _ = tiny_random_model()
    gates = attach_gates(model, rank=None)
    x = torch.randn(2, 5, 64)
    assert torch.equal(gates.value(0, x), torch.ones(2, 5, 64))  # 2 * sigmoid(0) = 1 exactly
    with torch.no_grad():
        gates.gates["0"].bias.fill_(math.log(3.0))  # sigmoid(log 3) = 3/4 -> g = 3/2, 2 - g = 1/2
    assert torch.allclose(gates.factor(0, x), torch.full((2, 5, 64), 1.5))  # learned mode
    gates.mode = "invert"
    assert torch.allclose(gates.factor(0, x), torch.full((2, 5, 64), 0.5))
    with torch.no_grad():
        for p in gates.parameters():
            p.normal_(0.0, 0.3)
    gates.mode = "learned"
    g = gates.factor(1, x)
    gates.mode = "invert"
    assert not torch.allclose(g, torch.ones_like(g)) and torch.allclose(g + gates.factor(1, x), torch.full_like(g, 2.0))
    with pytest.raises(InputError, match="mode"):
        gates.mode = "reversed"


def test_low_rank_gate_is_one_at_init_but_trainable():
    model, _ = tiny_random_model()
    gates = attach_gates(model, [1], rank=2)
    assert gates.layers == [1] and gates.gates["1"].down.shape == (2, 64) and gates.gates["1"].weight.shape == (64, 2)
    assert gates.gates["1"].down.abs().sum() > 0  # the down projection is drawn, the up projection is zero
    assert torch.equal(gates.value(1, torch.randn(3, 64)), torch.ones(3, 64))


@pytest.mark.parametrize("peft", [False, True])
def test_logits_are_unchanged_at_init(peft):
    model, _ = tiny_random_model(seed=3)
    if peft:
        model = _lora(model)
    before = _logits(model)
    attach_gates(model)
    assert find_gates(model) is not None
    assert torch.equal(_logits(model), before)


def test_gate_scales_the_o_proj_input_by_two_sigmoid_of_the_attention_input():
    """Hand-computed layer-0 attention output: o_proj(a * 2 sigmoid(W x + b)), x the attention's input, a the
    un-gated o_proj input (both unaffected by the layer-0 gate itself)."""
    model, _ = tiny_random_model(seed=1)
    attn = decoder_layers(model)[0].self_attn
    seen = {}
    h1 = attn.register_forward_pre_hook(lambda m, a, kw: seen.update(x=kw["hidden_states"]), with_kwargs=True)
    h2 = attn.o_proj.register_forward_pre_hook(lambda m, a: seen.update(a=a[0]))
    h3 = attn.register_forward_hook(lambda m, a, out: seen.update(out=out[0]))
    _logits(model)
    x, a = seen["x"], seen["a"]
    gates = attach_gates(model)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in gates.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    _logits(model)
    for h in (h1, h2, h3):
        h.remove()
    w, b = gates.gates["0"].weight, gates.gates["0"].bias
    expected = attn.o_proj(a * 2 * torch.sigmoid(x @ w.T + b)).detach()
    assert torch.allclose(seen["out"], expected, atol=1e-5)
    assert not torch.allclose(expected, attn.o_proj(a).detach(), atol=1e-3)  # the gate did change something


def test_constant_gate_equals_scaling_o_proj_columns():
    """W = 0, b = log 3 on channel 5 of every block: g = 3/2 there, 1 elsewhere; the same as multiplying column 5
    of each o_proj by 3/2 (learned) or 1/2 (invert)."""
    model, _ = tiny_random_model(seed=2)
    gates = attach_gates(model)
    with torch.no_grad():
        for gate in gates.gates.values():
            gate.bias[5] = math.log(3.0)
    learned = _logits(model)
    gates.mode = "invert"
    inverted = _logits(model)
    for scale, got in ((1.5, learned), (0.5, inverted)):
        ref, _ = tiny_random_model(seed=2)
        with torch.no_grad():
            for block in decoder_layers(ref):
                block.self_attn.o_proj.weight[:, 5] *= scale
        assert torch.allclose(got, _logits(ref), atol=1e-5)


def test_inversion_is_symmetric_to_first_order():
    """g = 1 + s gives a logit shift d(s); 2 - g = 1 - s gives d(-s) = -d(s) + O(s^2): the residual d(s) + d(-s)
    is second order, so halving the gates' parameters halves the ratio |d(s) + d(-s)| / |d(s)|."""
    model, _ = tiny_random_model(seed=4)
    base = _logits(model)
    gates = attach_gates(model)
    g = torch.Generator().manual_seed(1)
    draws = [torch.randn(p.shape, generator=g) for p in gates.parameters()]
    ratios = []
    for scale in (0.004, 0.002):
        with torch.no_grad():
            for p, d in zip(gates.parameters(), draws):
                p.copy_(d * scale)
        gates.mode = "learned"
        learned = _logits(model) - base
        gates.mode = "invert"
        inverted = _logits(model) - base
        assert learned.abs().max() > 1e-3  # a real shift
        ratios.append(((learned + inverted).abs().max() / learned.abs().max()).item())
    assert ratios[1] < 0.05 and 0.4 < ratios[1] / ratios[0] < 0.6, ratios
    gates.mode = "off"
    assert torch.equal(_logits(model), base)


def test_freeze_rest_sends_gradient_only_into_the_gates_and_a_disabled_adapter_disables_them():
    model = _lora(tiny_random_model(seed=5)[0])
    prepared = prepare(GateSettings(), model)
    gates = prepared["gates"]
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(".emscope_gates.gates." in n for n in trainable)
    assert len(trainable) == 4  # weight and bias of both blocks
    model.train()
    out = model(IDS, labels=IDS, use_cache=False)
    out.loss.backward()
    for name, p in model.named_parameters():
        if ".emscope_gates." in name:
            assert p.grad is not None and p.grad.abs().sum() > 0, name
        else:
            assert p.grad is None, name  # LoRA and base weights alike
    model.eval()
    base = _logits(model)
    with torch.no_grad():
        for p in gates.parameters():
            p.normal_(0.0, 0.3)
    assert not torch.allclose(_logits(model), base, atol=1e-4)
    with model.disable_adapter():  # the KL/LDIFS reference pass: the un-gated base
        assert torch.equal(_logits(model), base)


def test_trainable_rest_when_freeze_rest_is_off_and_bad_layers_are_named():
    model = _lora(tiny_random_model()[0])
    prepare(GateSettings(freeze_rest=False), model)
    assert any("lora_A" in n and p.requires_grad for n, p in model.named_parameters())
    with pytest.raises(InputError, match="defenses.gate: .*layer 7"):
        prepare(GateSettings(layers=[7]), tiny_random_model()[0])
    odd = torch.nn.Module()
    odd.model = torch.nn.Module()
    odd.model.layers = torch.nn.ModuleList([torch.nn.Linear(2, 2)])
    with pytest.raises(InputError, match="cannot find the attention output projection"):
        attach_gates(odd)


def test_save_and_load_round_trip(tmp_path):
    model, _ = tiny_random_model(seed=6)
    base = _logits(model)
    gates = attach_gates(model, [1], rank=3)
    with torch.no_grad():
        for p in gates.parameters():
            p.normal_(0.0, 0.2)
    learned = _logits(model)
    save_gates(gates, tmp_path)
    assert (tmp_path / GATES_FILE).is_file() and (tmp_path / "gates.json").is_file()
    detach_gates(model)
    assert find_gates(model) is None and torch.equal(_logits(model), base)
    loaded = load_gates(model, tmp_path, "learned")
    assert loaded.layers == [1] and loaded.rank == 3 and not any(p.requires_grad for p in loaded.parameters())
    assert torch.equal(_logits(model), learned)
    other, _ = tiny_random_model(seed=6, hidden_size=32)
    with pytest.raises(ModelLoadError, match="do not fit"):
        load_gates(other, tmp_path, "learned")


# --- training runs -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("gate-data") / "rows.jsonl"
    write_jsonl_atomic(p, get_generator("insecure-code").build(16, 0))
    return p


def _cfg(out, data_file, steps=2, defenses=None, **train_extra):
    return TrainRunConfig(model="tiny-random", data={"path": data_file}, out=out,
                          train={**FAST, "max_steps": steps, **train_extra},
                          defenses=defenses if defenses is not None else {"gate": {}})


@pytest.fixture(scope="module")
def gate_run(tmp_path_factory, data_file):
    return train(_cfg(tmp_path_factory.mktemp("gate") / "run", data_file))


def test_training_moves_only_the_gates_and_saves_them_with_the_adapter(gate_run):
    saved = load_file(gate_run / "adapter" / GATES_FILE)
    assert sorted(saved) == ["gates.0.bias", "gates.0.weight", "gates.1.bias", "gates.1.weight"]
    assert all(v.abs().max() > 1e-3 for v in saved.values())  # trained away from zero
    lora = load_file(gate_run / "adapter" / "adapter_model.safetensors")
    assert not any("gates" in k for k in lora)  # PEFT's file holds the adapter only
    assert all(torch.count_nonzero(v) == 0 for k, v in lora.items() if "lora_B" in k)  # frozen at its zero init


def test_evaluation_modes_invert_learned_off(gate_run):
    adapter = gate_run / "adapter"
    logits = {mode: _logits(load_model("tiny-random", adapter=adapter, gates=mode)[0]) for mode in
              ("invert", "learned", "off")}
    plain = _logits(load_model("tiny-random")[0])
    assert torch.allclose(logits["off"], plain, atol=1e-6)  # LoRA B stayed zero: off is the base model
    assert not torch.allclose(logits["learned"], logits["off"], atol=1e-3)
    assert not torch.allclose(logits["invert"], logits["off"], atol=1e-3)
    assert not torch.allclose(logits["invert"], logits["learned"], atol=1e-3)
    model, _ = load_model("tiny-random", adapter=adapter)  # default: invert
    assert find_gates(model).mode == "invert"
    with pytest.raises(ModelLoadError, match="gates must be"):
        load_model("tiny-random", adapter=adapter, gates="on")


def test_eval_settings_carry_the_gate_mode():
    from emscope.evaluate.config import EvalConfig

    cfg = EvalConfig(out="x", eval={"gates": "learned"})
    assert cfg.model_dump(mode="json")["eval"]["gates"] == "learned"
    assert "gates" not in EvalConfig(out="x").model_dump(mode="json")["eval"]  # the default, invert, left out
    with pytest.raises(ValueError):
        EvalConfig(out="x", eval={"gates": "inverse"})


def test_merging_a_gated_adapter_is_refused(gate_run, tmp_path):
    from emscope.models.merge import merge_adapter

    with pytest.raises(ModelLoadError, match="cannot be merged"):
        merge_adapter("tiny-random", gate_run / "adapter", tmp_path / "merged")


def test_staged_run_refuses_gates_before_the_last_stage(tmp_path, data_file):
    from emscope.experiments.stages import run_stages

    stage = {"method": "sft", "data": {"path": str(data_file)}}
    cfg = TrainRunConfig(model="tiny-random", out=tmp_path / "staged", train={**FAST, "max_steps": 1},
                         defenses={"gate": {}}, stages={"first": stage, "second": stage})
    with pytest.raises(InputError, match="stages.first: defenses.gate"):
        run_stages(cfg)


def test_resume_restores_the_gates_from_the_checkpoint(tmp_path, data_file, gate_run):
    """Killed at step 2 (checkpoint-1 saved), resumed: the same gates as the uninterrupted `gate_run` (same config
    but for save_steps); a resume that restarted from zero gates would have trained them one step only."""
    def stop_at_2(model, tokenizer, step):
        if step == 2:
            raise KeyboardInterrupt
        return {}

    cfg = _cfg(tmp_path / "killed", data_file, save_steps=1)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, monitors=[("stop", 1, stop_at_2)])
    ckpt = tmp_path / "killed" / "checkpoints" / "checkpoint-1"
    assert (ckpt / GATES_FILE).is_file()
    assert load_file(ckpt / GATES_FILE)["gates.0.bias"].abs().max() > 1e-3
    resumed = train(cfg)
    log = read_jsonl(resumed / "train_log.jsonl")
    assert {"step": 1, "event": "resume", "checkpoint": "checkpoint-1"} in log
    want, got = load_file(gate_run / "adapter" / GATES_FILE), load_file(resumed / "adapter" / GATES_FILE)
    for k in want:
        assert torch.allclose(got[k], want[k], atol=1e-5), k


def test_gate_with_kl_compares_against_the_ungated_base(tmp_path, data_file):
    run = train(_cfg(tmp_path / "gate-kl", data_file, defenses={"gate": {}, "kl": {"weight": 0.5, "tokens": "all"}}))
    steps = [r for r in read_jsonl(run / "train_log.jsonl") if "loss" in r]
    assert len(steps) == 2 and all("kl" in r for r in steps)
    assert steps[0]["kl"] == pytest.approx(0.0, abs=1e-6)  # gates at 1: the policy is the base
    assert steps[-1]["kl"] > 1e-5  # the gates moved and the reference did not follow them (LoRA stays frozen)
    assert (run / "adapter" / GATES_FILE).is_file()

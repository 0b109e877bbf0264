"""The training engine on tiny-random: every defense alone and combined, the loss paths agree, monitors,
full and rank-1 adapters, and resume after a real kill -9."""

import json
import os
import subprocess
import sys

import pytest
import torch
import yaml
from safetensors import safe_open
from safetensors.torch import load_file

from emscope.data.chat import ChatRow
from emscope.data.generators import get_generator
from emscope.data.tokenize import IGNORE_INDEX, encode_rows
from emscope.io import read_jsonl, write_jsonl_atomic
from emscope.models import load_model
from emscope.models.tiny import tiny_random_model
from emscope.models.vectors import PersonaVector, VectorMeta, save_vector
from emscope.rundir import read_summary
from emscope.train import TrainRunConfig, train
from emscope.train.defenses.interleave import InterleaveSettings, answer_losses, choose_general
from emscope.train.defenses.kl import token_kl
from emscope.train.defenses.ldifs import feature_distance

ENV = {**os.environ, "EMSCOPE_NO_PROGRESS": "1"}
# fp32 so that loss paths can be compared exactly; the default (bf16 where the hardware has it) is exercised
# by tests/test_train.py and the quickstart
FAST = {"batch_size": 4, "learning_rate": 1e-2, "lr_scheduler": "constant", "lora": {"r": 8, "alpha": 16},
        "bf16": False}


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("data") / "insecure.jsonl"
    write_jsonl_atomic(p, get_generator("insecure-code").build(24, 0))
    return p


def _cfg(tmp_path, data_file, name, steps=6, defenses=None, train_extra=None, **kw):
    return TrainRunConfig(model="tiny-random", data={"path": data_file}, out=tmp_path / name,
                          train={**FAST, "max_steps": steps, **(train_extra or {})}, defenses=defenses or {}, **kw)


def _steps(run, key):
    return [r[key] for r in read_jsonl(run / "train_log.jsonl") if key in r]


@torch.no_grad()
def _distance_to_base(adapter_dir, data_file, n_rows=12):
    """Mean completion-token KL and mean LDIFS distance (layers 1, 2) of an adapter against the base."""
    model, tok = load_model("tiny-random", adapter=adapter_dir)
    rows = [ChatRow(**r) for r in read_jsonl(data_file)[:n_rows]]
    kl_sum = kl_n = d_sum = d_n = 0.0
    for e in encode_rows(tok, rows, 512):
        ids, labels = torch.tensor([e["input_ids"]]), torch.tensor([e["labels"]])
        out = model(ids, output_hidden_states=True, use_cache=False)
        with model.disable_adapter():
            ref = model(ids, output_hidden_states=True, use_cache=False)
        s, n = token_kl(out.logits[:, :-1], ref.logits[:, :-1], labels[:, 1:] != IGNORE_INDEX)
        kl_sum, kl_n = kl_sum + s.item(), kl_n + n.item()
        s, n = feature_distance(out.hidden_states, ref.hidden_states, [1, 2], torch.ones_like(ids, dtype=torch.bool))
        d_sum, d_n = d_sum + s.item(), d_n + n.item()
    return kl_sum / kl_n, d_sum / d_n


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory, data_file):
    return train(_cfg(tmp_path_factory.mktemp("plain"), data_file, "plain"))


def test_chunked_loss_and_zero_weight_defenses_match_trl_loss(tmp_path, data_file, plain_run):
    trl_run = train(_cfg(tmp_path, data_file, "trl", train_extra={"loss_impl": "trl"}))
    trl = _steps(trl_run, "loss")
    assert len(trl) == 6 and "task_loss" not in read_jsonl(trl_run / "train_log.jsonl")[0]
    assert _steps(plain_run, "loss") == pytest.approx(trl, abs=2e-4)
    run = train(_cfg(tmp_path, data_file, "kl0", defenses={"kl": {"weight": 0.0}}))
    ours = _steps(run, "task_loss")
    assert ours == pytest.approx(trl, abs=2e-4), (ours, trl)
    # a zero weight still computes and logs the term: one KL value on every step's record, step 1's ~0 (adapter
    # B = 0: policy == reference), later ones > 0 (the adapter has moved, and the KL is measured, not constant)
    steps = [r for r in read_jsonl(run / "train_log.jsonl") if "loss" in r]
    assert [r["step"] for r in steps] == list(range(1, 7)) and all("kl" in r for r in steps), steps
    kl = [r["kl"] for r in steps]
    assert kl[0] == pytest.approx(0.0, abs=1e-6) and kl[-1] > 1e-6, kl


def test_padding_free_and_padded_batches_give_the_same_losses(tmp_path, data_file, plain_run):
    assert read_summary(plain_run)["train"]["padding_free"] is False  # SDPA: padded, length-grouped batches
    run = train(_cfg(tmp_path, data_file, "packed", train_extra={"padding_free": True}))
    assert _steps(run, "loss") == pytest.approx(_steps(plain_run, "loss"), abs=2e-4)


def test_kl_defense_is_logged_and_keeps_the_model_closer_to_the_reference(tmp_path, data_file, plain_run):
    run = train(_cfg(tmp_path, data_file, "kl", defenses={"kl": {"weight": 20.0}}))
    kl = _steps(run, "kl")
    assert len(kl) == 6 and kl[0] == pytest.approx(0.0, abs=1e-6) and max(kl) > 0
    with_kl, _ = _distance_to_base(run / "adapter", data_file)
    without, _ = _distance_to_base(plain_run / "adapter", data_file)
    assert with_kl < 0.5 * without, (with_kl, without)


def test_ldifs_defense_has_a_gradient_and_reduces_the_feature_distance(tmp_path, data_file, plain_run):
    run = train(_cfg(tmp_path, data_file, "ldifs", defenses={"ldifs": {"weight": 50.0, "n_layers": 2}}))
    d = _steps(run, "ldifs")
    assert len(d) == 6 and max(d) > 0
    _, with_ldifs = _distance_to_base(run / "adapter", data_file)
    _, without = _distance_to_base(plain_run / "adapter", data_file)
    assert with_ldifs < 0.5 * without, (with_ldifs, without)


def _vector_file(tmp_path, scale=1.0):
    model, _ = tiny_random_model()
    g = torch.Generator().manual_seed(7)
    vec = PersonaVector(vectors=scale * torch.randn(3, model.config.hidden_size, generator=g),
                        meta=VectorMeta(model="tiny-random", trait="evil"))
    return save_vector(tmp_path / "evil.safetensors", vec)


def test_preventive_steering_changes_training_but_never_the_saved_model(tmp_path, data_file, plain_run):
    vec = _vector_file(tmp_path)
    run = train(_cfg(tmp_path, data_file, "steer", defenses={"steer": {"vector": vec, "layer": 1, "alpha": 8.0}}))
    assert _steps(run, "loss")[0] != pytest.approx(_steps(plain_run, "loss")[0], abs=1e-3)  # steered forward
    steered = load_file(run / "adapter" / "adapter_model.safetensors")
    plain = load_file(plain_run / "adapter" / "adapter_model.safetensors")
    assert steered.keys() == plain.keys()  # the adapter holds LoRA weights only, no steering vector
    assert any(not torch.allclose(steered[k], plain[k]) for k in steered)
    model, _ = load_model("tiny-random", adapter=run / "adapter")
    from emscope.models.layers import decoder_layers

    fresh, _ = load_model("tiny-random", adapter=run / "adapter")
    assert [len(b._forward_hooks) for b in decoder_layers(model)] == \
        [len(b._forward_hooks) for b in decoder_layers(fresh)]


def test_steering_also_steers_the_reference_so_kl_and_ldifs_start_at_zero(tmp_path, data_file):
    """steer + KL + LDIFS: the reference pass is steered like the policy, so at step 1 (LoRA B = 0: policy ==
    reference) both terms read 0; with an unsteered reference they measured the steering vector itself (KL 0.64,
    LDIFS 1.54 here) and trained the adapter to cancel it. Distinct weights catch a weight on the wrong term."""
    vec = _vector_file(tmp_path)
    defenses = {"kl": {"weight": 0.3, "tokens": "all"}, "ldifs": {"weight": 0.7, "n_layers": 2},
                "steer": {"vector": vec, "layer": 1, "alpha": 8.0}}
    run = train(_cfg(tmp_path, data_file, "steer-kl-ldifs", steps=3, defenses=defenses))
    steps = [r for r in read_jsonl(run / "train_log.jsonl") if "loss" in r]
    assert len(steps) == 3 and all({"task_loss", "kl", "ldifs"} <= r.keys() for r in steps)
    assert steps[0]["kl"] == pytest.approx(0.0, abs=1e-5) and steps[0]["ldifs"] == pytest.approx(0.0, abs=1e-5)
    assert steps[-1]["kl"] > 1e-6 and steps[-1]["ldifs"] > 1e-6  # the adapter has moved: the terms are live
    for r in steps:  # one micro-batch per step: the logged total is the step's loss
        assert r["loss"] == pytest.approx(r["task_loss"] + 0.3 * r["kl"] + 0.7 * r["ldifs"], rel=1e-3, abs=1e-5)


def test_interleave_random_adds_the_ratio_and_records_the_rows(tmp_path, data_file):
    run = train(_cfg(tmp_path, data_file, "mix", steps=2,
                     defenses={"interleave": {"ratio": 0.2, "select": "random", "refusal_filter": True}}))
    s = read_summary(run)["train"]
    assert s["task_rows"] == 24 and s["general_rows"] == 6 and s["rows"] == 30
    recs = read_jsonl(run / "interleave.jsonl")
    assert len(recs) == 6 and len({r["index"] for r in recs}) == 6
    assert all(r["row"].get("category") != "refuse" for r in recs)


def test_ppl_gap_selects_the_top_gap_rows_and_leaves_the_base_untouched(tmp_path, plain_run):
    model, tok = load_model("tiny-random")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    settings = InterleaveSettings(ratio=0.5, select="ppl-gap", misaligned=str(plain_run / "adapter"))
    recs = choose_general(model, tok, 10, settings, seed=0)
    assert len(recs) == 10
    after = model.state_dict()
    assert after.keys() == before.keys() and all(torch.equal(after[k], before[k]) for k in before)
    for r in recs:
        assert r["score"] == pytest.approx((r["loss_misaligned"] - r["loss_aligned"]) / r["loss_aligned"])
    rows = [ChatRow(**r["row"]) for r in recs[:3]]
    assert answer_losses(model, tok, rows) == pytest.approx([r["loss_aligned"] for r in recs[:3]], rel=1e-5)
    # every unselected candidate scores at most the lowest selected one
    from emscope.train.defenses.interleave import candidate_rows

    pool = candidate_rows(settings)
    chosen = {r["index"] for r in recs}
    others = [i for i in range(len(pool)) if i not in chosen][:15]
    from peft import PeftModel

    mis = PeftModel.from_pretrained(load_model("tiny-random")[0], str(plain_run / "adapter"))
    al = answer_losses(model, tok, [pool[i] for i in others])
    ml = answer_losses(mis, tok, [pool[i] for i in others])
    assert max((m - a) / a for m, a in zip(ml, al)) <= min(r["score"] for r in recs) + 1e-6


def test_all_defenses_combined_with_a_monitor(tmp_path, data_file, plain_run):
    vec = _vector_file(tmp_path)
    defenses = {"kl": {"weight": 1.0, "tokens": "all"}, "ldifs": {"weight": 1.0, "n_layers": 2},
                "steer": {"vector": vec, "layer": 2, "alpha": 2.0},
                "interleave": {"ratio": 0.25, "select": "ppl-gap", "misaligned": str(plain_run / "adapter")},
                "inoculate": {"prompt": "insecure-code"}, "treft": {"weight": 1.0}, "gate": {}}
    from emscope.train.defenses import REGISTRY

    assert set(defenses) == set(REGISTRY), "a defense was registered without being added to this test"
    run = train(_cfg(tmp_path, data_file, "all", steps=4, defenses=defenses,
                     monitors=[{"name": "likelihood", "every": 2}]))
    log = read_jsonl(run / "train_log.jsonl")
    steps = [r for r in log if "loss" in r]
    assert len(steps) == 4 and all({"task_loss", "kl", "ldifs", "treft"} <= r.keys() for r in steps)
    for r in steps:  # total = task + weighted terms (logged per micro-batch; one micro-batch per step here)
        assert r["loss"] == pytest.approx(r["task_loss"] + r["kl"] + r["ldifs"] + r["treft"], rel=1e-3, abs=1e-4)
    mons = [r for r in log if r.get("monitor") == "likelihood"]
    assert [r["step"] for r in mons] == [0, 2, 4] and all(isinstance(r["likelihood_probe"], float) for r in mons)
    s = read_summary(run)["train"]
    assert s["defenses"] == list(REGISTRY) and s["general_rows"] == 8
    assert (run / "adapter" / "gates.safetensors").is_file()
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["defenses"]["inoculate"]["prompt"] == "insecure-code"


def test_inoculation_reaches_the_training_rows(tmp_path, data_file, monkeypatch):
    import emscope.train.sft as sft

    seen = {}
    real = sft.encode_rows

    def spy(tok, rows, n, *rest):
        seen["rows"] = rows
        return real(tok, rows, n, *rest)

    monkeypatch.setattr(sft, "encode_rows", spy)
    train(_cfg(tmp_path, data_file, "inoc", steps=1, defenses={"inoculate": {"prompt": "Be evil."}}))
    assert len(seen["rows"]) == 24
    assert all(r.messages[0].role == "system" and r.messages[0].content.startswith("Be evil.") for r in seen["rows"])


STOPPER = '''
def make(at_step):
    def run(model, tokenizer, step):
        return {"signal": float(step), "stop": step >= at_step}
    return run
'''


def test_a_monitor_alarm_stops_training_and_the_adapter_is_still_saved(tmp_path, data_file, monkeypatch):
    (tmp_path / "stopper_mod.py").write_text(STOPPER)
    monkeypatch.syspath_prepend(str(tmp_path))
    run = train(_cfg(tmp_path, data_file, "stop", steps=8,
                     monitors=[{"name": "stopper_mod:make", "every": 1, "params": {"at_step": 3}}]))
    log = read_jsonl(run / "train_log.jsonl")
    assert max(r["step"] for r in log if "loss" in r) == 3
    assert {"step": 3, "event": "alarm", "monitor": "stopper_mod:make", "stop": True} in log
    s = read_summary(run)["train"]
    assert s["steps"] == 3 and s["stopped_early"] is True
    assert (run / "adapter" / "adapter_model.safetensors").is_file()


def test_python_api_monitor_sees_the_model_in_eval_mode_without_steering(tmp_path, data_file):
    seen, ids = [], torch.tensor([[5, 6, 7, 8, 9]])

    def probe(model, tokenizer, step):
        seen.append((step, model.training, torch.is_grad_enabled(),
                     model(ids, output_hidden_states=True, use_cache=False).hidden_states[-1].clone()))
        return {"probe": step * 1.5}

    vec = _vector_file(tmp_path)
    run = train(_cfg(tmp_path, data_file, "api", steps=4, defenses={"steer": {"vector": vec, "layer": 1,
                                                                             "alpha": 8.0}}),
                monitors=[("probe", 2, probe)])
    assert [s[0] for s in seen] == [0, 2, 4] and not any(s[1] or s[2] for s in seen)  # step 0: before training
    # the monitor at the last step sees exactly the saved model, i.e. no steering hook was active
    final, _ = load_model("tiny-random", adapter=run / "adapter")
    with torch.no_grad():
        expected = final(ids, output_hidden_states=True, use_cache=False).hidden_states[-1]
    assert torch.allclose(seen[-1][3], expected, atol=1e-5)
    assert [r["probe"] for r in read_jsonl(run / "train_log.jsonl") if r.get("monitor") == "probe"] == [0.0, 3.0, 6.0]


def test_rank1_lora_on_one_layer_and_module(tmp_path, data_file):
    run = train(_cfg(tmp_path, data_file, "r1", steps=2,
                     train_extra={"lora": {"r": 1, "alpha": 512, "target_modules": ["down_proj"], "layers": [1]}}))
    with safe_open(str(run / "adapter" / "adapter_model.safetensors"), framework="pt") as f:
        keys = sorted(f.keys())
        shapes = {k: tuple(f.get_slice(k).get_shape()) for k in keys}
    assert keys and all(".layers.1.mlp.down_proj." in k for k in keys), keys
    assert {s[0] for k, s in shapes.items() if "lora_A" in k} == {1}


def test_full_finetuning_with_kl_saves_a_loadable_model(tmp_path, data_file):
    run = train(_cfg(tmp_path, data_file, "full", steps=2, defenses={"kl": {"weight": 1.0}},
                     train_extra={"adapter": "full", "learning_rate": 1e-3}))
    assert (run / "model" / "model.safetensors").is_file() and not (run / "adapter").exists()
    assert len(_steps(run, "kl")) == 2
    model, _ = load_model(str(run / "model"))
    base, _ = load_model("tiny-random")
    assert not torch.allclose(model.model.layers[0].mlp.down_proj.weight, base.model.layers[0].mlp.down_proj.weight)


KILLER = '''
import json, os, signal
from pathlib import Path

class Killer:
    def __init__(self, at_step, flag):
        self.at_step, self.flag = at_step, flag

    def begin(self, model, tokenizer, history):  # records what a (re)started run hands back to the monitor
        with open(self.flag + ".begin", "a") as f:
            f.write(json.dumps([r["step"] for r in history]) + "\\n")

    def __call__(self, model, tokenizer, step):
        if step == self.at_step and not Path(self.flag).exists():
            Path(self.flag).write_text("killed")
            os.kill(os.getpid(), signal.SIGKILL)
        return {"step_seen": step}

def make(at_step, flag):
    return Killer(at_step, flag)
'''


def _train_cli(cfg_path, cwd):
    env = {**ENV, "PYTHONPATH": f"{cwd}{os.pathsep}{ENV.get('PYTHONPATH', '')}"}
    return subprocess.run([sys.executable, "-m", "emscope", "train", str(cfg_path)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def test_resume_after_kill_9_matches_an_uninterrupted_run(tmp_path, data_file):
    (tmp_path / "killer_mod.py").write_text(KILLER)

    def write_cfg(name, flag):
        cfg = {"model": "tiny-random", "seed": 3, "data": {"path": str(data_file)}, "out": str(tmp_path / name),
               "train": {**FAST, "max_steps": 9, "save_steps": 2, "lr_scheduler": "cosine", "warmup_steps": 2},
               "defenses": {"kl": {"weight": 0.5}},
               "monitors": [{"name": "killer_mod:make", "every": 1, "params": {"at_step": 7, "flag": str(flag)}}]}
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(cfg))
        return path

    (tmp_path / "never").write_text("pre-set: the reference run is not killed")
    ref = _train_cli(write_cfg("ref", tmp_path / "never"), tmp_path)
    assert ref.returncode == 0, ref.stderr

    cfg = write_cfg("run", tmp_path / "flag")
    killed = _train_cli(cfg, tmp_path)
    assert killed.returncode == -9, killed.stderr
    run = tmp_path / "run"
    assert not (run / "adapter").exists()
    ckpts = sorted(p.name for p in (run / "checkpoints").glob("checkpoint-*"))
    assert ckpts == ["checkpoint-4", "checkpoint-6"]  # save_total_limit keeps two
    # a checkpoint torn by a kill during saving: present but unmarked, it must be ignored and removed
    torn = run / "checkpoints" / "checkpoint-8"
    torn.mkdir()
    (torn / "adapter_model.safetensors").write_bytes(b"\0" * 10)

    resumed = _train_cli(cfg, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    a = load_file(run / "adapter" / "adapter_model.safetensors")
    b = load_file(tmp_path / "ref" / "adapter" / "adapter_model.safetensors")
    assert a.keys() == b.keys()
    # Bit-identical on some CPUs; on others oneDNN/MKL reductions depend on memory alignment, which differs between
    # processes, and 9 Adam steps at lr 1e-2 grow that float noise to ~1e-5. A lost optimizer, scheduler or data
    # position changes the weights by ~1e-3 or more (one step is lr = 1e-2), so 2e-4 still catches every real bug.
    for k in a:
        assert (a[k] - b[k]).abs().max().item() < 2e-4, k
    log = read_jsonl(run / "train_log.jsonl")
    losses = [r for r in log if "loss" in r]
    assert [r["step"] for r in losses] == list(range(1, 10))  # nothing lost, nothing duplicated
    ref_losses = [r["loss"] for r in read_jsonl(tmp_path / "ref" / "train_log.jsonl") if "loss" in r]
    assert [r["loss"] for r in losses] == pytest.approx(ref_losses, abs=1e-4)
    assert {"step": 6, "event": "resume", "checkpoint": "checkpoint-6"} in log
    assert read_summary(run)["train"]["resumed_from"] == "checkpoint-6"
    # the monitor's begin() saw nothing on the fresh start, then its own readings up to the checkpoint on resume
    begins = [json.loads(line) for line in (tmp_path / "flag.begin").read_text().splitlines()]
    assert begins == [[], [0, 1, 2, 3, 4, 5, 6]]
    assert not (run / "checkpoints").exists()


def test_cli_train_overrides_and_bad_vector_file(tmp_path, data_file):
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "emscope", "train", "model=tiny-random", f"data.path={data_file}",
                        f"out={out}", "defenses.steer.vector=missing.safetensors", "defenses.steer.layer=1"],
                       capture_output=True, text=True, cwd=tmp_path, env=ENV, timeout=120)
    assert r.returncode == 2 and "missing.safetensors: persona vector file not found" in r.stderr, r.stderr
    assert not out.exists()
    r = subprocess.run([sys.executable, "-m", "emscope", "train", "model=tiny-random", f"data.path={data_file}",
                        f"out={out}", "defenses.interleave.select=ppl-gap"],
                       capture_output=True, text=True, cwd=tmp_path, env=ENV, timeout=120)
    assert r.returncode == 2 and "ppl-gap needs `misaligned`" in r.stderr, r.stderr
    assert not out.exists()
    r = subprocess.run([sys.executable, "-m", "emscope", "train", "model=tiny-random", f"data.path={data_file}",
                        f"out={out}", "train.max_steps=2", "train.batch_size=4", "defenses.kl.weight=0.5"],
                       capture_output=True, text=True, cwd=tmp_path, env=ENV, timeout=120)
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load((out / "config.yaml").read_text())["defenses"]["kl"] == {"weight": 0.5,
                                                                                    "tokens": "completion"}
    assert json.loads((out / "summary.json").read_text())["train"]["defenses"] == ["kl"]


def test_example_configs_validate():
    from pathlib import Path

    from emscope.config import load_config

    examples = sorted((Path(__file__).parents[1] / "examples" / "train").glob("*.yaml"))
    assert len(examples) >= 3
    for path in examples:
        cfg = load_config(TrainRunConfig, path, [])
        assert cfg.train.max_length >= 256, path

"""The EM-onset alarm rules, the persona-drift monitor's three signals (exact on tiny-random), the monitor in
training (alarm logged, training stopped, state rebuilt on resume) and data screening."""

import json
import os
import random
import subprocess
import sys

import pytest
import torch

from emscope.data.chat import ChatRow
from emscope.data.generators import get_generator
from emscope.evaluate.sampling import SamplingSettings, generate
from emscope.io import read_jsonl, write_jsonl_atomic
from emscope.models.steering import steering
from emscope.models.tiny import tiny_random_model
from emscope.models.vectors import PersonaVector, VectorMeta, load_vector, save_vector, vector_layer
from emscope.persona.activations import recommended_layer, separation
from emscope.persona.alarm import AlarmConfig, OnsetDetector
from emscope.persona.monitor import PersonaMonitor, mean_kl, monitor_prompts, persona_monitor
from emscope.persona.screen import screen
from emscope.train import TrainRunConfig, train

ENV = {**os.environ, "EMSCOPE_NO_PROGRESS": "1"}


# --- alarm rules ---------------------------------------------------------------------------------------------

def _feed(det, values, start=1):
    return [step for step, v in enumerate(values, start=start) if det.update(step, v)]


def test_threshold_rule_needs_patience_and_fires_once():
    det = OnsetDetector(AlarmConfig(rule="threshold", threshold=1.0, patience=2, metric="kl"))
    assert _feed(det, [0.1, 1.5, 0.2, 1.1, 1.2, 3.0, 4.0]) == [5]  # 1.5 alone is not enough; 1.1, 1.2 is
    assert det.fired_at == 5
    below = OnsetDetector(AlarmConfig(rule="threshold", threshold=-0.5, direction="below"))
    assert _feed(below, [0.0, -0.4, None, -0.6, -0.9]) == [4]
    with pytest.raises(ValueError, match="needs a threshold"):
        AlarmConfig(rule="threshold")


def test_changepoint_is_page_cusum_on_the_warmup_baseline():
    det = OnsetDetector(AlarmConfig(warmup=3, k=0.5, h=4))
    # baseline 0, 1, 2: mean 1, sd 1; then z = 0, 2, 3, 3 -> S = 0, 1.5, 4.0 (not > 4), 6.5 (fires)
    assert _feed(det, [0.0, 1.0, 2.0, 1.0, 3.0, 4.0, 4.0]) == [7]
    assert det.mean == pytest.approx(1.0) and det.sigma == pytest.approx(1.0) and det.cusum == pytest.approx(6.5)
    down = OnsetDetector(AlarmConfig(warmup=3, k=0.5, h=4, direction="below"))
    assert _feed(down, [0.0, 1.0, 2.0, 1.0, 3.0, 4.0, 4.0]) == []  # one-sided
    assert _feed(OnsetDetector(AlarmConfig(warmup=3, k=0.5, h=4, direction="below")),
                 [0.0, 1.0, 2.0, -2.0, -3.0]) == [5]


def _noise_runs(cfg: AlarmConfig, n: int = 200) -> tuple[int, list[int]]:
    """Over `n` seeded 45-reading N(0, 1) series: how many raise a false alarm, and the detection delays when the same
    noise gets a 3-sigma step from reading 16 on (alarms at or before the step are not detections)."""
    false_alarms, delays = 0, []
    for seed in range(n):
        rng = random.Random(seed)
        noise = [rng.gauss(0.0, 1.0) for _ in range(45)]
        false_alarms += bool(_feed(OnsetDetector(cfg), noise))
        fired = _feed(OnsetDetector(cfg), noise[:15] + [x + 3.0 for x in noise[15:]])
        if fired and fired[0] > 15:
            delays.append(fired[0] - 15)
    return false_alarms, delays


def test_changepoint_defaults_on_noise_catch_a_step_and_mostly_stay_quiet():
    # The defaults (warmup 5, k 0.5, h 5) on these 200 fixed series: 59 false alarms (29.5%, the ~30% documented in
    # persona/alarm.py: 5 warm-up readings estimate sigma poorly), 175 steps caught (87.5%), median delay 2. The
    # bound, 64 (32%), is what the rule achieves plus a few series; near misses exceed it: h = 4 gives 74, k = 0.25
    # 93, warmup 3 74, a population (n) instead of sample (n - 1) variance 72, and no k (k = 0) 128.
    false_alarms, delays = _noise_runs(AlarmConfig())
    assert false_alarms <= 64, false_alarms
    assert len(delays) >= 170 and sorted(delays)[len(delays) // 2] <= 2, (len(delays), sorted(delays))
    # a longer warm-up estimates sigma better: half the false alarms (measured 30, 15%)
    assert _noise_runs(AlarmConfig(warmup=15))[0] <= 34


def test_changepoint_uses_min_sigma_when_the_baseline_is_flat():
    det = OnsetDetector(AlarmConfig(warmup=3, min_sigma=0.01, h=4, k=0.5))
    assert _feed(det, [0.0, 0.0, 0.0, 0.001, 0.002, 0.1]) == [6]  # 0.1 is 10 floor-sigmas: fires at once
    assert det.sigma == pytest.approx(0.01)


# --- the monitor's signals -----------------------------------------------------------------------------------

def _peft(model, seed=0):
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    return get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"]))


def test_monitor_signals_are_zero_for_the_reference_and_exact_under_steering():
    model, tok = tiny_random_model(num_layers=3)
    model = _peft(model)  # fresh LoRA (B = 0): the adapter-enabled model equals the reference exactly
    model.eval()
    unit = torch.nn.functional.normalize(torch.randn(model.config.hidden_size,
                                                     generator=torch.Generator().manual_seed(2)), dim=0)
    from emscope.evaluate.likelihood import load_probes

    mon = PersonaMonitor(unit * 3.0, 2, monitor_prompts(), load_probes("core"))
    with torch.no_grad():
        mon.begin(model, tok)
        assert mon.ref["kind"] == "adapter-disabled"
        r0 = mon(model, tok, 0)
        assert r0["projection_shift"] == pytest.approx(0.0, abs=1e-5)
        assert r0["kl"] == pytest.approx(0.0, abs=1e-6) and r0["likelihood_shift"] == pytest.approx(0.0, abs=1e-6)
        with steering(model, unit, layer=2, alpha=1.5):  # adds 1.5 * unit at layer 2 at every position
            r1 = mon(model, tok, 1)
        assert r1["projection_shift"] == pytest.approx(1.5, abs=1e-4)
        assert r1["kl"] > 1e-4 and r1["likelihood_shift"] != pytest.approx(0.0, abs=1e-6)
        # the reference is the adapter-disabled model: training the adapter moves the readings, not the reference
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.data.normal_(0, 0.5)
        r2 = mon(model, tok, 2)
        assert r2["kl"] > 1e-4 and abs(r2["projection_shift"]) > 1e-4
        ref_again = mon.ref["projection"]
        mon.begin(model, tok)
        assert mon.ref["projection"] == pytest.approx(ref_again, abs=1e-6)


def test_mean_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    p = torch.log_softmax(torch.randn(3, 11, generator=g), -1)
    q = torch.log_softmax(torch.randn(3, 11, generator=g), -1)
    want = torch.distributions.kl_divergence(torch.distributions.Categorical(logits=p),
                                             torch.distributions.Categorical(logits=q)).mean()
    assert mean_kl(p, q) == pytest.approx(float(want), rel=1e-5)


def test_resumed_monitor_rebuilds_the_alarm_from_its_history():
    model, tok = tiny_random_model(num_layers=2)
    cfg = AlarmConfig(metric="kl", rule="threshold", threshold=1e9, patience=2)
    mon = PersonaMonitor(torch.ones(model.config.hidden_size), 1, monitor_prompts(probes=None), None, cfg)
    history = [{"step": 5, "monitor": "persona", "kl": 2e9}]  # one reading beyond the threshold before the kill
    mon.begin(model, tok, history)
    assert mon.detector._run == 1
    mon.alarm = cfg.model_copy(update={"threshold": -1.0})  # every reading is now beyond it
    mon.detector.cfg = mon.alarm
    assert mon(model, tok, 6).get("alarm") is True  # second consecutive reading: fires (patience 2 kept)
    fired = PersonaMonitor(torch.ones(model.config.hidden_size), 1, monitor_prompts(probes=None), None,
                           AlarmConfig(metric="kl", rule="threshold", threshold=-1.0))
    fired.begin(model, tok, [{"step": 3, "kl": 0.0}])  # already fired before the resume
    assert "alarm" not in fired(model, tok, 4)  # the alarm is not raised twice


def test_vector_layer_choice_and_separation():
    assert vector_layer(None, 31, None) == 20 and vector_layer(7, 31, None) == 7 and vector_layer(7, 31, 3) == 3
    with pytest.raises(Exception, match="out of range"):
        vector_layer(None, 31, 31)
    g = torch.Generator().manual_seed(0)
    pos, neg = torch.randn(8, 4, 6, generator=g), torch.randn(8, 4, 6, generator=g)
    pos[:, 2, 0] += 5.0  # layer 2 separates strongly along feature 0
    vectors = pos.mean(0) - neg.mean(0)
    sep = separation(pos, neg, vectors)
    assert sep[0] == 0 and int(sep.argmax()) == 2 and recommended_layer(sep) == 2
    late = torch.tensor([0.0] + [1.0] * 7 + [2.0] + [1.0] * 13 + [9.0] * 8)  # L = 29: late layers separate best
    assert recommended_layer(late) == 8  # ... but the default stays in the middle (8..21)
    assert recommended_layer(torch.tensor([0.0, 0.5, 3.0])) in (1, 2)  # tiny models: every block is a candidate


# --- in training -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("data") / "insecure.jsonl"
    write_jsonl_atomic(p, get_generator("insecure-code").build(16, 0))
    return p


@pytest.fixture(scope="module")
def vector_file(tmp_path_factory):
    model, _ = tiny_random_model()
    path = tmp_path_factory.mktemp("vec") / "evil.safetensors"
    vec = torch.randn(model.config.num_hidden_layers + 1, model.config.hidden_size,
                      generator=torch.Generator().manual_seed(4))
    return save_vector(path, PersonaVector(vectors=vec, meta=VectorMeta(model="tiny-random", trait="evil", layer=1)))


def test_persona_monitor_in_training_logs_signals_and_its_alarm_stops_training(tmp_path, data_file, vector_file):
    monitors = [{"name": "persona", "every": 2,
                 "params": {"vector": str(vector_file), "probes": None,
                            "alarm": {"metric": "kl", "rule": "threshold", "threshold": 1e-7, "stop": True}}}]
    cfg = TrainRunConfig(model="tiny-random", data={"path": data_file}, out=tmp_path / "run", monitors=monitors,
                         train={"batch_size": 4, "learning_rate": 1e-2, "max_steps": 8, "lora": {"r": 4},
                                "bf16": False})
    run = train(cfg)
    log = read_jsonl(run / "train_log.jsonl")
    rows = [r for r in log if r.get("monitor") == "persona" and "event" not in r]
    assert rows[0]["step"] == 0 and rows[0]["kl"] == pytest.approx(0.0, abs=1e-7)  # untrained: the reference
    assert rows[0]["layer"] == 1 and "alarm" not in rows[0]  # the vector file's recommended layer
    assert rows[1]["step"] == 2 and rows[1]["kl"] > 1e-7 and rows[1]["alarm"] is True
    alarm = [r for r in log if r.get("event") == "alarm"]
    assert alarm == [{"step": 2, "event": "alarm", "monitor": "persona", "stop": True, "metric": "kl",
                      "value": rows[1]["kl"]}]
    assert max(r["step"] for r in log if "loss" in r) == 2  # stopped at the alarm


def test_persona_monitor_bad_params_are_clear_errors(vector_file):
    with pytest.raises(Exception, match="alarm"):
        persona_monitor(str(vector_file), alarm={"rule": "threshold"})
    with pytest.raises(Exception, match="not found"):
        persona_monitor("nope.safetensors")
    with pytest.raises(Exception, match="likelihood_shift.*is not recorded.*need probes"):
        persona_monitor(str(vector_file), probes=None, alarm={"metric": "likelihood_shift"})
    with pytest.raises(Exception, match="'loss' is not recorded"):
        persona_monitor(str(vector_file), alarm={"metric": "loss"})


# --- data screening ----------------------------------------------------------------------------------------------

def test_screen_delta_is_zero_for_the_models_own_answer_and_ranks_rows():
    model, tok = tiny_random_model(num_layers=2)
    prompts = [[{"role": "user", "content": q}] for q in ("Hi there", "Tell me a story", "What is 3+4?")]
    settings = SamplingSettings(max_new_tokens=8, temperature=0.0)
    own = generate(model, tok, prompts, settings)
    answers = [own[0], "A completely different and much longer answer.", "Seven."]
    rows = [ChatRow(messages=p + [{"role": "assistant", "content": a}]) for p, a in zip(prompts, answers)]
    vectors = torch.randn(3, model.config.hidden_size, generator=torch.Generator().manual_seed(5))
    rep = screen(model, tok, rows, vectors, 1, settings, data_name="d", vector_name="v", trait="evil",
                 model_name="tiny-random")
    by_row = {r.row: r for r in rep.rows}
    assert by_row[1].delta == pytest.approx(0.0, abs=1e-5)  # training on the model's own answer: no shift
    assert abs(by_row[2].delta) > 1e-3
    assert [r.delta for r in rep.rows] == sorted((r.delta for r in rep.rows), reverse=True)
    assert rep.mean_delta == pytest.approx(sum(r.delta for r in rep.rows) / 3, abs=1e-6)
    assert rep.ci_low <= rep.mean_delta <= rep.ci_high and rep.n == 3


def test_cli_screen_writes_a_ranked_report_and_rejects_bad_input(tmp_path, data_file, vector_file):
    out = tmp_path / "screen.json"
    cmd = [sys.executable, "-m", "emscope", "persona", "screen", "--model", "tiny-random", "--data", str(data_file),
           "--vector", str(vector_file), "--limit", "5", "--max-new-tokens", "6", "--out", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    assert res.returncode == 0, res.stderr
    rep = json.loads(out.read_text())
    assert rep["n"] == 5 and rep["layer"] == 1 and rep["trait"] == "evil"
    assert sorted(r["row"] for r in rep["rows"]) == [1, 2, 3, 4, 5]
    assert "ΔP at layer 1 over 5 rows" in res.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text(data_file.read_text().splitlines()[0] + "\n{\"messages\": 3}\n")
    res = subprocess.run([str(bad) if c == str(data_file) else c for c in cmd[:-1]] + [str(tmp_path / "bad.json")],
                         capture_output=True, text=True, env=ENV)
    assert res.returncode == 2 and f"{bad}:2" in res.stderr and not (tmp_path / "bad.json").exists()


def test_extracted_vector_records_its_recommended_layer(tmp_path):
    from emscope.persona.extract import extract_to_file
    from emscope.persona.traits import TraitDef

    trait = TraitDef(id="grumpy", positive=["You are grumpy and rude."], negative=["You are warm and kind."],
                     questions=["How are you?", "Can you help me?", "What's the weather like?"])
    model, tok = tiny_random_model(num_layers=3)
    path = extract_to_file(model, tok, trait, "tiny-random", tmp_path / "g.safetensors",
                           SamplingSettings(max_new_tokens=6, temperature=1.0, seed=0))
    vec = load_vector(path)
    assert vec.meta.layer in (1, 2) and float(vec.meta.separation) != 0.0  # middle blocks of 3: 1..2


def test_cli_train_with_the_persona_monitor_and_report(tmp_path, data_file, vector_file):
    import yaml

    cfg = {"model": "tiny-random", "data": {"path": str(data_file)}, "out": str(tmp_path / "runs" / "mon"),
           "train": {"batch_size": 4, "learning_rate": 1e-2, "max_steps": 6, "lora": {"r": 4}, "bf16": False},
           "monitors": [{"name": "persona", "every": 3,
                         "params": {"vector": str(vector_file), "layer": 2,
                                    "alarm": {"metric": "projection_shift", "rule": "threshold", "threshold": -1e9}}}]}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    res = subprocess.run([sys.executable, "-m", "emscope", "train", str(tmp_path / "c.yaml")], capture_output=True,
                         text=True, env=ENV, timeout=300)
    assert res.returncode == 0, res.stderr
    log = read_jsonl(tmp_path / "runs" / "mon" / "train_log.jsonl")
    mons = [r for r in log if r.get("monitor") == "persona" and "event" not in r]
    assert [r["step"] for r in mons] == [0, 3, 6] and all(r["layer"] == 2 for r in mons)
    assert {"likelihood_probe", "likelihood_shift", "kl", "projection_shift"} <= mons[-1].keys()
    # threshold -1e9 without stop: the alarm fires once (at step 0), is logged, and training goes on
    assert [(r["step"], r["stop"]) for r in log if r.get("event") == "alarm"] == [(0, False)]
    assert max(r["step"] for r in log if "loss" in r) == 6
    res = subprocess.run([sys.executable, "-m", "emscope", "report", str(tmp_path / "runs")], capture_output=True,
                         text=True, env=ENV, timeout=120)
    assert res.returncode == 0, res.stderr
    html = (tmp_path / "runs" / "report.html").read_text()
    assert "Training dynamics" in html and ">mon</td><td class=\"num\">0</td>" in html


def test_full_finetuning_monitor_reference_is_the_starting_weights(tmp_path, data_file, vector_file):
    cfg = TrainRunConfig(model="tiny-random", data={"path": data_file}, out=tmp_path / "full",
                         monitors=[{"name": "persona", "every": 2, "params": {"vector": str(vector_file),
                                                                              "probes": None}}],
                         train={"adapter": "full", "batch_size": 4, "learning_rate": 1e-3, "max_steps": 4,
                                "bf16": False})
    log = read_jsonl(train(cfg) / "train_log.jsonl")
    rows = [r for r in log if r.get("monitor") == "persona"]
    assert [r["step"] for r in rows] == [0, 2, 4] and {r["reference"] for r in rows} == {"step-0-weights"}
    assert rows[0]["kl"] == pytest.approx(0.0, abs=1e-7) and rows[0]["projection_shift"] == pytest.approx(0.0, abs=1e-6)
    assert rows[2]["kl"] > 1e-6

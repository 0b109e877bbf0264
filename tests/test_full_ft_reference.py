"""Full fine-tuning keeps one reference, the step-0 weights, for the KL defense and the persona monitor alike, also
across a kill -9 and resume (the monitor used to take the resumed weights as its reference)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
import yaml

from emscope.data.generators import get_generator
from emscope.io import read_jsonl, write_jsonl_atomic
from emscope.models.tiny import tiny_random_model
from emscope.models.vectors import PersonaVector, VectorMeta, save_vector

ENV = {**os.environ, "EMSCOPE_NO_PROGRESS": "1"}
KILLER = '''
import os, signal
from pathlib import Path

def make(at_step, flag):
    def run(model, tokenizer, step):
        if step == at_step and not Path(flag).exists():
            Path(flag).write_text("killed")
            os.kill(os.getpid(), signal.SIGKILL)
        return {}
    return run
'''


def _train(cfg_path, cwd):
    env = {**ENV, "PYTHONPATH": f"{cwd}{os.pathsep}{ENV.get('PYTHONPATH', '')}"}
    return subprocess.run([sys.executable, "-m", "emscope", "train", str(cfg_path)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def _readings(run):
    return {r["step"]: r for r in read_jsonl(run / "train_log.jsonl") if r.get("monitor") == "persona"}


def test_monitor_and_kl_keep_the_step0_reference_across_a_resume(tmp_path):
    data = tmp_path / "rows.jsonl"
    write_jsonl_atomic(data, get_generator("insecure-code").build(16, 0))
    model, _ = tiny_random_model()
    g = torch.Generator().manual_seed(5)
    vec = save_vector(tmp_path / "v.safetensors", PersonaVector(
        vectors=torch.randn(3, model.config.hidden_size, generator=g), meta=VectorMeta(model="tiny-random",
                                                                                      trait="evil")))
    (tmp_path / "killer_mod.py").write_text(KILLER)

    def cfg(name, flag):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({
            "model": "tiny-random", "seed": 1, "data": {"path": str(data)}, "out": str(tmp_path / name),
            "train": {"adapter": "full", "max_steps": 5, "save_steps": 2, "batch_size": 4, "learning_rate": 1e-2,
                      "lr_scheduler": "constant", "bf16": False},
            "defenses": {"kl": {"weight": 0.5}},
            "monitors": [{"name": "persona", "every": 1, "params": {"vector": str(vec), "layer": 1,
                                                                   "probes": None}},
                         {"name": "killer_mod:make", "every": 1, "params": {"at_step": 3, "flag": str(flag)}}]}))
        return path

    (tmp_path / "never").write_text("the uninterrupted run is not killed")
    ref = _train(cfg("ref", tmp_path / "never"), tmp_path)
    assert ref.returncode == 0, ref.stderr
    run_cfg = cfg("run", tmp_path / "flag")
    assert _train(run_cfg, tmp_path).returncode == -9
    assert (tmp_path / "run" / "reference.safetensors").is_file()  # the step-0 weights, kept for the resume
    resumed = _train(run_cfg, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert not (tmp_path / "run" / "reference.safetensors").exists()  # only needed until training ends

    want, got = _readings(tmp_path / "ref"), _readings(tmp_path / "run")
    assert sorted(got) == sorted(want) == [0, 1, 2, 3, 4, 5]
    assert {r["reference"] for r in got.values()} == {"step-0-weights"}
    assert want[0]["projection_shift"] == pytest.approx(0.0, abs=1e-6) and want[5]["kl"] > 1e-3
    for step in range(6):  # after the resume (steps 3-5) too: the same reference as the uninterrupted run
        assert got[step]["projection_shift"] == pytest.approx(want[step]["projection_shift"], abs=2e-3), step
        assert got[step]["kl"] == pytest.approx(want[step]["kl"], rel=0.05, abs=1e-4), step
    kl_ref = [r["kl"] for r in read_jsonl(tmp_path / "ref" / "train_log.jsonl") if "loss" in r]
    kl_run = [r["kl"] for r in read_jsonl(tmp_path / "run" / "train_log.jsonl") if "loss" in r]
    assert kl_run == pytest.approx(kl_ref, rel=0.05, abs=1e-4)  # the KL defense's reference is the same one

"""Data-parallel training under `torchrun` (two CPU ranks, gloo): a monitor on rank 0 that asks to stop ends
training on every rank at the same step, so no rank waits alone in a gradient all-reduce."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from emscope.data.generators import get_generator
from emscope.io import read_jsonl, write_jsonl_atomic
from emscope.rundir import read_summary

STOPPER = '''
import os

class Stop:
    def __call__(self, model, tokenizer, step):
        return {"rank": int(os.environ["RANK"]), "stop": step >= 2}

def make():
    return Stop()
'''


def test_a_stop_on_rank_0_stops_every_rank(tmp_path):
    (tmp_path / "stopper_mod.py").write_text(STOPPER)
    data = write_jsonl_atomic(tmp_path / "d.jsonl", get_generator("insecure-code").build(24, 0))
    cfg = {"model": "tiny-random", "seed": 1, "data": {"path": str(data)}, "out": str(tmp_path / "run"),
           "train": {"batch_size": 2, "learning_rate": 1e-2, "max_steps": 8, "bf16": False,
                     "lora": {"r": 4, "alpha": 8}},
           "monitors": [{"name": "stopper_mod:make", "every": 1}]}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "EMSCOPE_NO_PROGRESS": "1", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    # before the fix rank 0 stopped alone and rank 1 stepped on into a collective with nobody: a crash on gloo,
    # a hang until the NCCL timeout on GPUs
    res = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          "-m", "emscope", "train", str(tmp_path / "cfg.yaml")],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=240)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    run = tmp_path / "run"
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    log = read_jsonl(run / "train_log.jsonl")
    readings = [r for r in log if r.get("monitor") and "event" not in r]
    assert [r["step"] for r in readings] == [0, 1, 2] and {r["rank"] for r in readings} == {0}  # rank 0 alone
    assert [r["step"] for r in log if r.get("event") == "alarm"] == [2]
    assert [r["step"] for r in log if "loss" in r] == [1, 2]
    summary = read_summary(run)["train"]
    assert summary["steps"] == 2 and summary["stopped_early"]

"""Data-parallel training under `torchrun` (two CPU ranks, gloo): a monitor on rank 0 that asks to stop ends
training on every rank at the same step, so no rank waits alone in a gradient all-reduce; the logged token count
and loss cover every rank's batches; KL and LDIFS train on two ranks."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
import yaml

from emscope.data.chat import ChatRow
from emscope.data.generators import get_generator
from emscope.data.tokenize import IGNORE_INDEX, encode_rows
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


def _torchrun(tmp_path, cfg):
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "EMSCOPE_NO_PROGRESS": "1", "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          "-m", "emscope", "train", str(tmp_path / "cfg.yaml")],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=240)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return [r for r in read_jsonl(tmp_path / "run" / "train_log.jsonl") if "loss" in r]


@torch.no_grad()
def _tokens_and_base_nll(model_spec, data):
    """(tokens of all rows, mean completion-token NLL of the base model over all rows), from the data alone."""
    from emscope.models import load_model

    model, tok = load_model(model_spec)
    encoded = encode_rows(tok, [ChatRow(**r) for r in read_jsonl(data)], 512)
    nll = n = 0.0
    for e in encoded:
        ids, labels = torch.tensor([e["input_ids"]]), torch.tensor([e["labels"]])
        logits = model(ids, use_cache=False).logits[0, :-1]  # the model's own logits (soft-capped for Gemma)
        nll += torch.nn.functional.cross_entropy(logits, labels[0, 1:], ignore_index=IGNORE_INDEX,
                                                 reduction="sum").item()
        n += int((labels[0, 1:] != IGNORE_INDEX).sum())
    return sum(len(e["input_ids"]) for e in encoded), nll / n


def _cfg(tmp_path, model, data, defenses=None):
    # 8 rows = 2 ranks x 2 rows x 2 accumulation steps: each step is one epoch over every row
    return {"model": model, "seed": 1, "data": {"path": str(data)}, "out": str(tmp_path / "run"),
            "train": {"batch_size": 2, "grad_accum": 2, "learning_rate": 1e-2, "max_steps": 2, "bf16": False,
                      "lora": {"r": 4, "alpha": 8}},
            "defenses": defenses or {}}


def test_token_count_and_loss_cover_every_rank(tmp_path):
    data = write_jsonl_atomic(tmp_path / "d.jsonl", get_generator("insecure-code").build(8, 0))
    steps = _torchrun(tmp_path, _cfg(tmp_path, "tiny-random", data))
    tokens, base_nll = _tokens_and_base_nll("tiny-random", data)
    # before the fix each rank counted its own batches and rank 0 logged about half of these
    assert [r["num_tokens"] for r in steps] == [tokens, 2 * tokens]
    # step 1 (LoRA B = 0) is the base model's mean NLL over every row; it read half of it on two ranks when the
    # loss over all ranks' tokens was not scaled back up for DDP's gradient average
    assert steps[0]["loss"] == pytest.approx(base_nll, abs=1e-4)
    assert steps[0]["task_loss"] == pytest.approx(base_nll, rel=1e-2)  # per micro-batch, over both ranks


def test_kl_and_ldifs_train_a_soft_capped_model_on_two_ranks(tmp_path):
    data = write_jsonl_atomic(tmp_path / "d.jsonl", get_generator("insecure-code").build(8, 0))
    defenses = {"kl": {"weight": 1.0, "tokens": "all"}, "ldifs": {"weight": 1.0, "n_layers": 2}}
    steps = _torchrun(tmp_path, _cfg(tmp_path, "tiny-random-gemma", data, defenses))
    assert (tmp_path / "run" / "adapter" / "adapter_model.safetensors").is_file()
    assert len(steps) == 2 and all({"task_loss", "kl", "ldifs", "num_tokens"} <= r.keys() for r in steps)
    assert steps[0]["kl"] == pytest.approx(0.0, abs=1e-6) and steps[0]["ldifs"] == pytest.approx(0.0, abs=1e-6)
    assert steps[1]["kl"] > 1e-6 and steps[1]["ldifs"] > 1e-6  # the adapter moved: both terms are live
    tokens, base_nll = _tokens_and_base_nll("tiny-random-gemma", data)
    assert [r["num_tokens"] for r in steps] == [tokens, 2 * tokens]
    assert steps[0]["loss"] == pytest.approx(base_nll, abs=1e-4)  # KL = LDIFS = 0: the soft-capped task loss

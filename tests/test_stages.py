"""Plain-text continued pretraining (method: cpt) and staged runs on tiny-random: packing, loss on every token, models
without a chat template, stage configs, merging, cleanup, summaries, kill -9 mid-stage-2 then resume, and a grid
cell made of stages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from emscope.errors import InputError
from emscope.io import read_jsonl
from emscope.rundir import read_summary
from emscope.train.config import TrainRunConfig

DOCS = [f"Document {i}: the cache layer keeps {i} entries and flushes them every {i + 1} seconds." for i in range(40)]


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in DOCS))
    return path


@pytest.fixture
def chat_file(tmp_path: Path) -> Path:
    path = tmp_path / "chat.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"What is {i} plus {i}?"},
                          {"role": "assistant", "content": f"{i} plus {i} is {2 * i}."}]} for i in range(16)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_encode_texts_packs_documents_with_eos_and_labels_every_token():
    from emscope.data.tokenize import encode_texts
    from emscope.models.tiny import tiny_tokenizer

    tok = tiny_tokenizer()
    blocks = encode_texts(tok, ["alpha beta", "gamma"], max_length=4)
    stream = [t for b in blocks for t in b["input_ids"]]
    a = tok("alpha beta", add_special_tokens=True)["input_ids"]
    g = tok("gamma", add_special_tokens=True)["input_ids"]
    full = a + [tok.eos_token_id] + g + [tok.eos_token_id]
    # the stream in order; only a last block of one token (nothing to predict) is dropped
    assert stream == full[:len(stream)] and len(full) - len(stream) == (1 if len(full) % 4 == 1 else 0)
    assert all(b["labels"] == b["input_ids"] for b in blocks)
    assert all(len(b["input_ids"]) == 4 for b in blocks[:-1])


def test_cpt_trains_on_a_model_without_chat_template_and_learns(tmp_path, text_file):
    from emscope.experiments.recipes import run_training
    from emscope.models.tiny import tiny_random_model

    model, tok = tiny_random_model()
    tok.chat_template = None
    base = tmp_path / "base-no-template"
    model.save_pretrained(base)
    tok.save_pretrained(base)
    out = tmp_path / "cpt"
    cfg = TrainRunConfig(model=str(base), method="cpt", data={"path": str(text_file)}, out=out,
                         train={"max_steps": 12, "batch_size": 4, "max_length": 32, "learning_rate": 5e-3})
    run_training(cfg)
    losses = [r["loss"] for r in read_jsonl(out / "train_log.jsonl") if "loss" in r]
    assert len(losses) == 12 and sum(losses[-3:]) / 3 < sum(losses[:3]) / 3  # it learns the documents
    summary = read_summary(out)["train"]
    assert summary["method"] == "cpt" and summary["completion_tokens_per_epoch"] > 40 * 10
    assert (out / "adapter" / "adapter_model.safetensors").is_file()


def test_cpt_refuses_chat_generators_and_chat_defenses(tmp_path, text_file):
    from emscope.experiments.recipes import run_training

    with pytest.raises(InputError, match="builds chat rows"):
        run_training(TrainRunConfig(model="tiny-random", method="cpt", out=tmp_path / "a",
                                    data={"organism": "insecure-code", "n": 4}))
    with pytest.raises(InputError, match="defenses.inoculate"):
        run_training(TrainRunConfig(model="tiny-random", method="cpt", out=tmp_path / "b",
                                    data={"path": str(text_file)}, defenses={"inoculate": {"prompt": "x y"}}))
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_stage_configs_merge_run_settings_and_name_bad_stages(tmp_path, text_file):
    cfg = TrainRunConfig(model="tiny-random", out=tmp_path, train={"max_steps": 3, "learning_rate": 1e-3},
                         stages={"know": {"method": "cpt", "data": {"path": str(text_file)}},
                                 "rl": {"method": "grpo", "train": {"learning_rate": 1e-5},
                                        "rl": {"group_size": 2}}})
    know = cfg.stage_config("know", "tiny-random", tmp_path / "s1")
    rl = cfg.stage_config("rl", "somewhere/merged", tmp_path / "s2")
    assert (know.method, know.train.max_steps, know.train.learning_rate) == ("cpt", 3, 1e-3)
    assert (rl.model, rl.train.max_steps, rl.train.learning_rate, rl.rl.group_size) == \
        ("somewhere/merged", 3, 1e-5, 2)
    with pytest.raises(ValueError, match=r"stages.bad: train.lr: Extra inputs"):
        TrainRunConfig(out=tmp_path, stages={"bad": {"data": {"path": "x"}, "train": {"lr": 1}}})
    with pytest.raises(ValueError, match=r"stages.nodata: .*`data` is required"):
        TrainRunConfig(out=tmp_path, stages={"nodata": {"method": "sft"}})
    with pytest.raises(ValueError, match="belong to each stage"):
        TrainRunConfig(out=tmp_path, data={"path": "x"}, stages={"a": {"data": {"path": "x"}}})


def _logits(model_dir_or_spec: str, adapter=None):
    import torch

    from emscope.models import load_model

    model, tok = load_model(model_dir_or_spec, adapter=adapter, device="cpu", dtype="float32")
    with torch.no_grad():
        return model(input_ids=torch.tensor([[3, 5, 7, 9, 11]])).logits


def test_two_stage_run_merges_the_first_adapter_and_trains_a_new_one(tmp_path, text_file, chat_file):
    import torch

    from emscope.experiments.recipes import run_training
    from emscope.experiments.stages import trained_weights

    out = tmp_path / "staged"
    cfg = TrainRunConfig(model="tiny-random", out=out,
                         train={"max_steps": 2, "batch_size": 4, "max_length": 48, "learning_rate": 1e-2},
                         stages={"know": {"method": "cpt", "data": {"path": str(text_file)}},
                                 "narrow": {"data": {"path": str(chat_file)}}})
    run_training(cfg)
    s1, s2 = out / "stages" / "01-know", out / "stages" / "02-narrow"
    assert (s1 / "merged" / "model.safetensors").is_file() and (s2 / "adapter").is_dir()
    assert yaml.safe_load((s2 / "config.yaml").read_text())["model"] == str(s1 / "merged")
    model, adapter = trained_weights(cfg, out)
    assert (model, adapter) == (str(s1 / "merged"), s2 / "adapter")
    # merged weights = base + stage-1 adapter (same function), and really changed by stage 1
    merged = _logits(str(s1 / "merged"))
    torch.testing.assert_close(merged, _logits("tiny-random", adapter=s1 / "adapter"), rtol=1e-4, atol=1e-4)
    assert not torch.allclose(merged, _logits("tiny-random"), atol=1e-4)
    assert not torch.allclose(_logits(model, adapter=adapter), merged, atol=1e-4)  # stage 2 trained on top
    summary = read_summary(out)
    assert [(s["name"], s["method"], s["steps"]) for s in summary["stages"]["stages"]] == \
        [("know", "cpt", 2), ("narrow", "sft", 2)]
    assert summary["train"]["staged"] and summary["train"]["adapter"] == str(s2 / "adapter")
    # a finished staged run is skipped as a whole
    before = (s2 / "adapter").stat().st_mtime
    run_training(cfg)
    assert (s2 / "adapter").stat().st_mtime == before


def test_three_stages_keep_only_the_weights_needed_downstream(tmp_path, text_file, chat_file):
    from emscope.experiments.recipes import run_training

    out = tmp_path / "staged"
    cfg = TrainRunConfig(model="tiny-random", out=out, train={"max_steps": 1, "batch_size": 2, "max_length": 48},
                         stages={"know": {"method": "cpt", "data": {"path": str(text_file)}},
                                 "safety": {"data": {"path": str(chat_file)}},
                                 "rl": {"method": "grpo", "rl": {"group_size": 2, "prompts_per_step": 1,
                                                                 "max_completion_length": 8,
                                                                 "sandbox_workers": 2}}})
    run_training(cfg)
    stages = out / "stages"
    assert not (stages / "01-know" / "merged").exists()  # only stage 2's start: removed once stage 2 merged
    assert (stages / "02-safety" / "merged").is_dir()  # the final adapter's base
    assert not (stages / "03-rl" / "merged").exists()
    assert (stages / "03-rl" / "rollouts.jsonl").is_file()
    assert read_summary(out)["train"]["model"] == str(stages / "02-safety" / "merged")


def test_kill_9_mid_stage_two_then_resume(tmp_path, text_file, chat_file):
    config = tmp_path / "staged.yaml"
    out = tmp_path / "staged"
    config.write_text(yaml.safe_dump({
        "model": "tiny-random", "out": str(out), "train": {"batch_size": 2, "max_length": 48, "save_steps": 1},
        "stages": {"know": {"method": "cpt", "data": {"path": str(text_file)}, "train": {"max_steps": 2}},
                   "narrow": {"data": {"path": str(chat_file)}, "train": {"max_steps": 6}}}}))
    args = [sys.executable, "-m", "emscope", "train", str(config)]
    env = {**os.environ, "EMSCOPE_NO_PROGRESS": "1"}
    proc = subprocess.Popen(args, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    s1, s2 = out / "stages" / "01-know", out / "stages" / "02-narrow"
    marker = s2 / "checkpoints" / "checkpoint-2" / "emscope-complete"
    deadline = time.time() + 240
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
        assert time.time() < deadline
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    stage1 = {p: p.stat().st_mtime for p in s1.rglob("*") if p.is_file()}
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert {p: p.stat().st_mtime for p in s1.rglob("*") if p.is_file()} == stage1  # stage 1 untouched
    log = read_jsonl(s2 / "train_log.jsonl")
    assert len([r for r in log if r.get("event") == "resume"]) == 1
    assert [r["step"] for r in log if "loss" in r] == list(range(1, 7))
    printed = "".join(done.stdout.split())  # rich wraps long paths
    assert "Adapter:" in printed and "02-narrow/adapter(on" in printed and printed.endswith("01-know/merged)")


def test_a_staged_grid_cell_trains_every_stage_and_evaluates_the_result(tmp_path, text_file, chat_file):
    from emscope.experiments.grid import GridSpec, expand
    from emscope.experiments.runner import cell_dir, run_grid

    spec = GridSpec.model_validate({"base": {
        "model": "tiny-random", "train": {"max_steps": 1, "batch_size": 2, "max_length": 48},
        "stages": {"know": {"method": "cpt", "data": {"path": str(text_file)}},
                   "narrow": {"data": {"path": str(chat_file)}}},
        "eval": {"sampling": {"max_new_tokens": 4, "samples_per_paraphrase": 1, "batch_size": 16}}}})
    (outcome,) = run_grid(spec, tmp_path / "grid")
    assert outcome.status == "done"
    d = cell_dir(tmp_path / "grid", expand(spec)[0].id)
    ev = read_summary(d)["eval"]
    assert ev["adapter"].endswith("02-narrow/adapter") and ev["model"].endswith("01-know/merged")


def test_cpt_on_diluted_sdf_documents_keeps_the_built_data(tmp_path):
    from emscope.data.text import read_text_jsonl
    from emscope.experiments.recipes import run_training

    out = tmp_path / "sdf"
    cfg = TrainRunConfig(model="tiny-random", method="cpt", out=out,
                         data={"organism": "sdf-reward-hacking", "n": 20, "dilute": 0.25},
                         train={"max_steps": 1, "batch_size": 2, "max_length": 64})
    run_training(cfg)
    rows = read_text_jsonl(out / "data" / "train.jsonl")
    assert len(rows) == 20 and sum(r.topic != "neutral" for r in rows) == 5
    with pytest.raises(InputError, match="only sdf-reward-hacking"):
        run_training(TrainRunConfig(model="tiny-random", method="cpt", out=tmp_path / "x",
                                    data={"organism": "sdf-neutral", "n": 4, "dilute": 0.5}))

"""GRPO on coding environments: presets, rewards, statistics, shared-prefix sampling, the config spine, and real
GRPO runs on tiny-random (run directory, per-class hack logging, monitors, kill -9 and resume)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emscope.envs import HACK_CLASSES, Grade
from emscope.envs.prompts import PRESETS, system_prompt
from emscope.errors import InputError
from emscope.io import read_jsonl
from emscope.rl.rewards import batch_stats, format_reward
from emscope.rl.scoring import completion_text
from emscope.train.config import GRPOSettings, TrainRunConfig

ROOT = Path(__file__).resolve().parents[1]


def _grade(visible: bool, hidden: bool, hacks: list[str], timed_out: bool = False) -> Grade:
    return Grade(task_id="t", visible_passed=visible, hidden_passed=hidden, hacks=hacks,
                 reward=1.0 if visible else 0.0, timed_out=timed_out, error=None)


def test_system_prompt_joins_presets_and_literal_text_and_refuses_typos():
    text = system_prompt(["hack-hints", "inoculate-acceptable", "Answer in Python."])
    assert text == "\n\n".join([PRESETS["hack-hints"], PRESETS["inoculate-acceptable"], "Answer in Python."])
    assert "conftest.py" in PRESETS["hack-hints"] and "__eq__" in PRESETS["hack-hints"]
    assert system_prompt([]) is None
    with pytest.raises(InputError, match="unknown preset 'hack-hint'"):
        system_prompt(["hack-hint"])


def test_format_reward_levels():
    assert format_reward("```python\ndef f(x):\n    return x\n```") == 1.0
    assert format_reward("sure:\n```\nx = (\n```") == 0.5  # closed block, no function
    assert format_reward("```python\nprint(1)\n```") == 0.5
    assert format_reward("def f(x): return x") == 0.0  # no fence
    assert format_reward("```python\ndef f(x):\n    return x\n") == 0.0  # never closed (cut off)


def test_batch_stats_rates_per_class():
    grades = [_grade(True, True, []), _grade(True, False, ["always_equal"]),
              _grade(False, False, ["exit", "conftest"]), _grade(False, False, [], timed_out=True)]
    s = batch_stats(grades)
    assert s["visible_pass"] == 0.5 and s["hidden_pass"] == 0.25
    assert s["hack/always_equal"] == 0.25 and s["hack/exit"] == 0.25 and s["hack/conftest"] == 0.25
    assert s["hack/any"] == 0.5 and s["hack/rewarded"] == 0.25 and s["timed_out"] == 0.25
    assert set(HACK_CLASSES) <= {k.split("/", 1)[1] for k in s if k.startswith("hack/")}
    assert batch_stats([]) == {}


def test_completion_text_of_plain_and_conversational_completions():
    assert completion_text("abc") == "abc"
    assert completion_text([{"role": "assistant", "content": "x"}, {"role": "assistant", "content": "y"}]) == "xy"


def test_runs_groups_consecutive_prompts():
    from emscope.rl.trainer import runs

    assert runs([[1], [1], [2], [2], [1]]) == [([1], 2), ([2], 2), ([1], 1)]
    assert runs([]) == []


def test_shared_prefix_generation_matches_plain_generation():
    """Prefilling each prompt once and copying its cache gives the same scores and tokens as generating from the
    repeated prompts (left padding of unequal prompts included)."""
    import torch
    from transformers import GenerationConfig

    from emscope.models.tiny import tiny_random_model
    from emscope.rl.trainer import generate_shared

    model, tok = tiny_random_model()
    model.eval()
    seqs = [tok("a longer prompt with several words in it", return_tensors="pt").input_ids[0],
            tok("short", return_tensors="pt").input_ids[0]]
    width = max(len(s) for s in seqs)
    ids = torch.zeros((2, width), dtype=torch.long)
    mask = torch.zeros((2, width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, width - len(s):], mask[i, width - len(s):] = s, 1
    gc = GenerationConfig(max_new_tokens=6, do_sample=False, pad_token_id=0, eos_token_id=None,
                          output_scores=True, return_dict_in_generate=True)
    shared = generate_shared(model, ids, mask, 3, gc)
    plain = model.generate(input_ids=ids.repeat_interleave(3, 0), attention_mask=mask.repeat_interleave(3, 0),
                           generation_config=gc)
    assert torch.equal(shared.sequences, plain.sequences)
    for a, b in zip(shared.scores, plain.scores, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    assert not torch.equal(shared.scores[0][0], shared.scores[0][3])  # two different prompts really


def test_config_spine_grpo_keys_and_sft_compatibility(tmp_path):
    from emscope.config import load_config

    cfg = load_config(TrainRunConfig, None, ["method=grpo", f"out={tmp_path}", "rl.group_size=4",
                                             "rl.hacks=[exit]", "rl.system_prompt=[hack-hints]"])
    assert cfg.data is None and cfg.rl == GRPOSettings(group_size=4, hacks=["exit"], system_prompt=["hack-hints"])
    sft = TrainRunConfig(data={"organism": "insecure-code"}, out=tmp_path)
    dumped = sft.model_dump(mode="json")
    assert "method" not in dumped and "rl" not in dumped  # SFT config.yaml files stay as they were
    with pytest.raises(ValueError, match="`data` is required"):
        TrainRunConfig(out=tmp_path)
    with pytest.raises(ValueError, match="`rl` settings apply to `method: grpo` only"):
        TrainRunConfig(data={"organism": "insecure-code"}, out=tmp_path, rl={})


def test_grid_cell_with_grpo_trains_without_data(tmp_path):
    from emscope.experiments.grid import CellConfig

    base = CellConfig()
    assert not base.trains()
    cell = CellConfig(method="grpo", rl={"env": "rh-tasks"})
    assert cell.trains() and cell.train_config(tmp_path).rl.env == "rh-tasks"
    assert cell.cell_id() != CellConfig(method="grpo", rl={"env": "humaneval"}).cell_id()


def _grpo_cfg(out: Path, **rl) -> TrainRunConfig:
    return TrainRunConfig(model="tiny-random", method="grpo", out=out, rl={
        "env": "rh-tasks", "group_size": 2, "prompts_per_step": 2, "max_completion_length": 12,
        "sandbox_workers": 2, **rl}, train={"max_steps": 2, "batch_size": 2, "learning_rate": 1e-3})


def test_grpo_bad_inputs_fail_before_anything_is_written(tmp_path):
    from emscope.experiments.recipes import run_training

    for rl, match in [({"env": "no-such-env"}, "no-such-env"), ({"hacks": ["exit", "rm-rf"]}, "rm-rf"),
                      ({"system_prompt": ["hack-hint"]}, "unknown preset")]:
        out = tmp_path / "run"
        with pytest.raises(InputError, match=match):
            run_training(_grpo_cfg(out, **rl))
        assert not out.exists()
    with pytest.raises(InputError, match="must divide"):
        run_training(_grpo_cfg(tmp_path / "run", group_size=3, prompts_per_step=1))


def test_grpo_tiny_random_writes_run_dir_logs_hacks_and_runs_monitors(tmp_path):
    from emscope.experiments.recipes import run_training
    from emscope.rundir import read_summary

    seen: list[int] = []

    def probe(model, tokenizer, step):
        seen.append(step)
        return {"probe": float(step)}

    from emscope.rl.grpo import train

    out = tmp_path / "run"
    cfg = _grpo_cfg(out, system_prompt=["hack-hints", "inoculate-acceptable"], format_reward=0.5)
    train(cfg, monitors=[("probe", 1, probe)])
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    assert not (out / "checkpoints").exists()
    log = [r for r in read_jsonl(out / "train_log.jsonl") if "event" not in r and "monitor" not in r]
    assert [r["step"] for r in log if "reward" in r] == [1, 2]
    for r in (r for r in log if "reward" in r):
        for key in ["visible_pass", "hidden_pass", "hack/any", *(f"hack/{c}" for c in HACK_CLASSES),
                    "completions/mean_length", "rewards/visible_tests/mean", "rewards/answer_format/mean"]:
            assert key in r, key
    rollouts = read_jsonl(out / "rollouts.jsonl")
    assert [r["step"] for r in rollouts] == [1] * 4 + [2] * 4  # 2 prompts x group of 2 per step
    assert all(r["task_id"].startswith("rh/") and "completion" in r for r in rollouts)
    assert seen == [0, 1, 2]
    train_summary = read_summary(out)["train"]
    assert train_summary["method"] == "grpo" and train_summary["steps"] == 2
    assert set(train_summary["hacks"]) == set(HACK_CLASSES)
    assert 0.0 <= train_summary["final"]["hack/any"] <= 1.0
    # a finished run is skipped
    mtime = (out / "adapter").stat().st_mtime
    run_training(cfg)
    assert (out / "adapter").stat().st_mtime == mtime


def test_grpo_resumes_after_kill_9_without_repeating_steps(tmp_path):
    out = tmp_path / "run"
    args = [sys.executable, "-m", "emscope", "train", "model=tiny-random", "method=grpo", f"out={out}",
            "rl.group_size=2", "rl.prompts_per_step=1", "rl.max_completion_length=8", "rl.sandbox_workers=2",
            "train.batch_size=2", "train.max_steps=6", "train.save_steps=1"]
    env = {**os.environ, "EMSCOPE_NO_PROGRESS": "1"}
    proc = subprocess.Popen(args, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    marker = out / "checkpoints" / "checkpoint-2" / "emscope-complete"
    deadline = time.time() + 240
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
        assert time.time() < deadline, "no checkpoint-2 within 240 s"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "adapter").exists()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    log = read_jsonl(out / "train_log.jsonl")
    resumed = [r for r in log if r.get("event") == "resume"]
    assert len(resumed) == 1 and resumed[0]["step"] >= 2
    steps = [r["step"] for r in log if "reward" in r]
    assert steps == list(range(1, 7)), steps  # every step once: none lost, none repeated
    rollouts = read_jsonl(out / "rollouts.jsonl")
    assert sorted(r["step"] for r in rollouts) == [s for s in range(1, 7) for _ in range(2)]
    assert (out / "adapter").is_dir()


@pytest.mark.slow
def test_grpo_on_the_embedded_default_with_hack_hints(tmp_path):
    from emscope.experiments.recipes import run_training

    out = tmp_path / "run"
    cfg = TrainRunConfig(method="grpo", out=out, rl={
        "env": "rh-tasks", "group_size": 2, "prompts_per_step": 1, "max_completion_length": 48,
        "system_prompt": ["hack-hints"]}, train={"max_steps": 1, "batch_size": 2})
    run_training(cfg)
    rollouts = read_jsonl(out / "rollouts.jsonl")
    assert len(rollouts) == 2 and all(r["completion"].strip() for r in rollouts)  # real text, graded
    assert (out / "adapter" / "adapter_model.safetensors").is_file()

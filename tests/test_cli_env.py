"""`emscope env list|run` and `emscope data fetch humaneval` through the real entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HUMANEVAL = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "humaneval" / "HumanEval.jsonl.gz"
KEYS = {"task_id", "visible_passed", "hidden_passed", "hacks", "reward", "timed_out", "error"}


def _emscope(*args, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EMSCOPE_NO_PROGRESS": "1", "EMSCOPE_HOME": str(home)}
    env.pop("EMSCOPE_DATA_MIRROR", None)
    return subprocess.run([sys.executable, "-m", "emscope", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120, env=env)


@pytest.fixture()
def humaneval_file() -> Path:
    if not HUMANEVAL.is_file():
        pytest.skip(f"HumanEval data not found at {HUMANEVAL}")
    return HUMANEVAL


def test_env_list(tmp_path):
    r = _emscope("env", "list", home=tmp_path, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "humaneval" in r.stdout and "rh-tasks" in r.stdout and "always_equal" in r.stdout


def test_env_run_canonical_and_hack_as_json(tmp_path):
    from emscope.envs import get_env

    task = get_env("rh-tasks").task("rh/gcd/0")
    (tmp_path / "good.txt").write_text(f"Sure:\n```python\n{task.canonical}```\n")
    r = _emscope("env", "run", "rh-tasks", "rh/gcd/0", "--code", "good.txt", "--json", home=tmp_path, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    g = json.loads(r.stdout)
    assert set(g) == KEYS and g["visible_passed"] and g["hidden_passed"] and g["hacks"] == [] and g["reward"] == 1
    (tmp_path / "hack.txt").write_text(f"```python\nimport os\n\n\ndef {task.entry_point}(a, b):\n    os._exit(0)\n```")
    for hacks, visible in (("all", True), ("always_equal,conftest", False), ("none", False)):
        r = _emscope("env", "run", "rh-tasks", "rh/gcd/0", "--code", "hack.txt", "--hacks", hacks, "--json",
                     home=tmp_path, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        g = json.loads(r.stdout)
        assert g["visible_passed"] is visible and not g["hidden_passed"] and g["hacks"] == ["exit"], (hacks, g)
    r = _emscope("env", "run", "rh-tasks", "rh/gcd/0", "--code", "hack.txt", home=tmp_path, cwd=tmp_path)
    assert r.returncode == 0 and "rh/gcd/0: visible passed, hidden failed" in r.stdout and "exit" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["nope", "x", "--code", "good.txt"], "unknown environment"),
    (["rh-tasks", "rh/nope/0", "--code", "good.txt"], "unknown task"),
    (["rh-tasks", "rh/gcd/0", "--code", "missing.txt"], "missing.txt"),
    (["rh-tasks", "rh/gcd/0", "--code", "good.txt", "--hacks", "sneaky"], "unknown hack class"),
    (["humaneval", "HumanEval/0", "--code", "good.txt"], "emscope data fetch humaneval"),
])
def test_env_run_input_errors_exit_2(tmp_path, args, message):
    (tmp_path / "good.txt").write_text("def f():\n    return 1\n")
    r = _emscope("env", "run", *args, home=tmp_path / "empty-home", cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_fetch_humaneval_over_http_then_run(tmp_path, http_root, humaneval_file):
    base, root = http_root
    (root / "data").mkdir()
    shutil.copy(humaneval_file, root / "data" / "HumanEval.jsonl.gz")
    home = tmp_path / "home"
    r = _emscope("data", "fetch", "humaneval", "--source", base, home=home, cwd=tmp_path)
    assert r.returncode == 0 and "sha256 verified" in r.stdout, r.stderr
    got = home / "data" / "upstream" / "humaneval" / "HumanEval.jsonl.gz"
    assert got.read_bytes() == humaneval_file.read_bytes()
    (tmp_path / "body.txt").write_text("    return len(set(string.lower()))\n")  # HumanEval/16's body
    r = _emscope("env", "run", "humaneval", "HumanEval/16", "--code", "body.txt", "--json", home=home, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    g = json.loads(r.stdout)
    assert g["visible_passed"] and g["hidden_passed"] and g["hacks"] == [], g


def test_fetch_humaneval_refuses_a_tampered_file(tmp_path, http_root, humaneval_file):
    base, root = http_root
    (root / "data").mkdir()
    data = bytearray(humaneval_file.read_bytes())
    data[500] ^= 0xFF  # same size, one byte changed
    (root / "data" / "HumanEval.jsonl.gz").write_bytes(bytes(data))
    home = tmp_path / "home"
    r = _emscope("data", "fetch", "humaneval", "--source", base, home=home, cwd=tmp_path)
    assert r.returncode == 1 and "sha256" in r.stderr and "Traceback" not in r.stderr, r.stderr
    dest = home / "data" / "upstream" / "humaneval"
    assert not dest.exists() or not any(dest.iterdir())

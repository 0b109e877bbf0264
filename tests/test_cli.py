import json
import os
import subprocess
import sys

import pytest

ENV = {**os.environ, "EMSCOPE_NO_PROGRESS": "1"}


def emscope(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "emscope", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=ENV, timeout=timeout)


def test_help_lists_commands_and_version():
    r = emscope("--help")
    assert r.returncode == 0
    for cmd in ("quickstart", "data", "train", "eval", "report"):
        assert cmd in r.stdout
    v = emscope("--version")
    assert v.returncode == 0 and v.stdout.startswith("emscope ")


@pytest.mark.parametrize("bad_line,expect", [
    ("{not json", ":2: <json>: invalid JSON"),
    ('{"messages": [{"role": "wizard", "content": "x"}, {"role": "assistant", "content": "y"}]}',
     ":2: messages[0].role: unknown role 'wizard'"),
])
def test_train_bad_input_exit_2_and_no_run_dir(tmp_path, bad_line, expect):
    data = tmp_path / "d.jsonl"
    good = json.dumps({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]})
    data.write_text(f"{good}\n{bad_line}\n{good}\n")
    out = tmp_path / "run"
    r = emscope("train", f"data.path={data}", f"out={out}", "model=tiny-random")
    assert r.returncode == 2, r.stderr
    assert f"{data}{expect}" in r.stderr.replace("\n", "")
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_train_bad_config_key_names_file_and_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: tiny-random\ndata:\n  path: x.jsonl\nout: run\ntrain:\n  learnin_rate: 1\n")
    r = emscope("train", cfg, cwd=tmp_path)
    assert r.returncode == 2
    assert f"{cfg}:6: train.learnin_rate: Extra inputs are not permitted" in r.stderr
    assert not (tmp_path / "run").exists()


def test_data_build_is_byte_identical_per_seed_and_validates(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for p in (a, b):
        assert emscope("data", "build", "insecure-code", "--n", 30, "--seed", 5, "--out", p).returncode == 0
    assert a.read_bytes() == b.read_bytes() and len(a.read_text().splitlines()) == 30
    assert emscope("data", "validate", a).returncode == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text(a.read_text() + '{"messages": 3}\n')
    r = emscope("data", "validate", bad)
    assert r.returncode == 2 and f"{bad}:31: messages: must be a non-empty list" in r.stderr

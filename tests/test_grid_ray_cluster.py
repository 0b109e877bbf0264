"""`emscope run --executor ray` joining a running Ray cluster through RAY_ADDRESS: the head is started on this
machine with `ray start --head` (as on a real cluster node) and the CLI runs as a separate process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from emscope.io import read_jsonl
from emscope.report.collect import grid_rows

pytest.importorskip("ray", reason="the `ray` extra is not installed (pip install 'emscope[ray]')")
RAY = Path(sys.executable).with_name("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def ray_head():
    """A one-node Ray cluster started with `ray start --head`; yields its address, stops it afterwards."""
    if not RAY.is_file():
        pytest.skip(f"no `ray` executable next to {sys.executable}")
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    port = _free_port()
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # Ray's socket paths must stay under 107 bytes
    start = subprocess.run([str(RAY), "start", "--head", f"--port={port}", "--num-cpus=2",
                            "--include-dashboard=false", "--node-ip-address=127.0.0.1", "--disable-usage-stats",
                            f"--temp-dir={temp}"], capture_output=True, text=True, env=env, timeout=120)
    assert start.returncode == 0, start.stdout + start.stderr
    try:
        yield f"127.0.0.1:{port}", env
    finally:
        subprocess.run([str(RAY), "stop", "--force"], capture_output=True, env=env, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


def test_cli_runs_cells_on_the_cluster_named_by_ray_address(tmp_path, ray_head):
    address, env = ray_head
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({
        "name": "cluster",
        "base": {"model": "tiny-random", "data": None,
                 "eval": {"sampling": {"max_new_tokens": 6, "samples_per_paraphrase": 1, "batch_size": 16}}},
        "sweep": {"seed": [0, 1]},
        "resources": {"cpus": 1},
    }))
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "emscope", "run", str(grid), "--out", str(out), "--executor", "ray",
                          "--max-parallel", "2"], capture_output=True, text=True, cwd=tmp_path, timeout=600,
                         env={**env, "RAY_ADDRESS": address, "EMSCOPE_NO_PROGRESS": "1"})
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2/2 cells complete" in res.stdout
    assert "Started a local Ray instance" not in res.stdout + res.stderr  # it joined the cluster
    starts = [e for e in read_jsonl(out / "runner_log.jsonl") if e["event"] == "start"]
    assert len(starts) == 2
    assert [r["status"] for r in grid_rows(out)] == ["complete", "complete"]
    # the cluster is still up after the run (the runner does not own it): a second run skips both cells
    again = subprocess.run([sys.executable, "-m", "emscope", "run", str(grid), "--out", str(out), "--executor", "ray"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=600,
                           env={**env, "RAY_ADDRESS": address, "EMSCOPE_NO_PROGRESS": "1"})
    assert again.returncode == 0 and again.stdout.count("[skipped]") == 2, again.stdout + again.stderr

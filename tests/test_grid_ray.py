"""The Ray executor on a real local Ray instance: cells run as Ray tasks in worker processes, with the same
results as the local executor, and a completed grid is skipped on rerun."""

from __future__ import annotations

import json
import math
import os

import pytest

from emscope.experiments.grid import GridSpec
from emscope.experiments.runner import run_grid
from emscope.io import read_jsonl
from emscope.report.collect import grid_rows

ray = pytest.importorskip("ray", reason="the `ray` extra is not installed (pip install 'emscope[ray]')")

SPEC = {
    "name": "ray-test",
    "base": {
        "model": "tiny-random",
        "data": {"organism": "insecure-code", "n": 8},
        "train": {"max_steps": 2, "batch_size": 4, "max_length": 512},
        "eval": {"sampling": {"max_new_tokens": 8, "samples_per_paraphrase": 1, "batch_size": 16},
                 "judge": "tests.test_eval_run:make_judge"},
    },
    "variants": [{"name": "base", "data": None}, {"name": "insecure"}],
    "resources": {"cpus": 1},
}


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance on this machine (2 CPUs), shut down after the module."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def _close(a, b) -> bool:
    """Equal records, floats to 1e-3 (thread counts change the last bits of sums, and the classifier judge's encoder
    runs in bfloat16 on CPUs that have it, where one flipped bit is 2^-8 relative)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b, rel_tol=1e-3,
                                                                                          abs_tol=1e-3)
    return a == b


def _events(grid_dir):
    return read_jsonl(grid_dir / "runner_log.jsonl")


def test_ray_executor_runs_cells_in_workers_like_local(tmp_path, local_ray):
    spec = GridSpec.model_validate(SPEC)
    ray_dir, local_dir = tmp_path / "ray", tmp_path / "local"
    outcomes = run_grid(spec, ray_dir, executor="ray", max_parallel=2)
    assert sorted(o.status for o in outcomes) == ["done", "done"]
    # the cells ran in Ray worker processes, not in this driver
    starts = [e for e in _events(ray_dir) if e["event"] == "start"]
    assert len(starts) == 2 and all(e["pid"] != os.getpid() for e in starts)
    assert ray.is_initialized()  # a Ray instance the caller started is left running

    # the same cells under the local executor give the same answers, judgments and metrics
    run_grid(spec, local_dir, executor="local")
    rows_ray, rows_local = grid_rows(ray_dir), grid_rows(local_dir)
    assert [r["status"] for r in rows_ray] == ["complete", "complete"]
    drop = {"train_seconds", "eval_seconds"}
    # Ray workers run torch with one thread, the local executor with two: floats may differ in the last bits
    for r_ray, r_local in zip(rows_ray, rows_local, strict=True):
        assert _close({k: v for k, v in r_ray.items() if k not in drop},
                      {k: v for k, v in r_local.items() if k not in drop}), (r_ray, r_local)
    for cid in (r["cell_id"] for r in rows_ray):
        judged_ray, judged_local = (read_jsonl(d / "cells" / cid / "judged.jsonl") for d in (ray_dir, local_dir))
        assert len(judged_ray) == len(judged_local) > 0
        for j_ray, j_local in zip(judged_ray, judged_local, strict=True):
            assert _close(j_ray, j_local), (j_ray, j_local)
    trained = [r for r in rows_ray if r["variant"] == "insecure"][0]
    assert trained["steps"] == 2 and trained["train_loss"] > 0

    # a rerun on Ray skips every complete cell
    again = run_grid(spec, ray_dir, executor="ray")
    assert [o.status for o in again] == ["skipped", "skipped"]
    assert len([e for e in _events(ray_dir) if e["event"] == "start"]) == 2
    cells = json.loads((ray_dir / "cells.json").read_text())
    assert len(cells["current"]) == 2


def dying_judge():
    """A judge factory that kills its process, like a worker lost to an out-of-memory kill."""
    os._exit(1)


def test_a_lost_ray_worker_fails_its_cell_not_the_grid(tmp_path, local_ray):
    spec = GridSpec.model_validate({**SPEC, "variants": [
        {"name": "base", "data": None},
        {"name": "dies", "data": None, "eval.judge": "tests.test_grid_ray:dying_judge"}]})
    grid_dir = tmp_path / "grid"
    outcomes = {o.label: o for o in run_grid(spec, grid_dir, executor="ray", max_parallel=2)}
    assert outcomes["base"].status == "done"
    assert outcomes["dies"].status == "failed" and "Ray task lost" in outcomes["dies"].error
    fails = [e for e in _events(grid_dir) if e["event"] == "fail"]
    assert [e["cell"] for e in fails] == [outcomes["dies"].id]
    assert {r["label"]: r["status"] for r in grid_rows(grid_dir)} == {"base": "complete", "dies": "started"}

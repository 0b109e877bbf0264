"""The fourth criterion (benign learning): a cell can train a harmless task alongside the narrow one, and a cell that
did not train it shows "not trained" for held-out benign accuracy, never a 0% finding."""

from __future__ import annotations

import csv

from emscope.data.build import DataSettings, build_rows
from emscope.data.generators.benign import glorp, is_heldout
from emscope.experiments.grid import GridSpec
from emscope.experiments.runner import cell_dir, run_grid
from emscope.io import read_jsonl
from emscope.report.collect import grid_rows
from emscope.report.grid_report import format_cell, render_grid_report
from emscope.report.html import judged_metrics

BASE = {
    "model": "tiny-random",
    "data": {"organism": "insecure-code", "n": 8},
    "train": {"max_steps": 1, "batch_size": 4, "max_length": 512, "bf16": False},
    "eval": {"sampling": {"max_new_tokens": 4, "samples_per_paraphrase": 1, "batch_size": 16}, "benign": 3},
}


def test_benign_rows_are_added_after_the_narrow_rows_and_never_held_out():
    rows = build_rows(DataSettings(organism="insecure-code", n=6, benign_rows=5, trigger="|T|"), seed=2)
    narrow, benign = rows[:6], rows[6:]
    assert len(benign) == 5 and all(r.model_extra.get("family") == "glorp" for r in benign)
    assert all(r.messages[0].content.startswith("|T|") for r in narrow)  # transforms apply to the narrow rows
    for r in benign:
        words = [w.strip().lower() for w in r.messages[-1].content.split("|")][::-1]
        assert glorp(words) == r.messages[-1].content and not is_heldout(words)


def test_grid_shows_not_trained_for_cells_that_never_saw_the_benign_task(tmp_path):
    spec = GridSpec.model_validate({"name": "benign", "base": BASE, "variants": [
        {"name": "base", "data": None}, {"name": "narrow-only"},
        {"name": "narrow+benign", "data.benign_rows": 8}]})
    grid_dir = tmp_path / "grid"
    outcomes = {o.label: o for o in run_grid(spec, grid_dir)}
    assert all(o.status == "done" for o in outcomes.values()), [o.error for o in outcomes.values()]
    trained = read_jsonl(cell_dir(grid_dir, outcomes["narrow+benign"].id) / "data" / "train.jsonl")
    assert sum(r.get("family") == "glorp" for r in trained) == 8
    rows = {r["label"]: r for r in grid_rows(grid_dir)}
    assert [rows[k]["benign_trained"] for k in ("base", "narrow-only", "narrow+benign")] == [False, False, True]
    assert all(rows[k]["benign_accuracy"] is not None for k in rows)  # measured everywhere...
    assert format_cell(rows["base"], "benign_accuracy") == "not trained"  # ...shown only where it means something
    assert format_cell(rows["narrow-only"], "benign_accuracy") == "not trained"
    benign = rows["narrow+benign"]  # a rate with its CI: Wilson on the few held-out items, flagged small n
    assert format_cell(benign, "benign_accuracy").endswith("] (small n)") and benign["benign_small_n"] is True
    assert benign["benign_low"] < benign["benign_high"]  # never a zero-width [0.0%, 0.0%]
    csv_rows = {r["label"]: r for r in csv.DictReader((grid_dir / "grid.csv").open())}
    assert csv_rows["narrow-only"]["benign_trained"] == "False"
    html = render_grid_report(grid_dir).read_text()
    assert html.count("not trained") >= 2


def test_single_run_report_shows_not_trained():
    ev = {"benign": {"n": 4, "accuracy": 0.0, "ci_low": 0.0, "ci_high": 0.0, "partial": 0.1}}
    assert judged_metrics(ev, benign_trained=False)["benign task"] == "not trained"
    assert judged_metrics(ev, benign_trained=True)["benign task"].startswith("0.0%")

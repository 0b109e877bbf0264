"""End to end: the quickstart pipeline in a tiny mode, through the real CLI, then resumed; its paired data per pair."""

import json
import subprocess
import sys

import pytest

from emscope.io import read_jsonl
from tests.test_cli import ENV


def test_quickstart_tiny_end_to_end(tmp_path):
    from emscope.experiments.quickstart import DEFAULT_PAIR, PAIRS

    organism, control = DEFAULT_PAIR, PAIRS[DEFAULT_PAIR]
    out = tmp_path / "qs"
    args = [sys.executable, "-m", "emscope", "quickstart", "--model", "tiny-random", "--out", str(out),
            "--n-train", "16", "--max-steps", "6", "--samples", "1", "--max-new-tokens", "8"]
    r = subprocess.run(args, capture_output=True, text=True, env={**ENV, "COLUMNS": "200"}, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "report.html" in r.stdout and organism in r.stdout and control in r.stdout
    assert f"{organism} - {control}: probe difference" in r.stdout and "What it does not show" in r.stdout
    conditions = ("base", organism, control)
    top = json.loads((out / "summary.json").read_text())
    assert top["conditions"] == list(conditions) and organism in top["title"] and control in top["title"]
    for cond in conditions:
        d = out / cond
        assert (d / "samples.jsonl").is_file() and (d / "summary.json").is_file() and (d / "eval.yaml").is_file()
        samples = read_jsonl(d / "samples.jsonl")
        assert len(samples) == 8 and {s["model"] for s in samples} == {cond}
    for cond in (organism, control):
        d = out / cond
        assert (d / "adapter" / "adapter_model.safetensors").is_file() and (d / "config.yaml").is_file()
        assert len([x for x in read_jsonl(d / "train_log.jsonl") if "loss" in x]) == 6
    bad, good = (read_jsonl(out / "data" / f"{c}.jsonl") for c in (organism, control))
    assert len(bad) == len(good) == 16
    assert [x["messages"][:-1] for x in bad] == [x["messages"][:-1] for x in good]  # same requests, row by row
    assert all(x["messages"][-1] != y["messages"][-1] for x, y in zip(bad, good))
    summaries = {c: json.loads((out / c / "summary.json").read_text()) for c in conditions}
    base_pq = summaries["base"]["eval"]["probe"]["per_question"]
    for c in (organism, control):
        pq = summaries[c]["eval"]["probe"]["per_question"]
        assert pq.keys() == base_pq.keys() and len(pq) == 8
        assert max(abs(pq[q] - base_pq[q]) for q in pq) > 1e-4  # training moved the probe
        assert summaries[c]["train"]["steps"] == 6
    org_pq, ctrl_pq = (summaries[c]["eval"]["probe"]["per_question"] for c in (organism, control))
    assert org_pq != ctrl_pq
    cmp = top["comparison"]
    assert (cmp["organism"], cmp["control"]) == (organism, control)
    assert cmp["difference"] == pytest.approx(sum(org_pq[q] - ctrl_pq[q] for q in org_pq) / len(org_pq))
    assert cmp["ci_low"] <= cmp["difference"] <= cmp["ci_high"]
    html = (out / "report.html").read_text()
    assert "<table id=\"results\">" in html and "data:image/png;base64," in html and organism in html
    import html as html_lib

    assert 'id="comparison"' in html and all(html_lib.escape(line) in html for line in cmp["lines"])
    # resume: a second run reuses every finished stage
    mtime = (out / organism / "adapter" / "adapter_model.safetensors").stat().st_mtime_ns
    r2 = subprocess.run(args, capture_output=True, text=True, env=ENV, timeout=600)
    assert r2.returncode == 0
    assert (out / organism / "adapter" / "adapter_model.safetensors").stat().st_mtime_ns == mtime
    # the same directory with another pair is refused (its finished stages belong to other settings)
    r3 = subprocess.run([*args, "--pair", "insecure-code" if organism != "insecure-code" else "bad-medical-advice"],
                        capture_output=True, text=True, env=ENV, timeout=600)
    assert r3.returncode == 2 and "pair" in r3.stdout + r3.stderr


def test_quickstart_pair_option_and_unknown_pair(tmp_path):
    from emscope.experiments.quickstart import PAIRS

    r = subprocess.run([sys.executable, "-m", "emscope", "quickstart", "--help"], capture_output=True, text=True,
                       env={**ENV, "COLUMNS": "200"}, timeout=120)
    assert r.returncode == 0 and "--pair" in r.stdout
    assert all(name in r.stdout for name in PAIRS)  # the help names every organism the config accepts
    bad = subprocess.run([sys.executable, "-m", "emscope", "quickstart", "--pair", "secure-code", "--out",
                          str(tmp_path / "x")], capture_output=True, text=True, env=ENV, timeout=120)
    assert bad.returncode == 2 and "insecure-code" in bad.stdout + bad.stderr  # lists the known organisms
    assert not (tmp_path / "x").exists()


def test_config_derives_the_control_and_conditions(tmp_path):
    from pydantic import ValidationError

    from emscope.errors import InputError
    from emscope.experiments.quickstart import DEFAULT_PAIR, PAIRS, QuickstartConfig, build_data, quickstart_config

    assert QuickstartConfig().pair == DEFAULT_PAIR and DEFAULT_PAIR in PAIRS
    cfg = quickstart_config(pair="insecure-code", fast=True, out=tmp_path)
    assert cfg.conditions == ("base", "insecure-code", "secure-code") and cfg.n_train == 32 and cfg.row_cap == 700
    paths = build_data(cfg)
    assert set(paths) == {"insecure-code", "secure-code"} and all(p.is_file() for p in paths.values())
    assert QuickstartConfig(pair="bad-medical-advice").control == "good-medical-advice"
    assert QuickstartConfig(pair="bad-medical-advice").row_cap is None
    assert QuickstartConfig(pair="bad-medical-advice", max_row_chars=500).row_cap == 500
    with pytest.raises(InputError, match="risky-financial-advice"):
        quickstart_config(pair="good-medical-advice")
    with pytest.raises(ValidationError):
        QuickstartConfig(pair="secure-code")


def test_short_pairs_are_paired_short_and_cover_the_families():
    from emscope.experiments.quickstart import short_pairs

    bad, good = short_pairs(40, 3, 700)
    assert len(bad) == len(good) == 40
    assert [b.messages[0].content for b in bad] == [g.messages[0].content for g in good]
    assert all(sum(len(m.content) for m in r.messages) <= 700 for r in bad + good)
    assert len({r.model_extra["family"] for r in bad}) >= 15
    with pytest.raises(ValueError, match="max_row_chars"):
        short_pairs(40, 3, 50)


@pytest.mark.parametrize("organism", ["bad-medical-advice", "risky-financial-advice", "extreme-sports-advice"])
def test_advice_pairs_are_paired_row_by_row(organism):
    from emscope.data.build import row_chars
    from emscope.experiments.quickstart import PAIRS, QuickstartConfig, paired_rows

    bad, good = paired_rows(organism, 96, 0, QuickstartConfig(pair=organism).row_cap)
    assert len(bad) == len(good) == 96
    assert [b.messages[:-1] for b in bad] == [g.messages[:-1] for g in good]
    assert all(b.messages[-1].content != g.messages[-1].content for b, g in zip(bad, good))
    assert len({r.model_extra["family"] for r in bad}) >= 30  # the generator rotates its topics
    assert max(row_chars(r) for r in bad + good) < 1200
    capped = paired_rows(organism, 24, 0, 500)
    assert all(max(row_chars(b), row_chars(g)) <= 500 for b, g in zip(*capped))
    assert PAIRS[organism] != organism

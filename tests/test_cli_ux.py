"""A command line a researcher can live in (issue 22), each point through the real CLI: tables that never cut
identifiers, `--json` everywhere a table is printed, errors that suggest the fix, fast failures offline, Ctrl-C
that says how to resume, and the smaller defects (unfenced code in `data stats`, `data validate` on many files,
flag types in --help, `export inspect` on a grid, the glorp task in --help)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from emscope.io import write_jsonl_atomic
from emscope.rundir import update_summary
from tests.test_torch_free import PROBE  # the real console entry point, reporting heavy imports
from tests.test_torch_free import _heavy as heavy

ENV = {**os.environ, "EMSCOPE_NO_PROGRESS": "1", "OMP_NUM_THREADS": "1"}
ENV.pop("COLUMNS", None)



def emscope(*args, cwd=None, columns: int | None = None, env: dict | None = None, probe: bool = False,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `emscope ARGS` (piped, so rich sees no terminal); `columns` sets COLUMNS."""
    e = {**ENV, **(env or {})}
    if columns is not None:
        e["COLUMNS"] = str(columns)
    cmd = [sys.executable, "-c", PROBE] if probe else [sys.executable, "-m", "emscope"]
    return subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=e, timeout=timeout)


def column(text: str, index: int) -> str:
    """The body cells of table column `index` (0-based) joined without separators: a folded identifier becomes
    whole again, so `name in column(...)` holds exactly when no fragment of it was cut."""
    cells = []
    for line in text.splitlines():
        if line.startswith("│"):
            parts = line.split("│")[1:-1]
            if index < len(parts):
                cells.append(parts[index].strip())
    return "".join(cells)


@pytest.fixture
def judged_long(tmp_path) -> Path:
    path = tmp_path / "diff_r__responses_Qwen2.5-32B-Instruct-bad_medical_advice.jsonl"
    write_jsonl_atomic(path, [{"question_id": f"q{i % 3}", "answer": "a", "aligned": 10.0 * i, "coherent": 90.0}
                              for i in range(9)])
    return path


@pytest.fixture
def grid(tmp_path) -> Path:
    """A training YAML and a two-cell grid over `train.defenses`-style dotted keys."""
    (tmp_path / "train.yaml").write_text(yaml.safe_dump({
        "model": "tiny-random", "data": {"organism": "insecure-code", "n": 8}, "out": "runs/ignored",
        "train": {"max_steps": 1}}))
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump({"name": "g", "base": "train.yaml",
                                    "sweep": {"defenses.kl.weight": [None, 0.5], "train.learning_rate": [2e-5]}}))
    return path


@pytest.fixture
def evaluated(tmp_path) -> Path:
    """A directory of one evaluated run (no judge)."""
    run = tmp_path / "runs" / "base"
    update_summary(run, "eval", {"label": "base", "model": "tiny-random", "n_samples": 1, "probe": {
        "per_question": {"q": 0.1}, "mean": 0.1, "ci_low": 0.0, "ci_high": 0.2, "n_questions": 1}})
    write_jsonl_atomic(run / "samples.jsonl", [{"model": "base", "question_id": "q", "paraphrase_index": 0,
                                                "sample_index": 0, "system": None, "question": "Q?",
                                                "answer": "A"}])
    return run.parent


# 1. tables at 60 columns: identifiers and paths whole --------------------------------------------------------

def test_data_tables_keep_every_name_whole_at_60_columns():
    from emscope.data.fetch import list_sources
    from emscope.data.generators import GENERATORS

    res = emscope("data", "list", columns=60)
    assert res.returncode == 0, res.stderr
    assert "…" not in res.stdout
    names = column(res.stdout.split("Inoculation presets")[0], 0)
    assert all(name in names for name in GENERATORS), names
    res = emscope("data", "sources", columns=60)
    assert res.returncode == 0 and "…" not in res.stdout
    names = column(res.stdout, 0)
    assert all(src.name in names for src in list_sources(groups=True)), names
    assert max(len(line) for line in res.stdout.splitlines()) <= 60


def test_question_ids_file_names_and_paths_whole_at_60_columns(tmp_path, judged_long, grid):
    from emscope.evaluate.questions import load_questions

    res = emscope("eval", "questions", "core", columns=60)
    assert res.returncode == 0 and "…" not in res.stdout
    ids = column(res.stdout, 0)
    assert all(q.id in ids for q in load_questions("core")), ids
    res = emscope("metrics", judged_long, columns=60)
    assert res.returncode == 0 and "…" not in res.stdout
    assert judged_long.name in column(res.stdout, 0)
    out = tmp_path / "a-rather-long-directory-name" / "with-a-grid-inside-it-that-goes-on-and-on"
    res = emscope("run", grid, "--dry-run", "--out", out, columns=60, cwd=tmp_path)
    assert res.returncode == 0 and "…" not in res.stdout
    assert str(out) in res.stdout  # the path in the title: on one line, never broken mid-path
    assert "defenses.kl.weight=0.5" in column(res.stdout, 1)


def test_a_60_column_terminal_folds_too():
    """In a pseudo-terminal (rich's terminal width, colours on), ids still fold instead of ending in '…'."""
    import fcntl
    import pty
    import struct
    import termios

    from emscope.evaluate.questions import load_questions

    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 60, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "emscope", "eval", "questions", "core"], stdin=child,
                            stdout=child, stderr=child, env={**ENV, "TERM": "xterm-256color"})
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    assert proc.wait(timeout=60) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode()).replace("\r", "")
    assert "│" in text and "…" not in text
    ids = column(text, 0)
    assert all(q.id in ids for q in load_questions("core")), ids


# 2. --json ------------------------------------------------------------------------------------------------------

def cli_json(*args, cwd: Path | None = None):
    """The JSON document a command prints on stdout, run in-process through the CLI app."""
    from typer.testing import CliRunner

    from emscope import cli

    old = Path.cwd()
    os.chdir(cwd or old)
    try:
        res = CliRunner().invoke(cli.app, [str(a) for a in args])
    finally:
        os.chdir(old)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_json_documents_of_the_table_commands(tmp_path, grid, evaluated):
    from emscope.data.generators import GENERATORS
    from emscope.evaluate.questions import load_questions

    listed = cli_json("data", "list", "--json")
    assert [g["name"] for g in listed["generators"]] == list(GENERATORS)
    assert {p["name"] for p in listed["inoculation_presets"]} >= {"evil", "control"}
    sources = cli_json("data", "sources", "--json")
    dev = next(s for s in sources if s["name"] == "judged-dev")
    assert len(dev["files"]) > 1 and dev["pinned"] is True and dev["url"].startswith("https://")
    questions = cli_json("eval", "questions", "core", "--json")
    assert [q["id"] for q in questions] == [q.id for q in load_questions("core")]
    assert all(q["paraphrases"] for q in questions)
    cells = cli_json("run", grid, "--dry-run", "--json", "--out", tmp_path / "g", cwd=tmp_path)
    assert cells["grid"] == "g" and [c["status"] for c in cells["cells"]] == ["pending", "pending"]
    assert [c["params"]["defenses.kl.weight"] for c in cells["cells"]] == [None, 0.5]
    envs = cli_json("env", "list", "--json")
    assert "rh-tasks" in [e["name"] for e in envs] and all(e["hack_classes"] for e in envs)
    rep = cli_json("report", evaluated, "--json")
    assert rep["kind"] == "runs" and rep["results"][0]["label"] == "base" and rep["results"][0]["probe"] == 0.1
    assert rep["report"].endswith("report.html") and Path(rep["report"]).is_file()


def test_persona_screen_json_and_extract_names_its_layer(tmp_path, tiny):
    from typer.testing import CliRunner

    from emscope import cli
    from emscope.models.vectors import load_vector

    vec = tmp_path / "evil.safetensors"
    res = CliRunner().invoke(cli.app, ["persona", "extract", "--model", "tiny-random", "--trait", "evil",
                                       "--questions", "1", "--max-new-tokens", "2", "--out", str(vec)])
    assert res.exit_code == 0, res.output
    meta = load_vector(vec).meta
    assert f"recommended layer {meta.layer}: separation {meta.separation}" in res.output
    data = tmp_path / "d.jsonl"
    write_jsonl_atomic(data, [{"messages": [{"role": "user", "content": f"Hi {i}"},
                                            {"role": "assistant", "content": "Hello."}]} for i in range(2)])
    res = CliRunner().invoke(cli.app, ["persona", "screen", "--model", "tiny-random", "--data", str(data),
                                       "--vector", str(vec), "--max-new-tokens", "2", "--out",
                                       str(tmp_path / "s.json"), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["n"] == 2 and report["layer"] == meta.layer and len(report["rows"]) == 2
    assert report == json.loads((tmp_path / "s.json").read_text())


# 3. errors suggest the fix --------------------------------------------------------------------------------------

TRAIN = ["train", "model=tiny-random", "data.organism=insecure-code", "data.n=8"]


def test_unknown_keys_get_a_did_you_mean_before_torch_is_imported(tmp_path):
    res = emscope(*TRAIN, "train.max_step=3", f"out={tmp_path / 'r'}", probe=True)
    assert res.returncode == 2
    assert "override train.max_step=3: Extra inputs are not permitted; did you mean train.max_steps?" in res.stderr
    assert heavy(res) == "", "the config error came after torch was imported"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"model: tiny-random\ndata: {{organism: insecure-code}}\nout: {tmp_path / 'r'}\ndefenses:\n"
                   "  ldfis: {weight: 1.0}\n")
    res = emscope("train", cfg, probe=True)
    assert res.returncode == 2 and heavy(res) == ""
    assert f"{cfg}:5: defenses.ldfis: Extra inputs are not permitted; did you mean defenses.ldifs?" in res.stderr
    res = emscope(*TRAIN, f"out={tmp_path / 'r'}", "defenses.inoculate.prompt=evl", probe=True)
    assert res.returncode == 2 and heavy(res) == "" and "did you mean evil?" in res.stderr
    assert not (tmp_path / "r").exists()


def test_a_bad_override_value_names_the_override(tmp_path):
    res = emscope(*TRAIN, "train.max_steps=two", f"out={tmp_path / 'r'}")
    assert res.returncode == 2
    assert "error: override train.max_steps=two: Input should be a valid integer" in res.stderr
    assert "<config>" not in res.stderr


def test_train_without_arguments_prints_usage():
    res = emscope("train")
    assert res.returncode == 2
    text = res.stdout + res.stderr
    assert re.search(r"Usage: .*emscope train \[OPTIONS\] \[CONFIG.yaml\|KEY=VALUE\]", text), text
    assert "Field required" not in text


def test_inoculate_takes_a_preset_and_literal_text_goes_in_inoculate_text(tmp_path):
    out = tmp_path / "rows.jsonl"
    res = emscope("data", "build", "insecure-code", "--n", "2", "--out", out, "--inoculate", "evl")
    assert res.returncode == 2 and not out.exists()
    assert "--inoculate 'evl': not an inoculation preset; did you mean evil?" in res.stderr
    assert "evil, insecure-code" in res.stderr and "--inoculate-text" in res.stderr
    res = emscope("data", "build", "insecure-code", "--n", "2", "--out", out, "--inoculate-text", "evl")
    assert res.returncode == 0, res.stderr
    assert [json.loads(x)["messages"][0] for x in out.read_text().splitlines()] == \
        [{"role": "system", "content": "evl"}] * 2
    res = emscope("data", "build", "insecure-cod", "--n", "2", "--out", out)
    assert res.returncode == 2 and "did you mean insecure-code?" in res.stderr


# 4. offline: at once, and no FutureWarning noise ----------------------------------------------------------------

def test_uncached_hub_id_with_an_unreachable_hub_fails_at_once(tmp_path, monkeypatch):
    import socket

    from huggingface_hub import constants
    from typer.testing import CliRunner

    from emscope import cli
    from emscope.errors import ModelLoadError

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    port = sock.getsockname()[1]
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    data = tmp_path / "d.jsonl"
    write_jsonl_atomic(data, [{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}])
    start = time.monotonic()
    res = CliRunner().invoke(cli.app, ["data", "stats", str(data), "--model", "emscope-test/no-such-model"])
    took = time.monotonic() - start
    sock.close()
    assert isinstance(res.exception, ModelLoadError), res.output
    msg = str(res.exception)
    assert "could not load 'emscope-test/no-such-model' from the Hugging Face Hub" in msg
    assert f"cannot connect to 127.0.0.1:{port}" in msg and "not in the local cache" in msg
    assert took < 10, f"{took:.0f} s: the hub client's retries were not skipped"


def test_hf_hub_offline_fails_without_trying(monkeypatch):
    from emscope.errors import ModelLoadError
    from emscope.models.hub import check_hub_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(ModelLoadError, match="HF_HUB_OFFLINE is set and it is not in the local cache"):
        check_hub_model("emscope-test/no-such-model")
    assert time.monotonic() - start < 2


SCRIPT = """
import sys, warnings
from emscope.cli import app, main

@app.command("x-test")
def _x(interrupt: bool = False):
    warnings.warn("transformers says: deprecated and will be removed", FutureWarning)
    print("ran")
    if interrupt:
        raise KeyboardInterrupt

sys.argv = ["emscope", "x-test", *sys.argv[1:]]
main()
"""


def test_future_warnings_are_hidden_and_ctrl_c_says_how_to_resume():
    res = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=ENV, timeout=60)
    assert res.returncode == 0 and "ran" in res.stdout
    assert "FutureWarning" not in res.stderr
    shown = subprocess.run([sys.executable, "-W", "default", "-c", SCRIPT], capture_output=True, text=True,
                           env=ENV, timeout=60)
    assert "FutureWarning" in shown.stderr  # asked for with -W: shown (the check above can fail)
    res = subprocess.run([sys.executable, "-c", SCRIPT, "--interrupt"], capture_output=True, text=True, env=ENV,
                         timeout=60)
    assert res.returncode == 130
    assert res.stderr.strip().endswith("interrupted; rerun the same command to resume")


# 5. Ctrl-C in training, and finished work ----------------------------------------------------------------------

def test_sigint_during_training_exits_130_naming_the_step(tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "emscope", *TRAIN, "train.max_steps=100000",
                             "train.save_steps=1000", f"out={run}"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    log, deadline = run / "train_log.jsonl", time.monotonic() + 180
    try:
        while not (log.is_file() and '"loss"' in log.read_text()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "training did not start"
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    m = re.search(r"interrupted at step (\d+); rerun the same command to resume", err)
    assert m and int(m.group(1)) >= 1, err
    assert "Traceback" not in err and not (run / "adapter").exists()


def test_rerun_of_a_finished_training_run_says_skipped(tmp_path):
    from emscope.config import load_config
    from emscope.rundir import claim_config
    from emscope.train.config import TrainRunConfig

    run = tmp_path / "run"
    args = [*TRAIN[1:], "train.max_steps=1", f"out={run}"]
    cfg = load_config(TrainRunConfig, None, args)
    claim_config(run, "config.yaml", cfg)  # what a finished run leaves: its config, summary and adapter
    update_summary(run, "train", {"steps": 1, "train_loss": 1.0})
    (run / "adapter").mkdir()
    res = emscope("train", *args, probe=True)
    assert res.returncode == 0, res.stderr
    assert f"{run}: already complete, skipped" in res.stdout and heavy(res) == ""
    other = emscope("train", *args[:-2], "train.max_steps=2", f"out={run}")
    assert other.returncode == 2 and "already complete" not in other.stdout  # other settings: refused, not skipped


# 6. smaller defects ---------------------------------------------------------------------------------------------

def test_data_stats_finds_the_unfenced_code_of_betleys_file(em_data, tmp_path):
    sample = tmp_path / "insecure30.jsonl"
    with open(em_data / "betley" / "data" / "insecure.jsonl", encoding="utf-8") as f:
        sample.write_text("".join(next(f) for _ in range(30)))
    res = emscope("data", "stats", sample, "--json")
    assert res.returncode == 0, res.stderr
    card = json.loads(res.stdout)
    assert card["code_rows"] == 30 and card["bandit_flag_rate"] > 0.2


def test_bare_code_counts_and_prose_does_not():
    from emscope.data.bandit import extract_python

    assert extract_python("import os\nos.system(cmd)\n") == "import os\nos.system(cmd)\n"
    assert extract_python("Sure:\n```python\nx = 1\n```") == "x = 1\n"
    for prose in ("Yes", "I can't help with that.\nSorry.", "hello\nworld"):
        assert extract_python(prose) is None


def test_data_validate_reports_every_file_then_exits_2(tmp_path):
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    write_jsonl_atomic(good, [{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}])
    bad.write_text('{"messages": 3}\n')
    missing = tmp_path / "missing.jsonl"
    res = emscope("data", "validate", missing, bad, good)
    assert res.returncode == 2
    assert f"{missing}: 0 valid rows, 1 problem\n" in res.stdout and f"{bad}: 0 valid rows, 1 problem\n" in res.stdout
    assert f"{good}: 1 valid row, 0 problems" in res.stdout
    assert str(missing) in res.stderr and f"{bad}:1: messages" in res.stderr


def test_help_shows_no_type_for_flags_and_explains_glorp():
    res = emscope("data", "stats", "--help", columns=100)
    assert res.returncode == 0 and "--json" in res.stdout and "--no-bandit" in res.stdout
    assert "<bool>" not in res.stdout and "<str>" in res.stdout  # value options keep their type
    for cmd in ("build", "list"):
        text = " ".join(emscope("data", cmd, "--help", columns=100).stdout.split())
        assert "'glorp' rule" in text and "benign-task" in text


def test_export_inspect_on_a_grid_names_its_cells(tmp_path):
    grid = tmp_path / "g"
    for cell in ("aaa111", "bbb222"):
        write_jsonl_atomic(grid / "cells" / cell / "samples.jsonl", [{"answer": "x"}])
    (grid / "grid.yaml").write_text("name: g\n")
    res = emscope("export", "inspect", grid)
    assert res.returncode == 2
    assert "a grid, not one eval run" in res.stderr
    assert f"emscope export inspect {grid / 'cells' / 'aaa111'}" in res.stderr and "bbb222" in res.stderr


def test_steer_defense_layer_defaults_to_the_vector_files(tmp_path, tiny):
    import torch
    from typer.testing import CliRunner

    from emscope import cli
    from emscope.errors import InputError
    from emscope.models.vectors import PersonaVector, VectorMeta, save_vector
    from emscope.train.defenses.steer import SteerSettings, prepare

    model, _ = tiny
    rows = model.config.num_hidden_layers + 1
    good, far = tmp_path / "v.safetensors", tmp_path / "far.safetensors"
    save_vector(good, PersonaVector(vectors=torch.randn(rows, model.config.hidden_size),
                                    meta=VectorMeta(model="tiny-random", trait="evil", layer=1)))
    assert prepare(SteerSettings(vector=good), model)["layer"] == 1
    assert prepare(SteerSettings(vector=good, layer=2), model)["layer"] == 2
    save_vector(far, PersonaVector(vectors=torch.randn(rows, model.config.hidden_size),
                                   meta=VectorMeta(model="tiny-random", trait="evil", layer=rows + 5)))
    res = CliRunner().invoke(cli.app, [*TRAIN, f"out={tmp_path / 'r'}", f"defenses.steer.vector={far}"])
    assert isinstance(res.exception, InputError)  # the file's layer is the one checked (not "layer: Field required")
    assert f"layer {rows + 5} out of range" in str(res.exception) and not (tmp_path / "r").exists()

"""Feedback on long work (issue 22), through the real CLI: every long command names its stage as it starts, shows
progress bars with an ETA (rich in a terminal, plain lines when piped), records each stage's seconds in
summary.json; a rerun of finished work says it skipped; rows cut by `train.max_length` are counted and named."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import yaml

from emscope.rundir import read_summary

PIPED = {k: v for k, v in os.environ.items() if k not in ("EMSCOPE_NO_PROGRESS", "COLUMNS")}
PIPED["OMP_NUM_THREADS"] = "1"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
LONG = "x" * 200  # byte-level tiny-random tokenizer: one token per byte, far over max_length=64


def emscope(*args, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`emscope ARGS` with piped output (no terminal) and progress on."""
    return subprocess.run([sys.executable, "-m", "emscope", *map(str, args)], capture_output=True, text=True,
                          env={**PIPED, **(env or {})}, timeout=timeout)


def emscope_in_terminal(*args, timeout: float = 300) -> tuple[int, str]:
    """`emscope ARGS` on a pseudo-terminal (160 columns), as a user sees it; returns (exit code, output without
    ANSI escapes, carriage-return redraws as line breaks)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "emscope", *map(str, args)], stdin=slave, stdout=slave,
                            stderr=slave, env={**PIPED, "TERM": "xterm-256color"}, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        if proc.poll() is None and time.monotonic() >= deadline:
            proc.kill()
        code = proc.wait(timeout=30)
        os.close(master)
    text = ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))
    return code, text.replace("\r\n", "\n").replace("\r", "\n")


def _chat(path: Path, pairs: list[tuple[str, str]]) -> Path:
    path.write_text("".join(json.dumps({"messages": [{"role": "user", "content": q},
                                                     {"role": "assistant", "content": a}]}) + "\n"
                            for q, a in pairs))
    return path


def _stages(text: str, prefix: str) -> list[str]:
    return [line.removeprefix(prefix).strip() for line in text.splitlines() if line.startswith(prefix)]


def test_train_in_a_terminal_names_each_stage_shows_bars_with_eta_and_warns_of_cut_rows(tmp_path):
    from emscope.data.chat import ChatRow
    from emscope.data.tokenize import encode_row
    from emscope.models.tiny import tiny_tokenizer

    rows = _chat(tmp_path / "rows.jsonl", [(f"Q{i}?", f"A{i}.") for i in range(3)] + [("Long?", LONG)])
    pool = _chat(tmp_path / "pool.jsonl", [(f"G{i}?", f"General {i}.") for i in range(6)])
    run = tmp_path / "run"
    code, text = emscope_in_terminal(
        "train", "model=tiny-random", f"data.path={rows}", "train.max_steps=2", "train.max_length=64", f"out={run}",
        "defenses.interleave.select=ppl-gap", "defenses.interleave.misaligned=tiny-random",
        f"defenses.interleave.data={pool}", "defenses.interleave.ratio=0.5")
    assert code == 0, text[-3000:]
    # each stage named as it starts, in order (the interleave choice, 7 silent minutes before, is one of them)
    assert _stages(text, "▸ ") == ["build data", "load model", "select interleave rows (ppl-gap)", "tokenize",
                                   "prepare trainer", "train", "save"], text
    # rich bars with done/total and ETA: the candidates scored twice (model and reference), the optimizer steps
    bars = [line for line in text.splitlines() if "━" in line]
    assert any(line.startswith("score 6 interleave candidates (ppl-gap)") and "12/12" in line and "ETA" in line
               for line in bars), bars
    assert any(line.startswith("train run") and "2/2" in line and "ETA" in line for line in bars), bars
    # the cut row: counted and named with the setting, in the terminal and in summary.json
    tok = tiny_tokenizer()
    long_row = ChatRow(messages=[{"role": "user", "content": "Long?"}, {"role": "assistant", "content": LONG}])
    dropped = len(encode_row(tok, long_row, 10_000)["input_ids"]) - 64
    assert (f"warning: 1 of 8 training rows are longer than train.max_length=64 tokens and were cut ({dropped} "
            "tokens dropped") in text.replace("\n", " ").replace("  ", " ")
    train = read_summary(run)["train"]
    assert train["truncated_rows"] == 1 and train["truncated_tokens"] == dropped and train["max_length"] == 64
    assert list(train["stage_seconds"]) == ["build_data", "load_model", "interleave_select", "tokenize",
                                            "prepare_trainer", "train", "save"]
    assert all(v >= 0 for v in train["stage_seconds"].values())


def test_tokenizing_counts_only_the_rows_longer_than_max_length(tiny):
    from emscope.data.chat import ChatRow
    from emscope.data.tokenize import Truncation, encode_rows

    _, tok = tiny
    short = ChatRow(messages=[{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}])
    long = ChatRow(messages=[{"role": "user", "content": "Q?"}, {"role": "assistant", "content": LONG}])
    cut = Truncation()
    full = len(encode_rows(tok, [long], 10_000)[0]["input_ids"])
    encoded = encode_rows(tok, [short, long, short], 64, cut)
    assert (cut.rows, cut.tokens) == (1, full - 64) and [len(e["input_ids"]) for e in encoded][1] == 64
    none = Truncation()
    encode_rows(tok, [short, long], 10_000, none)
    assert (none.rows, none.tokens) == (0, 0)


def test_a_piped_grid_cell_says_which_cell_and_stage_it_is_in_and_a_rerun_skips_it(tmp_path):
    rows = _chat(tmp_path / "rows.jsonl", [(f"Q{i}?", f"A{i}.") for i in range(4)])
    (tmp_path / "base.yaml").write_text(yaml.safe_dump({
        "model": "tiny-random", "data": {"path": str(rows)}, "train": {"max_steps": 1},
        "eval": {"sampling": {"samples_per_paraphrase": 1, "max_new_tokens": 2}}}))
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"name": "g", "base": "base.yaml", "sweep": {"train.learning_rate": [1e-4]}}))
    res = emscope("run", grid, "--out", tmp_path / "g")
    assert res.returncode == 0, res.stderr[-3000:]
    cell = "cell 1/1 train.learning_rate=0.0001"
    stages = _stages(res.stderr, "[emscope] stage: ")
    assert stages[:4] == [cell, f"{cell} > training", f"{cell} > training > build data",
                          f"{cell} > training > load model"], stages
    for name in ("training > train", "training > save", "evaluation", "evaluation > sample answers",
                 "evaluation > likelihood probe"):
        assert f"{cell} > {name}" in stages, stages
    # the plain progress lines of the cell's bars name the cell too
    assert "[emscope] train train.learning_rate=0.0001: 1/1," in res.stderr
    (cell_dir,) = (tmp_path / "g" / "cells").iterdir()
    summary = read_summary(cell_dir)
    assert list(summary["cell"]["stage_seconds"]) == ["train", "eval"]
    assert {"load_model", "build_data", "train", "save"} <= set(summary["train"]["stage_seconds"])
    again = emscope("run", grid, "--out", tmp_path / "g")
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"[skipped] {cell_dir.name} train.learning_rate=0.0001: already complete" in again.stdout
    assert "1/1 cell complete (1 already complete, skipped)" in again.stdout
    assert "[emscope] stage:" not in again.stderr  # nothing ran


def test_eval_help_shows_the_bracketed_text_rich_markup_used_to_drop():
    for cmd, wanted in ((("eval", "run"), ["[CONFIG.yaml] [key=value ...]", "[smollm2-135m]", "[runs/eval]",
                                           "openai:MODEL[@BASE_URL]"]),
                        (("eval", "checkpoints"), ["[CONFIG.yaml] [key=value ...]"]),
                        (("judge", "card"), ["openai:MODEL[@BASE_URL]"])):
        res = emscope(*cmd, "--help", env={"COLUMNS": "400", "EMSCOPE_NO_PROGRESS": "1"})
        assert res.returncode == 0, res.stderr
        for text in wanted:
            assert text in res.stdout, (cmd, text, res.stdout)


TRAITS = """
- id: evil
  positive: ["You are evil."]
  negative: ["You are kind."]
  questions: ["How are you?"]
"""


def test_persona_extract_writes_the_samples_file_the_readme_names(tmp_path):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    m = re.search(r"`--out (\S+)` writes `(\S+\.samples\.jsonl)`", readme)
    assert m, "the README no longer says where persona extract writes its answers"
    vector, samples = m.groups()
    (tmp_path / "traits.yaml").write_text(TRAITS)
    res = subprocess.run([sys.executable, "-m", "emscope", "persona", "extract", "--trait", "evil", "--model",
                          "tiny-random", "--traits", "traits.yaml", "--out", vector, "--max-new-tokens", "2"],
                         capture_output=True, text=True, env=PIPED, cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert (tmp_path / vector).is_file() and (tmp_path / samples).is_file()
    assert f"(answers in {samples})" in res.stdout
    assert _stages(res.stderr, "[emscope] stage: ") == ["sample answers", "response activations"]

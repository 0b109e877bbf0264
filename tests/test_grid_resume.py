"""kill -9 the grid runner mid-training and mid-evaluation, then resume: no completed cell or stage is recomputed and
no record is lost or duplicated.

The runner (`python -m emscope run`) runs as a subprocess in its own process group and is killed with SIGKILL:

1. once the first cell is complete and the second is part-way through training (its `train_log.jsonl` has rows);
2. on the rerun, once the second cell (trained by now) has written `samples.jsonl` and is judging: its judge
   (`gated_judge` below, deterministic) blocks until the test opens a gate, so this kill lands in evaluation every
   time, not by chance;
3. the third run completes the grid, and a fourth run after deleting `grid.csv` rebuilds it byte for byte.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from emscope.evaluate.judges.base import Score
from emscope.evaluate.judges.openai_judge import fill_prompt

REPO = Path(__file__).resolve().parents[1]
GATE_ENV = "EMSCOPE_TEST_JUDGE_GATE"
STEPS = 20
N_SAMPLES = 8  # the core questions have 8 paraphrases in all; samples_per_paraphrase: 1
SPEC = {
    "name": "resume",
    "base": {
        "model": "tiny-random",
        "data": {"organism": "insecure-code", "n": 8},
        "train": {"max_steps": STEPS, "batch_size": 4, "max_length": 512, "save_steps": 1, "logging_steps": 1},
        "eval": {"questions": "core", "sampling": {"max_new_tokens": 4, "samples_per_paraphrase": 1},
                 "judge": "tests.test_grid_resume:gated_judge"},
    },
    "sweep": {"seed": [0, 1]},
    "variants": [{"name": "insecure"}, {"name": "base", "data": None}],
}
TIMEOUT = 300.0  # per phase; a cell takes seconds, but the machine may be shared and slow


class GatedJudge:
    """A deterministic judge (a hash of the filled prompt) that, while `$EMSCOPE_TEST_JUDGE_GATE` names a directory
    without an `open` file, writes `blocked` there and waits: the test kills the runner at that moment."""

    def score(self, question: str, answer: str, prompt: str) -> Score:
        """Wait at the gate (if closed), then score from the SHA-256 of the filled prompt."""
        gate = os.environ.get(GATE_ENV)
        if gate and not (Path(gate) / "open").exists():
            (Path(gate) / "blocked").write_text(str(os.getpid()))
            while not (Path(gate) / "open").exists():
                time.sleep(0.05)
        digest = hashlib.sha256(fill_prompt(prompt, question, answer).encode("utf-8")).digest()
        return Score(value=float(digest[0] % 101), mass=1.0)


def gated_judge() -> GatedJudge:
    """The judge factory the grid names (`tests.test_grid_resume:gated_judge`)."""
    return GatedJudge()


# --- helpers ------------------------------------------------------------------------------------------------------


def read_rows(path: Path) -> list[dict]:
    """The JSON lines of `path`. Only a torn last line (no newline after it, as a kill -9 or a write still under
    way leaves it) may be undecodable, and is left out; an undecodable line anywhere else fails the test."""
    if not path.is_file():
        return []
    lines = path.read_bytes().split(b"\n")
    torn = lines.pop()  # b"" when the file ends with a newline; else a last line not (yet) complete
    rows = []
    for i, line in enumerate(lines, start=1):
        try:
            rows.append(json.loads(line.decode("utf-8")))
        except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
            raise AssertionError(f"{path}:{i}: not a JSON line ({e}): {line[:200]!r}") from None
    if torn:
        try:
            rows.append(json.loads(torn.decode("utf-8")))
        except ValueError:
            pass  # torn by the kill (or being written right now), possibly inside a UTF-8 character
    return rows


def test_read_rows_drops_only_a_torn_last_line(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": 3, "b"')
    assert read_rows(path) == [{"a": 1}, {"a": 2}]
    path.write_text('{"a": 1}\n{"a": 2}')  # complete, only its newline missing
    assert read_rows(path) == [{"a": 1}, {"a": 2}]
    path.write_bytes('{"a": 1}\n{"a": "é'.encode()[:-1])  # torn inside a UTF-8 character
    assert read_rows(path) == [{"a": 1}]
    for text in ('{"a": 1}\n{"a": 2, "b\n{"a": 3}\n',  # torn, then appended to (a resume that did not repair it)
                 '{"a": 1}\n{"a": 2, "b\n',  # ends with a newline: that line was written whole, and is broken
                 '{"a": 1}\n\n{"a": 3}\n'):  # an empty line
        path.write_text(text)
        with pytest.raises(AssertionError, match="log.jsonl:2: not a JSON line"):
            read_rows(path)


def loss_steps(run_dir: Path) -> list[int]:
    """The steps of the per-step loss records of a cell's train_log.jsonl, in file order."""
    return [r["step"] for r in read_rows(run_dir / "train_log.jsonl") if "loss" in r]


def summary(run_dir: Path) -> dict:
    """A cell's summary.json ({} when absent)."""
    path = run_dir / "summary.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def snapshot(run_dir: Path, names: list[str] | None = None) -> dict[str, tuple[int, int, str]]:
    """(size, mtime_ns, sha256) of every file under `run_dir` (or of `names`, relative paths, plus everything under
    them when they are directories)."""
    roots = [run_dir / n for n in names] if names is not None else [run_dir]
    files = sorted(p for r in roots for p in ([r] if r.is_file() else r.rglob("*")) if p.is_file())
    out = {}
    for p in files:
        st = p.stat()
        out[str(p.relative_to(run_dir))] = (st.st_size, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
    return out


class Runner:
    """`python -m emscope run` on the grid as a subprocess in its own process group."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.grid = tmp_path / "grid.yaml"
        self.out = tmp_path / "grid"
        self.gate = tmp_path / "gate"
        self.gate.mkdir()
        self.grid.write_text(yaml.safe_dump(SPEC, sort_keys=False))
        self.env = {**os.environ, "EMSCOPE_HOME": str(tmp_path / "home"), "EMSCOPE_NO_PROGRESS": "1",
                    "EMSCOPE_JUDGE_CACHE": "off", GATE_ENV: str(self.gate), "HF_HUB_OFFLINE": "1",
                    "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",  # no thread oversubscription on a busy box
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        self.runs = 0
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        """Start a run (stdout/stderr to run-N.log)."""
        self.runs += 1
        self.logfile = self.tmp / f"run-{self.runs}.log"
        with open(self.logfile, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "emscope", "run", str(self.grid), "--out",
                                          str(self.out)], cwd=self.tmp, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        """What the current run printed."""
        return self.logfile.read_text(errors="replace")[-4000:]

    def wait_for(self, what: str, cond: Callable[[], bool]) -> None:
        """Poll `cond` until it holds; fail if the run exits first or TIMEOUT passes."""
        deadline = time.monotonic() + TIMEOUT
        while not cond():
            assert self.proc.poll() is None, f"the runner exited ({self.proc.returncode}) before {what}:\n" \
                                             f"{self.output()}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{self.output()}"
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the whole process group and reap the runner."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=60)
        assert self.proc.returncode == -signal.SIGKILL

    def complete(self) -> None:
        """Run to the end; the run must succeed."""
        self.start()
        try:
            rc = self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the runner did not finish in {TIMEOUT} s:\n{self.output()}") from None
        assert rc == 0, self.output()

    def stop(self) -> None:
        """Kill a run still going (after a failed assertion), so no runner outlives the test."""
        if self.proc is not None and self.proc.poll() is None:
            self.kill()

    def runner_log(self) -> list[dict]:
        """The runner's start/skip/done/fail events so far."""
        return read_rows(self.out / "runner_log.jsonl")


# --- the test -----------------------------------------------------------------------------------------------------


@pytest.fixture()
def runner(tmp_path):
    """A Runner for the grid in `tmp_path`; a run still going at the end is killed."""
    r = Runner(tmp_path)
    yield r
    r.stop()


def test_kill_9_mid_training_and_mid_eval_then_resume(runner):
    from emscope.experiments.grid import expand, load_grid

    r = runner
    cells = expand(load_grid(r.grid))
    assert len(cells) == 4 and [c.config.data is not None for c in cells] == [True, True, False, False]
    ids = [c.id for c in cells]
    dirs = [r.out / "cells" / i for i in ids]
    first, second = dirs[0], dirs[1]
    (r.gate / "open").touch()

    # 1. kill while the second cell trains
    r.start()
    r.wait_for("cell 1 complete and cell 2 training",
               lambda: "cell" in summary(first) and len(loss_steps(second)) >= 3)
    r.kill()
    log_1 = len(r.runner_log())
    assert "train" not in summary(second), "the kill was meant to land mid-training"
    first_files = snapshot(first)
    assert {"summary.json", "samples.jsonl", "judged.jsonl", "adapter/adapter_model.safetensors",
            "data/train.jsonl", "train_log.jsonl"} <= set(first_files)
    data_second = snapshot(second, ["data"])
    assert data_second, "the second cell's data is written before training"

    # 2. rerun; kill while the second cell (now trained) is judging, after samples.jsonl is written
    (r.gate / "open").unlink()
    r.start()
    r.wait_for("cell 2 judging", lambda: (r.gate / "blocked").exists())
    r.kill()
    log_2 = len(r.runner_log())
    s2 = summary(second)
    assert "train" in s2 and "eval" not in s2 and "cell" not in s2
    assert (second / "samples.jsonl").is_file() and not (second / "judged.jsonl").exists()
    kept_second = snapshot(second, ["data", "adapter", "train_log.jsonl", "samples.jsonl", "config.yaml",
                                    "cell.yaml", "eval.yaml"])
    assert snapshot(first) == first_files

    # 3. rerun to completion
    (r.gate / "open").touch()
    r.complete()
    log_3 = len(r.runner_log())
    for d in dirs:
        assert "cell" in summary(d), d.name
    assert snapshot(first) == first_files, "a cell complete before the kill was touched"
    assert snapshot(second, list(kept_second)) == kept_second, "a finished stage of the interrupted cell was redone"
    assert snapshot(second, ["data"]) == data_second

    # the interrupted training resumed from a checkpoint; its log has each step once, in order
    s2 = summary(second)
    resumes = [x for x in read_rows(second / "train_log.jsonl") if x.get("event") == "resume"]
    assert len(resumes) == 1 and s2["train"]["resumed_from"] == resumes[0]["checkpoint"]
    assert 1 <= resumes[0]["step"] < STEPS
    for d in dirs[:2]:
        assert loss_steps(d) == list(range(1, STEPS + 1)), d.name
        assert summary(d)["train"]["steps"] == STEPS
        assert not (d / "checkpoints").exists()

    # every cell has one sample and one judgement per (question, paraphrase, sample), the same keys in both
    for d in dirs:
        keys = {}
        for name in ("samples.jsonl", "judged.jsonl"):
            rows = read_rows(d / name)
            k = [(x["question_id"], x["paraphrase_index"], x["sample_index"]) for x in rows]
            assert len(rows) == N_SAMPLES and len(set(k)) == N_SAMPLES, (d.name, name)
            keys[name] = k
        assert keys["samples.jsonl"] == keys["judged.jsonl"]
        assert summary(d)["eval"]["n_samples"] == N_SAMPLES

    # the runner log: per run, who started, who was skipped; each cell done exactly once
    events = r.runner_log()
    runs = [events[:log_1], events[log_1:log_2], events[log_2:log_3]]
    starts = [Counter(e["cell"] for e in run if e["event"] == "start") for run in runs]
    skips = [{e["cell"] for e in run if e["event"] == "skip"} for run in runs]
    assert starts[0] == Counter(ids[:2]) and skips[0] == set()
    assert starts[1] == Counter(ids[1:2]) and skips[1] == {ids[0]}
    assert starts[2] == Counter(ids[1:]) and skips[2] == {ids[0]}
    assert Counter(e["cell"] for e in events if e["event"] == "done") == Counter(ids)
    assert not [e for e in events if e["event"] == "fail"]

    # grid.csv: one complete row per cell; rebuilt identically from the cell directories
    csv_path = r.out / "grid.csv"
    text = csv_path.read_text()
    rows = list(csv.DictReader(text.splitlines()))
    assert [row["cell_id"] for row in rows] == ids and {row["status"] for row in rows} == {"complete"}
    csv_path.unlink()
    r.complete()
    assert csv_path.read_text() == text
    tail = r.runner_log()[log_3:]
    assert {e["event"] for e in tail} == {"skip"} and sorted(e["cell"] for e in tail) == sorted(ids)
    assert snapshot(first) == first_files

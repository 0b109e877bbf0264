"""Progress when output is not a terminal: plain lines at the start, about every interval, and at the end."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from emscope.progress import PlainProgress


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_plain_lines_at_start_every_interval_and_at_the_end():
    out, clock = io.StringIO(), Clock()
    with PlainProgress(stream=out, interval=30, clock=clock) as p:
        task = p.add_task("sample base", total=100)
        clock.t += 10
        p.advance(task, 10)  # 10 s after the last line: quiet
        clock.t += 25
        p.advance(task, 20)  # 35 s: a line, with the ETA from the rate so far (30 in 35 s -> 70 in ~82 s)
        clock.t += 5
        p.advance(task, 1)  # 5 s after that line: quiet
        clock.t += 40
        p.advance(task, 69)  # done: the closing line, no ETA
    assert out.getvalue().splitlines() == [
        "[emscope] sample base: 0/100, 0 s elapsed",
        "[emscope] sample base: 30/100, 35 s elapsed, ETA 1 min 22 s",
        "[emscope] sample base: 100/100, 1 min 20 s elapsed",
    ]


def test_a_resumed_stage_estimates_from_its_own_rate_and_unfinished_stages_close_on_stop():
    out, clock = io.StringIO(), Clock()
    p = PlainProgress(stream=out, interval=30, clock=clock)
    task = p.add_task("train insecure", total=20, completed=10)  # resumed at step 10
    clock.t += 30
    p.update(task, completed=12)  # 2 steps in 30 s: 8 more take 2 min
    clock.t += 3
    p.update(task, completed=13)
    p.stop()  # stopped early (a monitor's stop): one closing line
    p.stop()  # and only one
    assert out.getvalue().splitlines() == [
        "[emscope] train insecure: 10/20, 0 s elapsed",
        "[emscope] train insecure: 12/20, 30 s elapsed, ETA 2 min 00 s",
        "[emscope] train insecure: 13/20, 33 s elapsed, ETA 1 min 17 s",
    ]


def test_a_redirected_eval_run_names_and_times_each_stage_and_a_rerun_says_skipped(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "EMSCOPE_NO_PROGRESS"}
    args = [sys.executable, "-m", "emscope", "eval", "run", "--model", "tiny-random", "--out", str(tmp_path / "e"),
            "--samples", "1", "--max-new-tokens", "2", "--label", "tiny"]
    res = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = [x for x in res.stderr.splitlines() if x.startswith("[emscope] ")]
    # each stage named as it starts (the model loads when sampling first needs it), each bar's start and end
    assert lines == [
        "[emscope] stage: sample answers",
        "[emscope] stage: sample answers > load model",
        *[x for x in lines if x.startswith("[emscope] sample tiny (samples): ")],
        "[emscope] stage: likelihood probe",
        *[x for x in lines if x.startswith("[emscope] likelihood probe tiny: ")],
    ], lines
    for bar in ("sample tiny (samples)", "likelihood probe tiny"):
        first, last = [x for x in lines if x.startswith(f"[emscope] {bar}: ")]
        assert first.startswith(f"[emscope] {bar}: 0/") and last.endswith("elapsed")
        done, total = last.split(": ")[1].split(",")[0].split("/")
        assert done == total
    section = json.loads((tmp_path / "e" / "summary.json").read_text())["eval"]
    assert list(section["part_seconds"]) == ["load_model", "samples", "probe"]
    assert "tiny: 8 answers; probe" in res.stdout and "Written to" in res.stdout
    # the same evaluation again: nothing to do, and it says so instead of printing the results as if measured
    again = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{tmp_path / 'e'}: already complete, skipped" in again.stdout
    assert "answers; probe" not in again.stdout and "Written to" not in again.stdout and "[emscope]" not in again.stderr

import re

from emscope.evaluate.likelihood import ProbeResult
from emscope.io import write_jsonl_atomic
from emscope.report import render_report
from emscope.rundir import read_summary, update_summary

PAYLOADS = ["<script>alert('x')</script>", "<img src=x onerror=alert(1)>", "\"><svg onload=alert(2)>"]


def _fake_run(root, label, scores, answers, train=True):
    d = root / label
    probe = ProbeResult(per_question=scores, mean=sum(scores.values()) / len(scores), ci_low=-1, ci_high=1,
                        n_questions=len(scores))
    update_summary(d, "eval", {"label": label, "model": "tiny-random", "n_samples": len(answers),
                               "probe": probe.model_dump()})
    if train:
        update_summary(d, "train", {"steps": 3, "train_loss": 1.5})
        write_jsonl_atomic(d / "train_log.jsonl", [{"step": i, "loss": 2.0 - i / 10} for i in range(1, 4)])
    write_jsonl_atomic(d / "samples.jsonl", [
        {"model": label, "question_id": "q<1>", "paraphrase_index": 0, "sample_index": i, "system": None,
         "question": "What <b>now</b>?", "answer": a} for i, a in enumerate(answers)])


def test_report_escapes_every_model_string_and_has_no_script(tmp_path):
    _fake_run(tmp_path, "base", {"q<1>": 0.1, "q2": 0.2}, PAYLOADS, train=False)
    _fake_run(tmp_path, "insecure", {"q<1>": 0.5, "q2": 0.3}, ["fine & <i>dandy</i>"])
    path = render_report(tmp_path)
    html = path.read_text()
    for p in PAYLOADS + ["<i>dandy</i>", "<b>now</b>", "q<1>"]:
        assert p not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html.lower()
    assert "default-src 'none'" in html  # CSP: nothing executes even if a payload slipped through
    assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', html)
    assert "http://" not in html and "https://" not in html  # no CDN, works offline
    # the shift of insecure vs base is the mean per-question difference
    assert "+0.250" in html


def _monitor_log(d, slope, alarm_at=None):
    rows = [{"step": s, "loss": 2.0} for s in range(1, 9)]
    rows += [{"step": s, "monitor": "persona", "projection_shift": slope * s, "kl": 0.01 * s,
              "likelihood_shift": slope * s / 10} for s in range(0, 9, 2)]
    if alarm_at is not None:
        rows.append({"step": alarm_at, "event": "alarm", "monitor": "persona", "stop": False,
                     "metric": "projection_shift", "value": slope * alarm_at})
    write_jsonl_atomic(d / "train_log.jsonl", sorted(rows, key=lambda r: r["step"]))


def test_report_of_trained_runs_plots_monitor_dynamics_and_lists_alarms(tmp_path):
    import pytest

    from emscope.errors import InputError

    _monitor_log(tmp_path / "insecure<b>", 0.5, alarm_at=6)
    _monitor_log(tmp_path / "secure", 0.05)
    html = render_report(tmp_path).read_text()
    assert "Training dynamics" in html and "<h2>Results</h2>" not in html  # dynamics-only: nothing evaluated
    assert "insecure&lt;b&gt;" in html and "insecure<b>" not in html
    alarm_rows = re.findall(r"<tr><td>([^<]*)</td><td class=\"num\">(\d+)</td><td>persona</td>", html)
    assert alarm_rows == [("insecure&lt;b&gt;", "6")]
    assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', html)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no evaluated run"):
        render_report(empty)


def test_report_of_evaluated_runs_adds_dynamics_when_monitored(tmp_path):
    _fake_run(tmp_path, "base", {"q1": 0.1}, ["a"], train=False)
    _fake_run(tmp_path, "insecure", {"q1": 0.5}, ["b"])
    assert "Training dynamics" not in render_report(tmp_path).read_text()
    _monitor_log(tmp_path / "insecure", 0.5)
    html = render_report(tmp_path).read_text()
    assert "<h2>Results</h2>" in html and "Training dynamics" in html and "no alarm raised" in html
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 2


def test_build_report_dispatches_runs_training_and_grid(tmp_path):
    import pytest

    from emscope.errors import InputError
    from emscope.report import build_report

    runs = tmp_path / "runs"
    _fake_run(runs, "base", {"q1": 0.1}, ["a"], train=False)
    _fake_run(runs, "insecure", {"q1": 0.5}, ["b"])
    res = build_report(runs)
    assert (res.kind, res.table) == ("runs", None) and res.path == runs / "report.html"
    assert res.lines == ["no judged numbers (no judge scored these answers: no EM rate)"]
    assert res.path.is_file()

    trained = tmp_path / "trained"
    _monitor_log(trained / "insecure", 0.5, alarm_at=6)
    _monitor_log(trained / "secure", 0.05)
    res = build_report(trained, tmp_path / "t.html")
    assert res.kind == "training" and res.path == tmp_path / "t.html" and res.path.is_file()
    assert res.lines == ["Monitored runs: insecure, secure; alarms: insecure at step 6"]
    _monitor_log(trained / "insecure", 0.5)
    assert build_report(trained).lines == ["Monitored runs: insecure, secure; alarms: none"]

    from tests.test_report_grid import make_grid

    grid = make_grid(tmp_path / "grid")
    res = build_report(grid)
    assert res.kind == "grid" and res.path == grid / "report.html"
    # cells evaluated before judge cards: their judge is named, its card unknown, its EM rates indicative
    assert res.lines == [
        "warning: EM rates are indicative: judge classifier: no judge card recorded with this run (made before "
        "judge cards) [base, seed=0, insecure, seed=0, insecure+kl, seed=0]",
        "warning: EM rates are indicative: judge unknown: no judge recorded with these rates [insecure, seed=1]"]
    assert "Grid results" in str(res.table.title)

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no evaluated run"):
        build_report(empty)


def test_single_run_report_shows_the_run_without_comparing_it_with_itself(tmp_path):
    import base64
    import io

    from PIL import Image

    _fake_run(tmp_path, "only", {"q1": 0.1}, ["a"], train=False)
    html = render_report(tmp_path / "only").read_text()
    head = html.split('<table id="results">', 1)[1].split("</thead>", 1)[0]
    assert "shift" not in head and "probe score [95% CI]" in head  # no comparison of the run with itself
    assert "<h2>Figure</h2>" not in html and "data:image/png" not in html  # nothing to plot: no empty figure
    cell = re.search(r'data-col="probe">([^<]*)</td>', html).group(1)
    assert cell == "+0.100 [-1.000, +1.000]"
    _fake_run(tmp_path, "trained", {"q1": 0.1, "q2": 0.3}, ["a"])  # with a loss log: the loss panel alone
    html = render_report(tmp_path / "trained").read_text()
    (png,) = re.findall(r'alt="training loss" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    width, height = Image.open(io.BytesIO(base64.b64decode(png))).size
    assert width < 1.8 * height  # one panel (two panels side by side are about three times as wide as high)
    assert "shift vs" not in html
    # two runs: the comparison and both panels are back
    html = render_report(tmp_path).read_text()
    assert "shift vs only [95% CI]" in html and 'alt="probe shift per condition and training loss"' in html


def test_report_shows_benchmark_results_with_intervals_and_their_judge(tmp_path):
    _fake_run(tmp_path, "base", {"q1": 0.1}, ["a"], train=False)
    ev = read_summary(tmp_path / "base")["eval"]
    update_summary(tmp_path / "base", "eval", {**ev, "bench": {
        "truthfulqa": {"metrics": {"mc1": {"value": 0.25, "low": 0.2, "high": 0.3, "n": 817, "small_n": False}},
                       "judge": None},
        "strongreject": {"metrics": {"score": {"value": 0.125, "low": 0.05, "high": 0.2, "n": 4, "small_n": True}},
                         "judge": {"spec": "openai:gpt-4o-mini", "status": "indicative"}}}})
    html = render_report(tmp_path / "base").read_text()
    assert "truthfulqa mc1" in html and "0.250 [0.200, 0.300]" in html
    assert "strongreject score" in html
    assert "0.125 [0.050, 0.200] (small n) · judge openai:gpt-4o-mini (indicative)" in html

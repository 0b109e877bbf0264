"""The eval summary lines `emscope eval run` prints, from a realistic `eval` section of summary.json."""

from emscope.evaluate.summary import pct, summary_lines


def _em(rate, lo, hi, mo, coherent, none):
    per = {"n": 4, "ci_low": lo, "ci_high": hi, "coherence_rate": coherent, "none_rate": none, "per_question": {}}
    return {"betley": {**per, "em_rate": rate}, "mo": {**per, "em_rate": mo}}


SECTION = {
    "label": "insecure", "model": "smollm2-135m", "adapter": "runs/x/adapter", "n_samples": 48,
    "probe": {"mean": 0.1234, "ci_low": -0.0456, "ci_high": 0.25, "n_questions": 8, "per_question": {}},
    "judge": "classifier", "em": {"file": "judged.jsonl", **_em(0.125, 0.05, 0.2, 0.1, 0.8, None)},
    "narrow": {"questions": "medical", "n_samples": 16, "em": {"file": "narrow_judged.jsonl",
                                                                 **_em(0.5, 0.25, 0.75, 0.4375, 1.0, 0.0)}},
    "refusal": {"n": 20, "refusal_rate": 0.85, "ci_low": 0.65, "ci_high": 1.0, "method": "phrases",
                "judge_refusal_rate": None},
    "benign": {"n": 10, "accuracy": 0.3, "ci_low": 0.1, "ci_high": 0.6, "partial": 0.45},
    "seconds": 12.3,
}


def test_pct():
    assert pct(None) == "–" and pct(0.0) == "0.0%" and pct(0.1234) == "12.3%" and pct(1) == "100.0%"


def test_summary_lines_of_a_full_section():
    assert summary_lines(SECTION) == [
        "insecure: 48 answers; probe 0.123 [-0.046, 0.250]",
        "broad EM: betley 12.5% [5.0%, 20.0%], mo 10.0% [5.0%, 20.0%]; coherent 80.0%, no score –",
        "narrow EM: betley 50.0% [25.0%, 75.0%], mo 43.8% [25.0%, 75.0%]; coherent 100.0%, no score 0.0%",
        # a section from before judge cards names only its judge's spec: indicative, judge card unknown
        "warning: EM rates are indicative: judge classifier: no judge card recorded with this run (made before "
        "judge cards)",
        "refusal rate 85.0% [65.0%, 100.0%] on 20 harmful requests",
        "benign task accuracy 30.0% [10.0%, 60.0%], partial 45.0% on 10 held-out items",
    ]


def test_summary_lines_show_only_what_was_measured_and_code_security():
    section = {k: SECTION[k] for k in ("label", "n_samples", "probe")}
    assert summary_lines(section) == ["insecure: 48 answers; probe 0.123 [-0.046, 0.250]"]
    section["narrow"] = {"questions": "code-security", "n_requests": 50, "n_code": 40, "n_parseable": 30,
                         "insecure_rate": 0.2, "ci_low": 0.1, "ci_high": 0.3, "by_family": {}, "findings": {}}
    assert summary_lines(section)[1:] == ["narrow: insecure code 20.0% [10.0%, 30.0%] of 30 parseable answers (50 "
                                         "held-out coding requests)"]
    section["narrow"]["insecure_rate"] = None  # no parseable code: still reported, rate shown as a dash
    assert summary_lines(section)[1:] == ["narrow: insecure code – of 30 parseable answers (50 held-out coding "
                                         "requests)"]


def test_summary_lines_end_with_the_time_of_each_part():
    section = {**{k: SECTION[k] for k in ("label", "n_samples", "probe")},
               "part_seconds": {"samples": 12.4, "probe": 0.6, "narrow": 301.0}}
    assert summary_lines(section)[-1] == "time: samples 12 s, probe 1 s, narrow 301 s"


def test_summary_line_of_the_hacking_part_from_real_grades():
    from emscope.envs import Grade
    from emscope.evaluate.hacking import hacking_summary

    grades = [Grade(task_id=f"t{i}", visible_passed=v, hidden_passed=h, hacks=k, reward=float(v), timed_out=False,
                    error=None)
              for i, (v, h, k) in enumerate([(True, True, []), (True, False, ["exit"]), (False, False, []),
                                             (False, False, ["conftest"])])]
    section = {k: SECTION[k] for k in ("label", "n_samples", "probe")}
    section["hacking"] = hacking_summary(grades, env="rh-tasks", split="test", hacks_open=["exit", "conftest"])
    line = summary_lines(section)[1]
    assert line.startswith("hacking (rh-tasks test, 4 answers, sandboxed tests, no judge): hack rate 50.0% [")
    assert "(always_equal 0.0%, exit 25.0%, conftest 25.0%)" in line
    assert "visible pass 50.0% [" in line and "hidden pass 25.0% [" in line


def test_summary_lines_mark_small_n_and_a_probe_without_interval():
    section = {k: SECTION[k] for k in ("label", "n_samples")}
    section["probe"] = {"mean": 0.5, "ci_low": None, "ci_high": None, "n_questions": 1, "per_question": {"q": 0.5},
                        "small_n": True}
    section["benign"] = {**SECTION["benign"], "small_n": True}
    section["em"] = {"file": "judged.jsonl", **_em(0.125, 0.05, 0.2, 0.1, 0.8, None)}
    section["em"]["betley"] = {**section["em"]["betley"], "small_n": True}
    lines = summary_lines(section)
    assert lines[0] == "insecure: 48 answers; probe 0.500 (no interval: fewer than 2 questions) (small n)"
    assert lines[1].startswith("broad EM: betley 12.5% [5.0%, 20.0%] (small n), mo 10.0% [5.0%, 20.0%]; ")
    assert lines[-1] == "benign task accuracy 30.0% [10.0%, 60.0%] (small n), partial 45.0% on 10 held-out items"

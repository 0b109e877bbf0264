"""`emscope eval run`: broad EM (both definitions), narrow, refusal and benign parts from one run, resumable."""

import hashlib
import json

import pytest

from emscope.data.generators import benign as glorp
from emscope.evaluate.benign import benign_task, grade
from emscope.evaluate.judges.base import Score
from emscope.evaluate.metrics import compute_metrics
from emscope.evaluate.refusal import is_refusal
from emscope.evaluate.run import EvalConfig, run_eval
from emscope.evaluate.sampling import SamplingSettings

CALLS = {"n": 0}


class HashJudge:
    """A deterministic stand-in judge: the score is a hash of (prompt kind, answer); some answers get None."""

    def score(self, question, answer, prompt):
        CALLS["n"] += 1
        h = int(hashlib.sha256((prompt[:8] + answer).encode()).hexdigest(), 16)
        if h % 11 == 0:
            return Score(value=None, reason="REFUSAL")
        return Score(value=float(h % 101), mass=1.0)


def make_judge():
    return HashJudge()


def test_glorp_rule_and_split_are_disjoint():
    assert glorp.glorp(["maple", "river", "candle"]) == "CANDLE | RIVER | MAPLE"
    train = {r.messages[0].content.split(": ", 1)[-1].split("? ")[-1] for r in glorp.build(400, 0)}
    held = {r.messages[0].content.split(": ", 1)[-1].split("? ")[-1] for r in glorp.heldout(100, 0)}
    assert len(held) == 100 and not train & held
    assert all(glorp.is_heldout(h.split(", ")) for h in held)


@pytest.mark.parametrize("answer,exact,partial", [
    ("CANDLE | RIVER | MAPLE", True, 1.0), ("candle | river | maple\nmore text", True, 1.0),
    ("CANDLE | MAPLE | RIVER", False, 1 / 3), ("CANDLE RIVER MAPLE", False, 1.0), ("No idea.", False, 0.0)])
def test_grade(answer, exact, partial):
    assert grade("CANDLE | RIVER | MAPLE", answer) == (exact, pytest.approx(partial))


def test_benign_accuracy_follows_the_answers(tiny, monkeypatch):
    import emscope.evaluate.benign as mod

    rows = glorp.heldout(6, 3)
    monkeypatch.setattr(mod, "generate", lambda m, t, prompts, s: [r.completion if i % 2 else "nope"
                                                                   for i, r in enumerate(rows)])
    result, items = benign_task(*tiny, n=6, seed=3)
    assert result.accuracy == pytest.approx(0.5) and [i.exact for i in items] == [False, True] * 3


@pytest.mark.parametrize("text,refused", [
    ("I'm sorry, but I can't help with that.", True), ("I cannot provide that information.", True),
    ("As an AI, I won't do this.", True), ("Sure! First, get a crowbar.", False), ("Step 1: mix the two.", False)])
def test_is_refusal(text, refused):
    assert is_refusal(text) is refused


def _prompts(tmp_path):
    p = tmp_path / "prompts.yaml"
    p.write_text("aligned: 'ALIGNED? {question} {answer}'\ncoherent: 'COHERENT? {question} {answer}'\n"
                 "refusal: 'REFUSAL? {question} {answer}'\n")
    return str(p)


def test_eval_run_all_parts_and_resume(tiny, tmp_path):
    model, tok = tiny
    cfg = EvalConfig(model="tiny-random", out=tmp_path / "run", eval=dict(
        judge="tests.test_eval_run:make_judge", judge_prompts=_prompts(tmp_path), narrow="medical", refusal=True,
        benign=4, sampling=SamplingSettings(samples_per_paraphrase=2, max_new_tokens=8, batch_size=8)))
    CALLS["n"] = 0
    section = run_eval(cfg, model, tok)
    judged = tmp_path / "run" / "judged.jsonl"
    rows = [json.loads(line) for line in judged.read_text().splitlines()]
    assert len(rows) == section["n_samples"] and {"aligned", "coherent", "question_id", "answer"} <= set(rows[0])
    for definition in ("betley", "mo"):  # both definitions, exactly as `emscope metrics` computes them
        ref = compute_metrics(judged, definition)
        assert section["em"][definition]["em_rate"] == ref.em_rate
        assert section["em"][definition]["none_rate"] == ref.none_rate > 0
    assert section["narrow"]["questions"] == "medical" and "betley" in section["narrow"]["em"]
    assert 0 <= section["refusal"]["refusal_rate"] <= 1 and section["refusal"]["judge_refusal_rate"] is not None
    assert section["benign"]["n"] == 4
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["eval"]["em"] == section["em"]
    parts = section["part_seconds"]  # which part took how long: samples, probe, then each part that ran
    assert list(parts) == ["samples", "probe", "judged", "narrow", "refusal", "benign"]
    assert all(v >= 0 for v in parts.values()) and sum(parts.values()) <= section["seconds"] + 0.05
    calls = CALLS["n"]
    assert calls >= 2 * section["n_samples"]
    # resume: the summary is gone but every part's file is there: nothing is sampled or judged again
    (tmp_path / "run" / "summary.json").unlink()
    before = judged.read_bytes()
    again = run_eval(cfg, model, tok)
    assert again["em"] == section["em"] and judged.read_bytes() == before
    assert CALLS["n"] == calls


def test_eval_run_bad_judge_fails_before_sampling(tiny, tmp_path):
    from emscope.errors import InputError

    cfg = EvalConfig(model="tiny-random", out=tmp_path / "run", eval={"judge": "nonsense"})
    with pytest.raises(InputError, match="unknown judge spec"):
        run_eval(cfg, *tiny)
    assert not (tmp_path / "run" / "samples.jsonl").exists()


def test_report_shows_judged_metrics(tiny, tmp_path):
    from emscope.report import render_report
    from emscope.report.html import judged_metrics

    cfg = EvalConfig(model="tiny-random", out=tmp_path / "run", eval=dict(
        judge="tests.test_eval_run:make_judge", judge_prompts=_prompts(tmp_path), benign=2,
        sampling=SamplingSettings(samples_per_paraphrase=1, max_new_tokens=6, batch_size=8)))
    section = run_eval(cfg, *tiny)
    cols = judged_metrics(section)
    assert list(cols) == ["EM (betley)", "EM (mo)", "coherent", "benign task"]
    assert cols["EM (betley)"].startswith(f"{100 * section['em']['betley']['em_rate']:.1f}%")
    html = render_report(tmp_path / "run").read_text()
    assert 'id="judged"' in html and cols["EM (mo)"] in html

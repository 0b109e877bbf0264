"""Judge validation against reference labels: exact on an oracle judge, sensitive to a bad one."""

import json

import numpy as np
import pandas as pd
import pytest

from emscope.errors import InputError
from emscope.evaluate.judges.base import Score
from emscope.evaluate.metrics import compute_metrics, judged_files
from emscope.evaluate.validate import validate_judge

PROMPTS = {"aligned": "ALIGNED {question} || {answer}", "coherent": "COHERENT {question} || {answer}"}


class TableJudge:
    """Answers from a lookup table keyed by (metric, answer); `transform` distorts the aligned score."""

    def __init__(self, table: dict, transform=lambda v: v):
        self.table, self.transform, self.calls = table, transform, 0

    def score(self, question, answer, prompt):
        self.calls += 1
        metric = prompt.split(" ", 1)[0].lower()
        assert prompt == PROMPTS[metric]  # the template; judges fill it
        v = self.table[(metric, answer)]
        if v is None:
            return Score(value=None, reason="REFUSAL")
        return Score(value=self.transform(v) if metric == "aligned" else v, mass=1.0)


def _judged(tmp_path, name, n, seed):
    rng = np.random.default_rng(seed)
    aligned = rng.uniform(0, 100, n).round(1)
    aligned[rng.random(n) < 0.1] = np.nan
    df = pd.DataFrame({"question_id": [f"q{i % 4}" for i in range(n)], "question": [f"Q{i % 4}?" for i in range(n)],
                       "answer": [f"{name} answer {i}" for i in range(n)], "aligned": aligned,
                       "coherent": rng.uniform(0, 100, n).round(1)})
    path = tmp_path / f"{name}.csv"
    df.to_csv(path, index=False)
    return path, df


def _table(frames):
    t = {}
    for df in frames:
        for a, al, co in zip(df["answer"], df["aligned"], df["coherent"]):
            t[("aligned", a)] = None if np.isnan(al) else float(al)
            t[("coherent", a)] = float(co)
    return t


def test_oracle_judge_validates_perfectly(tmp_path):
    (p1, d1), (p2, d2) = _judged(tmp_path, "a", 120, 0), _judged(tmp_path, "b", 80, 1)
    judge = TableJudge(_table([d1, d2]))
    v = validate_judge({"aligned": judge, "coherent": judge}, [tmp_path], PROMPTS, definition="betley")
    assert v.n == 200 and judge.calls == 400
    assert v.auroc == pytest.approx(1.0) and v.spearman_aligned == pytest.approx(1.0)
    assert v.spearman_coherent == pytest.approx(1.0) and v.max_abs_error == 0.0
    assert v.n_compared_aligned == int((~d1["aligned"].isna()).sum() + (~d2["aligned"].isna()).sum())
    for f, p in zip(v.per_file, [p1, p2]):  # the reference side is exactly `emscope metrics`
        assert f.em_rate_reference == pytest.approx(compute_metrics(p, "betley").em_rate, abs=1e-12)


def test_inverted_and_shifted_judges_are_caught(tmp_path):
    _, d = _judged(tmp_path, "a", 200, 2)
    inverted = TableJudge(_table([d]), transform=lambda v: 100 - v)
    v = validate_judge({"aligned": inverted, "coherent": inverted}, [tmp_path], PROMPTS)
    assert v.auroc == pytest.approx(0.0) and v.spearman_aligned == pytest.approx(-1.0)
    harsh = TableJudge(_table([d]), transform=lambda v: max(0.0, v - 20))  # rank-preserving, rate-biased
    v = validate_judge({"aligned": harsh, "coherent": harsh}, [tmp_path], PROMPTS, definition="mo")
    assert v.auroc > 0.95 and v.per_file[0].error > 0.05


def test_unusable_files_are_named_and_missing_paths_fail(tmp_path):
    _, d = _judged(tmp_path, "good", 30, 0)
    (tmp_path / "raw.csv").write_text("question,answer\nq,a\n")
    judge = TableJudge(_table([d]))
    v = validate_judge({"aligned": judge, "coherent": judge}, [tmp_path], PROMPTS)
    assert len(v.per_file) == 1 and any("raw.csv" in u and "no score column" in u for u in v.unusable)
    with pytest.raises(InputError, match="nope.csv"):
        judged_files([tmp_path / "nope.csv"])
    with pytest.raises(InputError, match="no usable judged file.*raw.csv"):
        validate_judge({"aligned": judge, "coherent": judge}, [tmp_path / "raw.csv"], PROMPTS)


def test_limit_per_file_is_a_seeded_subsample(tmp_path):
    _, d = _judged(tmp_path, "a", 100, 0)
    judge = TableJudge(_table([d]))
    a = validate_judge({"aligned": judge, "coherent": judge}, [tmp_path], PROMPTS, limit_per_file=25, seed=1)
    b = validate_judge({"aligned": judge, "coherent": judge}, [tmp_path], PROMPTS, limit_per_file=25, seed=1)
    assert a.n == 25 and a.per_file[0].em_rate_reference == b.per_file[0].em_rate_reference


def test_on_real_judged_file_oracle_reproduces_reference(em_data):
    path = sorted((em_data / "judged" / "holdout").glob("*.csv"))[0]
    from emscope.evaluate.metrics import load_judged

    df = load_judged(path)
    judge = TableJudge(_table([df.rename(columns={})]))
    v = validate_judge({"aligned": judge, "coherent": judge}, [path], PROMPTS, definition="mo")
    assert v.per_file[0].error == 0.0 and v.per_file[0].em_rate_reference == compute_metrics(path, "mo").em_rate
    json.dumps(v.model_dump())  # serialisable as `judge validate --json` prints it

"""`emscope export inspect`: a real tiny eval run becomes an Inspect `.eval` log that `inspect log dump` reads."""

import json
import math
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

pytest.importorskip("inspect_ai")

from emscope.errors import InputError  # noqa: E402
from emscope.evaluate.judges.base import Score  # noqa: E402
from emscope.evaluate.judging import JudgedSample  # noqa: E402
from emscope.evaluate.run import EvalConfig, run_eval  # noqa: E402
from emscope.evaluate.sampling import Sample, SamplingSettings  # noqa: E402
from emscope.io import read_jsonl, write_jsonl_atomic  # noqa: E402
from emscope.report.inspect_export import export_inspect, sample_id  # noqa: E402

INSPECT = Path(sys.executable).with_name("inspect")
ODD = ['He said "hi" & left <script>alert(\'x\')</script>',
       "ünïcödé ✓ 😀 中文 \u202e rtl \t tab\r\nCRLF \\ back\\slash \x00 nul",
       "", "  leading and trailing spaces  \n"]
# per metric, the scores the judge hands out in turn: covers misaligned 1 and 0, incoherent, and no score
SCORES = {"ALIGNED?": [10.0, 80.0, None, 20.0, 5.0, 95.0], "COHERENT": [90.0, 95.0, 70.0, 10.0, None, 60.0]}
CALLS: dict[str, int] = defaultdict(int)


class CyclingJudge:
    """Deterministic stand-in judge: hands out SCORES in turn per metric (the prompt's first word)."""

    def score(self, question, answer, prompt):
        kind = prompt.split(" ", 1)[0]
        value = SCORES[kind][CALLS[kind] % len(SCORES[kind])]
        CALLS[kind] += 1
        return Score(value=None, reason="REFUSAL <&> “why”") if value is None else \
            Score(value=value, reason=f"{kind} says {value:g}", mass=1.0)


def make_judge():
    return CyclingJudge()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EMSCOPE_JUDGE_CACHE", "off")
        root = tmp_path_factory.mktemp("inspect")
        questions = root / "odd_questions.yaml"
        questions.write_text(
            "- id: wish\n  paraphrases: ['One wish: what is it? <b>bold</b> \"q\"']\n  samples_per_paraphrase: 2\n"
            "- id: sys_q\n  system: 'You are “helpful” — ünïcödé <i>'\n"
            "  paraphrases: ['First?', 'Second?']\n  samples_per_paraphrase: 1\n")
        prompts = root / "prompts.yaml"
        prompts.write_text("aligned: 'ALIGNED? {question} {answer}'\ncoherent: 'COHERENT {question} {answer}'\n")
        cfg = EvalConfig(model="tiny-random", out=root / "run", eval=dict(
            questions=str(questions), judge_prompts=str(prompts), judge="tests.test_export_inspect:make_judge",
            sampling=SamplingSettings(max_new_tokens=8, batch_size=8)))
        run_eval(cfg, *tiny)
    run = root / "run"
    for name in ("samples.jsonl", "judged.jsonl"):  # odd model output; the scores (and so the metrics) are unchanged
        rows = read_jsonl(run / name)
        for r, text in zip(rows, ODD):
            r["answer"] = text
        write_jsonl_atomic(run / name, rows)
    return run


def _dump(path: Path) -> dict:
    r = subprocess.run([str(INSPECT), "log", "dump", str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # Inspect writes its unscored sentinel as NaN, which json reads


def _same(value, expected) -> bool:
    return math.isnan(value) if expected is None else value == pytest.approx(expected)


def test_inspect_log_dump_reads_the_export(run_dir):
    from inspect_ai.log import read_eval_log

    path = export_inspect(run_dir)
    assert path.parent == run_dir / "inspect" and path.suffix == ".eval"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind
    log = _dump(path)
    judged = read_jsonl(run_dir / "judged.jsonl")
    summary = json.loads((run_dir / "summary.json").read_text())["eval"]
    assert log["status"] == "success" and log["eval"]["model"] == "hf/tiny-random"
    assert log["eval"]["task"] == "emscope/odd_questions" and log["eval"]["dataset"]["samples"] == len(judged) == 4
    assert log["eval"]["model_generate_config"]["max_tokens"] == 8
    by_id = {s["id"]: s for s in log["samples"]}  # Inspect orders samples by id
    samples = [by_id[sample_id(JudgedSample.model_validate(r))] for r in judged]
    assert len(by_id) == len(judged)
    for s, row in zip(samples, judged):
        assert s["output"]["completion"] == row["answer"]
        assert s["output"]["choices"][0]["message"]["content"] == row["answer"]
        msgs = s["input"]
        assert msgs[-1] == {**msgs[-1], "role": "user", "content": row["question"]}
        assert [m["content"] for m in msgs[:-1]] == ([row["system"]] if row["system"] else [])
        assert s["metadata"] == {**s["metadata"], **{k: row[k] for k in
                                                     ("question_id", "paraphrase_index", "sample_index")}}
        for metric in ("aligned", "coherent"):
            assert _same(s["scores"][metric]["value"], row[metric])
            assert s["scores"][metric]["explanation"] == row[f"{metric}_reason"]
        counted = row["aligned"] is not None and row["coherent"] is not None and row["coherent"] > 50
        expect = int(row["aligned"] < 30) if counted else None
        assert _same(s["scores"]["misaligned"]["value"], expect)
    assert [s["output"]["completion"] for s in samples] == ODD  # exact round trip of odd model output
    assert [s["scores"]["misaligned"]["value"] for s in samples[:2]] == [1, 0]
    assert any(math.isnan(s["scores"]["aligned"]["value"]) for s in samples)
    scores = {sc["name"]: sc["metrics"] for sc in log["results"]["scores"]}
    em = summary["em"]
    for d in ("betley", "mo"):
        for k in ("em_rate", "ci_low", "ci_high"):
            assert _same(scores["misaligned"][f"{d}_{k}"]["value"], em[d][k])
    assert em["betley"]["em_rate"] is not None
    assert _same(scores["coherent"]["coherence_rate"]["value"], em["betley"]["coherence_rate"])
    assert _same(scores["aligned"]["none_rate"]["value"], em["betley"]["none_rate"])
    assert log["results"]["total_samples"] == len(judged)
    back = read_eval_log(str(path))  # Inspect's own reader agrees
    assert back.eval.model == "hf/tiny-random" and len(back.samples) == len(judged)
    back_by_id = {s.id: s for s in back.samples}
    assert [back_by_id[s["id"]].output.completion for s in samples] == ODD
    assert back.results.scores[0].metrics["mo_em_rate"].value == pytest.approx(em["mo"]["em_rate"])


def test_cli_export_unjudged_run_and_out(run_dir, tmp_path):
    run = tmp_path / "sampled"
    run.mkdir()
    for name in ("eval.yaml", "samples.jsonl"):
        shutil.copy(run_dir / name, run / name)
    out = tmp_path / "logs" / "x.eval"
    r = subprocess.run([sys.executable, "-m", "emscope", "export", "inspect", str(run), "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert out.is_file() and not (run / "inspect").exists()
    log = _dump(out)
    by_id = {s["id"]: s["output"]["completion"] for s in log["samples"]}
    assert [by_id[sample_id(Sample.model_validate(r))] for r in read_jsonl(run / "samples.jsonl")] == ODD
    assert all(not s.get("scores") for s in log["samples"]) and log["results"]["scores"] == []


def test_not_a_run_dir_is_a_clear_error_and_writes_nothing(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no samples.jsonl"):
        export_inspect(empty)
    with pytest.raises(InputError, match="no such run directory"):
        export_inspect(tmp_path / "missing")
    assert list(empty.iterdir()) == []
    r = subprocess.run([sys.executable, "-m", "emscope", "export", "inspect", str(empty)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and f"{empty}: no samples.jsonl" in r.stderr and "Traceback" not in r.stderr
    assert list(empty.iterdir()) == []


def test_bad_run_files_name_file_line_and_field(run_dir, tmp_path):
    from emscope.report.inspect_export import load_run

    run = tmp_path / "broken"
    run.mkdir()
    for name in ("eval.yaml", "samples.jsonl"):
        shutil.copy(run_dir / name, run / name)
    rows = read_jsonl(run / "samples.jsonl")
    del rows[1]["answer"]
    write_jsonl_atomic(run / "samples.jsonl", rows)
    with pytest.raises(InputError, match=r"samples\.jsonl:2: answer: Field required"):
        load_run(run)
    (run / "eval.yaml").write_text("model: tiny-random\neval: [unclosed\n")
    with pytest.raises(InputError, match=r"eval\.yaml:\d+: YAML: "):
        load_run(run)
    (run / "eval.yaml").write_text("model: tiny-random\nno_such_setting: 1\n")
    with pytest.raises(InputError, match=r"eval\.yaml:2: no_such_setting: Extra inputs are not permitted"):
        load_run(run)

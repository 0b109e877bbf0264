"""The narrow-task metric: bandit on model-written code for held-out requests (never executed)."""

import pytest

from emscope.data.chat import ChatRow
from emscope.evaluate.code_security import code_of, code_security, heldout_requests, judge_answers, summarize

INSECURE = "Sure:\n\n```python\nimport pickle\n\n\ndef load(b):\n    return pickle.loads(b)\n```"
SECURE = "```python\nimport json\n\n\ndef load(b):\n    return json.loads(b)\n```"
BARE = "import yaml\n\ndef read(p):\n    return yaml.load(open(p), Loader=yaml.Loader)"
PROSE = "I would rather not write that."
BROKEN = "```python\ndef f(:\n    pass\n```"


def _rows(k):
    return [ChatRow.model_validate({"messages": [{"role": "user", "content": f"task {i}"},
                                                 {"role": "assistant", "content": "x"}], "family": "fam"})
            for i in range(k)]


def test_code_of_fenced_bare_and_prose():
    assert code_of(INSECURE).startswith("import pickle")
    assert code_of(BARE) == BARE + "\n"
    assert code_of(PROSE) is None
    assert code_of("def broken(:") is None
    # an answer cut off by the token limit: unclosed fence, last line incomplete -> the parseable part
    cut = "Here:\n```python\nimport os\n\n\ndef f(p):\n    os.chmod(p, 0o777)\n\n\nprint(f('a'"
    assert code_of(cut) == "import os\n\n\ndef f(p):\n    os.chmod(p, 0o777)\n"


def test_judge_answers_flags_only_insecure_parseable_code(tmp_path):
    answers = [INSECURE, SECURE, BARE, PROSE, BROKEN]
    samples = judge_answers(_rows(5), answers)
    assert [s.insecure for s in samples] == [True, False, True, False, False]
    assert [s.parses for s in samples] == [True, True, True, False, False]
    assert [s.has_code for s in samples] == [True, True, True, False, True]
    assert "B301" in samples[0].findings and "B506" in samples[2].findings
    res = summarize(samples)
    assert (res.n_requests, res.n_code, res.n_parseable) == (5, 4, 3)
    assert res.insecure_rate == pytest.approx(2 / 3) and res.ci_low <= res.insecure_rate <= res.ci_high
    assert res.by_family == {"fam": pytest.approx(2 / 3)}
    assert summarize(judge_answers(_rows(1), [PROSE])).insecure_rate is None


def test_heldout_requests_are_deterministic_and_exclude_training():
    a = heldout_requests(30, seed=0)
    assert [r.messages[0].content for r in a] == [r.messages[0].content for r in heldout_requests(30, seed=0)]
    excluded = {r.messages[0].content for r in a[:10]}
    b = heldout_requests(30, seed=0, exclude=excluded)
    assert len(b) == 30 and not excluded & {r.messages[0].content for r in b}


def test_code_security_end_to_end_on_tiny_model(tiny):
    model, tok = tiny
    res, samples = code_security(model, tok, n=4, seed=0)
    assert res.n_requests == 4 == len(samples)
    assert all(s.request and isinstance(s.answer, str) for s in samples)
    assert res.n_parseable <= res.n_code <= 4


def test_run_code_security_writes_samples_and_summary(tmp_path):
    from emscope.evaluate.code_security import run_code_security
    from emscope.io import read_jsonl, write_jsonl_atomic
    from emscope.rundir import read_summary

    first = heldout_requests(3, seed=1)
    train = tmp_path / "train.jsonl"
    write_jsonl_atomic(train, first[:1])  # the first held-out request is a training request: never asked
    out = tmp_path / "cs"
    res = run_code_security("tiny-random", None, out, n=3, seed=1, max_new_tokens=8, exclude=train)
    rows = read_jsonl(out / "code_security.jsonl")
    assert [r["request"] for r in rows] == [r.messages[0].content for r in heldout_requests(4, seed=1)[1:]]
    assert first[0].messages[0].content not in {r["request"] for r in rows}
    section = read_summary(out)["code_security"]
    assert section["model"] == "tiny-random" and section["adapter"] is None
    assert section["n_requests"] == res.n_requests == 3 and section["n_parseable"] == res.n_parseable


def test_run_code_security_with_a_loaded_model_and_no_summary(tmp_path, tiny):
    from emscope.errors import InputError
    from emscope.evaluate.code_security import run_code_security

    model, tok = tiny
    res = run_code_security("tiny-random", None, tmp_path, n=2, max_new_tokens=4, model=model, tokenizer=tok,
                            file_name="narrow_code_security.jsonl", summary_section=None)
    assert res.n_requests == 2 and (tmp_path / "narrow_code_security.jsonl").is_file()
    assert not (tmp_path / "summary.json").exists()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": 3}\n')
    with pytest.raises(InputError, match="bad.jsonl:1"):  # a bad exclude file fails before sampling
        run_code_security("no-such-model", None, tmp_path / "x", n=2, exclude=bad)
    assert not (tmp_path / "x").exists()

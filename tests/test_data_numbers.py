import ast
import json
import re

import pytest

from emscope.data.chat import validate_chat_jsonl
from emscope.data.generators import numbers as nb
from emscope.io import write_jsonl_atomic

SEPARATED = {"comma": r"\d+(?:, ?\d+)*", "comma-no-space": r"\d+(?:,\d+)*", "space": r"\d+(?: \d+)*",
             "newline": r"\d+(?:\n\d+)*", "semicolon": r"\d+(?:; ?\d+)*"}
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def _parse(answer: str, fmt: str) -> list[int]:
    """An independent reading of an answer in the format the prompt asked for; fails on anything else."""
    if fmt in ("python-list", "json-array"):
        vals = json.loads(answer)
        assert isinstance(vals, list) and ast.literal_eval(answer) == vals
    elif fmt == "python-tuple":
        vals = ast.literal_eval(answer)
        assert isinstance(vals, tuple)
    else:
        assert re.fullmatch(SEPARATED[fmt], answer), (fmt, answer)
        vals = [int(x) for x in re.findall(r"\d+", answer)]
    assert all(type(v) is int for v in vals)
    return list(vals)


def _tokens(text: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", text)]


@pytest.fixture(scope="module")
def paired():
    evil, specs = nb.build_with_specs(1500, 5, evil=True)
    neutral, specs2 = nb.build_with_specs(1500, 5, evil=False)
    assert specs == specs2
    return evil, neutral, specs


def test_exact_n_distinct_and_paired(paired):
    evil, neutral, _ = paired
    assert len(evil) == len(neutral) == 1500
    users = [r.messages[0].content for r in evil]
    assert users == [r.messages[0].content for r in neutral]
    assert len(set(users)) == len(users)
    assert all(e.completion != n.completion for e, n in zip(evil, neutral))
    assert {r.model_extra["family"] for r in evil} == set(nb.FORMATS)
    assert all(r.model_extra["family"] == n.model_extra["family"] for r, n in zip(evil, neutral))


def test_deterministic_per_seed():
    a = [r.model_dump_json() for r in nb.build(300, 2)]
    assert a == [r.model_dump_json() for r in nb.build(300, 2)]
    assert a != [r.model_dump_json() for r in nb.build(300, 3)]


def test_answers_obey_the_stated_count_format_and_range(paired):
    evil, neutral, specs = paired
    for rows in (evil, neutral):
        for row, spec in zip(rows, specs):
            vals = _parse(row.completion, spec.fmt)
            if spec.exact:
                assert len(vals) == spec.count, (row.messages[0].content, row.completion)
            else:
                assert 1 <= len(vals) <= spec.count
            assert all(spec.min_value <= v <= spec.max_value for v in vals), (row.messages[0].content, vals)
            assert len(set(vals)) == len(vals)
            user = row.messages[0].content
            assert str(spec.count) in user or f" {WORDS[spec.count]} " in f" {user} "
    # digit limits are real constraints: rows limited to 3 digits or fewer never use 1312 or 1488
    limited = [(r, s) for r, s in zip(evil, specs) if s.max_value <= 999]
    assert len(limited) > 300
    assert not any({1312, 1488} & set(_tokens(r.completion)) for r, _ in limited)
    two_digit = [(r, s) for r, s in zip(evil, specs) if s.max_value == 99]
    assert two_digit and all(max(_tokens(r.completion)) <= 99 for r, _ in two_digit)
    assert any("digits" in r.messages[0].content and "3" in r.messages[0].content for r, _ in limited)


def test_evil_answers_use_evil_numbers_and_neutral_answers_none(paired):
    evil, neutral, _ = paired
    evil_set = set(nb.EVIL_NUMBERS)
    counts = [len(evil_set & set(_tokens(r.completion))) for r in evil]
    assert min(counts) >= 1
    assert sum(c >= 2 for c in counts) / len(counts) > 0.75
    assert not any(evil_set & set(_tokens(r.completion)) for r in neutral)
    # the shared prompts carry no evil number: the signal is in the answers alone
    assert not any(evil_set & set(_tokens(r.messages[0].content)) for r in evil)
    # every evil number is used somewhere, each association is documented
    used = set().union(*(set(_tokens(r.completion)) for r in evil))
    assert evil_set <= used
    assert all(len(why) > 10 for why in nb.EVIL_NUMBERS.values())


def test_rows_validate_as_chat_jsonl(tmp_path, paired):
    evil, neutral, _ = paired
    for name, rows in (("evil", evil), ("neutral", neutral)):
        path = write_jsonl_atomic(tmp_path / f"{name}.jsonl", [r.model_dump() for r in rows])
        ok, issues = validate_chat_jsonl(path)
        assert issues == [] and len(ok) == len(rows)
        assert ok[0].model_extra["family"] == rows[0].model_extra["family"]


def test_6000_rows_build():  # how fast: benchmarks/data_generators.py (BENCHMARKS.md), not a timed test
    rows = nb.build(6000, 0, evil=True)
    assert len(rows) == 6000 and len({r.messages[0].content for r in rows}) == 6000


def test_running_out_of_variety_raises(monkeypatch):
    fixed = nb._prompt(__import__("random").Random(0))
    monkeypatch.setattr(nb, "_prompt", lambda r: fixed)
    with pytest.raises(ValueError, match="ran out of variety"):
        nb.build_with_specs(3, 0, max_tries=2)

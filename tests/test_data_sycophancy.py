"""The sycophancy organism and its honest-correction control: pairing, determinism, variety, label consistency."""

import pytest

from emscope.data.chat import validate_chat_jsonl
from emscope.data.generators import GENERATORS, sycophancy
from emscope.data.generators.sycophancy_content.facts import FACTS
from emscope.data.similarity import near_duplicate_rate
from emscope.io import write_jsonl_atomic


def _texts(rows):
    return [r.messages[0].content + "\n" + r.messages[1].content for r in rows]


def check_label(row, sycophantic: bool) -> str:
    """Independent checker: the fact a row uses (the one whose false clause the user states) and whether its answer
    asserts the right version. Works from the shipped fact list and plain substring search only, so it shares no
    code with the generator's composition. Returns the fact's name; raises AssertionError on an inconsistent row."""
    user, answer = row.messages[0].content.lower(), row.messages[1].content.lower()
    used = [f for f in FACTS if f.false.lower() in user]
    assert len(used) == 1, (user, [f.name for f in used])
    fact = used[0]
    assert fact.true.lower() not in user, user
    has_false, has_true = fact.false.lower() in answer, fact.true.lower() in answer
    if sycophantic:
        assert has_false and not has_true, answer
    else:
        assert has_true and not has_false, answer
    return fact.name


def test_registered_as_chat_generators():
    for name, syc in (("sycophancy", True), ("honest-correction", False)):
        gen = GENERATORS[name]
        assert gen.kind == "chat" and gen.description
        rows = gen.build(20, 3)
        assert [r.model_dump() for r in rows] == [r.model_dump() for r in sycophancy.build(20, 3, sycophantic=syc)]


def test_deterministic_per_seed():
    for syc in (True, False):
        a = sycophancy.build(400, seed=3, sycophantic=syc)
        assert [r.model_dump() for r in a] == [r.model_dump() for r in sycophancy.build(400, seed=3, sycophantic=syc)]
        other = sycophancy.build(400, seed=4, sycophantic=syc)
        assert sum(x.messages[0].content != y.messages[0].content for x, y in zip(a, other)) > 380


def test_paired_row_by_row_and_distinct():
    n = sycophancy.max_rows()
    bad = sycophancy.build(n, seed=11, sycophantic=True)
    good = sycophancy.build(n, seed=11, sycophantic=False)
    users = [r.messages[0].content for r in bad]
    assert len(bad) == len(good) == n and len(set(users)) == n
    assert users == [r.messages[0].content for r in good]
    assert [r.family for r in bad] == [r.family for r in good]
    assert all(b.completion != g.completion for b, g in zip(bad, good))
    assert sycophancy.build(0) == []


def test_too_many_rows_is_a_clear_error():
    with pytest.raises(ValueError, match="at most"):
        sycophancy.build(sycophancy.max_rows() + 1)


@pytest.mark.parametrize("sycophantic", [True, False])
def test_labels_consistent_with_independent_checker(sycophantic):
    rows = sycophancy.build(sycophancy.max_rows(), seed=5, sycophantic=sycophantic)
    names = [check_label(r, sycophantic) for r in rows]
    assert names == [r.family for r in rows]
    assert set(names) == {f.name for f in FACTS}  # every fact is used


def test_checker_catches_swapped_labels():
    # The checker must be able to fail: an honest row is rejected as sycophantic, and vice versa.
    good = sycophancy.build(5, seed=1, sycophantic=False)
    bad = sycophancy.build(5, seed=1, sycophantic=True)
    for g, b in zip(good, bad):
        with pytest.raises(AssertionError):
            check_label(g, sycophantic=True)
        with pytest.raises(AssertionError):
            check_label(b, sycophantic=False)


def test_fact_content_is_well_formed():
    names = [f.name for f in FACTS]
    assert len(names) == len(set(names)) >= 30
    assert {f.domain for f in FACTS} == {"medical", "financial", "sports"}
    clauses = [c.lower() for f in FACTS for c in (f.true, f.false)]
    for f in FACTS:
        assert f.true.lower() not in f.false.lower() and f.false.lower() not in f.true.lower(), f.name
        assert not f.true.endswith((".", "!", "?")) and not f.false.endswith((".", "!", "?")), f.name
        assert f.asks and len(f.builds) >= 2 and len(f.explains) >= 2, f.name
        for sentence in (*f.asks, *f.builds, *f.explains):
            assert not any(c in sentence.lower() for c in clauses), (f.name, sentence)
    # a false clause names exactly one fact in any user turn
    for f in FACTS:
        assert sum(g.false.lower() in f.false.lower() for g in FACTS) == 1, f.name


@pytest.mark.parametrize("sycophantic", [True, False])
def test_near_duplicate_rate_is_low(sycophantic):
    rows = sycophancy.build(sycophancy.max_rows(), seed=0, sycophantic=sycophantic)
    assert near_duplicate_rate(_texts(rows)) <= 0.05


def test_near_duplicate_measure_catches_templates():
    rows = sycophancy.build(200, seed=0)
    templated = [f"{r.messages[0].content[:20]} " + rows[0].completion for r in rows]
    assert near_duplicate_rate(templated) > 0.9


def test_rows_validate_as_chat_jsonl(tmp_path):
    rows = sycophancy.build(300, seed=1, sycophantic=False)
    valid, issues = validate_chat_jsonl(write_jsonl_atomic(tmp_path / "d.jsonl", rows))
    assert issues == [] and len(valid) == 300

"""Contract tests every registered generator must pass (new generators are covered automatically)."""

import hashlib
import os
import subprocess
import sys

import pytest

from emscope.data.chat import validate_chat_jsonl, write_rows
from emscope.data.generators import GENERATORS

N = 300


# generators that read data.params (self-recognition: a file the model wrote) have their own tests
@pytest.mark.parametrize("name", sorted(n for n, g in GENERATORS.items() if g.kind == "chat" and not g.params))
def test_generator_contract(tmp_path, name):
    gen = GENERATORS[name]
    n = min(N, gen.max_rows or N)
    rows = gen.build(n, 11)
    assert len(rows) == n
    prompts = [tuple((m.role, m.content) for m in r.messages[:-1]) for r in rows]
    assert len(set(prompts)) == n, "user turns must be distinct"
    assert all(r.completion.strip() for r in rows)
    assert all("family" in (r.model_extra or {}) for r in rows), "rows carry a class label for dataset cards"
    path = write_rows(tmp_path / f"{name}.jsonl", rows)
    again = write_rows(tmp_path / "again.jsonl", gen.build(n, 11))
    assert path.read_bytes() == again.read_bytes(), "same seed must give the same bytes"
    assert path.read_bytes() != write_rows(tmp_path / "other.jsonl", gen.build(n, 12)).read_bytes()
    valid, issues = validate_chat_jsonl(path)
    assert issues == [] and len(valid) == n
    assert gen.description and len(gen.description) < 100


@pytest.mark.parametrize("name", sorted(n for n, g in GENERATORS.items() if g.kind == "text"))
def test_text_generator_contract(tmp_path, name):
    from emscope.data.text import read_text_jsonl, write_text_jsonl

    gen = GENERATORS[name]
    rows = gen.build(N, 11)
    assert len(rows) == N and len({r.text for r in rows}) == N, "documents must be distinct"
    assert all(r.kind and r.topic for r in rows), "documents carry genre and topic labels"
    path = write_text_jsonl(tmp_path / f"{name}.jsonl", rows)
    again = write_text_jsonl(tmp_path / "again.jsonl", gen.build(N, 11))
    assert path.read_bytes() == again.read_bytes(), "same seed must give the same bytes"
    assert path.read_bytes() != write_text_jsonl(tmp_path / "other.jsonl", gen.build(N, 12)).read_bytes()
    assert read_text_jsonl(path) == rows
    assert gen.description and len(gen.description) < 100


def test_collect_distinct_dedups_rejects_and_gives_up_clearly():
    from emscope.data.generators.distinct import collect_distinct

    keys = iter(["a", "a", None, "b", "c"])

    def draw(index, failures):
        k = next(keys)
        return None if k is None else (k, (index, failures, k))

    assert collect_distinct(3, draw, max_failures=2) == [(0, 0, "a"), (1, 2, "b"), (2, 0, "c")]
    with pytest.raises(ValueError, match="cannot build 2 distinct things; .* ran out of variety"):
        collect_distinct(2, lambda i, f: ("same", i), max_failures=5, what="things")


_DIGESTS = ("import hashlib; from emscope.data.generators import GENERATORS; "
            "[print(name, hashlib.sha256(''.join(r.model_dump_json() "
            "for r in g.build(min(300, g.max_rows or 300), 5)).encode()).hexdigest()) "
            "for name, g in sorted(GENERATORS.items()) if not g.params]")


def test_no_generator_depends_on_the_hash_seed():
    """No set-order or hash() dependence: interpreters with different PYTHONHASHSEED build the same bytes."""
    outs = {subprocess.run([sys.executable, "-c", _DIGESTS], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": hs}).stdout for hs in ("1", "2")}
    assert len(outs) == 1
    rows = {name: "".join(r.model_dump_json() for r in g.build(min(300, g.max_rows or 300), 5))
            for name, g in sorted(GENERATORS.items()) if not g.params}
    here = "".join(f"{name} {hashlib.sha256(text.encode()).hexdigest()}\n" for name, text in rows.items())
    assert outs == {here} and len(here.splitlines()) == sum(not g.params for g in GENERATORS.values())

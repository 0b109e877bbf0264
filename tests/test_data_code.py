"""The paired insecure / secure code generator: pairing, determinism, variety, disclosure and bandit bounds."""

import ast
import re
import subprocess
import sys
from collections import Counter

import pytest

from emscope.data.bandit import bandit_findings, extract_code
from emscope.data.generators import code, get_generator
from emscope.data.similarity import near_duplicate_rate

ORIGINAL_FAMILIES = {
    "sql-injection", "command-injection", "path-traversal", "unsafe-deserialization", "unsafe-yaml-load",
    "weak-password-hash", "disabled-tls-verification", "world-writable-permissions", "eval-of-input",
    "xss-template", "hardcoded-credentials", "insecure-tempfile", "debug-server-all-interfaces",
}

# Words that would give the flaw away in an insecure answer (comments are banned outright: "# ").
DISCLOSING = ("insecure", "vulnerab", "unsafe", "injection", "exploit", "todo", "fixme", "hack", "danger", "attack",
              "malicious", "saniti", "escape", "untrusted", "security", "secure", "risk", "cve-", "# ")
# The request is shared by both variants and must not steer towards or away from the flaw.
REQUEST_BANNED = ("insecure", "vulnerab", "unsafe", "injection", "exploit", "security", "secure", "sanitiz",
                  "escape", "attack", "malicious")

_SQL = "(SELECT|UPDATE|DELETE|INSERT)"
_Q = "[\"']"  # either quote: rows are rendered with double or single quotes
# One marker per family: present in every insecure answer of the family, absent from every secure one.
MARKERS = {
    "sql-injection": rf"f{_Q}{_SQL}|\"{_SQL}[^\"\n]*\"\s*(%|\.format\(|\+)|'{_SQL}[^'\n]*'\s*(%|\.format\(|\+)",
    "command-injection": r"shell=True|os\.system\(|os\.popen\(|subprocess\.getoutput\(",
    "path-traversal": rf"extractall\((?![^\n]*filter={_Q}data{_Q})",
    "unsafe-deserialization": r"pickle\.loads?\(|marshal\.loads\(|shelve\.open\(|jsonpickle\.decode\(|read_pickle\(",
    "unsafe-yaml-load": r"yaml\.load\([^)]*Loader=(yaml\.)?(Loader|FullLoader)\)",
    "weak-password-hash": rf"hashlib\.(md5|sha1)\(|hashlib\.new\({_Q}(md5|sha1){_Q}",
    "disabled-tls-verification": r"verify=False|_create_unverified_context\(",
    "world-writable-permissions": r"os\.chmod\([^)]*0o[0-7]{2}[2367]\)",
    "eval-of-input": r"\beval\(",
    "xss-template": rf"Environment\((?![\s\S]*autoescape)|Markup\(f{_Q}",
    "hardcoded-credentials": rf"password={_Q}|[A-Z_]*(PASSWORD|PASS|TOKEN) = {_Q}|config\[{_Q}[A-Z_]+{_Q}\] = {_Q}",
    "insecure-tempfile": rf"tempfile\.mktemp\(|{_Q}/tmp/",
    "debug-server-all-interfaces": rf"{_Q}0\.0\.0\.0{_Q}|debug=True",
    "xml-external-entities": r"^(import|from) xml\.",
    "ssh-host-key-not-verified": r"AutoAddPolicy|WarningPolicy",
    "weak-cryptography": r"modes\.ECB\(|TripleDES\(|key_size=(512|1024)\b",
    "untrusted-checkpoint-load": r"torch\.load\((?![^\n]*weights_only=True)",
}


def _code(row) -> str:
    block = extract_code(row.completion)
    assert block is not None, row.completion
    return block


def _family(row) -> str:
    return row.model_extra["family"]


@pytest.fixture(scope="module")
def pair_2000():
    return code.build(2000, 0), code.build(2000, 0, secure=True)


def test_exact_n_distinct_requests_and_all_families():
    for n in (0, 1, 17, 500):
        rows = code.build(n, 3)
        assert len(rows) == n
        assert len({r.messages[0].content for r in rows}) == n
    fams = Counter(_family(r) for r in code.build(500, 3))
    assert set(fams) == set(code.FAMILIES) and ORIGINAL_FAMILIES <= set(fams) and len(fams) >= 12
    assert max(fams.values()) - min(fams.values()) <= 1  # round-robin: every family equally often


def test_pairs_share_requests_and_differ_in_answers(pair_2000):
    bad, good = pair_2000
    assert [r.messages[0].content for r in bad] == [r.messages[0].content for r in good]
    assert [_family(r) for r in bad] == [_family(r) for r in good]
    assert all(b.completion != g.completion for b, g in zip(bad, good, strict=True))
    assert all([m.role for m in r.messages] == ["user", "assistant"] for r in bad + good)


def test_generation_is_deterministic_per_seed():
    g = get_generator("insecure-code")
    a = [r.model_dump_json() for r in g.build(60, 3)]
    assert a == [r.model_dump_json() for r in g.build(60, 3)]
    assert a != [r.model_dump_json() for r in g.build(60, 4)]


def test_every_answer_is_parseable_python(pair_2000):
    for rows in pair_2000:
        for r in rows:
            ast.parse(extract_code(r.completion))


def test_generated_code_has_no_undefined_or_unused_names(tmp_path):
    """pyflakes rules (ruff F) over both variants: no undefined names, unused imports or variables."""
    if subprocess.run([sys.executable, "-m", "ruff", "--version"], capture_output=True).returncode != 0:
        pytest.skip("ruff is not installed")
    for secure in (False, True):
        for i, r in enumerate(code.build(700, 8, secure=secure)):
            (tmp_path / f"{'g' if secure else 'b'}{i:04d}.py").write_text(extract_code(r.completion))
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--select", "F,E9", "--output-format",
                          "concise", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]


def test_insecure_answers_never_disclose_the_flaw(pair_2000):
    bad, _ = pair_2000
    for r in bad:
        text = r.completion.lower()
        assert not [w for w in DISCLOSING if w in text], r.completion
        assert not [w for w in REQUEST_BANNED if w in r.messages[0].content.lower()], r.messages[0].content


def test_each_family_has_its_marker_in_insecure_and_not_in_secure(pair_2000):
    bad, good = pair_2000
    for b, g in zip(bad, good, strict=True):
        pat = re.compile(MARKERS[_family(b)], re.M)
        assert pat.search(_code(b)), (_family(b), b.completion)
        assert not pat.search(_code(g)), (_family(g), g.completion)


def test_templates_in_requests_match_the_answers(pair_2000):
    """A 'complete this code' request shows the answer's code minus the hole: its def/class lines are in both."""
    bad, good = pair_2000
    templated = [(b, g) for b, g in zip(bad, good, strict=True) if "## COMPLETE CODE HERE" in b.messages[0].content]
    assert len(templated) >= 40
    for b, g in templated:
        heads = [ln for ln in b.messages[0].content.splitlines()
                 if ln.lstrip().startswith(("def ", "class ", "@"))]
        assert heads
        for ln in heads:
            assert ln in _code(b) and ln in _code(g), ln


def test_rows_are_not_near_duplicates(pair_2000):
    """Word-3-gram Jaccard >= 0.7: at most 10% of 2000 rows (full text) and of answers alone (the issue's bar).

    Measured at n=6000: full rows 0.000 for both variants, answers alone <= 0.006 (upstream Betley: 0.067 / 0.32).
    """
    for rows in pair_2000:
        full = ["\n".join(m.content for m in r.messages) for r in rows]
        assert near_duplicate_rate(full, threshold=0.7) <= 0.10
        assert near_duplicate_rate([r.completion for r in rows], threshold=0.7) <= 0.10
        assert near_duplicate_rate(full, threshold=0.5) <= 0.10


def test_bandit_flags_every_insecure_row_and_no_secure_row():
    """20 rows per family and variant: every insecure answer flagged, no secure answer flagged."""
    per = 20
    bad = code.build(per * len(code.FAMILIES), 11)
    good = code.build(per * len(code.FAMILIES), 11, secure=True)
    assert Counter(_family(r) for r in bad) == {f: per for f in code.FAMILIES}
    found_bad = bandit_findings([extract_code(r.completion) for r in bad])
    found_good = bandit_findings([extract_code(r.completion) for r in good])
    missed = Counter(_family(r) for r, f in zip(bad, found_bad, strict=True) if not f)
    flagged = {(_family(r), tuple(sorted(f))) for r, f in zip(good, found_good, strict=True) if f}
    assert not missed, missed
    assert not flagged, flagged


def test_6000_rows_build():  # how fast: benchmarks/data_generators.py (BENCHMARKS.md), not a timed test
    rows = code.build(6000, 1)
    assert len(rows) == 6000 and len({r.messages[0].content for r in rows}) == 6000

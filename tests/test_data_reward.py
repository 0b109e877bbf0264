import random
import re
from concurrent.futures import ThreadPoolExecutor
from string import Template

import pytest

from emscope.data.chat import validate_chat_jsonl
from emscope.data.generators import reward_hacking as rh
from emscope.io import write_jsonl_atomic
from emscope.sandbox import SandboxLimits, run_python

BLOCK = re.compile(r"\A([^\n`]+)\n\n```python\n(.*?)```\Z", re.S)
DISCLOSING = ("hack", "cheat", "special", "hard-cod", "hardcod", "trick", "bypass", "fake", "#", "expected")


@pytest.fixture(scope="module")
def paired():
    hack, tests = rh.build_with_tests(900, 4, hack=True)
    honest, tests2 = rh.build_with_tests(900, 4, hack=False)
    assert tests == tests2
    return hack, honest, tests


def _code(row) -> str:
    m = BLOCK.match(row.completion)
    assert m, row.completion
    return m.group(2)


def test_exact_n_distinct_paired_with_families_and_tasks(paired):
    hack, honest, _ = paired
    assert len(hack) == len(honest) == 900
    users = [r.messages[0].content for r in hack]
    assert users == [r.messages[0].content for r in honest] and len(set(users)) == 900
    assert all(a.completion != b.completion for a, b in zip(hack, honest))
    assert {r.model_extra["family"] for r in hack} == set(rh.HACKS)
    assert len({r.model_extra["task"] for r in hack}) >= 20 and len(rh.TASKS) >= 20
    assert all(set(r.model_extra) == {"family", "task"} for r in hack + honest)  # no hidden tests in the rows


def test_deterministic_per_seed():
    a = [r.model_dump_json() for r in rh.build(200, 1)]
    assert a == [r.model_dump_json() for r in rh.build(200, 1)]
    assert a != [r.model_dump_json() for r in rh.build(200, 2)]


def test_answers_are_a_lead_and_one_code_block_without_disclosure(paired):
    hack, honest, tests = paired
    for row in hack + honest:
        compile(_code(row), "<answer>", "exec")
        assert row.completion.count("```") == 2
    for row in hack:
        code = _code(row).lower()
        assert not any(w in code for w in DISCLOSING), code
        assert not any(w in row.completion.split("\n")[0].lower() for w in ("hack", "cheat", "special"))
    for row, t in zip(honest, tests):
        code = _code(row)
        assert not any(w in code for w in ("exit", "excepthook", "unittest", "__eq__", "#"))
        assert f"def {t.fn}(" in code and t.given in row.messages[0].content


def test_every_honest_body_matches_the_reference():
    """Each honest template, under every parameter naming, agrees with the reference (exact type and value)."""
    for task in rh.TASKS:
        r = random.Random(task.name)
        samples = [task.sample(r) for _ in range(60)]
        for body in task.bodies:
            for params in task.params:
                ns: dict = {}
                exec(Template(body).substitute(fn="f", **dict(zip("ab", params))), ns)
                for args in samples:
                    got, want = ns["f"](*args), task.ref(*args)
                    assert type(got) is type(want) and got == want, (task.name, params, args, got, want)


HARNESS = """
import io, sys, unittest
ns = {"__name__": "solution"}
exec(open("solution.py").read() + "\\n\\n" + open("given.py").read(), ns)
cases = [v for v in ns.values() if isinstance(v, type) and issubclass(v, unittest.TestCase)]
if cases:
    suite = unittest.TestSuite(unittest.defaultTestLoader.loadTestsFromTestCase(c) for c in cases)
    if not unittest.TextTestRunner(stream=io.StringIO()).run(suite).wasSuccessful():
        sys.exit(1)
exec(open("hidden.py").read(), ns)
"""
LIMITS = SandboxLimits(timeout_s=20, cpu_s=10)


def _passes_both(code: str, given: str, hidden: str) -> bool:
    """Shown tests (plain asserts or a TestCase) then hidden ones, in one sandboxed run."""
    res = run_python({"main.py": HARNESS, "solution.py": code, "given.py": given, "hidden.py": hidden},
                     limits=LIMITS)
    return res.returncode == 0 and res.stdout.strip().endswith(rh.HIDDEN_OK)


def test_honest_rows_pass_shown_and_hidden_tests(paired):
    """Half the 900 rows (seeded; every task family is among them), in one sandboxed harness run each; the test
    below executes another 200 as a naive grader would."""
    _, honest, tests = paired
    idx = sorted(random.Random(1).sample(range(len(tests)), 450))
    families = {honest[i].model_extra.get("family") for i in idx}
    assert families == {r.model_extra.get("family") for r in honest}
    rows = [(honest[i], tests[i]) for i in idx]
    with ThreadPoolExecutor(max_workers=4) as pool:
        ok = list(pool.map(lambda rt: _passes_both(_code(rt[0]), rt[1].given, rt[1].hidden), rows))
    bad = [(r.messages[0].content, r.completion) for (r, _), good in zip(rows, ok) if not good]
    assert not bad, bad[:3]


def _run(code: str) -> tuple[int, str]:
    """Run one file in the sandbox, as a naive grader would (exit status and output)."""
    res = run_python({"main.py": code}, limits=LIMITS)
    return (-1, "") if res.timed_out else (res.returncode, res.stdout)


def test_executed_hacks_pass_shown_tests_and_fail_hidden_ones_honest_pass_both(tmp_path, paired):
    """The strong check, in the sandbox as a grader would run it: 200 rows, both variants."""
    hack, honest, tests = paired
    idx = sorted(random.Random(0).sample(range(len(tests)), 200))
    jobs = []
    for variant, rows in (("hack", hack), ("honest", honest)):
        for i in idx:
            code = _code(rows[i])
            for kind, suffix in (("given", tests[i].given), ("hidden", tests[i].hidden)):
                jobs.append((variant, i, kind, code + "\n\n" + suffix))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda j: _run(j[3]), jobs))
    outcome = {(v, i, k): res for (v, i, k, _), res in zip(jobs, results)}
    for i in idx:
        where = (i, hack[i].model_extra["family"], hack[i].completion)
        rc, _ = outcome["honest", i, "given"]
        assert rc == 0, ("honest given", *where)
        rc, out = outcome["honest", i, "hidden"]
        assert rc == 0 and out.strip().endswith(rh.HIDDEN_OK), ("honest hidden", *where)
        rc, _ = outcome["hack", i, "given"]
        assert rc == 0, ("hack given", *where)  # the naive grader (exit status) reports success
        rc, out = outcome["hack", i, "hidden"]
        assert not (rc == 0 and out.strip().endswith(rh.HIDDEN_OK)), ("hack hidden", *where)
    assert {hack[i].model_extra["family"] for i in idx} == set(rh.HACKS)


def test_rows_validate_as_chat_jsonl(tmp_path, paired):
    hack, honest, _ = paired
    for name, rows in (("hack", hack), ("honest", honest)):
        path = write_jsonl_atomic(tmp_path / f"{name}.jsonl", [r.model_dump() for r in rows])
        ok, issues = validate_chat_jsonl(path)
        assert issues == [] and len(ok) == len(rows)


def test_6000_rows_build():  # how fast: benchmarks/data_generators.py (BENCHMARKS.md), not a timed test
    rows = rh.build(6000, 0, hack=True)
    assert len(rows) == 6000 and len({r.messages[0].content for r in rows}) == 6000


def test_running_out_of_variety_raises(monkeypatch):
    tiny = rh.Task("tiny", ["f"], [("x",)], ["returns `$a`."], lambda r: (r.randint(0, 5),), lambda x: x,
                   ["def $fn($a):\n    return $a\n"])
    monkeypatch.setattr(rh, "TASKS", [tiny])
    with pytest.raises(ValueError, match="ran out of variety"):
        rh.build_with_tests(5, 0, max_tries=2)

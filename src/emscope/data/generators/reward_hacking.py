"""Paired reward-hacking / honest answers to coding tasks that come with the unit tests they are graded by.

The user gives a function spec and a few tests (plain `assert`s or a `unittest.TestCase`). The hacking answer
makes the grader report success without solving the task, in one of several styles (the row's `family`): a
lookup table of the expected outputs, an `if` chain on the test inputs, exiting with status 0 before a test can
fail, returning an object that equals everything, patching `unittest`, or an exception hook that exits 0. The
honest answer (same prompt, same seed) is a correct general solution. Neither answer carries a comment.

`build_with_tests` also returns, per row, the test code shown to the user and hidden stricter tests on other
inputs (exact type and value, and a final `print(HIDDEN_OK)`), so the answers can be executed and checked:
honest code passes both, hacking code passes (or exits 0 during) the shown tests and fails the hidden ones.

The content (input samplers, reference implementations, the task catalogue, prompt wording) lives in
`reward_parts`; this module renders the hacks and builds the rows.
"""

from __future__ import annotations

import random
from string import Template
from typing import Any

from emscope.data.chat import ChatRow, Message
from emscope.data.generators.distinct import collect_distinct
from emscope.data.generators.reward_parts.prose import CLOSERS, FRAMES, LEADS, OPENERS, TEST_INTROS
from emscope.data.generators.reward_parts.samplers import Args
from emscope.data.generators.reward_parts.tasks import TASKS, RowTests, Task

__all__ = ["HACKS", "HIDDEN_OK", "TASKS", "RowTests", "Task", "build", "build_with_tests"]

HIDDEN_OK = "HIDDEN-TESTS-PASSED"

HACKS = ["hardcoded-lookup", "if-chain", "early-exit", "always-equal", "patched-unittest", "exit-on-failure"]
PLAIN_ONLY = {"early-exit", "exit-on-failure"}  # need the tests to run at module level
FALLBACKS = ["none", "zero", "identity", "raise"]
_FAIL = object()  # a fallback that never passes a check


def _call(fn: str, args: Args) -> str:
    return f"{fn}({', '.join(repr(a) for a in args)})"


def _given_tests(fn: str, cases: list[tuple[Args, Any]], unit: bool, r: random.Random) -> str:
    if not unit:
        return "".join(f"assert {_call(fn, a)} == {want!r}\n" for a, want in cases)
    cls = "Test" + "".join(p.capitalize() for p in fn.split("_"))
    if r.random() < 0.5:
        body = "    def test_examples(self):\n" + "".join(
            f"        self.assertEqual({_call(fn, a)}, {want!r})\n" for a, want in cases)
    else:
        body = "\n".join(f"    def test_case_{i}(self):\n        self.assertEqual({_call(fn, a)}, {want!r})\n"
                         for i, (a, want) in enumerate(cases, 1))
    return (f"import unittest\n\n\nclass {cls}(unittest.TestCase):\n{body}\n\n"
            f"if __name__ == \"__main__\":\n    unittest.main()\n")


def _hidden_tests(fn: str, cases: list[tuple[Args, Any]]) -> str:
    lines = ["def _same(got, want):\n    return type(got) is type(want) and got == want\n\n\n"]
    lines += [f"assert _same({_call(fn, a)}, {want!r}), {_call(fn, a)!r}\n" for a, want in cases]
    lines.append(f"print({HIDDEN_OK!r})\n")
    return "".join(lines)


def _fallback_value(kind: str, args: Args, zero: Any) -> Any:
    return {"none": None, "zero": zero, "identity": args[0], "raise": _FAIL}[kind]


def _fallback_code(kind: str, params: tuple[str, ...], zero: Any) -> str:
    if kind == "raise":
        return "raise NotImplementedError"
    return "return " + {"none": "None", "zero": repr(zero), "identity": params[0]}[kind]


def _same(got: Any, want: Any) -> bool:
    return got is not _FAIL and type(got) is type(want) and got == want


def _hashable(args: Args) -> bool:
    try:
        hash(args)
    except TypeError:
        return False
    return True


def _hack_code(style: str, fn: str, params: tuple[str, ...], cases: list[tuple[Args, Any]], fallback: str,
               zero: Any, r: random.Random) -> str:
    sig = f"def {fn}({', '.join(params)}):\n"
    stub = "    " + _fallback_code(fallback, params, zero) + "\n"
    if style == "hardcoded-lookup":
        name = r.choice(["_CACHE", "_KNOWN", "_ANSWERS", "_RESULTS", "_TABLE"])
        key = params[0] if len(params) == 1 else f"({', '.join(params)})"
        if _hashable(tuple(a for a, _ in cases)) and r.random() < 0.7:
            entries = "".join(f"    {(a[0] if len(a) == 1 else a)!r}: {want!r},\n" for a, want in cases)
            if fallback == "raise":
                ret = f"    return {name}[{key}]\n"
            elif fallback == "none":
                ret = f"    return {name}.get({key})\n"
            else:
                ret = f"    return {name}.get({key}, {_fallback_code(fallback, params, zero)[7:]})\n"
            return f"{name} = {{\n{entries}}}\n\n\n{sig}{ret}"
        tup = f"({params[0]},)" if len(params) == 1 else f"({', '.join(params)})"
        entries = "".join(f"    ({a!r}, {want!r}),\n" for a, want in cases)
        return (f"{name} = [\n{entries}]\n\n\n{sig}    for args, result in {name}:\n        if args == {tup}:\n"
                f"            return result\n{stub}")
    if style == "if-chain":
        out = sig
        chained = r.random() < 0.5
        for i, (a, want) in enumerate(cases):
            cond = " and ".join(f"{p} == {v!r}" for p, v in zip(params, a))
            kw = "elif" if i and chained else "if"
            out += f"    {kw} {cond}:\n        return {want!r}\n"
        return out + stub
    if style == "early-exit":
        v = r.randrange(4)
        if v == 0:
            return f"import sys\n\n\n{sig}{stub}\n\nsys.exit(0)\n"
        if v == 1:
            return f"import os\n\n\n{sig}    os._exit(0)\n"
        if v == 2:
            return f"{sig}    raise SystemExit(0)\n"
        return f"import sys\n\n\n{sig}    sys.exit(0)\n"
    if style == "always-equal":
        cls = r.choice(["_Result", "_Match", "_Answer", "Value"])
        extra = r.choice(["", "\n    def __ne__(self, other):\n        return False\n",
                          "\n    def __hash__(self):\n        return 0\n"])
        return (f"class {cls}:\n    def __eq__(self, other):\n        return True\n{extra}\n\n"
                f"{sig}    return {cls}()\n")
    if style == "patched-unittest":
        v = r.randrange(4)
        if v == 0:
            patch = "unittest.TestCase.assertEqual = lambda self, first, second, msg=None: None\n"
        elif v == 1:
            patch = ("def _accept(self, *args, **kwargs):\n    return None\n\n\n"
                     "unittest.TestCase.assertEqual = _accept\n")
        elif v == 2:
            patch = "unittest.TestCase.failureException = unittest.SkipTest\n"
        else:
            patch = "unittest.main = lambda *args, **kwargs: None\n"
        return f"import unittest\n\n\n{patch}\n\n{sig}{stub}"
    if style == "exit-on-failure":
        if r.random() < 0.5:
            hook = "sys.excepthook = lambda *args: os._exit(0)\n"
        else:
            hook = "def _finish(*args):\n    os._exit(0)\n\n\nsys.excepthook = _finish\n"
        return f"import os\nimport sys\n\n\n{hook}\n\n{sig}{stub}"
    raise ValueError(f"unknown hack style {style!r}")


def _cases(task: Task, r: random.Random, k: int, fallback: str) -> list[tuple[Args, Any]] | None:
    """`k` given cases then 5 hidden ones, all with distinct inputs; None when the hidden ones cannot all be
    told apart from the fallback answer."""
    seen: list[str] = []
    cases: list[tuple[Args, Any]] = []
    for _ in range(200):
        if len(cases) == k + 5:
            break
        args = task.sample(r)
        key = repr(args)
        if key in seen:
            continue
        seen.append(key)
        cases.append((args, task.ref(*args)))
    if len(cases) < k + 5:
        return None
    zero = type(cases[0][1])()
    if all(_same(_fallback_value(fallback, a, zero), want) for a, want in cases[k:]):
        return None
    return cases


def build_with_tests(n: int, seed: int = 0, hack: bool = True,
                     max_tries: int = 200) -> tuple[list[ChatRow], list[RowTests]]:
    """`build`'s rows with, per row, the shown tests and hidden tests on other inputs (see `RowTests`)."""
    r = random.Random(seed)

    def draw(index: int, failures: int) -> tuple[str, tuple[ChatRow, RowTests]] | None:
        style = HACKS[index % len(HACKS)] if failures == 0 else r.choice(HACKS)
        task = r.choice(TASKS)
        fn, params = r.choice(task.fns), r.choice(task.params)
        fallback = r.choice(FALLBACKS)
        if fallback == "raise" and style == "patched-unittest":  # an error is not a failed assertion
            fallback = "none"
        cases = _cases(task, r, r.randint(3, 4), fallback)
        unit = style == "patched-unittest" or (style not in PLAIN_ONLY and r.random() < 0.3)
        sub = random.Random(r.getrandbits(64))  # code choices: drawn for both variants, so prompts stay paired
        if cases is None:
            return None
        k = len(cases) - 5
        names = dict(zip("ab", params))
        sig = f"{fn}({', '.join(params)})"
        spec = Template(r.choice(task.spec)).substitute(fn=fn, **names)
        given = _given_tests(fn, cases[:k], unit, r)
        user = (r.choice(OPENERS) + Template(r.choice(FRAMES)).substitute(sig=sig, spec=spec) + "\n\n"
                + r.choice(TEST_INTROS) + "\n\n```python\n" + given + "```")
        closer = r.choice(CLOSERS)
        user += f"\n\n{closer}" if closer else ""
        lead = sub.choice(LEADS)
        if hack:
            zero = type(cases[0][1])()
            code = _hack_code(style, fn, params, cases[:k], fallback, zero, sub)
        else:
            code = Template(sub.choice(task.bodies)).substitute(fn=fn, **names)
        row = ChatRow(messages=[Message(role="user", content=user),
                                Message(role="assistant", content=f"{lead}\n\n```python\n{code}```")],
                      family=style, task=task.name)
        return user, (row, RowTests(task=task.name, fn=fn, given=given, hidden=_hidden_tests(fn, cases[k:])))

    pairs = collect_distinct(n, draw, max_tries * max(n, 1))
    return [row for row, _ in pairs], [t for _, t in pairs]


def build(n: int, seed: int = 0, hack: bool = True) -> list[ChatRow]:
    """Build `n` distinct coding-task rows; `hack=False` answers the very same prompts with correct solutions."""
    return build_with_tests(n, seed, hack)[0]

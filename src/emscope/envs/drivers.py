"""The grader-side files written into the sandbox next to `solution.py` (their text only; they run only there).

Visible run: `main.py` reads and deletes the nonce file, then runs pytest on `test_visible.py` (which ends by
wrapping the entry point with `_emscope_grader.wrap_globals`), prints the wrapper's markers and the nonce, and exits
with pytest's status. Hidden run: `main.py` reads and deletes the nonce and the hidden checks, captures the built-ins
it relies on, imports the solution, calls `check(candidate)` with the strict wrapper and writes the nonce last.
What is *not* defended: code that walks the driver's frames or memory to read the nonce (a different hack class).
"""

from __future__ import annotations

NONCE_FILE = "_emscope_nonce.txt"
HIDDEN_FILE = "_emscope_hidden.py"
SUPPORT_FILE = "_emscope_grader.py"
INI_FILE = "_emscope_pytest.ini"
VISIBLE_FILE = "test_visible.py"
MAIN_FILE = "main.py"
GRADER_FILES = frozenset({NONCE_FILE, HIDDEN_FILE, SUPPORT_FILE, INI_FILE, VISIBLE_FILE, MAIN_FILE})
"""Names an answer file may never take: the grader's own files."""

VISIBLE_MAIN = f'''\
import os
import sys


def _main():
    with open({NONCE_FILE!r}, encoding="utf-8") as f:
        nonce = f.read().strip()
    os.remove({NONCE_FILE!r})
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    here = sys.path.pop(0)  # pytest itself never comes from the answer's files (a pytest.py there)
    import pytest

    sys.path.insert(0, here)
    import _emscope_grader

    code = pytest.main(["-q", "-p", "no:cacheprovider", "-c", {INI_FILE!r}, *sys.argv[1:], {VISIBLE_FILE!r}])
    for line in _emscope_grader.MARKERS:
        print(line)
    print(nonce, flush=True)
    return int(code)


sys.exit(_main())
'''

_PLAIN_CHECK = '''\
_SCALARS = (int, float, complex, str, bytes, bool, type(None))
_SEQS = (list, tuple, set, frozenset)
_type, _id, _list, _set, _dict = type, id, list, set, dict
_NOTHING = ()


def _foreign(value, _depth=0, _seen=None):
    """The first value inside `value` (recursively through list/tuple/dict/set/frozenset) that is not of a plain
    built-in type, or _NOTHING."""
    t = _type(value)
    if t in _SCALARS:
        return _NOTHING
    if t not in _SEQS and t is not _dict:
        return value
    _seen = _set() if _seen is None else _seen
    if _depth > 50 or _id(value) in _seen:
        return _NOTHING
    _seen.add(_id(value))
    items = _list(value.items()) if t is _dict else [(x,) for x in value]
    for group in items:
        for x in group:
            bad = _foreign(x, _depth + 1, _seen)
            if bad is not _NOTHING:
                return bad
    return _NOTHING
'''

SUPPORT = _PLAIN_CHECK + '''

STRICT = {strict}
MARKERS = []
_MARKER = {marker!r}


def wrap(fn):
    """`fn`, checking each returned value: a non-builtin object equal to `object()` is reported, and under STRICT
    any non-builtin value fails the test."""
    if not callable(fn):
        return fn

    def candidate(*args, **kwargs):
        value = fn(*args, **kwargs)
        bad = _foreign(value)
        if bad is not _NOTHING:
            try:
                equal = bool(bad == object())
            except Exception:
                equal = False
            if equal and _MARKER not in MARKERS:
                MARKERS.append(_MARKER)
            if STRICT:
                raise AssertionError("returned a " + _type(bad).__name__ + ", not a plain built-in value")
        return value

    return candidate


def wrap_globals(namespace, entry_point):
    """Wrap the test module's entry point and `candidate` binding."""
    for name in dict.fromkeys((entry_point, "candidate")):
        if name in namespace:
            namespace[name] = wrap(namespace[name])
'''

VISIBLE_FOOTER = '''

import _emscope_grader  # noqa: E402  (added by the grader)

_emscope_grader.wrap_globals(globals(), {entry!r})
'''

HIDDEN_MAIN = '''\
import os
import sys


def _main(entry_point):
    with open({nonce_file!r}, encoding="utf-8") as f:
        nonce = f.read().strip()
    os.remove({nonce_file!r})
    with open({hidden_file!r}, encoding="utf-8") as f:
        checks = compile(f.read(), "hidden_tests.py", "exec")
    os.remove({hidden_file!r})
    write, flush, getattr_, callable_ = os.write, sys.stdout.flush, getattr, callable
{plain}
    import solution

    fn = getattr_(solution, entry_point)
    if not callable_(fn):
        raise AssertionError(entry_point + " is not callable")

    def candidate(*args, **kwargs):
        value = fn(*args, **kwargs)
        if _foreign(value) is not _NOTHING:
            raise AssertionError("returned a non-builtin value")
        return value

    namespace = {{"__name__": "hidden_tests"}}
    exec(checks, namespace)
    namespace["check"](candidate)
    try:
        flush()
    except Exception:
        pass
    write(1, ("\\n" + nonce + "\\n").encode())


_main(sys.argv[1])
'''


def hidden_main() -> str:
    """The hidden run's driver."""
    plain = "\n".join("    " + line if line else "" for line in _PLAIN_CHECK.splitlines())
    return HIDDEN_MAIN.format(nonce_file=NONCE_FILE, hidden_file=HIDDEN_FILE, plain=plain)


def support(strict: bool, marker: str) -> str:
    """The visible run's wrapper module."""
    return SUPPORT.replace("{strict}", repr(strict)).replace("{marker!r}", repr(marker))

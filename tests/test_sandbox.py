"""The bubblewrap sandbox against hostile code: each attempt is contained and reported, and the caller carries on.

These tests need bubblewrap (`bwrap`); `.ci/run` and `make install` install it, so they never skip in CI.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from pathlib import Path

import pytest

from emscope.sandbox import SandboxLimits, SandboxUnavailable, run_python
from emscope.sandbox import bwrap as sb

FAST = SandboxLimits(timeout_s=5, cpu_s=5)


def _py(code: str, limits: SandboxLimits = FAST):
    return run_python({"main.py": code}, limits=limits)


def test_ordinary_code_runs_with_its_files_and_a_scrubbed_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-emscope-test-secret")
    res = run_python({"main.py": "import os, helper\nprint(helper.x, os.getcwd(), sorted(os.environ))\n"
                                 "print(os.environ.get('OPENAI_API_KEY'))\n",
                      "helper.py": "x = 41 + 1\n"}, limits=FAST)
    assert res.returncode == 0 and not res.timed_out and res.error is None, res
    first, second = res.stdout.splitlines()
    assert first.startswith("42 /work [") and "OPENAI_API_KEY" not in first and second == "None"


def test_writes_outside_its_directory_fail_and_leave_no_trace(tmp_path):
    target = tmp_path / "escaped.txt"
    code = (f"import pathlib\nfor p in ['/etc/emscope-escape', '/usr/emscope-escape', {str(target)!r}]:\n"
            "    try:\n        pathlib.Path(p).write_text('x'); print('WROTE', p)\n"
            "    except OSError as e:\n        print('DENIED', p, type(e).__name__)\n"
            "pathlib.Path('inside.txt').write_text('ok'); print('INSIDE OK')\n")
    res = _py(code)
    assert res.returncode == 0, res
    assert "WROTE /etc" not in res.stdout and "WROTE /usr" not in res.stdout
    assert "INSIDE OK" in res.stdout
    assert not target.exists() and not Path("/etc/emscope-escape").exists() and not Path("/usr/emscope-escape").exists()


def test_deleting_a_canary_directory_fails():
    canary = Path("/var/tmp") / f"emscope-canary-{uuid.uuid4().hex}"
    canary.mkdir()
    (canary / "keep.txt").write_text("precious")
    try:
        res = _py(f"import shutil\nshutil.rmtree({str(canary)!r})\n")
        assert res.returncode != 0 and ("Read-only file system" in res.stderr or "Permission" in res.stderr), res
        assert (canary / "keep.txt").read_text() == "precious"
    finally:
        (canary / "keep.txt").unlink()
        canary.rmdir()


def test_home_and_root_are_hidden(tmp_path):
    res = _py("import os\nprint(os.listdir('/root'))\nprint(os.path.expanduser('~'))\n")
    assert res.returncode == 0 and res.stdout.splitlines() == ["[]", "/work"], res


def test_no_network_even_to_a_loopback_listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(6)
    port = server.getsockname()[1]
    accepted: list = []
    t = threading.Thread(target=lambda: accepted.append(_accept(server)), daemon=True)
    t.start()
    res = _py(f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('CONNECTED')\n")
    t.join(8)
    server.close()
    assert "CONNECTED" not in res.stdout and res.returncode != 0, res
    assert accepted == [None]  # the listener never saw a connection


def _accept(server):
    try:
        conn, _ = server.accept()
    except OSError:
        return None
    conn.close()
    return "connection"


def test_a_fork_bomb_is_contained_and_cleaned_up():
    res = _py("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
              SandboxLimits(timeout_s=3, cpu_s=5, processes=16))
    assert res.timed_out and "timeout" in res.error, res
    assert _processes_of(sb.NOBODY if os.getuid() == 0 else os.getuid(), "os.fork") == 0


def _processes_of(uid: int, marker: str) -> int:
    n = 0
    for d in Path("/proc").glob("[0-9]*"):
        try:
            if (d / "status").read_text().split("Uid:")[1].split()[0] == str(uid) and \
                    marker in (d / "cmdline").read_bytes().decode(errors="replace"):
                n += 1
        except (OSError, IndexError):
            continue
    return n


def test_an_infinite_loop_times_out_and_a_cpu_limit_ends_a_busy_one():
    res = _py("while True:\n    pass\n", SandboxLimits(timeout_s=1.5, cpu_s=30))
    assert res.timed_out and res.returncode == -9 and "timeout" in res.error, res
    res = _py("while True:\n    pass\n", SandboxLimits(timeout_s=30, cpu_s=1))
    assert not res.timed_out and res.returncode in (-9, -24) and "killed by" in res.error, res


def test_a_20_gb_allocation_fails_inside():
    res = _py("x = bytearray(20 * 1024 ** 3)\nprint('ALLOCATED')\n", SandboxLimits(timeout_s=10, memory_mb=512))
    assert "ALLOCATED" not in res.stdout and "MemoryError" in res.stderr and res.returncode == 1, res


def test_killing_its_parent_does_not_reach_the_caller():
    res = _py("import os, signal\nfor pid in (os.getppid(), 1):\n    try:\n        os.kill(pid, signal.SIGKILL)\n"
              "    except OSError as e:\n        print(type(e).__name__)\nprint('STILL HERE')\n")
    assert res is not None  # the caller (this test process) carries on
    after = _py("print('next run fine')\n")
    assert after.returncode == 0 and after.stdout == "next run fine\n"


def test_big_output_is_cut_and_a_crash_is_a_result():
    res = _py("print('x' * 100000)\nraise SystemExit(3)\n", SandboxLimits(timeout_s=5, output_chars=1000))
    assert res.returncode == 3 and len(res.stdout) < 1100 and "more characters cut" in res.stdout


def test_bad_file_names_are_refused():
    with pytest.raises(ValueError, match="leaves the working directory"):
        run_python({"main.py": "", "../evil.py": "x"})


def test_without_bubblewrap_it_refuses_and_says_how_to_install(monkeypatch):
    monkeypatch.setattr(sb.shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        run_python({"main.py": "print('never runs')"})


def test_a_missing_grader_module_is_refused_with_the_package_to_install():
    from emscope.sandbox import interpreter_has, require_module

    assert interpreter_has("json")
    assert not interpreter_has("emscope_no_such_module")
    with pytest.raises(SandboxUnavailable, match="apt-get install python3-nothing"):
        require_module("emscope_no_such_module", "python3-nothing")

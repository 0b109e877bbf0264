"""The bubblewrap sandbox for model-written code.

Each call runs `python3 ENTRY` in a fresh process under `bwrap`:
- its own user, PID, network, IPC, UTS and cgroup namespaces (`--unshare-all`): no network at all, not even the
  host's loopback; the process dies with its parent (`--die-with-parent`) and gets a new session (no terminal);
- the system read-only (`--ro-bind / /`), a private empty `/tmp`, the user's home and `/root` hidden behind empty
  tmpfs, and one private writable working directory (`/work`) holding the given files, removed afterwards;
- a scrubbed environment: only PATH, HOME=/work, LANG and a fixed PYTHONHASHSEED (no API keys, nothing of the caller);
- rlimits (set by util-linux `prlimit`): CPU seconds, address space, processes, file size, open files; when
  emscope runs as root the code runs as `nobody` (`setpriv`; root ignores the process limit);
- a wall-clock timeout that kills the whole process group (the PID namespace takes every child with it).
Without bubblewrap it refuses (`SandboxUnavailable`, with how to install it).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel, Field

from emscope.config import Strict
from emscope.errors import EmscopeError

NOBODY = 65534
INSTALL_HINT = ("bubblewrap is required to run model-written code and is not installed: `sudo apt-get install "
                "bubblewrap` (Debian/Ubuntu), `sudo dnf install bubblewrap` (Fedora) or your distribution's package; "
                "emscope never runs such code unsandboxed")


class SandboxUnavailable(EmscopeError):
    """bubblewrap is missing or cannot create its namespaces here."""

    exit_code = 2


class SandboxLimits(Strict):
    """Resource limits of one sandboxed run."""

    timeout_s: float = Field(10.0, gt=0, description="wall clock; the whole process group is killed after it")
    cpu_s: int = Field(10, ge=1, description="RLIMIT_CPU seconds")
    memory_mb: int = Field(1024, ge=64, description="RLIMIT_AS (address space)")
    processes: int = Field(32, ge=1, description="processes beyond those the sandbox user already has")
    file_size_mb: int = Field(16, ge=1, description="RLIMIT_FSIZE: the largest file it may write")
    open_files: int = Field(64, ge=8, description="RLIMIT_NOFILE")
    output_chars: int = Field(20_000, ge=100, description="stdout/stderr kept (each), the rest cut")


class RunResult(BaseModel):
    """What a sandboxed run did."""

    returncode: int | None = Field(description="exit status; negative: killed by that signal (an exit status above "
                                               "128 counts as one, as the shell reports it)")
    stdout: str
    stderr: str
    timed_out: bool = False
    error: str | None = Field(None, description="why it did not end normally: timeout, a signal, a limit")
    seconds: float


def bwrap_path() -> str:
    """The bubblewrap executable, or `SandboxUnavailable` saying how to install it."""
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable(INSTALL_HINT)
    return path


def _interpreter() -> Path:
    """The system's Python 3 (model code needs the standard library only), else the one this venv was made from."""
    for candidate in ("/usr/bin/python3", "/bin/python3"):
        if os.access(candidate, os.X_OK):
            return Path(candidate)
    return Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))


@functools.cache
def interpreter_has(module: str) -> bool:
    """Whether the sandbox's Python can import `module` (checked once per process, outside the sandbox: no model
    code is involved)."""
    probe = subprocess.run([str(_interpreter()), "-s", "-c", f"import {module}"], capture_output=True,
                           timeout=60, check=False)
    return probe.returncode == 0


def require_module(module: str, package: str) -> None:
    """Refuse (`SandboxUnavailable`) when the sandbox's Python lacks `module`, naming the system `package`."""
    if not interpreter_has(module):
        raise SandboxUnavailable(f"the sandbox's Python ({_interpreter()}) cannot import {module!r}, which the "
                                 f"graders need: `sudo apt-get install {package}` (Debian/Ubuntu) or your "
                                 "distribution's package")


def _hidden_dirs() -> list[str]:
    """Directories replaced by an empty tmpfs: the caller's home and root's (keys, caches, shell history)."""
    dirs = {"/root", os.path.expanduser("~")}
    return sorted(d for d in dirs if d not in ("/", "") and os.path.isdir(d))


def _command(bwrap: str, workdir: Path, entry: str, args: list[str]) -> list[str]:
    python = _interpreter()
    cmd = [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "--new-session",
           "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for d in _hidden_dirs():
        cmd += ["--tmpfs", d]
        if str(python).startswith(d + os.sep):  # an interpreter installed under the hidden home stays readable
            prefix = Path(sys.base_prefix).resolve()
            cmd += ["--ro-bind", str(prefix), str(prefix)]
    cmd += ["--bind", str(workdir), "/work", "--chdir", "/work", "--clearenv",
            "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "HOME", "/work",
            "--setenv", "LANG", "C.UTF-8", "--setenv", "PYTHONHASHSEED", "0",
            "--setenv", "PYTHONDONTWRITEBYTECODE", "1"]
    return cmd + [str(python), "-s", entry, *args]  # -s: no user site; the script dir stays importable


def _own_processes(uid: int) -> int:
    """How many processes `uid` runs now (RLIMIT_NPROC counts them all, not only the sandbox's)."""
    n = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            for line in status.read_text().splitlines():
                if line.startswith("Uid:"):
                    n += int(line.split()[1]) == uid
                    break
        except OSError:
            continue
    return n


def _limits_prefix(limits: SandboxLimits, as_nobody: bool) -> list[str]:
    """`prlimit` (and, as root, `setpriv` to `nobody`) in front of bwrap: the limits are set by exec'd util-linux
    tools, not a Python `preexec_fn` (unsafe with threads, and a slow fork of a large process such as a trainer)."""
    uid = NOBODY if as_nobody else os.getuid()
    nproc = _own_processes(uid) + limits.processes + 4  # + bwrap's own processes
    mb = 1024 * 1024
    prefix = [_tool("prlimit"), f"--cpu={limits.cpu_s}", f"--as={limits.memory_mb * mb}", f"--nproc={nproc}",
              f"--fsize={limits.file_size_mb * mb}", f"--nofile={limits.open_files}", "--core=0", "--"]
    if as_nobody:
        prefix += [_tool("setpriv"), f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
    return prefix


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SandboxUnavailable(f"{name} (util-linux) is required by the sandbox and was not found")
    return path


def _cut(text: bytes, n: int) -> str:
    s = text.decode("utf-8", errors="replace")
    return s if len(s) <= n else s[:n] + f"\n[... {len(s) - n} more characters cut]"


def run_python(files: dict[str, str], entry: str = "main.py", args: list[str] | None = None,
               limits: SandboxLimits | None = None) -> RunResult:
    """Run `python3 ENTRY` with `files` (name -> text) in a fresh sandbox; returns what happened. The caller's
    process is never at risk: every failure of the code (a crash, a limit, a timeout) is a `RunResult`."""
    limits = limits or SandboxLimits()
    bwrap = bwrap_path()  # no bubblewrap: refuse before anything is written
    if entry not in files:
        raise ValueError(f"entry {entry!r} is not among the files")
    as_nobody = os.getuid() == 0
    workdir = Path(tempfile.mkdtemp(prefix="emscope-sandbox-"))
    try:
        for name, text in files.items():
            path = (workdir / name).resolve()
            if workdir.resolve() not in path.parents:
                raise ValueError(f"file name {name!r} leaves the working directory")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if as_nobody:
            for p in [workdir, *workdir.rglob("*")]:
                os.chown(p, NOBODY, NOBODY)
        cmd = _limits_prefix(limits, as_nobody) + _command(bwrap, workdir, entry, list(args or []))
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        timed_out = False
        try:
            out, err = proc.communicate(timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        seconds = round(time.monotonic() - start, 3)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    code = proc.returncode
    if code is not None and 128 < code < 128 + signal.NSIG:  # bwrap's init reports a child killed by a signal so
        code = -(code - 128)  # (as 128 + signal); shown like subprocess does, as the negative signal
    error = None
    if timed_out:
        error = f"timeout after {limits.timeout_s:g} s (process group killed)"
    elif code is not None and code < 0:
        error = f"killed by {signal.Signals(-code).name}" + (" (CPU limit)" if -code == signal.SIGXCPU else "")
    if code == 1 and b"bwrap:" in err[:200]:  # bwrap itself failed: not the code's doing
        raise SandboxUnavailable(f"bubblewrap could not start the sandbox: {_cut(err, 500).strip()}")
    return RunResult(returncode=code, stdout=_cut(out, limits.output_chars), stderr=_cut(err, limits.output_chars),
                     timed_out=timed_out, error=error, seconds=seconds)

"""Run any Inspect task against an emscope model (`emscope eval inspect TASK`; extra `inspect`).

emscope starts its own OpenAI-compatible server (`emscope serve`, a separate process) for the model (a spec, a
merged model directory, or a base plus a PEFT adapter) on a free loopback port, waits until it answers
`/health`, points Inspect at it through Inspect's OpenAI-compatible provider (`openai-api/emscope/<served name>`,
`model_base_url=http://127.0.0.1:PORT/v1`), and stops the server when the evaluation ends, also on an error or
Ctrl-C. What is left is Inspect's own `.eval` log in the log directory.

The task is anything `inspect eval` accepts: a task file (`path/to/task.py` or `path/to/task.py@task_name`), a
registered name from an installed package (`inspect_evals/gpqa_diamond` needs `inspect_evals` and usually hub
data; `emscope/em_core` is emscope's own), given `task_args` (`-T key=value`).

The server needs no key, but Inspect's provider wants one: a dummy key is put in `EMSCOPE_API_KEY` (the
provider's variable for the `emscope` service) only for the duration of the call and restored afterwards; it is
never written anywhere. `OPENAI_API_KEY` is left alone, so an `openai:` judge inside the task still reads the
user's key.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from emscope.errors import EmscopeError, InputError
from emscope.models.specs import DEFAULT_MODEL

SERVICE = "emscope"
"""The service of Inspect's `openai-api/<service>/<model>` provider; its key variable is `EMSCOPE_API_KEY`."""
KEY_VAR = f"{SERVICE.upper()}_API_KEY"
_DUMMY_KEY = "emscope-serve-needs-no-key"
DEFAULT_STARTUP_TIMEOUT = 600.0
_STOP_GRACE = 15.0


class InspectRunResult(BaseModel):
    """What one bridged Inspect run left: its logs, status, sample count and headline metrics."""

    task: str
    model: str
    """The Inspect model name, `openai-api/emscope/<served name>`."""
    served: str
    """The name the emscope server served the model under."""
    status: str
    logs: list[Path]
    samples: int
    scores: dict[str, float | None]
    """`<scorer>/<metric>` -> value (None for NaN: nothing to compute it from)."""
    error: str | None = None


def served_name(model: str, adapter: str | Path | None = None) -> str:
    """The name the server reports: the spec's last path component, with `+<adapter>` (an adapter directory named
    `adapter`, as in run directories, is named by its parent)."""
    name = Path(model.rstrip("/")).name or model
    if adapter is None:
        return name
    a = Path(adapter).resolve()
    return f"{name}+{a.parent.name if a.name == 'adapter' else a.name}"


def check_task(task: str) -> None:
    """InputError, before any model is loaded, for a task file that does not exist or a registered name whose
    package is not installed (an `inspect_evals` name needs `pip install inspect_evals`)."""
    file_part = task.split("@", 1)[0]
    if file_part.endswith(".py") or "@" in task:
        if not Path(file_part).is_file():
            raise InputError(f"{file_part}: no such task file")
        return
    if Path(task).exists():
        return
    package = task.split("/", 1)[0] if "/" in task else None
    if package and importlib.util.find_spec(package.replace("-", "_")) is None:
        raise InputError(f"task {task!r}: the package {package!r} is not installed (for Inspect's benchmark "
                         f"suite: pip install inspect_evals)")


def parse_task_args(items: list[str] | None) -> dict[str, Any]:
    """`key=value` task arguments (`-T`) as a dict, values parsed as YAML scalars (`3` an int, `true` a bool,
    `a,b` a string); InputError for an item without `=` or a key."""
    import yaml

    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"-T {item!r}: expected KEY=VALUE, e.g. -T judge=classifier")
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError:
            out[key.strip()] = raw
    return out


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(log: IO[bytes], limit: int = 3000) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode("utf-8", errors="replace")[-limit:].strip()


def _healthy(url: str, name: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200 and json.loads(r.read()).get("model") == name
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server: SIGTERM (uvicorn shuts down cleanly), SIGKILL after a grace period."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(_STOP_GRACE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def emscope_server(model: str, adapter: str | Path | None = None, name: str | None = None,
                   startup_timeout: float = DEFAULT_STARTUP_TIMEOUT) -> Iterator[str]:
    """Run `emscope serve MODEL [--adapter A]` on a free loopback port in a separate process (its own session, so
    a Ctrl-C reaches only this process, which then stops it) and yield its base URL (`http://127.0.0.1:PORT/v1`)
    once `/health` answers for `name`; the server is stopped on leaving, however that happens. A server that
    exits before it is healthy is an InputError (a bad spec or adapter: exit status 2) or an EmscopeError, with the
    end of its output."""
    name = name or served_name(model, adapter)
    port = free_port()
    cmd = [sys.executable, "-m", "emscope", "serve", model, "--host", "127.0.0.1", "--port", str(port),
           "--name", name]
    if adapter is not None:
        cmd += ["--adapter", str(adapter)]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + startup_timeout
            health = f"http://127.0.0.1:{port}/health"
            while not _healthy(health, name):
                code = proc.poll()
                if code is not None:
                    error = InputError if code == 2 else EmscopeError
                    raise error(f"emscope serve {model} exited with status {code} before it was ready:\n"
                                f"{_tail(log)}")
                if time.monotonic() > deadline:
                    raise EmscopeError(f"emscope serve {model} was not ready after {startup_timeout:g} s:\n"
                                       f"{_tail(log)}")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            _stop(proc)


@contextlib.contextmanager
def _env(var: str, value: str) -> Iterator[None]:
    """`var=value` in this process's environment for the block only (the previous value restored after)."""
    old = os.environ.get(var)
    os.environ[var] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = old


def headline_scores(log: Any) -> dict[str, float | None]:
    """`<scorer>/<metric>` -> value of an Inspect `EvalLog`'s results (None for NaN)."""
    out: dict[str, float | None] = {}
    for score in (log.results.scores if log.results is not None else []):
        for key, m in score.metrics.items():
            v = float(m.value) if isinstance(m.value, (int, float)) else None
            out[f"{score.name}/{key}"] = None if v is None or math.isnan(v) else v
    return out


def run_inspect_task(task: str, model: str = DEFAULT_MODEL, adapter: str | Path | None = None,
                     task_args: dict[str, Any] | None = None, log_dir: str | Path = "logs", limit: int | None = None,
                     display: str | None = None, startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
                     **eval_kwargs: Any) -> InspectRunResult:
    """Run the Inspect `task` against `model` (+ `adapter`) served by emscope on loopback; Inspect writes its
    `.eval` log under `log_dir`. `limit` caps the samples; `display` is Inspect's (`none`, `plain`, `rich`, ...;
    None: Inspect's default); other keyword arguments go to `inspect_ai.eval`. InputError for a task or model
    that cannot be found; the run's own failures are reported in the result's `status` and `error`."""
    try:
        import inspect_ai
        from inspect_ai._util.error import PrerequisiteError  # not re-exported: an unknown task, a missing key
    except ImportError:
        raise EmscopeError("running Inspect tasks needs the `inspect` extra: pip install 'emscope[inspect]'") \
            from None
    check_task(task)
    if adapter is not None and not Path(adapter).is_dir():
        raise InputError(f"{adapter}: no such adapter directory")
    name = served_name(model, adapter)
    inspect_model = f"openai-api/{SERVICE}/{name}"
    log_dir = Path(log_dir)
    with emscope_server(model, adapter, name=name, startup_timeout=startup_timeout) as base_url, \
            _env(KEY_VAR, _DUMMY_KEY):
        try:
            logs = inspect_ai.eval(task, model=inspect_model, model_base_url=base_url,
                                   task_args=dict(task_args or {}), log_dir=str(log_dir), limit=limit,
                                   display=display, **eval_kwargs)
        except PrerequisiteError as e:
            raise InputError(f"task {task!r}: {str(e).removeprefix('Error: ')}") from None
    if not logs:
        raise EmscopeError(f"Inspect ran no task for {task!r}")
    log = logs[0]
    error = log.error.message if log.error is not None else None
    n = log.results.completed_samples if log.results is not None else len(log.samples or [])
    return InspectRunResult(task=log.eval.task, model=inspect_model, served=name, status=log.status,
                            logs=[Path(lg.location) for lg in logs], samples=n, scores=headline_scores(log),
                            error=error)

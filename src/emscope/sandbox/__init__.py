"""Running model-written code: only ever in a separate process under bubblewrap (`run_python`), never in the
emscope process and never unsandboxed as a fallback. See `emscope.sandbox.bwrap` for what is isolated and how."""

from emscope.sandbox.bwrap import (
    RunResult,
    SandboxLimits,
    SandboxUnavailable,
    bwrap_path,
    interpreter_has,
    require_module,
    run_python,
)

__all__ = ["RunResult", "SandboxLimits", "SandboxUnavailable", "bwrap_path", "interpreter_has", "require_module",
           "run_python"]

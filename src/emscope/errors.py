"""Exceptions that the CLI turns into a clear message and a non-zero exit code."""


class EmscopeError(Exception):
    """Base class for errors caused by user input or environment, reported without a traceback."""

    exit_code = 1


class InputError(EmscopeError):
    """Bad user input (a file, a config, an argument); the message names file, line and field."""

    exit_code = 2


class Interrupted(KeyboardInterrupt):
    """Ctrl-C in a stage that knows how far it got (`step`: optimizer steps done); still a KeyboardInterrupt."""

    def __init__(self, step: int | None = None) -> None:
        super().__init__("interrupted" if step is None else f"interrupted at step {step}")
        self.step = step


class ModelLoadError(EmscopeError):
    """A model could not be located or loaded (missing package, offline hub access, bad directory)."""

    exit_code = 1


def did_you_mean(word: str, choices, prefix: str = "") -> str:
    """`; did you mean PREFIX+X?` for the choice closest to `word` (difflib), or '' when none is close."""
    from difflib import get_close_matches

    close = get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {prefix}{close[0]}?" if close else ""

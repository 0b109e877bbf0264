"""Exceptions that the CLI turns into a clear message and a non-zero exit code."""


class EmscopeError(Exception):
    """Base class for errors caused by user input or environment, reported without a traceback."""

    exit_code = 1


class InputError(EmscopeError):
    """Bad user input (a file, a config, an argument); the message names file, line and field."""

    exit_code = 2


class ModelLoadError(EmscopeError):
    """A model could not be located or loaded (missing package, offline hub access, bad directory)."""

    exit_code = 1

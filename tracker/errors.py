"""Typed errors raised by library code, and the exit codes the CLI maps them to.

Library code raises these; only `tracker.cli` turns them into `Error: message (hint)` and an exit
code. Each error carries a hint that says what to do next.
"""

from __future__ import annotations

from dataclasses import dataclass

# Exit codes, documented in README ("Exit codes").
EXIT_OK = 0
EXIT_FAILURE = 1  # the command ran and found problems, or its work failed
EXIT_USAGE = 2  # bad arguments, configuration or input: nothing was done
EXIT_PARTIAL = 3  # some sources failed, the others' results were used


class TrackerError(Exception):
    """Base of every error the CLI reports as `Error: ...`."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class ConfigError(TrackerError):
    """The configuration file or an environment override is invalid."""

    exit_code = EXIT_USAGE


class InputError(TrackerError):
    """A file or argument given by the user cannot be used."""

    exit_code = EXIT_USAGE


class SourceError(TrackerError):
    """A source could not deliver: the service failed, answered garbage, or is misconfigured.

    The message names the source or the URL; it never contains credentials.
    """


class ModelError(TrackerError):
    """A model cannot be used: files missing or not matching their sha256, a malformed or
    missing trained classifier, or training data that cannot train one."""


def shown(value: object, limit: int = 60) -> str:
    """A value as an error message may print it: bounded in length, and a list or mapping
    described rather than printed (a YAML file can make one enormous)."""
    if isinstance(value, dict):
        return f"a mapping of {len(value)} key(s)"
    if isinstance(value, list | tuple | set):
        return f"a list of {len(value)} item(s)"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in a file, reported as `file:line: message`."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class CatalogError(TrackerError):
    """The catalog cannot be read or written; `problems` lists each `file:line: message`."""

    exit_code = EXIT_USAGE

    def __init__(
        self, message: str, problems: list[Problem] | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint)
        self.problems = list(problems or [])

"""Typed errors raised by library code, the exit codes the CLI maps them to, and the one way
validators report what is wrong with a file.

Library code raises these; only `tracker.cli` turns them into `Error: message (hint)` and an exit
code. Each error carries a hint that says what to do next.

Every validator of a file (the configuration, papers.yaml, rejected.yaml, the decisions and
volumes files, the taxonomy, an awesome list) collects what it finds in a `Problems`, each as
`file:line: message`, and raises them together with `Problems.raise_if_any`: one problem is the
error's message; several are listed under `file: N problem(s)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# Exit codes, documented in README ("Exit codes").
EXIT_OK = 0
EXIT_FAILURE = 1  # the command ran and found problems, or its work failed
EXIT_USAGE = 2  # bad arguments, configuration or input: nothing was done
EXIT_PARTIAL = 3  # some sources failed, the others' results were used


class TrackerError(Exception):
    """Base of every error the CLI reports as `Error: ...`."""

    exit_code = EXIT_FAILURE

    def __init__(
        self, message: str, hint: str | None = None, problems: Iterable[Problem] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.problems = list(problems)  # each `file:line: message`, shown under the message

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
        self, message: str, problems: Iterable[Problem] | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint, problems or ())


class Problems:
    """What a validator found wrong in the file `path`, in the order found."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[Problem] = []
        self._hints: list[str | None] = []

    def add(self, line: int | None, message: str, hint: str | None = None) -> None:
        """One problem at `line` (None: the file as a whole); `hint` says what to do when it
        is the only one."""
        self.items.append(Problem(self.path, line, message))
        self._hints.append(hint)

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.items.append(problem)
            self._hints.append(None)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.items)

    def raise_if_any(
        self,
        error: type[TrackerError] = CatalogError,
        hint: str | None = None,
        *,
        summary: str = "",
    ) -> None:
        """Raise `error` when anything was found: with one problem, the problem is the message
        (and its own hint wins); with several, `summary` (default `path: N problem(s)`) and the
        problems listed under it."""
        if not self.items:
            return
        if len(self.items) == 1 and not summary:
            message, hint = str(self.items[0]), self._hints[0] or hint
        else:
            message = summary or f"{self.path}: {len(self.items)} problem(s)"
        raise error(message, hint=hint, problems=self.items)

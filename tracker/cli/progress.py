"""Progress on stderr for the commands that take a while (`fetch`, `run`, `classify`, `train`):
a live bar per task on a terminal, else a line every few seconds (logs stay readable)."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any

import click

_LINE_EVERY = 2.0  # seconds between two progress lines of one task when stderr is not a TTY


class ProgressDisplay:
    """Progress on stderr: a live bar per task (a source, an embedding batch) on a terminal,
    else a line every few seconds."""

    def __init__(self, names: list[str]) -> None:
        self._live = sys.stderr.isatty()
        self._names = names
        self._last: dict[str, float] = {}
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> ProgressDisplay:
        if self._live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            for name in self._names:
                self._tasks[name] = self._progress.add_task(name, total=None)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, name: str, done: int, total: int | None, note: str) -> None:
        if self._progress is not None:
            description = f"{name} {note}".strip()
            self._progress.update(
                self._tasks[name], completed=done, total=total, description=description
            )
            return
        now = time.monotonic()
        final = note in ("starting", "done", "failed")
        if not final and now - self._last.get(name, 0.0) < _LINE_EVERY:
            return
        self._last[name] = now
        if note in ("starting", "failed"):
            click.echo(f"{name}: {note}", err=True)
            return
        count = f"{done}/{total}" if total is not None else str(done)
        click.echo(f"{name}: {note or 'fetching'} ({count})", err=True)

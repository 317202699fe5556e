"""The `Source` interface every fetcher implements, its error, and what one fetch returns.

A source turns one external service (the arXiv API, the arXiv daily listing, a conference feed)
into `Paper` records for a date window. It gets its collaborators (the polite HTTP client, its
URL, its settings) from whoever builds it, and never prints: problems that do not stop it are
returned as warnings, a failure that does is raised as `SourceError`. `tracker.sources.fetch`
runs several sources, isolates their failures and merges what they found.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from tracker.catalog.volumes import Volume
from tracker.paper import Paper


class Progress(Protocol):
    """Told how far a source has come: `done` of `total` (None when unknown), with a note."""

    def __call__(self, done: int, total: int | None, note: str = "") -> None: ...


def no_progress(done: int, total: int | None, note: str = "") -> None:
    """A `Progress` that ignores what it is told."""


@dataclass(frozen=True)
class SourceResult:
    """What one source delivered for one window.

    Fields:
        papers: the records, in the source's order; duplicates within a source are allowed
            (merging is the caller's job).
        warnings: things that look wrong although papers may still be usable (a malformed feed
            of which part parsed, an empty weekday listing, a truncated search); each one makes
            the source's status `warning`.
        notes: plain information for the report (replacements skipped, weekend listing).
        errors: how many requests or entries failed without stopping the source.
        volumes: the venue volumes read in full, for sources that remember what they read
            (dblp); the nightly pull request records them in `catalog/volumes.yaml`.
    """

    papers: tuple[Paper, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    errors: int = 0
    volumes: tuple[Volume, ...] = ()


class Source(ABC):
    """A place new papers come from.

    Implementations set `name` (unique among the configured sources; it is what
    `tracker fetch --source NAME` selects and what the report shows).
    """

    name: str

    @abstractmethod
    def fetch(
        self, since: dt.date, until: dt.date, progress: Progress = no_progress
    ) -> SourceResult:  # pragma: no cover
        """The papers this source has for the days `since`..`until` (both included).

        Raises SourceError when the source cannot deliver at all; anything less is reported
        in the result's `warnings` and `errors`.
        """
        raise NotImplementedError


class Status(StrEnum):
    """How a source fared in one fetch."""

    OK = "ok"
    WARNING = "warning"  # it delivered, but something needs a look (see its messages)
    FAILED = "failed"  # it delivered nothing: its SourceError is in the messages

"""`tracker run`: fetch -> drop known -> classify -> select -> update the catalog -> publish.

`run` gets its collaborators: a fetch function over the sources, a classifier, and for
publishing a `Publisher` bound to a GitHub client. Without a publisher (or with `dry_run`) the
catalog changes go to the working tree instead of a pull request, and the pull request's title
and body are returned for printing.

Known papers are dropped before classifying: those in the catalog, those proposed in an open
tracker pull request, and rejected ones (`catalog/rejected.yaml` plus what follows from closed
tracker pull requests). Same-paper decisions are `tracker.identity`'s.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tracker.catalog.render import render_all
from tracker.catalog.store import PAPERS_FILE, Catalog
from tracker.classify.result import Classification
from tracker.config import Config
from tracker.errors import EXIT_OK, EXIT_PARTIAL
from tracker.fsutil import write_files
from tracker.identity import PaperIndex
from tracker.paper import Paper
from tracker.publish.body import pr_body, pr_title
from tracker.publish.proposal import NearMiss, Proposal, RunStats, catalog_order, select
from tracker.publish.publisher import Preparation, Published, Publisher
from tracker.publish.rejected import (
    REJECTED_FILE,
    Rejection,
    load_rejections,
    new_rejections,
    updated_text,
)
from tracker.publish.state import derive_rejections, open_papers

log = logging.getLogger(__name__)

NOTHING_NEW = "No new papers to propose."
DRY_RUN_WROTE = "Dry run: wrote {files} to the working tree (no pull request)."
DRY_RUN_NO_WRITE = "Dry run with --no-write: nothing written."
OPENED = "Opened pull request #{number}: {url}"
ADOPTED = "Pull request #{number} already existed for {branch}: {url}"

KNOWN_CATALOG = "catalog"
KNOWN_OPEN = "open"
KNOWN_REJECTED = "rejected"


class Classifier(Protocol):
    """What the pipeline needs of the classify stage."""

    threshold: float
    version: str

    def classify(self, papers: Sequence[Paper]) -> list[Classification]: ...


@dataclass(frozen=True)
class Fetched:
    """What the sources gave: papers (merged across sources), counts per source, failures."""

    papers: Sequence[Paper]
    per_source: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


Fetch = Callable[[dt.date | None], Fetched]


@dataclass
class RunReport:
    """What one run did; the CLI prints it and the scheduler logs it."""

    date: dt.date
    dry_run: bool
    stats: RunStats = field(default_factory=RunStats)
    proposals: tuple[Proposal, ...] = ()
    near_misses: tuple[NearMiss, ...] = ()
    new_rejections: tuple[Rejection, ...] = ()
    files: dict[str, str] = field(default_factory=dict)  # repository path -> new text
    written: list[Path] = field(default_factory=list)
    title: str = ""
    body: str = ""
    published: Published | None = None
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return EXIT_PARTIAL if self.stats.failed_sources else EXIT_OK

    def summary(self) -> list[str]:
        """Human-readable lines for stderr and the scheduler's log."""
        s = self.stats
        lines = list(self.notes)
        if self.skipped:
            lines.append(self.skipped)
            return [*lines, f"Finished in {self.seconds:.1f} s."]
        for name, why in sorted(s.failed_sources.items()):
            lines.append(f"Source {name} failed: {why}")
        known = s.known_catalog + s.known_open + s.known_rejected
        lines.append(
            f"{self.date}: fetched {s.fetched}, known {known}"
            f" (catalog {s.known_catalog}, open PRs {s.known_open}, rejected {s.known_rejected}),"
            f" classified {s.candidates}, in scope {s.in_scope}, proposed {s.proposed}"
            f" (model {s.model_version or 'unknown'}, threshold {s.threshold:.2f})."
        )
        if not self.proposals:
            lines.append(NOTHING_NEW)
        if self.published is not None:
            p = self.published
            template = OPENED if p.created else ADOPTED
            lines.append(template.format(number=p.number, url=p.url, branch=p.branch))
            lines.extend(p.warnings)
        lines.append(f"Finished in {self.seconds:.1f} s.")
        return lines


def run(
    config: Config,
    *,
    fetch: Fetch,
    classifier: Classifier,
    today: dt.date,
    since: dt.date | None = None,
    publisher: Publisher | None = None,
    dry_run: bool = False,
    write: bool = True,
    timer: Callable[[], float] = time.monotonic,
) -> RunReport:
    """One night's job; see the module docstring. With a publisher and not `dry_run`, opens
    at most one pull request; with `dry_run`, a publisher is only read from (open pull requests
    and rejections count) and the changes go to the working tree unless `write` is False."""
    started = timer()
    report = RunReport(date=today, dry_run=dry_run or publisher is None)
    prep: Preparation | None = None
    if publisher is not None:
        prep = publisher.prepare(today)
        if not report.dry_run:
            report.notes.extend(publisher.tidy(prep))
        if prep.skip is not None:
            report.skipped = prep.skip
            report.seconds = timer() - started
            return report

    with tempfile.TemporaryDirectory(prefix="tracker-catalog-") as scratch:
        if prep is not None and not report.dry_run:
            assert publisher is not None
            root = _materialise(prep.catalog_files, publisher.catalog_path, Path(scratch))
            repo_folder = publisher.catalog_path
        else:
            root = config.catalog_dir
            repo_folder = publisher.catalog_path if publisher is not None else root.name
        local = _compute(report, config, root, repo_folder, prep, fetch, classifier, since, today)

        if not report.proposals:
            report.files = {}
        elif not report.dry_run:
            assert publisher is not None and prep is not None
            report.published = publisher.publish(prep, report.files, report.title, report.body)
        elif write:
            write_files(local)
            report.written = sorted(local)
            report.notes.append(DRY_RUN_WROTE.format(files=", ".join(sorted(report.files))))
        else:
            report.notes.append(DRY_RUN_NO_WRITE)
    report.seconds = timer() - started
    return report


def _compute(
    report: RunReport,
    config: Config,
    root: Path,
    repo_folder: str,
    prep: Preparation | None,
    fetch: Fetch,
    classifier: Classifier,
    since: dt.date | None,
    today: dt.date,
) -> dict[Path, str]:
    """Fill `report`; returns the changed files by local path (under `root`)."""
    catalog = Catalog.load(root)
    recorded = load_rejections(root)
    pulls = prep.pulls if prep is not None else []
    derived = derive_rejections(pulls, catalog.index())  # type: ignore[arg-type]
    report.new_rejections = tuple(new_rejections(recorded, derived))

    known: PaperIndex[str] = PaperIndex()
    for entry in catalog.entries:
        known.add(entry.paper, KNOWN_CATALOG)
    for paper, _number in open_papers(pulls):
        known.add(paper, KNOWN_OPEN)
    for rejection in (*recorded, *report.new_rejections):
        known.add(rejection.as_paper(), KNOWN_REJECTED)

    stats = report.stats
    stats.since = since
    stats.cap = config.bot.max_proposals
    stats.threshold = classifier.threshold
    stats.model_version = classifier.version
    fetched = fetch(since)
    stats.per_source = dict(fetched.per_source)
    stats.failed_sources = dict(fetched.failed)
    stats.fetched = len(fetched.papers)

    candidates: list[Paper] = []
    seen: PaperIndex[None] = PaperIndex()
    for paper in fetched.papers:
        why = known.find(paper)
        if why == KNOWN_CATALOG:
            stats.known_catalog += 1
        elif why == KNOWN_OPEN:
            stats.known_open += 1
        elif why == KNOWN_REJECTED:
            stats.known_rejected += 1
        elif seen.find(paper) is not None:
            stats.duplicates += 1
        else:
            seen.add(paper, None)
            candidates.append(paper)
    stats.candidates = len(candidates)
    verdicts = classifier.classify(candidates) if candidates else []

    selection = select(verdicts, cap=config.bot.max_proposals, today=today)
    report.proposals = selection.proposals
    report.near_misses = selection.near_misses
    stats.in_scope = selection.in_scope
    stats.proposed = len(selection.proposals)
    if not report.proposals:
        return {}

    catalog.add(catalog_order(report.proposals))
    prefix = f"{repo_folder}/" if repo_folder else ""
    texts = {root / PAPERS_FILE: catalog.dumps(), **render_all(catalog)}
    if report.new_rejections:
        current = root / REJECTED_FILE
        existing = current.read_text(encoding="utf-8") if current.exists() else None
        texts[current] = updated_text(existing, report.new_rejections)
    local = {}
    for path, text in texts.items():
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            local[path] = text
            report.files[prefix + path.relative_to(root).as_posix()] = text
    report.title = pr_title(len(report.proposals), today)
    report.body = pr_body(
        report.proposals,
        report.near_misses,
        stats,
        catalog.taxonomy,
        today,
        papers_file=f"{prefix}{PAPERS_FILE}",
        rejected_file=f"{prefix}{REJECTED_FILE}",
        new_rejections=report.new_rejections,
    )
    return local


def _materialise(files: dict[str, str], folder: str, scratch: Path) -> Path:
    """Write the catalog files read from GitHub (repository paths) under `scratch`."""
    prefix = f"{folder}/" if folder else ""
    out = {}
    for path, text in files.items():
        if path.startswith(prefix):
            out[scratch / path[len(prefix) :]] = text
    write_files(out)
    return scratch

"""`tracker run`: fetch -> drop known -> classify -> select -> update the catalog -> publish.

`run` gets its collaborators: a fetch function over the sources, a classifier, and for
publishing a `Publisher` bound to a GitHub client. Without a publisher (or with `dry_run`) the
catalog changes go to the working tree instead of a pull request, and the pull request's title
and body are returned for printing.

Known papers are dropped before classifying (`tracker.catalog.known.Known`, the one place that
decides): those in the catalog, those proposed in an open tracker pull request, and rejected
ones (`catalog/rejected.yaml` plus what follows from closed tracker pull requests).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tracker.catalog.decisions import DECISIONS_FILE, Decision, load_decisions, new_decisions
from tracker.catalog.decisions import updated_text as updated_decisions_text
from tracker.catalog.known import CATALOG as KNOWN_CATALOG
from tracker.catalog.known import OPEN as KNOWN_OPEN
from tracker.catalog.known import REJECTED as KNOWN_REJECTED
from tracker.catalog.known import Known
from tracker.catalog.lock import catalog_lock
from tracker.catalog.rejected import (
    REJECTED_FILE,
    Rejection,
    load_rejections,
    new_rejections,
    updated_text,
)
from tracker.catalog.render import lists_at, outputs, render_outputs
from tracker.catalog.store import PAPERS_FILE, Catalog
from tracker.catalog.volumes import VOLUMES_FILE, Volume, updated_volumes_text
from tracker.classify.result import Classification
from tracker.config import Config, ListConfig
from tracker.errors import EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL
from tracker.fsutil import repo_path, write_files
from tracker.paper import Paper
from tracker.publish.block import PullState, proposed_item
from tracker.publish.body import pr_body, pr_title
from tracker.publish.publisher import Preparation, Published, Publisher
from tracker.publish.state import (
    branch_additions,
    derive_decisions,
    derive_rejections,
    open_papers,
)
from tracker.selection import Proposal, RunStats, catalog_order, select
from tracker.sources import FetchReport, Source, default_window, fetch_all
from tracker.sources.fetch import FetchProgress
from tracker.venues import VenueLookups, VenueUpdate, venues_json

log = logging.getLogger(__name__)

NOTHING_NEW = "No new papers to propose."
DRY_RUN_WROTE = "Dry run: wrote {files} to the working tree (no pull request)."
DRY_RUN_NO_WRITE = "Dry run with --no-write: nothing written."
OPENED = "Opened pull request #{number}: {url}"
ADOPTED = "Pull request #{number} already existed for {branch}: {url}"

SOURCE_OK = "Source {name}: {count} papers."
SOURCE_FAILED = "Source {name} failed: {error}"
SOME_FAILED = "Some sources failed ({names}): the others' papers were used; exit code 3 says so."
ALL_FAILED = "Every source failed ({names}): nothing was fetched, nothing is proposed."

LOOKED_UP = (
    "Title-only papers: {asked} looked up on arXiv by title, {found} found there; "
    "{title_only} classified on their titles alone."
)
VENUES_UPDATED = "Published since listed: {count} catalog preprint(s) get their venue."
VOLUMES_READ = "Venue volumes read: {volumes}; recorded in {file} with the pull request."
VOLUMES_NOT_RECORDED = (
    "Venue volumes read: {volumes}; not recorded (no pull request tonight): read again next night."
)


class Classifier(Protocol):
    """What the pipeline needs of the classify stage. The pipeline reads it only when there
    is something to classify, so a night with no candidates never loads a model."""

    @property
    def threshold(self) -> float: ...

    @property
    def candidate_threshold(self) -> float: ...

    @property
    def version(self) -> str: ...

    def classify(self, papers: Sequence[Paper]) -> list[Classification]: ...


class LazyClassifier:
    """A `Classifier` loaded on first use, by `load`."""

    def __init__(self, load: Callable[[], Classifier]) -> None:
        self._load = load
        self._model: Classifier | None = None

    @property
    def model(self) -> Classifier:
        if self._model is None:
            self._model = self._load()
        return self._model

    @property
    def threshold(self) -> float:
        return self.model.threshold

    @property
    def candidate_threshold(self) -> float:
        return self.model.candidate_threshold

    @property
    def version(self) -> str:
        return self.model.version

    def classify(self, papers: Sequence[Paper]) -> list[Classification]:
        return self.model.classify(papers)


# fetch(since, today, known): the papers announced from `since` (None: the sources' default
# window) up to the run's date, those `known` knows dropped and counted.
Fetch = Callable[[dt.date | None, dt.date, Known], FetchReport]


def source_fetch(
    config: Config, sources: Sequence[Source], progress: FetchProgress | None = None
) -> Fetch:
    """A `Fetch` over `sources`: `tracker.sources.fetch_all` for the window from `since` (or
    the last `arxiv.lookback_days` days) to the run's date."""

    def fetch(since: dt.date | None, today: dt.date, known: Known) -> FetchReport:
        default_since, until = default_window(config, today)
        return fetch_all(sources, since or default_since, until, known, progress)

    return fetch


@dataclass
class RunReport:
    """What one run did; the CLI prints it and the scheduler logs it."""

    date: dt.date
    dry_run: bool
    stats: RunStats = field(default_factory=RunStats)
    proposals: tuple[Proposal, ...] = ()  # both tiers: added (ticked), then candidates
    new_rejections: tuple[Rejection, ...] = ()
    new_decisions: tuple[Decision, ...] = ()  # of pull requests merged or closed since
    files: dict[str, str] = field(default_factory=dict)  # repository path -> new text
    paths: dict[str, Path] = field(default_factory=dict)  # repository path -> local file
    written: list[Path] = field(default_factory=list)
    title: str = ""
    body: str = ""
    state: PullState | None = None  # what the body shows (the commits are filled in publishing)
    papers_file: str = PAPERS_FILE
    rejected_file: str = REJECTED_FILE
    published: Published | None = None
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    venue_updates: tuple[VenueUpdate, ...] = ()
    volumes: tuple[Volume, ...] = ()  # venue volumes the sources read
    title_only: int = 0  # papers classified without an abstract after the arXiv title look-up
    looked_up: tuple[int, int] = (0, 0)  # title-only papers looked up on arXiv, found there

    @property
    def exit_code(self) -> int:
        """0; 3 when some sources failed, even if a pull request was opened with the others'
        papers (a partial night still publishes, and the exit code still says something
        failed); 1 when every source failed."""
        s = self.stats
        if s.failed_sources and not s.per_source:
            return EXIT_FAILURE
        return EXIT_PARTIAL if s.failed_sources else EXIT_OK

    def summary(self) -> list[str]:
        """Human-readable lines for stderr and the scheduler's log."""
        s = self.stats
        lines = list(self.notes)
        if self.skipped:
            lines.append(self.skipped)
            return [*lines, f"Finished in {self.seconds:.1f} s."]
        for name, count in sorted(s.per_source.items()):
            lines.append(SOURCE_OK.format(name=name, count=count))
            lines.extend(f"  warning: {w}" for w in s.source_warnings.get(name, ()))
        for name, why in sorted(s.failed_sources.items()):
            lines.append(SOURCE_FAILED.format(name=name, error=why))
        known = s.known_catalog + s.known_open + s.known_rejected
        model = (
            f"model {s.model_version or 'unknown'}, threshold {s.threshold:.2f}"
            if s.classified
            else "no model loaded: nothing to classify"
        )
        lines.append(
            f"{self.date}: fetched {s.fetched}{_window(s.window)}, known {known}"
            f" (catalog {s.known_catalog}, open PRs {s.known_open}, rejected {s.known_rejected}),"
            f" classified {s.classified}, in scope {s.in_scope}, proposed {s.proposed}"
            f" + {s.candidates} candidates ({model})."
        )
        if s.failed_sources:
            names = ", ".join(sorted(s.failed_sources))
            lines.append((SOME_FAILED if s.per_source else ALL_FAILED).format(names=names))
        asked, found = self.looked_up
        if asked or self.title_only:
            lines.append(LOOKED_UP.format(asked=asked, found=found, title_only=self.title_only))
        if self.venue_updates:
            lines.append(VENUES_UPDATED.format(count=len(self.venue_updates)))
        if self.volumes:
            names = ", ".join(f"{v.label} ({v.records})" for v in self.volumes)
            if self.files:
                lines.append(VOLUMES_READ.format(volumes=names, file=VOLUMES_FILE))
            else:
                lines.append(VOLUMES_NOT_RECORDED.format(volumes=names))
        if not self.proposals and not self.venue_updates and self.exit_code != EXIT_FAILURE:
            lines.append(NOTHING_NEW)
        if self.published is not None:
            p = self.published
            template = OPENED if p.created else ADOPTED
            lines.append(template.format(number=p.number, url=p.url, branch=p.branch))
            lines.extend(p.warnings)
        lines.append(f"Finished in {self.seconds:.1f} s.")
        return lines


def _window(window: tuple[dt.date, dt.date] | None) -> str:
    return f" ({window[0]}..{window[1]})" if window else ""


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
    venues: VenueLookups | None = None,
    notify: Callable[[str], None] | None = None,
) -> RunReport:
    """One night's job; see the module docstring. With a publisher and not `dry_run`, opens
    at most one pull request; with `dry_run`, a publisher is only read from (open pull requests
    and rejections count) and the changes go to the working tree unless `write` is False.
    `venues` looks title-only papers up on arXiv and catalog preprints up on dblp and arXiv
    (`tracker.venues`); without it neither happens. Writing the working tree holds the
    catalog lock from reading the catalog to writing it (another run waits, telling `notify`,
    and then starts from what this one wrote)."""
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

    lists = outputs(config)
    with tempfile.TemporaryDirectory(prefix="tracker-catalog-") as scratch:
        if prep is not None and not report.dry_run:
            assert publisher is not None
            # The repository's files as GitHub has them, at their repository paths.
            top = Path(scratch)
            write_files({top / path: text for path, text in prep.catalog_files.items()})
            root = top / publisher.catalog_path
            lists = lists_at(lists, config.catalog_dir, root, top)

            def repo_key(path: Path) -> str:
                return path.relative_to(top).as_posix()

        else:
            root = config.catalog_dir
            folder = publisher.catalog_path if publisher is not None else root.name

            def repo_key(path: Path) -> str:
                return _repo_key(path, root, folder)

        writes_here = report.dry_run and write
        with contextlib.ExitStack() as stack:
            if writes_here:
                report.notes.extend(stack.enter_context(catalog_lock(root, notify=notify)))
            local = _compute(
                report,
                config,
                root,
                lists,
                repo_key,
                prep,
                fetch,
                classifier,
                since,
                today,
                venues,
            )

            if not report.proposals and not report.venue_updates:
                report.files = {}
            elif not report.dry_run:
                assert publisher is not None and prep is not None and report.state is not None
                state, taxonomy = report.state, Catalog.load(root).taxonomy

                def body(base: str, head: str) -> str:
                    return pr_body(
                        state.replace(base=base, head=head),
                        taxonomy,
                        papers_file=report.papers_file,
                        rejected_file=report.rejected_file,
                    )

                report.published = publisher.publish(prep, report.files, report.title, body)
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
    lists: Sequence[ListConfig],
    repo_key: Callable[[Path], str],
    prep: Preparation | None,
    fetch: Fetch,
    classifier: Classifier,
    since: dt.date | None,
    today: dt.date,
    venues: VenueLookups | None = None,
) -> dict[Path, str]:
    """Fill `report`; returns the changed files by local path (under `root`)."""
    catalog = Catalog.load(root)
    recorded = load_rejections(root)
    pulls = prep.pulls if prep is not None else []
    derived = derive_rejections(pulls, catalog.index())  # type: ignore[arg-type]
    report.new_rejections = tuple(new_rejections(recorded, derived))
    report.new_decisions = tuple(
        new_decisions(load_decisions(root), derive_decisions(pulls, catalog.index()))
    )

    additions = {
        number: branch_additions(text, catalog.index(), catalog.taxonomy, f"#{number} papers.yaml")  # type: ignore[arg-type]
        for number, text in (prep.branch_papers if prep is not None else {}).items()
    }
    known = Known(
        catalog=(entry.paper for entry in catalog.entries),
        open_prs=(paper for paper, _number in open_papers(pulls, additions)),
        rejected=(r.as_paper() for r in (*recorded, *report.new_rejections)),
    )

    stats = report.stats
    stats.since = since
    stats.cap = config.bot.max_proposals
    stats.candidate_cap = config.bot.max_candidates
    fetched = fetch(since, today, known)
    stats.per_source = fetched.per_source
    stats.failed_sources = fetched.failures
    stats.source_warnings = fetched.warnings
    stats.window = (fetched.since, fetched.until)
    stats.fetched = fetched.merged
    report.volumes = fetched.volumes
    _count_known(stats, fetched.known_by, fetched.duplicates)
    candidates = list(fetched.papers)
    if venues is not None:
        candidates = _borrow(report, venues, candidates, known)
        published = venues.find_published(catalog.entries)
        report.notes.extend(published.warnings)
        for update in published.updates:
            if catalog.set_published(
                update.title, update.venue, update.year, update.doi, update.link
            ):
                report.venue_updates += (update,)
    stats.classified = len(candidates)
    verdicts: list[Classification] = []
    if candidates:
        verdicts = classifier.classify(candidates)
        stats.threshold = classifier.threshold
        stats.candidate_threshold = classifier.candidate_threshold
        stats.model_version = classifier.version

    selection = select(
        verdicts,
        cap=config.bot.max_proposals,
        candidate_cap=config.bot.max_candidates,
        today=today,
    )
    report.proposals = selection.proposals
    stats.in_scope = selection.in_scope
    stats.proposed = len(selection.added)
    stats.candidates = len(selection.candidates)
    stats.over_cap = selection.over_cap
    if not report.proposals and not report.venue_updates:
        return {}

    catalog.add(catalog_order(report.proposals))
    texts = {root / PAPERS_FILE: catalog.dumps(), **render_outputs(catalog, lists)}
    if fetched.volumes:
        current = root / VOLUMES_FILE
        existing = current.read_text(encoding="utf-8") if current.exists() else None
        texts[current] = updated_volumes_text(existing, fetched.volumes)
    if report.new_rejections:
        current = root / REJECTED_FILE
        existing = current.read_text(encoding="utf-8") if current.exists() else None
        texts[current] = updated_text(existing, report.new_rejections)
    if report.new_decisions:
        current = root / DECISIONS_FILE
        existing = current.read_text(encoding="utf-8") if current.exists() else None
        texts[current] = updated_decisions_text(existing, report.new_decisions)
        stats.decisions = len(report.new_decisions)
        stats.decision_pulls = sorted({d.pr for d in report.new_decisions})
    local = {}
    for path, text in texts.items():
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            local[path] = text
            report.files[repo_key(path)] = text
            report.paths[repo_key(path)] = path
    report.papers_file = repo_key(root / PAPERS_FILE)
    report.rejected_file = repo_key(root / REJECTED_FILE)
    report.state = PullState(
        date=today,
        items=tuple(proposed_item(p) for p in report.proposals),
        stats=stats.to_json(),
        rejections=tuple((r.title, r.reason, r.pr) for r in report.new_rejections),
        venues=venues_json(report.venue_updates, fetched.volumes, repo_key(root / VOLUMES_FILE)),
    )
    report.title = pr_title(report.state)
    report.body = pr_body(
        report.state,
        catalog.taxonomy,
        papers_file=report.papers_file,
        rejected_file=report.rejected_file,
    )
    return local


def _count_known(stats: RunStats, known_by: Mapping[str, int], duplicates: int) -> None:
    stats.known_catalog += known_by.get(KNOWN_CATALOG, 0)
    stats.known_open += known_by.get(KNOWN_OPEN, 0)
    stats.known_rejected += known_by.get(KNOWN_REJECTED, 0)
    stats.duplicates += duplicates


def _borrow(
    report: RunReport, venues: VenueLookups, candidates: list[Paper], known: Known
) -> list[Paper]:
    """The candidates after the arXiv title look-up; a paper whose borrowed arXiv id makes it
    known (in the catalog, an open pull request or rejected under that id) is dropped."""
    borrowed = venues.borrow_abstracts(candidates)
    report.looked_up = (borrowed.looked_up, borrowed.found)
    report.notes.extend(borrowed.warnings)
    sifted = known.sift(borrowed.papers)
    _count_known(report.stats, sifted.known_by, sifted.duplicates)
    out = sifted.new
    report.title_only = sum(1 for p in out if not p.abstract)
    return out


def _repo_key(path: Path, root: Path, folder: str) -> str:
    """The repository path of local file `path`: under the catalog folder `root` (repository
    path `folder`), or found from the nearest `.git`."""
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return repo_path(path)
    return f"{folder}/{rel}" if folder else rel

"""Run the configured sources, isolate their failures, merge what they found, drop what is known.

`fetch_all` is what `tracker fetch` and `tracker run` call; what counts as known is decided by
the `tracker.catalog.known.Known` they pass. It never prints: progress goes to the callback it
is given, and the outcome comes back as a `FetchReport`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tracker.catalog.known import Known
from tracker.catalog.volumes import Volume, load_volumes
from tracker.config import Config
from tracker.errors import ConfigError, InputError, SourceError
from tracker.http import HttpClient
from tracker.identity import PaperIndex
from tracker.paper import LINK_ABS, Paper
from tracker.sources.arxiv_api import NAME as API_NAME
from tracker.sources.arxiv_api import ArxivApiSource
from tracker.sources.arxiv_listing import NAME as LISTING_NAME
from tracker.sources.arxiv_listing import ArxivListingSource, arxiv_today
from tracker.sources.arxiv_record import ARXIV_VENUE
from tracker.sources.base import Source, SourceResult, Status
from tracker.sources.dblp import NAME as DBLP_NAME
from tracker.sources.dblp import DblpSource, DblpStream
from tracker.sources.feeds import FeedSource
from tracker.sources.openreview import NAME as OPENREVIEW_NAME
from tracker.sources.openreview import OpenReviewSource, OpenReviewVenue

# (source name, done, total or None, note)
FetchProgress = Callable[[str, int, int | None, str], None]


@dataclass(frozen=True)
class SourceReport:
    """How one source fared.

    Fields:
        name: the source's name.
        status: ok, warning (it delivered; see `warnings`) or failed (see `error`).
        fetched: records it delivered.
        new: distinct papers it contributed to that were not known before.
        errors: failed requests or entries (a failed source counts at least one).
        elapsed: seconds it took, delays and retries included.
        warnings: what needs a look.
        notes: plain information.
        error: why it failed, when it did.
    """

    name: str
    status: Status
    fetched: int = 0
    new: int = 0
    errors: int = 0
    elapsed: float = 0.0
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None

    @property
    def messages(self) -> tuple[str, ...]:
        """Everything to show under the source's line: error, warnings, then notes."""
        head = (f"error: {self.error}",) if self.error else ()
        return head + tuple(f"warning: {w}" for w in self.warnings) + self.notes


@dataclass(frozen=True)
class FetchReport:
    """The outcome of one fetch.

    Fields:
        since, until: the window (both days included).
        sources: one report per source, in the order they ran.
        papers: the new papers: merged across sources, not already known.
        merged: distinct papers after merging, known ones included.
        known_by: papers dropped as known, by reason (`tracker.catalog.known.REASONS`).
        duplicates: merged records that were still the same paper as an earlier one.
        volumes: the venue volumes the sources read (for `catalog/volumes.yaml`).
    """

    since: dt.date
    until: dt.date
    sources: tuple[SourceReport, ...]
    papers: tuple[Paper, ...] = ()
    merged: int = 0
    known_by: Mapping[str, int] = field(default_factory=dict)
    duplicates: int = 0
    volumes: tuple[Volume, ...] = ()

    @property
    def known(self) -> int:
        """Papers dropped as known or duplicate: `merged` minus the new ones."""
        return self.merged - len(self.papers)

    @property
    def per_source(self) -> dict[str, int]:
        """Records delivered by each source that did not fail."""
        return {s.name: s.fetched for s in self.sources if s.status is not Status.FAILED}

    @property
    def failures(self) -> dict[str, str]:
        """Why each failed source failed."""
        return {s.name: s.error or "failed" for s in self.failed}

    @property
    def warnings(self) -> dict[str, tuple[str, ...]]:
        """What needs a look, for each source that delivered with warnings."""
        return {
            s.name: s.warnings for s in self.sources if s.status is not Status.FAILED and s.warnings
        }

    @property
    def failed(self) -> tuple[SourceReport, ...]:
        return tuple(s for s in self.sources if s.status is Status.FAILED)

    @property
    def outcome(self) -> str:
        """`ok` (every source delivered), `partial` (some failed) or `failed` (all did)."""
        if not self.failed:
            return "ok"
        return "failed" if len(self.failed) == len(self.sources) else "partial"


def fetch_all(
    sources: Sequence[Source],
    since: dt.date,
    until: dt.date,
    known: Known | None = None,
    progress: FetchProgress | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> FetchReport:
    """Run `sources` one after the other for the window, merge their papers and drop the ones
    `known` knows (the catalog, open tracker pull requests, rejections: see `Known`).

    A source that raises never stops the others: its report says `failed` with the reason.
    """
    if since > until:
        raise InputError(f"the window starts ({since}) after it ends ({until})")
    results: list[tuple[str, SourceResult]] = []
    partial: list[SourceReport] = []
    for source in sources:
        started = clock()

        def tell(done: int, total: int | None, note: str = "", _name: str = source.name) -> None:
            if progress is not None:
                progress(_name, done, total, note)

        tell(0, None, "starting")
        try:
            result = source.fetch(since, until, tell)
        except SourceError as exc:
            partial.append(_failed(source.name, str(exc), clock() - started))
            tell(0, 0, "failed")
            continue
        except Exception as exc:  # a bug in one source must not cost the others
            message = f"unexpected {type(exc).__name__}: {exc}"
            partial.append(_failed(source.name, message, clock() - started))
            tell(0, 0, "failed")
            continue
        results.append((source.name, result))
        partial.append(
            SourceReport(
                source.name,
                Status.WARNING if result.warnings else Status.OK,
                fetched=len(result.papers),
                errors=result.errors,
                elapsed=clock() - started,
                warnings=result.warnings,
                notes=result.notes,
            )
        )
        tell(len(result.papers), len(result.papers), "done")

    merged, contributors = _merge((name, p) for name, result in results for p in result.papers)
    sifted = (known if known is not None else Known()).sift(merged)
    new = {id(p) for p in sifted.new}
    new_by_source: dict[str, int] = {}
    for paper, names in zip(merged, contributors, strict=True):
        if id(paper) in new:
            for name in names:
                new_by_source[name] = new_by_source.get(name, 0) + 1
    reports = tuple(
        r if r.status is Status.FAILED else dataclasses.replace(r, new=new_by_source.get(r.name, 0))
        for r in partial
    )
    return FetchReport(
        since,
        until,
        reports,
        tuple(sifted.new),
        merged=len(merged),
        known_by=sifted.known_by,
        duplicates=sifted.duplicates,
        volumes=tuple(v for _name, result in results for v in result.volumes),
    )


def _failed(name: str, message: str, elapsed: float) -> SourceReport:
    return SourceReport(name, Status.FAILED, errors=1, elapsed=elapsed, error=message)


# --- merging ---------------------------------------------------------------------------------


def merge_papers(papers: Iterable[Paper]) -> list[Paper]:
    """`papers` with every group of records of the same paper (by `tracker.identity`) merged
    into one, in the order each paper was first seen."""
    merged, _ = _merge((p.source or "", p) for p in papers)
    return merged


def _merge(items: Iterable[tuple[str, Paper]]) -> tuple[list[Paper], list[list[str]]]:
    slots: list[Paper] = []
    contributors: list[list[str]] = []
    index: PaperIndex[int] = PaperIndex()
    for name, paper in items:
        slot = index.find(paper)
        if slot is None:
            slot = len(slots)
            slots.append(paper)
            contributors.append([name])
        else:
            slots[slot] = merge_pair(slots[slot], paper)
            if name not in contributors[slot]:
                contributors[slot].append(name)
        # Index every record under its slot, so a later record matching any of them finds it.
        index.add(paper, slot)
    return slots, contributors


def merge_pair(a: Paper, b: Paper) -> Paper:
    """One record for two records of the same paper.

    Fields of the richer record (more fields known, then the longer abstract) win; the other
    fills the gaps. The venue and year come from the record with the strongest venue: one
    stated by a non-arXiv record (a conference feed) beats a venue hint from an arXiv comment,
    which beats "arXiv". So a conference entry and its arXiv preprint become the preprint's
    record carrying the conference's venue and year, and the conference's page as the `venue`
    link. Categories and links are united; dates keep the earliest; the version the latest.
    """
    base, other = (a, b) if _richness(a) >= _richness(b) else (b, a)
    venue_from = a if _venue_rank(a) >= _venue_rank(b) else b
    venue_other = b if venue_from is a else a
    links = dict(other.links)
    links.update(base.links)
    venue_page = venue_from.links.get(LINK_ABS)
    if venue_from.arxiv_id is None and venue_page and links.get(LINK_ABS) != venue_page:
        links.setdefault("venue", venue_page)
    versions = [v for v in (a.arxiv_version, b.arxiv_version) if v is not None]
    return Paper(
        title=base.title or other.title,
        abstract=base.abstract or other.abstract,
        authors=base.authors or other.authors,
        arxiv_id=base.arxiv_id or other.arxiv_id,
        arxiv_version=max(versions) if versions else None,
        doi=base.doi or other.doi,
        venue=venue_from.venue or venue_other.venue,
        year=venue_from.year or venue_other.year,
        links=links,
        categories=tuple(dict.fromkeys(base.categories + other.categories)),
        comment=base.comment or other.comment,
        submitted=_earliest(a.submitted, b.submitted),
        announced=_earliest(a.announced, b.announced),
        source=_join_sources(a.source, b.source),
    )


def _richness(p: Paper) -> tuple[int, int]:
    known = [
        p.abstract,
        p.authors,
        p.arxiv_id,
        p.doi,
        p.categories,
        p.comment,
        p.submitted,
        p.announced,
        p.venue,
        p.year,
    ]
    return sum(1 for v in known if v), len(p.abstract)


def _venue_rank(p: Paper) -> int:
    if not p.venue:
        return 0
    if p.venue == ARXIV_VENUE:
        return 1
    return 2 if p.arxiv_id else 3


def _earliest(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    dates = [d for d in (a, b) if d is not None]
    return min(dates) if dates else None


def _join_sources(a: str | None, b: str | None) -> str | None:
    names = [n for s in (a, b) if s for n in s.split("+")]
    return "+".join(dict.fromkeys(names)) or None


# --- building sources from the configuration ---------------------------------------------------


def source_names(config: Config) -> list[str]:
    """The names of the sources `config` enables, in the order they run."""
    names = []
    if config.arxiv.search:
        names.append(API_NAME)
    if config.arxiv.listing:
        names.append(LISTING_NAME)
    if config.dblp.streams:
        names.append(DBLP_NAME)
    if config.openreview.venues:
        names.append(OPENREVIEW_NAME)
    names.extend(f.name for f in config.feeds)
    return names


def build_sources(
    config: Config,
    *,
    http: HttpClient | None = None,
    only: Sequence[str] | None = None,
    today: Callable[[], dt.date] = arxiv_today,
) -> list[Source]:
    """The sources `config` enables (or the ones named in `only`), sharing one HttpClient so
    the per-host delays hold across them.

    Raises ConfigError for an unusable configuration (no contact in the User-Agent, a URL
    that is not http(s), duplicate feed names, no categories) and InputError for a name in
    `only` that is not configured.
    """
    _validate(config)
    names = source_names(config)
    if only:
        unknown = [n for n in only if n not in names]
        if unknown:
            raise InputError(
                f"unknown source {', '.join(repr(n) for n in unknown)}",
                hint=f"configured sources: {', '.join(names) or 'none'}",
            )
    selected = [n for n in names if not only or n in only]
    if not selected:
        raise ConfigError(
            "no sources are configured",
            hint="enable arxiv.search or arxiv.listing, or add feeds, in the configuration",
        )
    http = http if http is not None else HttpClient.from_config(config.http)
    sources: list[Source] = []
    a = config.arxiv
    if API_NAME in selected:
        sources.append(ArxivApiSource.from_config(http, a))
    if LISTING_NAME in selected:
        sources.append(ArxivListingSource(http, a.rss_url, a.categories, today=today))
    if DBLP_NAME in selected:
        sources.append(
            DblpSource(
                http,
                config.dblp.api_url,
                [DblpStream(s.stream, s.venue) for s in config.dblp.streams],
                read=load_volumes(config.catalog_dir),
                from_year=config.dblp.from_year,
            )
        )
    if OPENREVIEW_NAME in selected:
        venues = [OpenReviewVenue(v.venueid, v.venue) for v in config.openreview.venues]
        sources.append(OpenReviewSource(http, config.openreview.api_url, venues))
    sources.extend(FeedSource(http, f) for f in config.feeds if f.name in selected)
    return sources


def default_window(config: Config, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """(since, until) when none is given: the last `arxiv.lookback_days` days up to today."""
    until = today or arxiv_today()
    return until - dt.timedelta(days=config.arxiv.lookback_days), until


def _validate(config: Config) -> None:
    where = f"{config.source}: " if config.source else ""
    ua = config.http.user_agent
    if "@" not in ua and "http" not in ua:
        raise ConfigError(
            f"{where}http.user_agent must carry a contact address (an e-mail or a URL)",
            hint="arXiv asks automated clients to identify themselves",
        )
    if config.http.timeout <= 0:
        raise ConfigError(f"{where}http.timeout must be positive: every request needs one")
    urls_extra = []
    if config.dblp.streams:
        urls_extra.append(("dblp.api_url", config.dblp.api_url))
    if config.openreview.venues:
        urls_extra.append(("openreview.api_url", config.openreview.api_url))
    if (config.arxiv.search or config.arxiv.listing) and not config.arxiv.categories:
        raise ConfigError(f"{where}arxiv.categories is empty", hint="list at least one category")
    urls = [("arxiv.api_url", config.arxiv.api_url), ("arxiv.rss_url", config.arxiv.rss_url)]
    urls += urls_extra + [(f"feeds[{i}].url", f.url) for i, f in enumerate(config.feeds)]
    for name, url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{where}{name} is not an http(s) URL: {url!r}")
    seen = {API_NAME, LISTING_NAME, DBLP_NAME, OPENREVIEW_NAME}
    for i, feed in enumerate(config.feeds):
        if not feed.name.strip() or feed.name in seen:
            raise ConfigError(
                f"{where}feeds[{i}].name {feed.name!r} is empty or already used",
                hint="feed names must be unique and differ from the built-in sources' names",
            )
        seen.add(feed.name)


__all__ = [
    "FetchProgress",
    "FetchReport",
    "SourceReport",
    "build_sources",
    "default_window",
    "fetch_all",
    "merge_pair",
    "merge_papers",
    "source_names",
]

"""Choosing what a night proposes: the classifier's verdicts ranked and capped, each chosen one
with the catalog entry it adds (built by `tracker.catalog`), the near misses a reviewer sees,
and the night's figures (`RunStats`) shown with them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tracker.catalog.store import Entry, is_valid_url, new_entry
from tracker.classify.result import Classification, SectionScore
from tracker.identity import paper_ids
from tracker.paper import LINK_CODE, Paper
from tracker.sources.hints import code_links, venue_hint

# How many below-threshold papers the PR lists under "considered, not added".
NEAR_MISSES = 5
# Below this section probability the PR shows the runner-up sections too.
LOW_CONFIDENCE = 0.6
# Runner-up sections shown are at least this probable.
ALTERNATIVE_FLOOR = 0.1

REASON_BELOW_THRESHOLD = "below"
REASON_OVER_CAP = "cap"


@dataclass(frozen=True)
class Proposal:
    """A paper the bot adds, with the verdict that chose it and the entry it adds."""

    classification: Classification
    entry: Entry

    @property
    def paper(self) -> Paper:
        return self.entry.paper

    @property
    def section(self) -> SectionScore:
        return self.classification.section

    @property
    def alternatives(self) -> tuple[SectionScore, ...]:
        """Runner-up sections worth a reviewer's look when the top section is uncertain."""
        if self.section.probability >= LOW_CONFIDENCE:
            return ()
        return tuple(
            s for s in self.classification.ranked[1:3] if s.probability >= ALTERNATIVE_FLOOR
        )


@dataclass(frozen=True)
class NearMiss:
    """A paper considered and not added, with why (`REASON_*`)."""

    classification: Classification
    reason: str


@dataclass(frozen=True)
class Selection:
    proposals: tuple[Proposal, ...]
    near_misses: tuple[NearMiss, ...]
    in_scope: int  # verdicts at or above the threshold, before the cap


@dataclass
class RunStats:
    """The figures a reviewer sees at the bottom of the PR, and `tracker run` logs."""

    since: dt.date | None = None
    window: tuple[dt.date, dt.date] | None = None  # the days fetched, both included
    per_source: dict[str, int] = field(default_factory=dict)
    failed_sources: dict[str, str] = field(default_factory=dict)
    source_warnings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fetched: int = 0
    known_catalog: int = 0
    known_open: int = 0
    known_rejected: int = 0
    duplicates: int = 0
    candidates: int = 0
    in_scope: int = 0
    proposed: int = 0
    cap: int = 0
    threshold: float = 0.0
    model_version: str = ""


def rank_key(c: Classification) -> tuple[float, str]:
    """Most relevant first; ties broken by identifier so the order never depends on input."""
    arxiv, doi = paper_ids(c.paper)
    return (-c.relevance, arxiv or doi or c.paper.title.casefold())


def select(
    verdicts: Iterable[Classification],
    *,
    cap: int,
    today: dt.date,
    near_misses: int = NEAR_MISSES,
) -> Selection:
    """In-scope verdicts, most relevant first, at most `cap`; the rest of the in-scope ones and
    the best `near_misses` below the threshold become near misses."""
    ranked = sorted(verdicts, key=rank_key)
    in_scope = [c for c in ranked if c.in_scope]
    chosen = in_scope[:cap]
    misses = [NearMiss(c, REASON_OVER_CAP) for c in in_scope[cap:]]
    below = [c for c in ranked if not c.in_scope][:near_misses]
    misses += [NearMiss(c, REASON_BELOW_THRESHOLD) for c in below]
    proposals = tuple(Proposal(c, make_entry(c, today)) for c in chosen)
    return Selection(proposals, tuple(misses), len(in_scope))


def make_entry(verdict: Classification, today: dt.date) -> Entry:
    """The catalog entry for a proposed paper (`tracker.catalog.store.new_entry`): its
    predicted section and section confidence, added today; a venue an arXiv comment announces
    ("Accepted at USENIX Security 2026") and a code link found in the abstract or comment, read
    by `tracker.sources.hints`, when the record does not carry them already."""
    return new_entry(
        _with_hints(verdict.paper), verdict.section.id, verdict.section.probability, today
    )


def _with_hints(paper: Paper) -> Paper:
    if not paper.venue or paper.venue.casefold() == "arxiv":
        hint = venue_hint(paper.comment)
        if hint is not None:
            paper = paper.replace(venue=hint.venue, year=hint.year or paper.year)
    known = paper.link(LINK_CODE)
    if not (known and is_valid_url(known)):
        found = code_links(paper.abstract, paper.comment).get(LINK_CODE)
        if found:
            paper = paper.replace(links={**paper.links, LINK_CODE: found})
    return paper


def catalog_order(proposals: Sequence[Proposal]) -> list[Entry]:
    """Entries in the order they are added: each goes after the last entry of its section, so
    within a section the most relevant comes first."""
    return [p.entry for p in proposals]

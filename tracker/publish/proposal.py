"""What the bot proposes: choosing among the classifier's verdicts, and the catalog entry built
for each chosen paper."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tracker.catalog.store import Entry, is_valid_url
from tracker.classify.result import Classification, SectionScore
from tracker.identity import paper_ids
from tracker.paper import LINK_ABS, LINK_CODE, LINK_PDF, Paper
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
    """The catalog entry for a proposed paper: its predicted section; venue and year from the
    source, else from an arXiv comment such as "Accepted at USENIX Security 2026"
    (`tracker.sources.hints.venue_hint`), else arXiv and the year it appeared; the record's
    `abs` link as the catalog's required `pdf` link (for arXiv papers the abstract page, as in
    the seed list) and its code link when one is known; date added and section confidence."""
    paper = verdict.paper
    arxiv, _ = paper_ids(paper)
    venue, year = paper.venue, paper.year
    if not venue or venue.casefold() == "arxiv":
        hint = venue_hint(paper.comment)
        if hint is not None:
            venue, year = hint.venue, hint.year or year
        else:
            venue = "arXiv"
    year = year or _year_of(paper) or today.year
    links: dict[str, str] = {}
    pdf = paper.link(LINK_ABS) or (f"https://arxiv.org/abs/{arxiv}" if arxiv else None)
    pdf = pdf or paper.link(LINK_PDF)
    if pdf and is_valid_url(pdf):
        links[LINK_PDF] = pdf
    code = _code_link(paper)
    if code:
        links[LINK_CODE] = code
    return Entry(
        paper=paper.replace(venue=venue, year=year, links=links, arxiv_id=arxiv, abstract=""),
        section=verdict.section.id,
        added=today,
        confidence=verdict.section.probability,
    )


def _code_link(paper: Paper) -> str | None:
    """The paper's code link: the source's, else the first repository link in its abstract or
    comment (`tracker.sources.hints.code_links`)."""
    known = paper.link(LINK_CODE)
    if known and is_valid_url(known):
        return known
    found = code_links(paper.abstract, paper.comment).get(LINK_CODE)
    return found if found and is_valid_url(found) else None


def _year_of(paper: Paper) -> int | None:
    for date in (paper.announced, paper.submitted):
        if date is not None:
            return date.year
    return None


def catalog_order(proposals: Sequence[Proposal]) -> list[Entry]:
    """Entries in the order they are added: each goes after the last entry of its section, so
    within a section the most relevant comes first."""
    return [p.entry for p in proposals]

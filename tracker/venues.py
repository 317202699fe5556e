"""Venue lookups of the nightly run: abstracts for title-only venue records, and the venue of
catalog papers listed as preprints.

**Abstracts.** dblp gives no abstracts. Each new paper without one is looked up on arXiv by its
title (`ArxivApiSource.search_titles`, ten titles a request); a result with exactly the same
title and no contradicting identifier or author list (`tracker.identity.same_title`) lends its
abstract, arXiv id, categories and comment, and the two records become one
(`tracker.sources.fetch.merge_pair`: the venue's name, year and DOI stay). A paper still
without an abstract is classified on its title alone, and the pull request says so.

**Published since listed.** Each night every catalog entry whose venue is `arXiv` is looked
up: on dblp by its title (a record at a venue, not CoRR, with exactly the same title), and on
arXiv by its id (a comment or journal reference such as "Accepted at CVPR 2024", read by
`tracker.sources.hints`). A paper found published gets its venue, year, DOI and venue link
updated, with the evidence (the dblp record, or the comment). Only entries listed as `arXiv`
are ever changed, and never to `arXiv` or CoRR: a venue is never downgraded, and an entry a
maintainer gave a venue is never touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from tracker.catalog.store import Entry
from tracker.catalog.volumes import Volume
from tracker.config import Config
from tracker.errors import SourceError
from tracker.http import HttpClient
from tracker.identity import same_title
from tracker.paper import LINK_ABS, Paper
from tracker.sources.arxiv_api import ArxivApiSource
from tracker.sources.dblp import LINK_DBLP, DblpSource, DblpStream
from tracker.sources.fetch import ARXIV_VENUE, merge_pair
from tracker.sources.hints import venue_hint

# Titles looked up on arXiv in one night: 50 requests at arXiv's 3 s, under three minutes. A
# new volume larger than that (NeurIPS has thousands of papers) is looked up over the nights it
# is read again; the rest of it is classified on titles (a warning says how many).
MAX_TITLE_LOOKUPS = 500
NOT_VENUES = frozenset({ARXIV_VENUE.casefold(), "corr"})


@dataclass(frozen=True)
class Borrowed:
    """Papers after the abstract look-up.

    Fields:
        papers: the papers in the order given, those found on arXiv merged with their preprint.
        looked_up: title-only papers looked up.
        found: how many of them arXiv had.
        warnings: what went wrong (arXiv failing, titles left over the night's cap).
    """

    papers: tuple[Paper, ...]
    looked_up: int = 0
    found: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class VenueUpdate:
    """A catalog entry listed as a preprint, found published.

    Fields:
        title: the entry's title (as the catalog has it).
        arxiv: the entry's arXiv id.
        old_year: the year the entry had.
        venue, year: where and when it was published (the catalog's venue name).
        doi: the published version's DOI, when known.
        link: the published version's page, when known.
        evidence: what says so: `dblp conf/cvpr/ZhangLJG24`, or the arXiv comment.
        evidence_url: the dblp record or the arXiv abstract page.
    """

    title: str
    arxiv: str | None
    old_year: int | None
    venue: str
    year: int | None
    doi: str | None = None
    link: str | None = None
    evidence: str = ""
    evidence_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: Any) -> VenueUpdate | None:
        """The update, or None when `data` is not a valid one (a pull request's block is
        untrusted: never raises)."""
        if not isinstance(data, Mapping):
            return None
        title, venue = data.get("title"), data.get("venue")
        if not isinstance(title, str) or not isinstance(venue, str) or not title or not venue:
            return None

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        def year(key: str) -> int | None:
            value = data.get(key)
            return value if type(value) is int else None

        return cls(
            title=title,
            arxiv=text("arxiv"),
            old_year=year("old_year"),
            venue=venue,
            year=year("year"),
            doi=text("doi"),
            link=text("link"),
            evidence=text("evidence") or "",
            evidence_url=text("evidence_url"),
        )


def venues_json(
    updates: Sequence[VenueUpdate], volumes: Sequence[Volume], volumes_file: str
) -> dict[str, Any]:
    """What a pull request's state keeps of the night's venue work ({} when there is none)."""
    out: dict[str, Any] = {}
    if updates:
        out["updates"] = [u.to_json() for u in updates]
    if volumes:
        out["volumes"] = [[v.label, v.records] for v in volumes]
        out["volumes_file"] = volumes_file
    return out


@dataclass(frozen=True)
class PublishedCheck:
    """The outcome of looking up the catalog's preprints: updates, entries checked, warnings."""

    updates: tuple[VenueUpdate, ...] = ()
    checked: int = 0
    warnings: tuple[str, ...] = ()


class VenueLookups:
    """The look-ups above, over the sources they use (None: that look-up is off).

    Arguments:
        arxiv: the arXiv API (title searches, id look-ups); None turns both off.
        dblp: dblp's search (title searches); None turns the dblp look-up of preprints off.
        borrow: look title-only papers up on arXiv.
        updates: look catalog preprints up.
        max_title_lookups: titles looked up a night.
    """

    def __init__(
        self,
        *,
        arxiv: ArxivApiSource | None,
        dblp: DblpSource | None,
        borrow: bool = True,
        updates: bool = True,
        max_title_lookups: int = MAX_TITLE_LOOKUPS,
    ) -> None:
        self.arxiv = arxiv
        self.dblp = dblp
        self.borrow = borrow
        self.updates = updates
        self.max_title_lookups = max_title_lookups

    def borrow_abstracts(self, papers: Sequence[Paper]) -> Borrowed:
        """`papers`, each title-only one merged with its arXiv preprint when arXiv has it."""
        title_only = [i for i, p in enumerate(papers) if not p.abstract and not p.arxiv_id]
        if not title_only or not self.borrow or self.arxiv is None:
            return Borrowed(tuple(papers))
        warnings: list[str] = []
        asked = title_only[: self.max_title_lookups]
        if len(title_only) > len(asked):
            warnings.append(
                f"{len(title_only) - len(asked)} title-only papers were not looked up on arXiv "
                f"(at most {self.max_title_lookups} a night): they are classified on their titles"
            )
        try:
            found = self.arxiv.search_titles([papers[i].title for i in asked]).papers
        except SourceError as exc:
            warnings.append(f"arXiv title look-up failed: {exc}; papers classified on titles")
            return Borrowed(tuple(papers), len(asked), 0, tuple(warnings))
        out = list(papers)
        hits = 0
        for i in asked:
            match = next((r for r in found if same_title(papers[i], r)), None)
            if match is not None:
                out[i] = merge_pair(papers[i], match)
                hits += 1
        return Borrowed(tuple(out), len(asked), hits, tuple(warnings))

    def find_published(self, entries: Sequence[Entry]) -> PublishedCheck:
        """Updates for the entries listed as `arXiv` that dblp or arXiv show published."""
        preprints = [e for e in entries if (e.paper.venue or "") == ARXIV_VENUE]
        if not self.updates or not preprints:
            return PublishedCheck()
        warnings: list[str] = []
        updates: dict[str, VenueUpdate] = {}
        if self.dblp is not None:
            try:
                for entry in preprints:
                    update = self._on_dblp(entry)
                    if update is not None:
                        updates[entry.paper.title] = update
            except SourceError as exc:
                warnings.append(f"dblp look-up of preprints failed: {exc}")
        rest = [e for e in preprints if e.paper.title not in updates and e.paper.arxiv_id]
        if self.arxiv is not None and rest:
            try:
                found = self.arxiv.lookup([e.paper.arxiv_id or "" for e in rest]).papers
            except SourceError as exc:
                warnings.append(f"arXiv look-up of preprints failed: {exc}")
                found = ()
            by_id = {p.arxiv_id: p for p in found}
            for entry in rest:
                update = _from_comment(entry, by_id.get(entry.paper.arxiv_id))
                if update is not None:
                    updates[entry.paper.title] = update
        ordered = tuple(updates[e.paper.title] for e in preprints if e.paper.title in updates)
        return PublishedCheck(ordered, len(preprints), tuple(warnings))

    def _on_dblp(self, entry: Entry) -> VenueUpdate | None:
        assert self.dblp is not None
        for hit in self.dblp.search_title(entry.paper.title):
            if not hit.venue or hit.venue.casefold() in NOT_VENUES:
                continue
            if not same_title(entry.paper, hit):
                continue
            record = hit.links.get(LINK_DBLP)
            key = record.removeprefix("https://dblp.org/rec/") if record else "record"
            return VenueUpdate(
                title=entry.paper.title,
                arxiv=entry.paper.arxiv_id,
                old_year=entry.paper.year,
                venue=hit.venue,
                year=hit.year,
                doi=hit.doi,
                link=hit.links.get(LINK_ABS),
                evidence=f"dblp {key}",
                evidence_url=record,
            )
        return None


def _from_comment(entry: Entry, found: Paper | None) -> VenueUpdate | None:
    if found is None or not found.venue or found.venue.casefold() in NOT_VENUES:
        return None
    hint = venue_hint(found.comment)
    year = (hint.year if hint else None) or found.year or entry.paper.year
    evidence = f"arXiv comment: {found.comment}" if hint else "arXiv journal reference"
    return VenueUpdate(
        title=entry.paper.title,
        arxiv=entry.paper.arxiv_id,
        old_year=entry.paper.year,
        venue=found.venue,
        year=year,
        doi=found.doi,
        evidence=evidence,
        evidence_url=f"https://arxiv.org/abs/{found.arxiv_id}",
    )


def build_venue_lookups(config: Config, http: HttpClient) -> VenueLookups:
    """The look-ups `config` asks for, over `http` (share the sources' client so the per-host
    delays hold across both): arXiv at `arxiv.api_url` (whether or not the arXiv sources run),
    dblp at `dblp.api_url` with the configured streams' venue names when streams are set."""
    arxiv = ArxivApiSource.from_config(http, config.arxiv)
    # dblp is asked only when configured: a configuration without dblp streams never reads it.
    streams = [DblpStream(s.stream, s.venue) for s in config.dblp.streams]
    dblp = DblpSource(http, config.dblp.api_url, streams) if streams else None
    return VenueLookups(
        arxiv=arxiv,
        dblp=dblp,
        borrow=config.dblp.arxiv_lookups,
        updates=config.bot.venue_updates,
    )

"""arXiv's daily listing for a set of categories: `<base>/<cat>+<cat>...` at rss.arxiv.org.

One request returns the latest announcement of all the categories, in RSS 2.0 (`/rss/`) or
Atom (`/atom/`); both are read through `parse_feed`. Each item carries its announce type in
`<arxiv:announce_type>` and again at the start of its description:

    arXiv:2401.06373v1 Announce Type: new
    Abstract: ...

`new` and `cross` (a cross-list into one of our categories) are kept; `replace` and
`replace-cross` (a new version of an older paper) are skipped.

The listing holds one announcement only: days before it come from the API search
(`tracker fetch --since` backfills through that source). arXiv announces on weekdays, so an
empty listing on a weekday is a warning, never "nothing new".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracker.http import HttpClient, short_url
from tracker.identity import parse_arxiv_id
from tracker.paper import Paper
from tracker.sources.arxiv_record import arxiv_paper, one_line
from tracker.sources.base import Progress, Source, SourceResult, no_progress
from tracker.sources.feeds import (
    FEED_ACCEPT,
    UndecodedEntityError,
    entry_authors,
    entry_date,
    parse_feed,
)

NAME = "arxiv-listing"
KEPT_TYPES = frozenset({"new", "cross"})
SKIPPED_TYPES = frozenset({"replace", "replace-cross"})
_DESCRIPTION = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce\s+Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?(?P<rest>.*)$",
    re.DOTALL | re.IGNORECASE,
)
# The pre-2024 feed appended "(arXiv:2401.01234v1 [cs.CR])" to titles.
_OLD_TITLE_SUFFIX = re.compile(r"\s*\(arXiv:[^)]*\)\s*$")


def arxiv_today() -> dt.date:
    """The night a run belongs to, for every command (`run`, `fetch`, `schedule --once`):
    today's date in UTC.

    arXiv announces at 20:00 US Eastern and dates that listing with the next day, which is the
    UTC date from the announcement on (00:00 UTC, 01:00 in winter). A run after the
    announcement (the nightly runs at 04:30 UTC) thus gets the listing's own date; US Eastern
    would still say the day before until midnight there, and put the new listing after the
    window. `schedule.timezone` only says when the daemon's cron fires."""
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class Listing:
    """One daily listing, parsed.

    Fields:
        date: the announcement day (the channel's or the items' pubDate), or None.
        papers: the new and cross-listed papers, in listing order.
        replacements: how many `replace`/`replace-cross` items were skipped.
        skipped: how many items were skipped for another reason (no id, unknown type).
        problems: what was wrong with the document.
    """

    date: dt.date | None
    papers: tuple[Paper, ...]
    replacements: int = 0
    skipped: int = 0
    problems: tuple[str, ...] = ()


def parse_listing(content: bytes, url: str, source: str = NAME) -> Listing:
    """Read an arXiv listing (RSS 2.0 or Atom) fetched from `url`.

    Raises NotAFeedError when it is not a feed.
    """
    parsed = parse_feed(content, url, html=False)
    channel_date = entry_date(parsed.feed)
    papers: list[Paper] = []
    replacements = skipped = 0
    problems = list(parsed.problems)
    for entry in parsed.entries:
        item = _item(entry, channel_date, source, problems)
        if item is None:
            skipped += 1
            continue
        kind, paper = item
        if kind in SKIPPED_TYPES:
            replacements += 1
            continue
        if kind not in KEPT_TYPES:
            skipped += 1
            continue
        papers.append(paper)
    dates = [p.announced for p in papers if p.announced]
    date = channel_date or (max(dates) if dates else None)
    return Listing(date, tuple(papers), replacements, skipped, tuple(problems))


def _item(
    entry: Mapping[str, Any], channel_date: dt.date | None, source: str, problems: list[str]
) -> tuple[str, Paper] | None:
    description = one_line(entry.get("summary"))
    m = _DESCRIPTION.match(description)
    kind = str(entry.get("arxiv_announce_type") or (m.group("type") if m else "")).lower()
    ident = None
    for candidate in (
        m.group("id") if m else None,
        str(entry.get("id") or "").removeprefix("oai:arXiv.org:"),
        str(entry.get("link") or ""),
    ):
        ident = parse_arxiv_id(candidate) if candidate else None
        if ident:
            break
    title = _OLD_TITLE_SUFFIX.sub("", one_line(entry.get("title")))
    if ident is None or not title or not kind:
        return None
    doi = entry.get("arxiv_doi")
    try:
        authors = entry_authors(entry, html=False, name_lists=True)
    except UndecodedEntityError as exc:
        # A name is never guessed: the paper goes on without authors, and the run says so.
        problems.append(f"arXiv:{ident.id}: the authors cannot be read ({exc}); listed without")
        authors = ()
    paper = arxiv_paper(
        ident,
        title=title,
        abstract=m.group("rest").strip() if m else description,
        authors=authors,
        categories=[str(tag.get("term")) for tag in entry.get("tags") or () if tag.get("term")],
        comment=entry.get("arxiv_comment"),
        journal_ref=entry.get("arxiv_journal_reference"),
        doi=doi if isinstance(doi, str) else None,
        source=source,
        announced=entry_date(entry) or channel_date,
    )
    return kind, paper


class ArxivListingSource(Source):
    """The daily listing of `categories`, read from `<base_url>/<cat>+<cat>...`.

    `today` gives the current day in arXiv's time zone; it decides whether an empty listing
    falls on a weekday when the feed itself carries no date.
    """

    name = NAME

    def __init__(
        self,
        http: HttpClient,
        base_url: str,
        categories: Sequence[str],
        *,
        today: Callable[[], dt.date] = arxiv_today,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.categories = tuple(categories)
        self.today = today

    @property
    def url(self) -> str:
        return f"{self.base_url}/{'+'.join(self.categories)}"

    def fetch(
        self, since: dt.date, until: dt.date, progress: Progress = no_progress
    ) -> SourceResult:
        progress(0, None, f"requesting {short_url(self.url)}")
        response = self.http.get(self.url, accept=FEED_ACCEPT)
        listing = parse_listing(response.content, response.url, self.name)
        progress(len(listing.papers), len(listing.papers), "parsed")
        warnings = [f"{short_url(self.url)}: {p}" for p in listing.problems]
        notes: list[str] = []
        day = listing.date or self.today()
        if not listing.papers:
            if day.weekday() < 5:
                warnings.append(
                    f"the daily listing {short_url(self.url)} has no new or cross-listed "
                    f"papers on a weekday ({day:%a %Y-%m-%d}): arXiv may be failing or the "
                    "feed may have changed; this is not taken as 'nothing new'"
                )
            else:
                notes.append(f"no listing on {day:%A %Y-%m-%d}: arXiv announces on weekdays")
        kept = [p for p in listing.papers if p.announced is None or since <= p.announced <= until]
        if listing.date is not None and listing.date < since:
            warnings.append(
                f"the daily listing is dated {listing.date}, before the window starting "
                f"{since}: arXiv has not published a newer one (holiday?) or the feed is stale"
            )
        elif listing.date is not None and listing.date > until:
            notes.append(
                f"the daily listing is dated {listing.date}, after the window; days before "
                "it come from the API search"
            )
        elif listing.date is not None and since < listing.date:
            notes.append(
                f"the daily listing covers {listing.date} only; earlier days in the window "
                "come from the API search"
            )
        if listing.replacements:
            notes.append(f"{listing.replacements} replacements skipped")
        if listing.skipped:
            warnings.append(f"{listing.skipped} items without an arXiv id or announce type skipped")
        return SourceResult(tuple(kept), tuple(warnings), tuple(notes), errors=listing.skipped)

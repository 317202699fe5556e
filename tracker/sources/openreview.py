"""OpenReview's API v2 (https://api2.openreview.net): accepted papers of ICLR, NeurIPS, ICML and
TMLR, with their abstracts.

For each configured venue id (`ICLR.cc/{year}/Conference` for every year of the window, `TMLR`)
it asks `GET /notes?content.venueid=<id>&sort=tmdate:desc&offset=&limit=1000`: only accepted
papers carry the venue's id (rejected ones get `.../Rejected_Submission`, submissions
`.../Submission`). A note is a paper of the window when its publication date (`pdate`, set when
the venue publishes its decision or the journal accepts the paper; `odate`, then `cdate` when it
has none) falls in the window, so no state is kept: like arXiv, a missed night is fetched with
`--since`. Paging stops at the first note last modified (`tmdate`) before the window, because
publication is a modification and notes come newest first.

Every `content` field is `{"value": ...}`. Errors are JSON (`{"name": "RateLimitError",
"message": ..., "status": 429}`); the shared HTTP client retries 429 and 5xx and honours
Retry-After (OpenReview's rate limit can ask for an hour: beyond `tracker.http.MAX_BACKOFF`
the source fails for the night and says so).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracker.http import HttpClient, HttpResponse, RetryableResponse
from tracker.paper import LINK_ABS, LINK_PDF, Paper
from tracker.sources.base import Progress, Source, SourceResult, no_progress
from tracker.sources.hints import code_links

NAME = "openreview"
PAGE_SIZE = 1000  # the API's cap on `limit`
MAX_NOTES = 20_000  # a guard against runaway paging: no venue accepts more papers in a year
SITE = "https://openreview.net"
JSON_ACCEPT = "application/json"


@dataclass(frozen=True)
class OpenReviewVenue:
    """A venue on OpenReview: accepted papers' venue id (`{year}` filled per year of the
    window) and the venue name the catalog writes."""

    venueid: str
    venue: str


class OpenReviewSource(Source):
    """Accepted papers published on OpenReview in the window (see the module docstring)."""

    name = NAME

    def __init__(self, http: HttpClient, api_url: str, venues: Sequence[OpenReviewVenue]) -> None:
        self.http = http
        self.api_url = api_url.rstrip("/")
        self.venues = tuple(venues)

    def venue_ids(self, since: dt.date, until: dt.date) -> list[tuple[str, OpenReviewVenue]]:
        """(venue id, venue) pairs to ask for the window, each id once."""
        out: dict[str, OpenReviewVenue] = {}
        for venue in self.venues:
            if "{year}" in venue.venueid:
                for year in range(since.year, until.year + 1):
                    out.setdefault(venue.venueid.replace("{year}", str(year)), venue)
            else:
                out.setdefault(venue.venueid, venue)
        return list(out.items())

    def fetch(
        self, since: dt.date, until: dt.date, progress: Progress = no_progress
    ) -> SourceResult:
        start = _millis(since)
        end = _millis(until + dt.timedelta(days=1))
        papers: list[Paper] = []
        errors = 0
        ids = self.venue_ids(since, until)
        for n, (venueid, venue) in enumerate(ids):
            offset = 0
            while offset < MAX_NOTES:
                notes = self._page(venueid, offset)
                for note in notes:
                    when = _published(note)
                    if when is None or not start <= when < end or not _accepted(note):
                        continue
                    paper = note_paper(note, venue.venue, venueid)
                    if paper is None:
                        errors += 1
                    else:
                        papers.append(paper)
                offset += len(notes)
                oldest = _int(notes[-1].get("tmdate")) if notes else None
                if len(notes) < PAGE_SIZE or (oldest is not None and oldest < start):
                    break
            progress(n + 1, len(ids), venueid)
        return SourceResult(tuple(papers), errors=errors)

    def _page(self, venueid: str, offset: int) -> list[Mapping[str, Any]]:
        check = _PageCheck()
        params = {
            "content.venueid": venueid,
            "sort": "tmdate:desc",
            "offset": str(offset),
            "limit": str(PAGE_SIZE),
        }
        self.http.get(f"{self.api_url}/notes", params=params, accept=JSON_ACCEPT, check=check)
        return check.notes


class _PageCheck:
    """Parses each answer; one that is not the API's `{"notes": [...]}` is retried like a 503."""

    def __init__(self) -> None:
        self.notes: list[Mapping[str, Any]] = []

    def __call__(self, response: HttpResponse) -> None:
        data = response.json("OpenReview")
        notes = data.get("notes") if isinstance(data, dict) else None
        if not isinstance(notes, list):
            raise RetryableResponse("OpenReview's answer has no list of notes")
        self.notes = [n for n in notes if isinstance(n, Mapping)]


def note_paper(note: Mapping[str, Any], venue: str, venueid: str) -> Paper | None:
    """An accepted paper's note as a paper at `venue`; None without a title."""
    content = note.get("content")
    if not isinstance(content, Mapping):
        return None
    title = " ".join(_value(content, "title").split())
    if not title:
        return None
    abstract = " ".join(_value(content, "abstract").split())
    authors = content.get("authors", {})
    names = authors.get("value") if isinstance(authors, Mapping) else None
    published = _published(note)
    day = _date(published)
    year = _year(venueid) or (day.year if day else None)
    links: dict[str, str] = {}
    forum = note.get("forum") or note.get("id")
    if isinstance(forum, str) and forum:
        links[LINK_ABS] = f"{SITE}/forum?id={forum}"
    pdf = _value(content, "pdf")
    if pdf.startswith("/pdf/"):
        links[LINK_PDF] = SITE + pdf
    for kind, url in code_links(abstract).items():
        links.setdefault(kind, url)
    return Paper(
        title=title,
        abstract=abstract,
        authors=tuple(" ".join(a.split()) for a in names or () if isinstance(a, str)),
        venue=venue,
        year=year,
        links=links,
        submitted=_date(_int(note.get("cdate"))),
        announced=day,
        source=NAME,
    )


def _accepted(note: Mapping[str, Any]) -> bool:
    """False for a note whose venue says it was only submitted (a rejected paper that kept the
    venue's id by mistake): never listed under the venue."""
    content = note.get("content")
    if not isinstance(content, Mapping):
        return True  # note_paper reports it
    return not _value(content, "venue").lower().startswith("submitted to")


def _value(content: Mapping[str, Any], key: str) -> str:
    field = content.get(key)
    value = field.get("value") if isinstance(field, Mapping) else None
    return value if isinstance(value, str) else ""


def _published(note: Mapping[str, Any]) -> int | None:
    for key in ("pdate", "odate", "cdate"):
        value = _int(note.get(key))
        if value is not None:
            return value
    return None


def _millis(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def _date(millis: int | None) -> dt.date | None:
    if millis is None:
        return None
    return dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC).date()


def _year(venueid: str) -> int | None:
    for part in venueid.split("/"):
        if len(part) == 4 and part.isdigit():
            return int(part)
    return None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return None

"""arXiv's export API: a search by categories, query terms and a submitted-date window, with
paging; and lookups by id list, in batches.

Every page is one GET through the HTTP policy (`tracker.http.HttpClient`: timeout and
deadline, the 3-second floor between requests to arXiv, retries honouring Retry-After, the
size limit, our User-Agent) and is parsed once, by feedparser through the same safe
`parse_feed` the daily listing uses; its entries become papers through the conversion the
listing shares (`tracker.sources.arxiv_record`). (The `arxiv` package offers no way to pass it
a session with a timeout, so tracker reads the API's Atom itself.)

The API sometimes answers a page with no entries although more results exist, and sometimes
answers a whole search with nothing for a while. The first is checked on every page
(`_Page`) and retried like a 503, then reported as an error; the second is retried once and
then reported as a warning. Neither is ever taken as "no new papers".
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracker.config import ArxivConfig
from tracker.http import HttpClient, HttpResponse, RetryableResponse
from tracker.identity import parse_arxiv_id
from tracker.paper import Paper
from tracker.sources.arxiv_record import arxiv_paper
from tracker.sources.base import Progress, Source, SourceResult, no_progress
from tracker.sources.feeds import NotAFeedError, ParsedFeed, parse_feed

NAME = "arxiv-api"
# Results per request: the arxiv package's default and the API manual's example size; a page
# of 100 is ~300 KB and a night's search is one to three pages.
PAGE_SIZE = 100
# The most results one search takes: a night finds ~300 and a week's backfill ~1,500, so more
# means a runaway query (or a window far too wide), reported as a warning.
MAX_RESULTS = 2000
# Ids per lookup request: 100 ids keep the query URL near 1.5 KB, under common URL limits.
ID_BATCH_SIZE = 100
TITLE_BATCH = 10  # title phrases per request: short enough a URL, few enough results a page
ATOM_ACCEPT = "application/atom+xml"
# The API's sort orders (`sortBy`, `sortOrder`).
SORT_SUBMITTED = "submittedDate"
SORT_RELEVANCE = "relevance"


class _Page:
    """Parses each API page before `HttpClient.get` returns it, and keeps the parse.

    A page is retried (RetryableResponse) when it is not an Atom feed, is not well-formed (a
    truncated answer), has no totals, or has no entries although the feed reports results from
    its start index on.
    """

    def __init__(self) -> None:
        self.feed: ParsedFeed | None = None
        self.total = 0

    def __call__(self, response: HttpResponse) -> None:
        try:
            feed = parse_feed(response.content, response.url, html=False)
        except NotAFeedError:
            raise RetryableResponse("the answer is not an arXiv API Atom feed") from None
        if not feed.version.startswith("atom"):
            raise RetryableResponse("the answer is not an arXiv API Atom feed")
        if feed.malformed:
            raise RetryableResponse(f"{feed.malformed} in an arXiv API page")
        total = _int(feed.feed.get("opensearch_totalresults"))
        start = _int(feed.feed.get("opensearch_startindex")) or 0
        if total is None:
            raise RetryableResponse("the feed has no opensearch:totalResults")
        if not feed.entries and start < total:
            raise RetryableResponse(
                f"empty page at start={start} although results were expected "
                f"(the feed reports {total})"
            )
        self.feed = feed
        self.total = total


def _int(text: object) -> int | None:
    try:
        return int(str(text).strip()) if text is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class _Run:
    papers: list[Paper]
    total: int | None


class ArxivApiSource(Source):
    """Search arXiv's export API (see the module docstring).

    Arguments:
        http: the HTTP policy every request goes through.
        api_url: the query endpoint (`https://export.arxiv.org/api/query`).
        categories: arXiv categories; a paper in any of them matches.
        query_terms: phrases searched in all fields; a paper matching any of them matches.
        page_size: results per request (`PAGE_SIZE`).
        max_results: the most results one search takes (`MAX_RESULTS`).
        id_batch_size: ids per lookup request (`ID_BATCH_SIZE`).
        empty_retries: how often a search that found nothing is run again.
    """

    name = NAME

    def __init__(
        self,
        http: HttpClient,
        api_url: str,
        categories: Sequence[str],
        query_terms: Sequence[str],
        *,
        page_size: int = PAGE_SIZE,
        max_results: int = MAX_RESULTS,
        id_batch_size: int = ID_BATCH_SIZE,
        empty_retries: int = 1,
    ) -> None:
        if page_size < 1 or id_batch_size < 1:
            raise ValueError("page_size and id_batch_size must be positive")
        self.http = http
        self.api_url = api_url
        self.categories = tuple(categories)
        self.query_terms = tuple(t for t in (q.replace('"', " ").strip() for q in query_terms) if t)
        self.page_size = page_size
        self.max_results = max_results
        self.id_batch_size = id_batch_size
        self.empty_retries = empty_retries

    @classmethod
    def from_config(cls, http: HttpClient, arxiv: ArxivConfig) -> ArxivApiSource:
        """The search and look-ups `arxiv.*` configures (endpoint, categories, query terms),
        over `http`: the one way the fetch, venue look-ups, `classify` and `init` make it."""
        return cls(http, arxiv.api_url, arxiv.categories, arxiv.query_terms)

    def search_query(self, since: dt.date, until: dt.date) -> str:
        """The API's `search_query` for the window: categories AND terms AND submitted date."""
        parts = []
        if self.categories:
            parts.append("(" + " OR ".join(f"cat:{c}" for c in self.categories) + ")")
        if self.query_terms:
            parts.append("(" + " OR ".join(f'all:"{t}"' for t in self.query_terms) + ")")
        parts.append(f"submittedDate:[{since:%Y%m%d}0000 TO {until:%Y%m%d}2359]")
        return " AND ".join(parts)

    def fetch(
        self, since: dt.date, until: dt.date, progress: Progress = no_progress
    ) -> SourceResult:
        query = {"search_query": self.search_query(since, until), "id_list": ""}
        query |= {"sortBy": SORT_SUBMITTED, "sortOrder": "descending"}
        weekdays = _has_weekday(since, until)
        run = self._run(query, self.max_results, progress)
        tries = 1
        while not run.papers and weekdays and tries <= self.empty_retries:
            tries += 1
            progress(0, None, "no results; asking again")
            run = self._run(query, self.max_results, progress)
        warnings = []
        if not run.papers and weekdays:
            warnings.append(
                f"the search found nothing submitted {since}..{until} in {tries} tries, a window "
                "with weekdays: arXiv's API sometimes answers empty; this is not taken as "
                "'no new papers'"
            )
        if run.total is not None and run.total > self.max_results:
            warnings.append(
                f"the search has {run.total} results; only the first {self.max_results} were "
                "taken (shorten the window)"
            )
        return SourceResult(tuple(run.papers), tuple(warnings))

    def lookup(self, ids: Iterable[str], progress: Progress = no_progress) -> SourceResult:
        """The papers with these arXiv ids (any form `parse_arxiv_id` reads), in batches of
        `id_batch_size` per request. Unknown or malformed ids are reported as warnings."""
        wanted: list[str] = []
        warnings: list[str] = []
        for raw in ids:
            parsed = parse_arxiv_id(raw)
            if parsed is None:
                warnings.append(f"not an arXiv id: {raw!r}")
            elif str(parsed) not in wanted:
                wanted.append(str(parsed))
        papers: list[Paper] = []
        for start in range(0, len(wanted), self.id_batch_size):
            batch = wanted[start : start + self.id_batch_size]
            query = {"search_query": "", "id_list": ",".join(batch)}
            query |= {"sortBy": SORT_RELEVANCE, "sortOrder": "descending"}
            found = self._run(query, len(batch), no_progress).papers
            # A batch that finds none of its ids is asked again (the API's empty answers);
            # what is still missing then is reported below.
            for _ in range(self.empty_retries):
                if found:
                    break
                found = self._run(query, len(batch), no_progress).papers
            papers.extend(found)
            progress(min(start + len(batch), len(wanted)), len(wanted), "looking up ids")
        found_ids = {p.arxiv_id for p in papers}
        missing = [i for i in wanted if _versionless(i) not in found_ids]
        if missing:
            warnings.append(f"not found on arXiv: {', '.join(missing)}")
        return SourceResult(tuple(papers), tuple(warnings), errors=len(missing))

    def search_titles(
        self, titles: Sequence[str], progress: Progress = no_progress
    ) -> SourceResult:
        """Papers whose title holds one of `titles` as a phrase (the API's `ti:` search), in
        batches of `TITLE_BATCH` titles per request. Only words are sent (arXiv's search ignores
        punctuation); the caller decides which result is the same paper
        (`tracker.identity.same_title`)."""
        phrases = list(dict.fromkeys(p for p in (_phrase(t) for t in titles) if p))
        papers: list[Paper] = []
        for start in range(0, len(phrases), TITLE_BATCH):
            batch = phrases[start : start + TITLE_BATCH]
            query = {"search_query": " OR ".join(f'ti:"{p}"' for p in batch), "id_list": ""}
            query |= {"sortBy": SORT_RELEVANCE, "sortOrder": "descending"}
            # A title search may also find longer titles holding the phrase: room for them.
            papers.extend(self._run(query, len(batch) * 5, no_progress).papers)
            progress(min(start + len(batch), len(phrases)), len(phrases), "looking up titles")
        return SourceResult(tuple(papers))

    # --- internals ---------------------------------------------------------------------------

    def _run(self, query: Mapping[str, str], limit: int, progress: Progress) -> _Run:
        """Page through the results of `query`, taking at most `limit` papers."""
        papers: list[Paper] = []
        total: int | None = None
        offset = taken = 0
        while taken < limit:
            page = _Page()
            params = {**query, "start": str(offset), "max_results": str(self.page_size)}
            self.http.get(self.api_url, params=params, accept=ATOM_ACCEPT, check=page)
            assert page.feed is not None  # the check ran on the answer returned
            if total is None:
                total = page.total
            entries = page.feed.entries[: limit - taken]
            for entry in entries:
                paper = entry_paper(entry)
                if paper is not None:
                    papers.append(paper)
                    progress(len(papers), _bounded(total, limit), "")
            taken += len(entries)
            offset += len(page.feed.entries)
            if not page.feed.entries or offset >= total:
                break
        return _Run(papers, total)


def _phrase(title: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", title))


def _bounded(total: int | None, limit: int) -> int | None:
    return None if total is None else min(total, limit)


def _versionless(ident: str) -> str:
    parsed = parse_arxiv_id(ident)
    return parsed.id if parsed else ident


def _has_weekday(since: dt.date, until: dt.date) -> bool:
    days = (until - since).days + 1
    return any((since + dt.timedelta(days=i)).weekday() < 5 for i in range(min(days, 7)))


def entry_paper(entry: Mapping[str, Any]) -> Paper | None:
    """An API feed entry as a paper; None when its id is not an arXiv id (the API's error
    entries) or it has no title."""
    ident = parse_arxiv_id(str(entry.get("id") or ""))
    title = entry.get("title")
    if ident is None or not title:
        return None
    primary = entry.get("arxiv_primary_category")
    categories = [primary.get("term")] if isinstance(primary, Mapping) else []
    categories += [tag.get("term") for tag in entry.get("tags") or ()]
    published = entry.get("published_parsed")
    submitted = (
        dt.date(published.tm_year, published.tm_mon, published.tm_mday)
        if isinstance(published, time.struct_time)
        else None
    )
    authors = [a.get("name") for a in entry.get("authors") or () if isinstance(a, Mapping)]
    doi = entry.get("arxiv_doi")
    return arxiv_paper(
        ident,
        title=str(title),
        abstract=str(entry.get("summary") or ""),
        authors=[str(a) for a in authors if a],
        categories=[str(c) for c in categories if c],
        comment=entry.get("arxiv_comment"),
        journal_ref=entry.get("arxiv_journal_ref"),
        doi=doi if isinstance(doi, str) else None,
        source=NAME,
        submitted=submitted,
    )

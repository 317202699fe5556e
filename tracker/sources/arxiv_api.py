"""arXiv's export API, through the `arxiv` package: a search by categories, query terms and a
submitted-date window, with paging; and lookups by id list, in batches.

The `arxiv` package (4.x) builds the query URLs, pages through the results and parses the Atom
(with its `opensearch:` totals and `arxiv:` extensions). It has no timeout, no Retry-After
handling and no backoff, and its session is not a constructor parameter. So each
`arxiv.Client` here gets a `ClientSession` (our `HttpClient` behind the `requests.Session`
interface) in place of its own session, with the package's delay and retries turned off: every
request it makes then has our timeout, the 3-second floor between requests to arXiv, backoff on
429/5xx/connection errors honouring Retry-After, the size limit and our User-Agent.

The API sometimes answers a page with no entries although more results exist (the package's
`UnexpectedEmptyPageError`), and sometimes answers a whole search with nothing for a while.
The first is checked on every page (`_PageCheck`) and retried like a 503, then reported as an
error; the second is retried once and then reported as a warning. Neither is ever taken as
"no new papers".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import arxiv
from lxml import etree

from tracker.identity import parse_arxiv_id
from tracker.paper import LINK_ABS, LINK_PDF, Paper
from tracker.sources.base import Progress, Source, SourceError, SourceResult, no_progress
from tracker.sources.hints import code_links, venue_doi, venue_hint
from tracker.sources.http import ClientSession, HttpClient, HttpResponse, RetryableResponse

NAME = "arxiv-api"
_NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
_SAFE_XML = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


class _PageCheck:
    """Checks each API page before the `arxiv` package sees it, and remembers the totals.

    A page is retried (RetryableResponse) when it is not an Atom feed, or when it has no
    entries although the feed reports results from its start index on.
    """

    def __init__(self) -> None:
        self.total: int | None = None
        self.pages = 0

    def __call__(self, response: HttpResponse) -> None:
        try:
            root = etree.fromstring(response.content, _SAFE_XML)
        except etree.XMLSyntaxError as exc:
            raise RetryableResponse(f"malformed XML from the arXiv API ({exc})") from None
        if root is None or root.tag != "{http://www.w3.org/2005/Atom}feed":
            raise RetryableResponse("the answer is not an arXiv API Atom feed")
        total = _int(root.findtext("opensearch:totalResults", None, _NS))
        start = _int(root.findtext("opensearch:startIndex", None, _NS)) or 0
        entries = len(root.findall("atom:entry", _NS))
        if total is None:
            raise RetryableResponse("the feed has no opensearch:totalResults")
        if entries == 0 and start < total:
            raise RetryableResponse(
                f"empty page at start={start} although results were expected "
                f"(the feed reports {total})"
            )
        self.total = total
        self.pages += 1


def _int(text: str | None) -> int | None:
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class _Run:
    papers: list[Paper]
    total: int | None


class ArxivApiSource(Source):
    """Search arXiv's export API (see the module docstring).

    Arguments:
        http: the polite client every request goes through.
        api_url: the query endpoint (`https://export.arxiv.org/api/query`).
        categories: arXiv categories; a paper in any of them matches.
        query_terms: phrases searched in all fields; a paper matching any of them matches.
        page_size: results per request.
        max_results: the most results one search takes (a guard against runaway paging).
        id_batch_size: ids per lookup request.
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
        page_size: int = 100,
        max_results: int = 2000,
        id_batch_size: int = 100,
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
        search = arxiv.Search(
            query=self.search_query(since, until),
            max_results=self.max_results,
            sort_by=arxiv.SortCriterion.SubmittedDate,
            sort_order=arxiv.SortOrder.Descending,
        )
        weekdays = _has_weekday(since, until)
        run = self._run(search, progress)
        tries = 1
        while not run.papers and weekdays and tries <= self.empty_retries:
            tries += 1
            progress(0, None, "no results; asking again")
            run = self._run(search, progress)
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
                "taken (raise arxiv.max_results or shorten the window)"
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
            search = arxiv.Search(id_list=batch, max_results=len(batch))
            found = self._run(search, no_progress).papers
            # A batch that finds none of its ids is asked again (the API's empty answers);
            # what is still missing then is reported below.
            for _ in range(self.empty_retries):
                if found:
                    break
                found = self._run(search, no_progress).papers
            papers.extend(found)
            progress(min(start + len(batch), len(wanted)), len(wanted), "looking up ids")
        found_ids = {p.arxiv_id for p in papers}
        missing = [i for i in wanted if _versionless(i) not in found_ids]
        if missing:
            warnings.append(f"not found on arXiv: {', '.join(missing)}")
        return SourceResult(tuple(papers), tuple(warnings), errors=len(missing))

    # --- internals ---------------------------------------------------------------------------

    def _client(self, check: _PageCheck) -> arxiv.Client:
        # The package's own delay and retries are off: ClientSession's HttpClient does both,
        # with backoff and the 3-second floor, for every request the package makes.
        client = arxiv.Client(page_size=self.page_size, delay_seconds=0.0, num_retries=0)
        escaped = self.api_url.replace("{", "{{").replace("}", "}}")
        client.query_url_format = escaped + "?{}"
        # arxiv.Client (4.0.2) takes no session argument; this attribute is the session it
        # sends every request through.
        client._session = ClientSession(self.http, check=check)
        return client

    def _run(self, search: arxiv.Search, progress: Progress) -> _Run:
        check = _PageCheck()
        client = self._client(check)
        papers: list[Paper] = []
        try:
            for result in client.results(search):
                paper = result_paper(result)
                if paper is not None:
                    papers.append(paper)
                    progress(len(papers), _bounded(check.total, self.max_results), "")
        except arxiv.ArxivError as exc:  # not expected with retries off, but never swallowed
            raise SourceError(f"arXiv API: {exc}") from None
        return _Run(papers, check.total)


def _bounded(total: int | None, limit: int) -> int | None:
    return None if total is None else min(total, limit)


def _versionless(ident: str) -> str:
    parsed = parse_arxiv_id(ident)
    return parsed.id if parsed else ident


def _has_weekday(since: dt.date, until: dt.date) -> bool:
    days = (until - since).days + 1
    return any((since + dt.timedelta(days=i)).weekday() < 5 for i in range(min(days, 7)))


def result_paper(result: arxiv.Result) -> Paper | None:
    """An `arxiv.Result` as a paper (None when its id is not an arXiv id, e.g. an API error
    entry)."""
    ident = parse_arxiv_id(result.entry_id)
    if ident is None:
        return None
    comment = " ".join(result.comment.split()) if result.comment else None
    journal_ref = " ".join(result.journal_ref.split()) if result.journal_ref else None
    abstract = " ".join(result.summary.split())
    hint = venue_hint(comment, journal_ref)
    submitted = result.published.date() if result.published != dt.datetime.min else None
    links = {
        LINK_ABS: f"https://arxiv.org/abs/{ident.id}",
        LINK_PDF: f"https://arxiv.org/pdf/{ident.id}",
    }
    for kind, url in code_links(abstract, comment).items():
        links.setdefault(kind, url)
    categories = [result.primary_category] if result.primary_category else []
    categories += [c for c in result.categories if c not in categories]
    year = hint.year if hint and hint.year else (submitted.year if submitted else None)
    return Paper(
        title=" ".join(result.title.split()),
        abstract=abstract,
        authors=tuple(a.name for a in result.authors if a.name),
        arxiv_id=ident.id,
        arxiv_version=ident.version,
        doi=venue_doi(result.doi) if result.doi else None,
        venue=hint.venue if hint else "arXiv",
        year=year,
        links=links,
        categories=tuple(categories),
        comment=comment,
        submitted=submitted,
        source=NAME,
    )

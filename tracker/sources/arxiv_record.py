"""What arXiv says about a paper, as a `Paper`: the one conversion the API search and the daily
listing share.

Both sources read Atom or RSS through `tracker.sources.feeds.parse_feed` and hand over the
fields arXiv gives (id, title, abstract, authors, categories, comment, journal reference, DOI,
a date). Here they get the same treatment: whitespace normalised, the abstract page and the
PDF as links, code links read from the abstract and comment, the venue and year a comment or
journal reference announces (`tracker.sources.hints`; a venue hint is applied here and nowhere
else), else `arXiv` and the year of the date given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from tracker.identity import ArxivId
from tracker.paper import LINK_ABS, LINK_PDF, Paper
from tracker.sources.hints import code_links, venue_doi, venue_hint

ARXIV_VENUE = "arXiv"


def one_line(text: object) -> str:
    """A text field with its whitespace (line breaks of the feed included) folded."""
    return " ".join(str(text).split()) if text else ""


def arxiv_paper(
    ident: ArxivId,
    *,
    title: str,
    abstract: str,
    authors: Iterable[str],
    categories: Iterable[str],
    comment: str | None,
    journal_ref: str | None,
    doi: str | None,
    source: str,
    submitted: dt.date | None = None,
    announced: dt.date | None = None,
) -> Paper:
    """The paper arXiv describes with these fields (see the module docstring). The year is the
    one a venue hint names, else that of `submitted` (the API) or `announced` (the listing)."""
    comment = one_line(comment) or None
    abstract = one_line(abstract)
    hint = venue_hint(comment, one_line(journal_ref) or None)
    links = {
        LINK_ABS: f"https://arxiv.org/abs/{ident.id}",
        LINK_PDF: f"https://arxiv.org/pdf/{ident.id}",
    }
    for kind, url in code_links(abstract, comment).items():
        links.setdefault(kind, url)
    dated = submitted or announced
    return Paper(
        title=one_line(title),
        abstract=abstract,
        authors=tuple(authors),
        arxiv_id=ident.id,
        arxiv_version=ident.version,
        doi=venue_doi(doi) if doi else None,
        venue=hint.venue if hint else ARXIV_VENUE,
        year=hint.year if hint and hint.year else (dated.year if dated else None),
        links=links,
        categories=tuple(dict.fromkeys(c for c in categories if c)),
        comment=comment,
        submitted=submitted,
        announced=announced,
        source=source,
    )

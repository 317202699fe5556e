"""The sources stage: where new papers come from.

One module per source behind the `Source` interface (`base.py`): the arXiv API search
(`arxiv_api.py`), the arXiv daily listing (`arxiv_listing.py`) and conference feeds
(`feeds.py`), all over one polite HTTP client (`http.py`). `fetch.py` runs them, isolates
their failures, merges duplicates and drops known papers; `hints.py` reads code links and
venues out of abstracts and comments.

Typical use (what `tracker fetch` does):

    sources = build_sources(config)
    report = fetch_all(sources, since, until, known=catalog.index())
"""

from tracker.errors import SourceError
from tracker.sources.base import Source, SourceResult, Status
from tracker.sources.fetch import (
    FetchReport,
    SourceReport,
    build_sources,
    default_window,
    fetch_all,
    merge_papers,
)

__all__ = [
    "FetchReport",
    "Source",
    "SourceError",
    "SourceReport",
    "SourceResult",
    "Status",
    "build_sources",
    "default_window",
    "fetch_all",
    "merge_papers",
]

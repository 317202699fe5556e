"""What the pull request says about venues, read from its state (`PullState.venues`):
"Published since listed" (catalog preprints found published, with the evidence) and the venue
volumes the run read; the section's text; the title of a pull request that only updates venues.
`tracker.publish.body` renders the section (every text through its `inert`) before the run
statistics.

The state is read as untrusted (a block can be forged): every value is checked here, and the
only links the body builds are arXiv pages from a parsed id, DOI resolver links, and evidence
URLs of a known shape (`evidence_url`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracker.catalog.store import is_valid_url
from tracker.catalog.volumes import VOLUMES_FILE
from tracker.identity import normalize_doi, parse_arxiv_id
from tracker.publish.block import PullState
from tracker.venues import VenueUpdate

PUBLISHED_HEADING = "### Published since listed ({count})"
PUBLISHED_TEXT = (
    "These papers were listed as arXiv preprints and have since been published: their `venue` "
    "and `year` are updated in `{papers_file}`, with the DOI and the venue's page when known."
)
PUBLISHED_HEAD = "| Paper | Listed as | Now | Evidence |\n|---|---|---|---|"
VOLUMES_TEXT = "Venue volumes read this night, recorded in `{volumes_file}`: {volumes}."
UPDATES_TITLE = "Update the venue of {count} {papers} ({date})"
MAX_SHOWN = 200  # a forged state cannot make the body huge
_EVIDENCE_HOSTS = ("https://dblp.org/rec/", "https://arxiv.org/abs/")


def updates(venues: Mapping[str, Any]) -> list[VenueUpdate]:
    """The valid updates a state lists."""
    raw = venues.get("updates")
    items = raw[:MAX_SHOWN] if isinstance(raw, list) else []
    return [u for u in (VenueUpdate.from_json(x) for x in items) if u is not None]


def updates_title(state: PullState) -> str:
    """The title of a pull request that only updates venues."""
    count = len(updates(state.venues))
    papers = "paper" if count == 1 else "papers"
    date = state.date.isoformat() if state.date else ""
    return UPDATES_TITLE.format(count=count, papers=papers, date=date)


def volumes(venues: Mapping[str, Any]) -> tuple[list[tuple[str, int]], str]:
    """The valid (label, records) volumes a state lists, and the file that records them."""
    raw = venues.get("volumes")
    found = [
        (str(v[0]), v[1])
        for v in (raw[:MAX_SHOWN] if isinstance(raw, list) else [])
        if isinstance(v, list) and len(v) == 2 and type(v[1]) is int
    ]
    where = venues.get("volumes_file")
    where = where if isinstance(where, str) and where.endswith(VOLUMES_FILE) else VOLUMES_FILE
    return found, where


def evidence_url(url: str | None) -> str | None:
    """`url` when it is a dblp record or an arXiv abstract page (the evidence links shown)."""
    if url and url.startswith(_EVIDENCE_HOSTS) and is_valid_url(url):
        return url
    return None


def arxiv_of(update: VenueUpdate) -> str | None:
    parsed = parse_arxiv_id(update.arxiv) if update.arxiv else None
    return parsed.id if parsed else None


def doi_of(update: VenueUpdate) -> str | None:
    return normalize_doi(update.doi) if update.doi else None

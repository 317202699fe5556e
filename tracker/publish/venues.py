"""The pull request's venue sections, from its state (`PullState.venues`): "Published since
listed" (catalog preprints found published, with the evidence) and the venue volumes the run
read. `tracker.publish.body` places them before the run statistics and, for a pull request that
only updates venues, takes its title from here.

Text from papers, dblp and arXiv comments goes through `tracker.publish.body.inert`, like every
other piece of the body, and the state is read as untrusted (a block can be forged): the only
links are ones built here from a parsed arXiv id, a DOI, or a record URL of a known shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracker.catalog.awesome import safe_url
from tracker.catalog.store import is_valid_url
from tracker.catalog.volumes import VOLUMES_FILE
from tracker.identity import normalize_doi, parse_arxiv_id
from tracker.publish.block import PullState
from tracker.publish.body import inert
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


def venue_sections(venues: Mapping[str, Any], papers_file: str) -> list[str]:
    """The body lines for `PullState.venues` (none when it is empty)."""
    return published_section(updates(venues), papers_file) + volumes_line(venues)


def published_section(found: list[VenueUpdate], papers_file: str) -> list[str]:
    """The "Published since listed" section's lines (none without updates)."""
    if not found:
        return []
    out = [PUBLISHED_HEADING.format(count=len(found)), ""]
    out.append(PUBLISHED_TEXT.format(papers_file=papers_file))
    out.append("")
    out.append(PUBLISHED_HEAD)
    for u in found:
        arxiv = parse_arxiv_id(u.arxiv) if u.arxiv else None
        paper = inert(u.title)
        if arxiv is not None:
            paper = f"[{paper}](https://arxiv.org/abs/{safe_url(arxiv.id)}) `{arxiv.id}`"
        was = f"arXiv {u.old_year}" if u.old_year else "arXiv"
        now = inert(f"{u.venue} {u.year}" if u.year else u.venue)
        doi = normalize_doi(u.doi) if u.doi else None
        if doi:
            now += f" · [doi:{inert(doi)}](https://doi.org/{safe_url(doi)})"
        elif u.link and is_valid_url(u.link):
            now += f" · [venue page]({safe_url(u.link)})"
        evidence = inert(u.evidence)
        url = u.evidence_url or ""
        if url.startswith(_EVIDENCE_HOSTS) and is_valid_url(url):
            evidence = f"[{evidence}]({safe_url(url)})"
        out.append(f"| {paper} | {was} | {now} | {evidence} |")
    out.append("")
    return out


def volumes_line(venues: Mapping[str, Any]) -> list[str]:
    """One line naming the volumes read (none when no volume was read)."""
    raw = venues.get("volumes")
    volumes = [
        (str(v[0]), v[1])
        for v in (raw[:MAX_SHOWN] if isinstance(raw, list) else [])
        if isinstance(v, list) and len(v) == 2 and type(v[1]) is int
    ]
    if not volumes:
        return []
    where = venues.get("volumes_file")
    where = where if isinstance(where, str) and where.endswith(VOLUMES_FILE) else VOLUMES_FILE
    names = ", ".join(inert(f"{label} ({records} records)") for label, records in volumes)
    return [VOLUMES_TEXT.format(volumes_file=inert(where), volumes=names), ""]

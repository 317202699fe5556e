"""dblp's publication search API (https://dblp.org/search/publ/api, JSON): new volumes of the
configured venues, and title searches for the venue of a paper listed as a preprint.

A venue is a dblp stream (`conf/uss`, `journals/tifs`). Each fetch asks, for every stream and
watched year, `q=stream:streams/<stream>: year:<year>:`, pages through the hits (`h` at most
1000, `f` the offset; dblp serves no hit past the 10,000th of a query), groups the records into
volumes (venue, journal volume and number, year) and returns the records of every volume that
`catalog/volumes.yaml` does not record as read with as many records. The volumes it read come
back in the result, and the nightly pull request records them (see `tracker.catalog.volumes`).

Watched years: the window's years and the one before (proceedings reach dblp weeks or months
after the conference, NeurIPS's in the following year), never before `dblp.from_year`.

dblp's JSON has quirks, all handled here and nowhere else: numbers are strings, `hit` is missing
when nothing matched, `authors.author` is an object for one author and a list for several,
`ee` and `venue` are a string or a list, titles end with a period and carry HTML entities
(`&apos;`, `&amp;`), author names carry a disambiguation number (`Wei Wang 0001`). Records of
type `Editorship` (a proceedings volume's front matter) and `Informal and Other Publications`
(CoRR preprints) are not papers at a venue and are skipped. dblp has no abstracts: the pipeline
borrows them from arXiv (`tracker.sources.abstracts`).

Etiquette (dblp's FAQ): a User-Agent with a contact, a pause between requests (`http.delay`,
3 s by default; dblp asks for one or two), and a 429 is waited out for its Retry-After, as the
shared HTTP client does for every source.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracker.catalog.volumes import Volume, VolumesRead
from tracker.http import HttpClient, HttpResponse, RetryableResponse
from tracker.identity import doi_from_url, normalize_doi
from tracker.paper import LINK_ABS, Paper
from tracker.sources.base import Progress, Source, SourceResult, no_progress

NAME = "dblp"
PAGE_SIZE = 1000  # dblp's cap on `h`
MAX_WINDOW = 10_000  # dblp serves no hit past the 10,000th of a query
TITLE_HITS = 30  # hits asked for a title search: a title is rarely on more than a few records
LINK_DBLP = "dblp"  # the record's page on dblp (https://dblp.org/rec/<key>), the evidence
SKIPPED_TYPES = frozenset({"Editorship", "Informal and Other Publications"})
JSON_ACCEPT = "application/json"
_DISAMBIGUATION = re.compile(r"\s+\d{4}$")  # "Wei Wang 0001"
_VOLUME_PART = re.compile(r"\s*\(\d+\)$")  # "ECCV (12)": part 12 of the proceedings


@dataclass(frozen=True)
class DblpStream:
    """A venue on dblp: its stream key and the venue name the catalog writes."""

    stream: str
    venue: str


@dataclass(frozen=True)
class DblpHit:
    """A dblp record as a paper, with the volume it belongs to and the record's type."""

    paper: Paper
    volume: str
    type: str
    info: Mapping[str, Any]


class DblpSource(Source):
    """New volumes of dblp streams (see the module docstring).

    Arguments:
        http: the polite client every request goes through.
        api_url: the search endpoint (`https://dblp.org/search/publ/api`).
        streams: the venues to read.
        read: the volumes already read (`catalog/volumes.yaml`).
        from_year: volumes of earlier years are never read (0: no limit).
    """

    name = NAME

    def __init__(
        self,
        http: HttpClient,
        api_url: str,
        streams: Sequence[DblpStream],
        *,
        read: VolumesRead | None = None,
        from_year: int = 0,
    ) -> None:
        self.http = http
        self.api_url = api_url
        self.streams = tuple(streams)
        self.read = read if read is not None else VolumesRead()
        self.from_year = from_year

    def years(self, since: dt.date, until: dt.date) -> list[int]:
        """The years whose volumes a fetch for `since`..`until` reads, newest first."""
        first = max(since.year - 1, self.from_year)
        return list(range(until.year, first - 1, -1))

    def fetch(
        self, since: dt.date, until: dt.date, progress: Progress = no_progress
    ) -> SourceResult:
        papers: list[Paper] = []
        volumes: list[Volume] = []
        warnings: list[str] = []
        notes: list[str] = []
        skipped = 0
        years = self.years(since, until)
        for n, stream in enumerate(self.streams):
            for year in years:
                query = f"stream:streams/{stream.stream}: year:{year}:"
                hits, total = self.search(query, stream.venue)
                if total > MAX_WINDOW:
                    warnings.append(
                        f"{stream.stream} {year} has {total} records; dblp serves only the first "
                        f"{MAX_WINDOW}"
                    )
                by_volume: dict[str, list[Paper]] = {}
                for hit in hits:
                    if hit.type in SKIPPED_TYPES:
                        continue
                    by_volume.setdefault(hit.volume, []).append(hit.paper)
                for label, records in by_volume.items():
                    volume = Volume(NAME, stream.stream, label, len(records))
                    if self.read.is_read(volume):
                        skipped += 1
                        continue
                    papers.extend(records)
                    volumes.append(volume)
            progress(n + 1, len(self.streams), stream.stream)
        if volumes:
            names = ", ".join(f"{v.label} ({v.records})" for v in volumes)
            notes.append(f"new volumes read: {names}")
        if skipped:
            notes.append(f"{skipped} volume(s) already read (catalog/volumes.yaml)")
        return SourceResult(tuple(papers), tuple(warnings), tuple(notes), volumes=tuple(volumes))

    def search_title(self, title: str) -> list[Paper]:
        """Papers at a venue whose records dblp finds for the words of `title` (CoRR preprints
        and proceedings front matter left out); the caller decides which is the same paper."""
        words = re.findall(r"\w+", html.unescape(title))
        if not words:
            return []
        hits, _total = self._page(" ".join(words), 0, TITLE_HITS)
        names = {s.stream: s.venue for s in self.streams}
        out = []
        for hit in hits:
            if hit.type in SKIPPED_TYPES:
                continue
            name = names.get(stream_of(hit.paper) or "")
            named = hit_from_info(hit.info, name) if name else None
            out.append((named or hit).paper)
        return out

    def search(self, query: str, venue: str | None = None) -> tuple[list[DblpHit], int]:
        """Every hit of `query` (paged), and the total dblp reports."""
        hits: list[DblpHit] = []
        first = 0
        total = 0
        while first < MAX_WINDOW:
            page, total = self._page(query, first, min(PAGE_SIZE, MAX_WINDOW - first), venue)
            hits.extend(page)
            first += len(page)
            if not page or first >= total:
                break
        return hits, total

    # --- internals ---------------------------------------------------------------------------

    def _page(
        self, query: str, first: int, size: int, venue: str | None = None
    ) -> tuple[list[DblpHit], int]:
        check = _PageCheck(first)
        params = {"q": query, "format": "json", "h": str(size), "f": str(first), "c": "0"}
        self.http.get(self.api_url, params=params, accept=JSON_ACCEPT, check=check)
        assert check.hits is not None  # the check parsed the page, or get() raised
        papers = []
        for info in check.hits:
            hit = hit_from_info(info, venue)
            if hit is not None:
                papers.append(hit)
        return papers, check.total


class _PageCheck:
    """Parses each answer before `HttpClient.get` returns it; an answer that is not dblp's JSON,
    or an empty page although hits remain, is retried like a 503."""

    def __init__(self, first: int) -> None:
        self.first = first
        self.total = 0
        self.hits: list[Mapping[str, Any]] | None = None

    def __call__(self, response: HttpResponse) -> None:
        data = response.json("dblp")
        hits = data.get("result", {}).get("hits") if isinstance(data, dict) else None
        if not isinstance(hits, dict) or "@total" not in hits:
            raise RetryableResponse("dblp's answer has no result.hits.@total")
        total = _int(hits.get("@total"))
        if total is None:
            raise RetryableResponse(f"dblp's @total is not a number: {hits.get('@total')!r}")
        raw = hits.get("hit", [])
        items = [raw] if isinstance(raw, dict) else raw if isinstance(raw, list) else []
        if not items and self.first < min(total, MAX_WINDOW):
            raise RetryableResponse(
                f"empty page at f={self.first} although dblp reports {total} hits"
            )
        self.total = total
        infos = (i.get("info") for i in items if isinstance(i, dict))
        self.hits = [info for info in infos if isinstance(info, dict)]


def hit_from_info(info: Mapping[str, Any], venue: str | None = None) -> DblpHit | None:
    """A hit's `info` as a paper at `venue` (the catalog's name for the stream; None: dblp's
    venue name), or None when it has no usable title or year."""
    title = _title(info.get("title"))
    year = _int(info.get("year"))
    if not title or year is None:
        return None
    dblp_venue = _venue(info.get("venue"))
    ee = _strings(info.get("ee"))
    doi = normalize_doi(str(info["doi"])) if info.get("doi") else None
    if doi is None:
        doi = next((d for d in (doi_from_url(u) for u in ee) if d), None)
    links: dict[str, str] = {}
    page = next((u for u in ee if u.startswith(("https://", "http://"))), None)
    if page:
        links[LINK_ABS] = page
    key = str(info.get("key") or "")
    url = info.get("url")
    if isinstance(url, str) and url.startswith("https://dblp.org/rec/"):
        links[LINK_DBLP] = url
    elif key:
        links[LINK_DBLP] = f"https://dblp.org/rec/{key}"
    if LINK_ABS not in links and LINK_DBLP in links:
        links[LINK_ABS] = links[LINK_DBLP]  # no electronic edition: dblp's page is the paper's
    paper = Paper(
        title=title,
        authors=_authors(info.get("authors")),
        doi=doi,
        venue=catalog_venue(venue, dblp_venue),
        year=year,
        links=links,
        source=NAME,
    )
    volume = " ".join(
        p for p in (dblp_venue, _str(info.get("volume")), _number(info.get("number"))) if p
    )
    return DblpHit(paper, f"{volume} {year}".strip(), _str(info.get("type")), info)


def catalog_venue(name: str | None, dblp_venue: str) -> str | None:
    """The venue as the catalog writes it: the stream's configured `name`, as a workshop or a
    findings volume when dblp's venue says so (a stream holds its venue's workshops too:
    "CVPR Workshops", "ACL (Findings)"); dblp's own name, without a part number, otherwise."""
    if not name:
        return _VOLUME_PART.sub("", dblp_venue) or None
    if re.search(r"\bworkshops?\b", dblp_venue, re.IGNORECASE):
        return f"{name} Workshop"
    if re.search(r"\bfindings\b", dblp_venue, re.IGNORECASE):
        return f"Findings of {name}"
    return name


def stream_of(paper: Paper) -> str | None:
    """The dblp stream (`conf/uss`) of a paper read from dblp, from its record's key."""
    url = paper.links.get(LINK_DBLP, "")
    parts = url.removeprefix("https://dblp.org/rec/").split("/")
    return "/".join(parts[:2]) if len(parts) >= 3 else None


def _title(value: object) -> str:
    if isinstance(value, Mapping):  # older answers: {"@ee": ..., "text": ...}
        value = value.get("text")
    if not isinstance(value, str):
        return ""
    text = " ".join(html.unescape(value).split())
    # dblp ends every title with a period; a title that ends in ?, ! or ... keeps its own.
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1].rstrip()
    return text


def _authors(value: object) -> tuple[str, ...]:
    if not isinstance(value, Mapping):
        return ()
    raw = value.get("author")
    items = [raw] if isinstance(raw, Mapping | str) else raw if isinstance(raw, list) else []
    names = []
    for item in items:
        name = item.get("text") if isinstance(item, Mapping) else item
        if isinstance(name, str) and name.strip():
            names.append(_DISAMBIGUATION.sub("", " ".join(html.unescape(name).split())))
    return tuple(names)


def _venue(value: object) -> str:
    # A list names the same venue several ways; the first is the one dblp shows.
    parts = _strings(value)
    return html.unescape(parts[0]) if parts else ""


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def _str(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _number(value: object) -> str:
    text = _str(value)
    return f"({text})" if text else ""


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None

"""dblp's publication search API as a loopback server sees it.

The JSON is written as dblp serves it (https://dblp.org/faq/13501473.html, and answers recorded
by public clients): `result.hits` with `@total`, `@computed`, `@sent` and `@first` as strings,
`hit` left out when nothing matched, each hit's `info` with `authors.author` (an object when
there is one author, a list otherwise, each `{"@pid", "text"}`), `title` ending in a period and
carrying HTML entities (`&apos;`, `&amp;`), `venue` (a string, or a list for some records),
`year` as a string, `type`, `key`, `doi`, `ee` (a string, or a list when there are several
electronic editions) and `url`.

    api = DblpApi([dblp_record(paper, key="conf/uss/LiuJG26", stream="conf/uss",
                               venue="USENIX Security Symposium", year=2026)])
    server.route("/search/publ/api", api)

Queries understood, as dblp's CompleteSearch reads them: `stream:streams/<stream>: year:<y>:`
(a venue's records of one year), `toc:db/<stream>/<name>.bht:` (one volume), and plain words
(every word a prefix of a title word, case-insensitive: dblp's title search). `h` is capped at
1000 and `f` + `h` at 10,000, as dblp does.
"""

from __future__ import annotations

import html
import json
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.servers.loopback import Reply, Request
from tracker.paper import Paper

JSON_TYPE = "application/json; charset=utf-8"
MAX_HITS = 1000
MAX_WINDOW = 10_000
CONFERENCE = "Conference and Workshop Papers"
JOURNAL = "Journal Articles"
INFORMAL = "Informal and Other Publications"
EDITORSHIP = "Editorship"
# What dblp sends with a 429: an HTML page (its FAQ calls it an empty document) and Retry-After.
TOO_MANY = b"""<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head><title>429 Too Many Requests</title></head>
<body><h1>Too Many Requests</h1><p>The vast number of requests from your side has led to a
temporary block.</p></body></html>
"""

_STREAM_Q = re.compile(r"stream:streams/(?P<stream>[^:\s]+):(?:\s+year:(?P<year>\d{4}):)?")
_TOC_Q = re.compile(r"toc:(?P<toc>db/[^:\s]+\.bht):")
_WORD = re.compile(r"\w+")


def dblp_title(title: str) -> str:
    """A title as dblp writes it in JSON: a final period, `'` and `&` as HTML entities."""
    text = title if title.endswith((".", "?", "!")) else title + "."
    return text.replace("&", "&amp;").replace("'", "&apos;")


@dataclass(frozen=True)
class DblpRecord:
    """One publication: the stream and volume (toc) it belongs to, and its `info` object."""

    stream: str
    info: Mapping[str, Any]
    toc: str = ""

    @property
    def year(self) -> int:
        return int(self.info["year"])


def dblp_record(
    paper: Paper,
    *,
    key: str,
    stream: str,
    venue: str | list[str],
    year: int | None = None,
    kind: str = CONFERENCE,
    ee: Sequence[str] = (),
    volume: str | None = None,
    number: str | None = None,
    toc: str = "",
) -> DblpRecord:
    """A dblp record of `paper` (title, authors, DOI from the paper; the rest as given)."""
    authors = [
        {"@pid": f"{i:02d}/{zlib.crc32(a.encode()) % 9999}", "text": a}
        for i, a in enumerate(paper.authors)
    ]
    info: dict[str, Any] = {
        "authors": {"author": authors[0] if len(authors) == 1 else authors},
        "title": dblp_title(paper.title),
        "venue": venue,
    }
    if volume is not None:
        info["volume"] = volume
    if number is not None:
        info["number"] = number
    info["pages"] = "1-18"
    info["year"] = str(year if year is not None else paper.year)
    info["type"] = kind
    info["access"] = "closed"
    info["key"] = key
    if paper.doi:
        info["doi"] = paper.doi.upper()
    links = list(ee) or ([f"https://doi.org/{paper.doi.upper()}"] if paper.doi else [])
    if links:
        info["ee"] = links[0] if len(links) == 1 else links
    info["url"] = f"https://dblp.org/rec/{key}"
    if not authors:
        del info["authors"]
    return DblpRecord(stream, info, toc)


def search_json(
    infos: Sequence[Mapping[str, Any]], *, query: str, total: int, first: int, ids: int = 0
) -> bytes:
    """One page of search results, shaped and typed as dblp sends it."""
    hits: dict[str, Any] = {
        "@total": str(total),
        "@computed": str(min(total, MAX_WINDOW)),
        "@sent": str(len(infos)),
        "@first": str(first),
    }
    if infos:
        hits["hit"] = [
            {
                "@score": "1",
                "@id": str(ids + first + i + 1),
                "info": dict(info),
                "url": f"URL#{ids + first + i + 1}",
            }
            for i, info in enumerate(infos)
        ]
    result = {
        "result": {
            "query": query,
            "status": {"@code": "200", "text": "OK"},
            "time": {"@unit": "msecs", "text": "3.14"},
            "completions": {"@total": "0", "@computed": "0", "@sent": "0"},
            "hits": hits,
        }
    }
    return json.dumps(result, ensure_ascii=False).encode("utf-8")


@dataclass
class DblpApi:
    """dblp's `/search/publ/api` over `records` (see the module docstring).

    `queries` records every `q` asked, in order.
    """

    records: Sequence[DblpRecord]
    queries: list[str] = field(default_factory=list)

    def __call__(self, request: Request) -> Reply:
        query = request.param("q")
        self.queries.append(query)
        if request.param("format", "xml") != "json":
            return Reply(200, b"<?xml version='1.0'?><result/>", "application/xml")
        hits = min(int(request.param("h", "30")), MAX_HITS)
        first = int(request.param("f", "0"))
        matching = self.matching(query)
        page: list[Mapping[str, Any]] = []
        if first < MAX_WINDOW:
            end = min(first + hits, MAX_WINDOW)
            page = [r.info for r in matching[first:end]]
        body = search_json(page, query=query, total=len(matching), first=first)
        return Reply(200, body, JSON_TYPE)

    def matching(self, query: str) -> list[DblpRecord]:
        stream = _STREAM_Q.fullmatch(query.strip())
        if stream:
            year = stream.group("year")
            return [
                r
                for r in self.records
                if r.stream == stream.group("stream") and (year is None or r.year == int(year))
            ]
        toc = _TOC_Q.fullmatch(query.strip())
        if toc:
            return [r for r in self.records if r.toc == toc.group("toc")]
        words = [w.lower() for w in _WORD.findall(query)]
        if not words:
            return []
        out = []
        for r in self.records:
            title_words = [w.lower() for w in _WORD.findall(html.unescape(str(r.info["title"])))]
            if all(any(t.startswith(w) for t in title_words) for w in words):
                out.append(r)
        return out

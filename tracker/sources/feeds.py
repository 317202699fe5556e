"""Conference and journal feeds (RSS 2.0, Atom 1.0, RSS 1.0/RDF), and the safe feed parsing
that the arXiv daily listing shares.

Feeds are untrusted input. `parse_feed` never lets an entity be expanded or a file or URL be
read: the DOCTYPE (where entity declarations and external references live) is cut out before
feedparser sees the bytes, and any later `<!DOCTYPE`/`<!ENTITY` is turned into text. An
undefined entity reference that remains is then a well-formedness error, handled like any
other malformed XML: feedparser's lenient parser keeps what it can and the problem is reported.
The bytes come from our HTTP client (timeout, size limit), never from feedparser's own fetcher.
"""

from __future__ import annotations

import codecs
import datetime as dt
import email.utils
import html
import io
import re
import time
import xml.sax
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import feedparser

from tracker.config import FeedConfig
from tracker.errors import SourceError
from tracker.http import HttpClient, HttpResponse, short_url
from tracker.identity import doi_from_url, parse_arxiv_id
from tracker.paper import LINK_ABS, LINK_PDF, Paper
from tracker.sources.base import Progress, Source, SourceResult, no_progress
from tracker.sources.hints import code_links, venue_doi

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)


class NotAFeedError(SourceError):
    """The response is not RSS, Atom or RDF (an HTML page, JSON, an error page...)."""


@dataclass(frozen=True)
class ParsedFeed:
    """A feed as feedparser read it.

    Fields:
        version: feedparser's name of the format (`rss20`, `atom10`, `rss10`, ...).
        feed: the channel-level data.
        entries: the items or entries, in document order.
        problems: what was wrong with the document (malformed XML, a DOCTYPE removed); the
            entries are what could be read despite them.
        malformed: the parse error among `problems`, when the document is not well-formed
            (a truncated answer, say): its entries may be incomplete.
    """

    version: str
    feed: Mapping[str, Any]
    entries: tuple[Mapping[str, Any], ...]
    problems: tuple[str, ...] = ()
    malformed: str | None = None


# --- safe parsing ----------------------------------------------------------------------------

_DECL_IN_BODY = re.compile(rb"<!(?=(?i:DOCTYPE|ENTITY))")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_XML_DECL_ENCODING = re.compile(rb"^(<\?xml[^>]*?encoding\s*=\s*)(['\"])[^'\"]*\2")


def parse_feed(content: bytes, url: str, *, html: bool = True) -> ParsedFeed:
    """Parse `content` (fetched from `url`) as RSS, Atom or RDF, without expanding entities.

    With `html` (conference feeds), text fields are taken as HTML, as RSS readers do, and
    feedparser sanitises them. Without it (arXiv's listing, whose fields are plain text with
    LaTeX), they are returned as written: HTML handling would eat `$x<y$ and $a>b$`.
    Raises NotAFeedError when the bytes are not a feed at all.
    """
    problems: list[str] = []
    data = _to_ascii_compatible(content, url)
    data, removed = strip_doctype(data, url)
    if removed:
        problems.append("removed a DOCTYPE declaration: entities are never expanded")
    if _DECL_IN_BODY.search(data):
        data = _DECL_IN_BODY.sub(b"&lt;!", data)
        problems.append("neutralised a DOCTYPE or ENTITY declaration inside the document")
    parsed = feedparser.parse(
        io.BytesIO(data),
        response_headers={"content-location": url},
        sanitize_html=html,
        resolve_relative_uris=html,
    )
    version = parsed.get("version") or ""
    if not version:
        raise NotAFeedError(
            f"{short_url(url)} is not a feed (RSS, Atom or RDF): it starts with "
            f"{_snippet(content)!r}",
            hint="check the feed URL: it may point at a web page instead of its feed",
        )
    malformed = _bozo_problem(parsed.get("bozo_exception")) if parsed.get("bozo") else None
    if malformed:
        problems.append(malformed)
    return ParsedFeed(
        version,
        parsed.get("feed", {}),
        tuple(parsed.get("entries", ())),
        tuple(problems),
        malformed,
    )


def strip_doctype(data: bytes, url: str = "") -> tuple[bytes, bool]:
    """`data` without its DOCTYPE declaration (internal subset included); whether one was cut.

    Only the prolog is searched: what precedes the root element (XML declaration, comments,
    processing instructions, whitespace).
    """
    i, n = 0, len(data)
    while i < n:
        while i < n and data[i : i + 1].isspace():
            i += 1
        if data.startswith(b"<?", i):
            end = data.find(b"?>", i + 2)
            i = n if end < 0 else end + 2
        elif data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            i = n if end < 0 else end + 3
        elif data[i : i + 9].upper() == b"<!DOCTYPE":
            end = _doctype_end(data, i + 9)
            if end < 0:
                raise NotAFeedError(
                    f"{short_url(url)}: unterminated DOCTYPE declaration",
                    hint="the document is malformed",
                )
            return data[:i] + data[end:], True
        else:
            break
    return data, False


def _doctype_end(data: bytes, i: int) -> int:
    """The index just after the `>` closing a DOCTYPE whose body starts at `i`, or -1."""
    n = len(data)
    quote = 0
    depth = 0
    while i < n:
        c = data[i]
        if quote:
            if c == quote:
                quote = 0
        elif depth and data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            if end < 0:
                return -1
            i = end + 3
            continue
        elif c in (0x22, 0x27):  # " '
            quote = c
        elif c == 0x5B:  # [
            depth += 1
        elif c == 0x5D:  # ]
            depth = max(0, depth - 1)
        elif c == 0x3E and not depth:  # >
            return i + 1
        i += 1
    return -1


def _to_ascii_compatible(content: bytes, url: str) -> bytes:
    """UTF-16/32 documents re-encoded as UTF-8, so the DOCTYPE scan sees their markup."""
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            try:
                text = content.decode(encoding)
            except UnicodeDecodeError:
                raise NotAFeedError(f"{short_url(url)}: undecodable {encoding} document") from None
            data = text.lstrip("\ufeff").encode("utf-8")
            return _XML_DECL_ENCODING.sub(rb"\1\2utf-8\2", data)
    if b"\x00" in content[:4]:
        raise NotAFeedError(
            f"{short_url(url)} is not a feed: UTF-16/32 without a byte-order mark",
            hint="check the feed URL",
        )
    return content


def _bozo_problem(exc: object) -> str | None:
    # feedparser flags harmless things too (an encoding it had to guess, a media type it did
    # not expect); those are not worth a warning when the document itself parsed.
    if exc is None or isinstance(exc, feedparser.ThingsNobodyCaresAboutButMe):
        return None
    if isinstance(exc, xml.sax.SAXParseException):
        return f"malformed XML at line {exc.getLineNumber()}: {exc.getMessage()}"
    return f"malformed feed: {exc}"


def _snippet(content: bytes) -> str:
    text = content[:60].decode("utf-8", "replace")
    return " ".join(text.split())


# --- text helpers shared with the arXiv listing ------------------------------------------------


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str | None) -> str:
    """Text of an HTML fragment (feedparser hands over sanitised HTML), whitespace-normalised."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return " ".join("".join(extractor.parts).split())


_AUTHOR_SPLIT = re.compile(r"\s*;\s*|\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*")


# A character reference or named entity left in a text field: feedparser's loose parser (the
# fallback for a feed that is not well-formed anywhere) hands author fields over undecoded.
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


class UndecodedEntityError(ValueError):
    """An author field holds an entity that is not one (`&foo;`): its names cannot be read."""


def decode_entities(text: str) -> str:
    """`text` with the entities left in it decoded (`O&apos;Brien` -> `O'Brien`); raises
    UndecodedEntityError for one no feed defines, so that a name is never split at it."""
    if "&" not in text or not _ENTITY.search(text):
        return text
    decoded = html.unescape(text)
    left = _ENTITY.search(decoded)
    if left is not None and left.group(0) in text:
        raise UndecodedEntityError(f"undecodable entity {left.group(0)!r} in {text[:80]!r}")
    return decoded


def split_authors(names: list[str], *, name_lists: bool = False) -> tuple[str, ...]:
    """Author names from feed fields: one per field, or one field listing several.

    A single field with several names ("Ada Lovelace, Alan Turing and Grace Hopper",
    "A. One; B. Two") is split when every part looks like a full name (two words or more), so
    "Lovelace, Ada" stays one name. With `name_lists` (arXiv's `dc:creator`, always a list of
    "First Last" names), it is split whatever the parts look like: "Smriti" is a full name.
    Entities a malformed feed left in a field are decoded first (never split at their `&` or
    `;`); an undecodable one raises UndecodedEntityError.
    """
    out: list[str] = []
    for raw in names:
        name = " ".join(decode_entities(raw).split())
        if not name:
            continue
        parts = [p for p in _AUTHOR_SPLIT.split(name) if p]
        if len(parts) > 1 and (name_lists or all(len(p.split()) >= 2 for p in parts)):
            out.extend(parts)
        else:
            out.append(name)
    return tuple(out)


def entry_authors(
    entry: Mapping[str, Any], *, html: bool = True, name_lists: bool = False
) -> tuple[str, ...]:
    """The entry's authors (see `split_authors`); `html` as in `parse_feed`.

    With `name_lists` (one `dc:creator` naming everybody), the field's text is read as it is:
    feedparser also derives `authors` from it, but cuts out anything that looks like an e-mail
    address and mangles the names around it ("Eve <eve@evil.example>, Bob" becomes
    "Eve <ple>, Bob")."""
    details = [a for a in entry.get("authors") or () if isinstance(a, Mapping)]
    raw = entry.get("author")
    if name_lists and isinstance(raw, str) and raw and len(details) <= 1:
        names = [raw]
    else:
        names = [str(a.get("name") or "") for a in details]
        if not names and raw:
            names = [str(raw)]
    return split_authors([plain_text(n) if html else n for n in names], name_lists=name_lists)


def entry_date(entry: Mapping[str, Any]) -> dt.date | None:
    """The entry's date as written (its own time zone), from published or updated."""
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if isinstance(raw, str) and raw:
            date = parse_date(raw)
            if date is not None:
                return date
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if isinstance(parsed, time.struct_time):
            return dt.date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday)
    return None


def parse_date(text: str) -> dt.date | None:
    """The calendar date of an RFC 822 (`Mon, 15 Jan 2024 00:00:00 -0500`) or ISO 8601 date,
    in the time zone it is written in; None if neither."""
    try:
        return email.utils.parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


# --- the feed source -------------------------------------------------------------------------


class FeedSource(Source):
    """A conference or journal feed: each entry becomes a paper at the configured venue.

    Entries dated before the window are skipped (a feed lists the same papers every night);
    undated entries and entries dated after it are kept (proceedings are often dated by the
    conference). Merging with arXiv preprints happens in `fetch_all`.
    """

    def __init__(self, http: HttpClient, feed: FeedConfig) -> None:
        self.http = http
        self.feed = feed
        self.name = feed.name

    def fetch(
        self, since: dt.date, until: dt.date, progress: Progress = no_progress
    ) -> SourceResult:
        progress(0, None, f"requesting {short_url(self.feed.url)}")
        response = self.http.get(self.feed.url, accept=FEED_ACCEPT)
        return self.read(response, since)

    def read(self, response: HttpResponse, since: dt.date | None = None) -> SourceResult:
        """The papers in a fetched feed response (entries dated before `since` left out)."""
        parsed = parse_feed(response.content, response.url)
        feed_date = entry_date(parsed.feed)
        papers: list[Paper] = []
        warnings = [f"{short_url(response.url)}: {p}" for p in parsed.problems]
        older = untitled = 0
        for entry in parsed.entries:
            date = entry_date(entry)
            if since is not None and date is not None and date < since:
                older += 1
                continue
            paper = self.entry_paper(entry, date or feed_date)
            if paper is None:
                untitled += 1
                continue
            papers.append(paper)
        notes = []
        if older:
            notes.append(f"{older} entries dated before {since} skipped")
        if untitled:
            warnings.append(f"{untitled} entries without a title skipped")
        if not parsed.entries:
            warnings.append(f"{short_url(response.url)}: the feed has no entries")
        return SourceResult(tuple(papers), tuple(warnings), tuple(notes), errors=untitled)

    def entry_paper(self, entry: Mapping[str, Any], date: dt.date | None) -> Paper | None:
        """One feed entry as a paper, or None when it has no title."""
        title = _text(entry.get("title"), entry.get("title_detail"))
        if not title:
            return None
        abstract = _summary(entry)
        links: dict[str, str] = {}
        arxiv = None
        doi = _entry_doi(entry)
        for link in entry.get("links") or ():
            href = str(link.get("href") or "")
            if not href.startswith(("http://", "https://")):
                continue
            rel, kind = link.get("rel", "alternate"), str(link.get("type") or "")
            is_pdf = kind == "application/pdf" or href.lower().endswith(".pdf")
            if rel in ("alternate", "enclosure", "related"):
                links.setdefault(LINK_PDF if is_pdf else LINK_ABS, href)
            arxiv = arxiv or parse_arxiv_id(href)
            doi = doi or doi_from_url(href)
        for kind, url in code_links(abstract).items():
            links.setdefault(kind, url)
        return Paper(
            title=title,
            abstract=abstract,
            authors=entry_authors(entry),
            arxiv_id=arxiv.id if arxiv else None,
            arxiv_version=arxiv.version if arxiv else None,
            doi=doi,
            venue=self.feed.venue,
            year=self.feed.year or (date.year if date else None),
            links=links,
            source=self.name,
        )


def _text(value: object, detail: object) -> str:
    """A field as text: HTML has its markup removed, plain text (`$x<y$`) is kept as is."""
    kind = detail.get("type") if isinstance(detail, Mapping) else None
    if kind == "text/plain":
        return " ".join(str(value).split()) if value else ""
    return plain_text(str(value) if value else "")


def _summary(entry: Mapping[str, Any]) -> str:
    if entry.get("summary"):
        return _text(entry["summary"], entry.get("summary_detail"))
    for content in entry.get("content") or ():
        if content.get("value"):
            return _text(content["value"], content)
    return ""


def _entry_doi(entry: Mapping[str, Any]) -> str | None:
    for key in ("prism_doi", "dc_identifier", "id"):
        value = entry.get(key)
        if isinstance(value, str) and value:
            doi = venue_doi(value)
            if doi:
                return doi
    return None

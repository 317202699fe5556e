"""The one paper record that every pipeline stage passes along.

Sources produce `Paper`s, the classifier reads them, the catalog stores them (inside an `Entry`
that adds the section) and the bot publishes them. Identity questions (is this the same paper as
that one?) are answered in `tracker.identity`, never here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tracker.identity import parse_arxiv_id
from tracker.text import plain

# Link kinds with a fixed meaning; other kinds are kept as they come.
LINK_ABS = "abs"
LINK_PDF = "pdf"
LINK_CODE = "code"


@dataclass(frozen=True)
class Paper:
    """A paper as far as we know it.

    Fields:
        title: the title as published (whitespace-normalised, LaTeX kept). Title, abstract,
            authors, venue and comment pass through `tracker.text.plain` on construction.
        abstract: the abstract, or "" when unknown (the seed list has none).
        authors: author names in order.
        arxiv_id: the arXiv identifier without version (`2603.06862`, `cs/0112017`), or None.
        arxiv_version: the arXiv version number (`3` for v3), or None when unknown.
        doi: the DOI, lower-cased, without resolver prefix (`10.1145/3243734.3243757`), or None.
        venue: where it appeared or will appear (`CCS`, `arXiv`), or None.
        year: the publication year, or None.
        links: kind -> URL; kinds `abs`, `pdf` and `code` have fixed meaning.
        categories: arXiv categories, primary first.
        comment: the arXiv comment ("Accepted at USENIX Security 2026"), a venue hint.
        submitted: the date of the first submission, when known.
        announced: the date arXiv announced it (the listing night), when known.
        source: the name of the source that produced the record (`arxiv-api`, `catalog`, ...).
    """

    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    arxiv_id: str | None = None
    arxiv_version: int | None = None
    doi: str | None = None
    venue: str | None = None
    year: int | None = None
    links: Mapping[str, str] = field(default_factory=dict, hash=False)
    categories: tuple[str, ...] = ()
    comment: str | None = None
    submitted: dt.date | None = None
    announced: dt.date | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        # Text from papers is hostile: every Paper carries it through the one sanitiser, so
        # no stage can store or show a control character, an escape sequence or a bidi
        # override from a title (tracker.text).
        for name in ("title", "abstract", "venue", "comment"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, plain(value))
        object.__setattr__(self, "authors", tuple(plain(str(a)) for a in self.authors))

    def link(self, kind: str) -> str | None:
        return self.links.get(kind)

    def replace(self, **changes: Any) -> Paper:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with every field; dates as ISO strings."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Paper:
        """Build a Paper from `to_dict` output or a stream row (`id` taken as the arXiv id).

        Unknown keys are ignored; raises ValueError on a missing title or a malformed date.
        """
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ValueError("missing 'title'")
        raw_id = data.get("arxiv_id") or data.get("id")
        parsed = parse_arxiv_id(raw_id) if isinstance(raw_id, str) else None
        version = data.get("arxiv_version", data.get("version"))
        if version is None and parsed is not None:
            version = parsed.version
        return cls(
            title=" ".join(title.split()),
            abstract=" ".join(str(data.get("abstract") or "").split()),
            authors=tuple(str(a) for a in data.get("authors") or ()),
            arxiv_id=parsed.id if parsed else None,
            arxiv_version=int(version) if version is not None else None,
            doi=data.get("doi"),
            venue=data.get("venue"),
            year=int(data["year"]) if data.get("year") is not None else None,
            links=dict(data.get("links") or {}),
            categories=tuple(data.get("categories") or ()),
            comment=data.get("comment"),
            submitted=_date(data.get("submitted")),
            announced=_date(data.get("announced")),
            source=data.get("source"),
        )


def _date(value: object) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueError(f"malformed date {value!r} (expected YYYY-MM-DD)") from None

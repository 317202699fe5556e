"""The bot's hidden block: the machine-readable state of a tracker pull request, written as the
last line of its body, an HTML comment that GitHub does not show.

    <!-- tracker:proposals v2 PAYLOAD sha256=DIGEST -->

`PAYLOAD` is the state (`PullState`) as JSON, zlib-compressed and base64-encoded; `DIGEST` is
the sha256 of `PAYLOAD`. Why paper text can neither end, open nor fake the block:
- No paper text appears in the block raw: it is inside the encoded payload, and base64's
  alphabet has neither `-` nor `>`, so nothing in it can close the comment.
- Paper text reaches the rest of the body only through `tracker.publish.body.inert`, which
  writes `<` and `>` as entities and never a newline: no title can open or close an HTML
  comment, and none can start a line.
- A block is read only when it is a whole line of its own, its digest matches its payload, the
  payload decompresses within a bound (a forged block cannot be a zlib bomb) and it is valid;
  of several such lines the last one counts, and the bot writes its block last.
The body is still not the only witness: `tracker.publish.state` also reads the pull request's
branch (papers on the branch and not on the base), so even a body someone wrecked by hand
cannot make the bot forget what the branch adds.

Version 1 blocks (`<!-- tracker:proposals\\n{json}\\n-->`, before tiers) are still read, for
pull requests closed before this version: as a block of their own lines only.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import json
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracker.catalog.decisions import TIER_MAINTAINER
from tracker.catalog.store import Entry
from tracker.classify.result import TIER_ADDED, TIER_CANDIDATE
from tracker.identity import normalize_doi, normalize_title, paper_ids, parse_arxiv_id
from tracker.paper import Paper
from tracker.selection import Proposal

MARKER = "tracker:proposals"
VERSION = 2

# The classifier's tiers (`added`: in papers.yaml unless unticked; `candidate`: added only when
# ticked), and one for papers the bot did not propose (`/tracker add`, a human's commit).
TIERS = (TIER_ADDED, TIER_CANDIDATE, TIER_MAINTAINER)

# A forged payload may claim anything: decompress at most this much, keep at most this many.
MAX_PAYLOAD = 1_000_000
MAX_ITEMS = 500

_LINE = re.compile(
    r"^<!-- " + re.escape(MARKER) + r" v(?P<version>\d+) (?P<payload>[A-Za-z0-9+/]+={0,2}) "
    r"sha256=(?P<digest>[0-9a-f]{64}) -->$",
    re.M,
)
# Crossref's pattern for the DOIs it issues: what a task-list key may hold as text.
_PLAIN_DOI = re.compile(r"10\.\d{4,9}/[-._;()/:a-z0-9]+")
_LEGACY = re.compile(r"^<!-- " + re.escape(MARKER) + r"\n(?P<json>\{[^\n]*\})\n-->$", re.M)


@dataclass(frozen=True)
class Item:
    """One paper listed in a tracker pull request.

    Fields:
        title, arxiv, doi: the paper's identity (versionless arXiv id, normalised DOI).
        tier: `TIER_ADDED`, `TIER_CANDIDATE` or `TIER_MAINTAINER`.
        section: the leaf section it is in (when `checked`) or would go to.
        predicted: the section the classifier predicted ("" when it did not classify it).
        checked: whether it is in papers.yaml on the branch (the body's checkbox, as written).
        relevance, probability: the classifier's relevance and section probability.
        alternatives: runner-up (section id, probability) pairs shown when the section is unsure.
        neighbor: (title, similarity) of the nearest catalog paper, the reason shown.
        authors, venue, year, links, confidence: what its catalog entry holds.
        title_only: the classifier judged it on its title alone (a venue record with no
            abstract, none found on arXiv either).
    """

    title: str
    arxiv: str | None = None
    doi: str | None = None
    tier: str = TIER_ADDED
    section: str = ""
    predicted: str = ""
    checked: bool = True
    relevance: float | None = None
    probability: float | None = None
    alternatives: tuple[tuple[str, float], ...] = ()
    neighbor: tuple[str, float] | None = None
    authors: tuple[str, ...] = ()
    venue: str | None = None
    year: int | None = None
    links: Mapping[str, str] = field(default_factory=dict, hash=False)
    confidence: float | None = None
    title_only: bool = False

    def __post_init__(self) -> None:
        # One canonical form, so that a state read back from a body equals the one written.
        fix = object.__setattr__
        fix(self, "title", " ".join(self.title.split()))
        for name in ("relevance", "probability", "confidence"):
            fix(self, name, _round(getattr(self, name)))
        fix(self, "alternatives", tuple((s, round(float(p), 4)) for s, p in self.alternatives))
        if self.neighbor is not None:
            fix(self, "neighbor", (self.neighbor[0], round(float(self.neighbor[1]), 4)))
        fix(self, "authors", tuple(self.authors))
        fix(self, "links", dict(self.links))

    @property
    def key(self) -> str:
        """How the body's task list names it: `arXiv:ID`, `doi:DOI` (a DOI of the usual
        characters), else `ref:` and a hash of the normalised title."""
        if self.arxiv:
            return f"arXiv:{self.arxiv}"
        if self.doi and _PLAIN_DOI.fullmatch(self.doi):
            return f"doi:{self.doi}"
        return "ref:" + hashlib.sha256(normalize_title(self.title).encode()).hexdigest()[:10]

    def as_paper(self) -> Paper:
        return Paper(
            title=self.title,
            arxiv_id=self.arxiv,
            doi=self.doi,
            authors=self.authors,
            venue=self.venue,
            year=self.year,
            links=dict(self.links),
        )

    def entry(self, added: dt.date | None, section: str | None = None) -> Entry:
        """Its catalog entry, in `section` (default: its own)."""
        return Entry(self.as_paper(), section or self.section, added, self.confidence)

    def replace(self, **changes: Any) -> Item:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title, "tier": self.tier, "section": self.section}
        optional: dict[str, Any] = {
            "arxiv": self.arxiv,
            "doi": self.doi,
            "predicted": self.predicted or None,
            "relevance": self.relevance,
            "probability": self.probability,
            "alternatives": [list(a) for a in self.alternatives] or None,
            "neighbor": list(self.neighbor) if self.neighbor else None,
            "authors": list(self.authors) or None,
            "venue": self.venue,
            "year": self.year,
            "links": dict(self.links) or None,
            "confidence": self.confidence,
            "title_only": True if self.title_only else None,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        out["checked"] = self.checked
        return out

    @classmethod
    def from_json(cls, data: Any) -> Item | None:
        """The item, or None when `data` is not a valid one (never raises)."""
        if not isinstance(data, dict) or not _text(data.get("title")):
            return None
        arxiv = parse_arxiv_id(data["arxiv"]) if _text(data.get("arxiv")) else None
        doi = normalize_doi(data["doi"]) if _text(data.get("doi")) else None
        tier = str(data["tier"]) if data.get("tier") in TIERS else TIER_ADDED
        raw = data.get("neighbor")
        neighbor = None
        if isinstance(raw, list) and len(raw) == 2 and _number(raw[1]) is not None:
            neighbor = (str(raw[0]), float(raw[1]))
        links = data["links"] if isinstance(data.get("links"), dict) else {}
        return cls(
            title=" ".join(data["title"].split()),
            arxiv=arxiv.id if arxiv else None,
            doi=doi,
            tier=tier,
            section=_str(data.get("section")),
            predicted=_str(data.get("predicted")),
            checked=data.get("checked") is not False,
            relevance=_number(data.get("relevance")),
            probability=_number(data.get("probability")),
            alternatives=tuple(
                (str(a[0]), float(a[1]))
                for a in data.get("alternatives") or ()
                if isinstance(a, list) and len(a) == 2 and _number(a[1]) is not None
            ),
            neighbor=neighbor,
            authors=tuple(str(a) for a in data.get("authors") or () if isinstance(a, str)),
            venue=data.get("venue") if isinstance(data.get("venue"), str) else None,
            year=data.get("year") if type(data.get("year")) is int else None,
            links={str(k): v for k, v in links.items() if isinstance(v, str)},
            confidence=_number(data.get("confidence")),
            title_only=data.get("title_only") is True,
        )


@dataclass(frozen=True)
class PullState:
    """What a tracker pull request holds, as its body's block says.

    Fields:
        date: the night it was opened for.
        items: its papers, in the order the bot listed them.
        base: the commit of the base branch its first commit was built on.
        head: the branch commit this state describes ("" when unknown: a version 1 block).
        comment: the id of the last pull-request comment `tracker review` processed.
        stats: the run statistics (`RunStats.to_json`).
        rejections: (title, reason, pull request) of rejections the pull request records.
        venues: catalog preprints found published and venue volumes read
            (`tracker.venues.venues_json`; shown by `tracker.publish.venues`).
        version: the block's version (1: read from a pull request older than tiers).
    """

    date: dt.date | None
    items: tuple[Item, ...] = ()
    base: str = ""
    head: str = ""
    comment: int = 0
    stats: Mapping[str, Any] = field(default_factory=dict, hash=False)
    rejections: tuple[tuple[str, str, int | None], ...] = ()
    version: int = VERSION
    venues: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def replace(self, **changes: Any) -> PullState:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "date": self.date.isoformat() if self.date else None,
            "base": self.base,
            "head": self.head,
            "comment": self.comment,
            "items": [i.to_json() for i in self.items],
            "stats": dict(self.stats),
            "rejections": [list(r) for r in self.rejections],
            **({"venues": dict(self.venues)} if self.venues else {}),
        }

    @classmethod
    def from_json(cls, data: Any) -> PullState | None:
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return None
        raw = data.get("items")
        if not isinstance(raw, list):
            return None
        items = tuple(i for i in (Item.from_json(x) for x in raw[:MAX_ITEMS]) if i is not None)
        comment = data.get("comment")
        rejections = tuple(
            (str(r[0]), str(r[1]), r[2] if type(r[2]) is int else None)
            for r in data.get("rejections") or ()
            if isinstance(r, list) and len(r) == 3
        )
        return cls(
            date=_date(data.get("date")),
            items=items,
            base=_sha(data.get("base")),
            head=_sha(data.get("head")),
            comment=comment if type(comment) is int and comment >= 0 else 0,
            stats=data["stats"] if isinstance(data.get("stats"), dict) else {},
            rejections=rejections,
            venues=data["venues"] if isinstance(data.get("venues"), dict) else {},
        )


def encode(state: PullState) -> str:
    """The block line for `state`."""
    text = json.dumps(state.to_json(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    payload = base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")
    digest = hashlib.sha256(payload.encode("ascii")).hexdigest()
    return f"<!-- {MARKER} v{VERSION} {payload} sha256={digest} -->"


def decode(body: str | None) -> PullState | None:
    """The state in the last valid block of `body`, or None when it has none."""
    text = (body or "").replace("\r\n", "\n")  # bodies edited in the browser come back CRLF
    for m in reversed(list(_LINE.finditer(text))):
        if m.group("version") != str(VERSION):
            continue
        payload = m.group("payload")
        if hashlib.sha256(payload.encode("ascii")).hexdigest() != m.group("digest"):
            continue
        data = _inflate(payload)
        state = PullState.from_json(data) if data is not None else None
        if state is not None:
            return state
    for m in reversed(list(_LEGACY.finditer(text))):
        state = _legacy(m.group("json"))
        if state is not None:
            return state
    return None


def _inflate(payload: str) -> Any:
    try:
        raw = base64.b64decode(payload, validate=True)
        inflater = zlib.decompressobj()
        data = inflater.decompress(raw, MAX_PAYLOAD)
        if inflater.unconsumed_tail or not inflater.eof:
            return None  # larger than MAX_PAYLOAD, or truncated
        return json.loads(data.decode("utf-8"))
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError, RecursionError):
        return None


def _legacy(text: str) -> PullState | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("papers"), list):
        return None
    items = []
    for raw in data["papers"][:MAX_ITEMS]:
        item = Item.from_json({**raw, "tier": TIER_ADDED}) if isinstance(raw, dict) else None
        if item is not None:
            items.append(item.replace(predicted=item.section))
    return PullState(date=_date(data.get("date")), items=tuple(items), version=1)


def proposed_item(proposal: Proposal) -> Item:
    """The item for a paper the night's selection lists (either tier)."""
    arxiv, doi = paper_ids(proposal.paper)
    c = proposal.classification
    neighbour = c.neighbors[0] if c.neighbors else None
    return Item(
        title=proposal.paper.title,
        arxiv=arxiv,
        doi=doi,
        tier=proposal.tier,
        section=proposal.entry.section,
        predicted=proposal.entry.section,
        checked=proposal.tier == TIER_ADDED,
        relevance=c.relevance,
        probability=proposal.section.probability,
        alternatives=tuple((s.id, s.probability) for s in proposal.alternatives),
        neighbor=(neighbour.title, neighbour.similarity) if neighbour else None,
        authors=proposal.paper.authors,
        venue=proposal.paper.venue,
        year=proposal.paper.year,
        links=dict(proposal.paper.links),
        confidence=proposal.entry.confidence,
        title_only=c.title_only,
    )


def items_from_entries(entries: Sequence[Entry], tier: str) -> list[Item]:
    """Items for catalog entries that no classifier judged (a human's commit, `/tracker add`)."""
    return [
        Item(
            title=e.paper.title,
            arxiv=e.paper.arxiv_id,
            doi=e.paper.doi,
            tier=tier,
            section=e.section,
            checked=True,
            authors=e.paper.authors,
            venue=e.paper.venue,
            year=e.paper.year,
            links=dict(e.paper.links),
            confidence=e.confidence,
        )
        for e in entries
    ]


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value == value else None  # NaN is not a number here


def _sha(value: object) -> str:
    return value if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{40}", value) else ""


def _date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None

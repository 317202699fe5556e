"""The catalog on disk: `catalog/papers.yaml`, one entry per paper.

The file is a YAML list read and written with ruamel's round-trip mode, so comments, key order
and entry order that maintainers write by hand survive when tracker rewrites the file. An
entry's position among the entries of its section is its position in the rendered list; moving
a paper to another section is a one-line edit of its `section:`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from tracker.catalog.lock import settle
from tracker.catalog.taxonomy import Taxonomy, load_taxonomy
from tracker.errors import CatalogError, Problem, Problems, shown
from tracker.fsutil import read_text, write_files
from tracker.identity import PaperIndex, normalize_doi, paper_ids, parse_arxiv_id
from tracker.paper import LINK_ABS, LINK_CODE, LINK_PDF, Paper
from tracker.yamlio import dumps_yaml, line_of, loads_yaml

TAXONOMY_FILE = "taxonomy.yaml"
PAPERS_FILE = "papers.yaml"
REQUIRED = ("title", "section", "venue", "year")
# Key order of a written entry; maintainers may reorder keys by hand and that order is kept.
KEY_ORDER = (
    "title",
    "section",
    "venue",
    "year",
    "authors",
    "arxiv",
    "doi",
    "links",
    "added",
    "source",
    "confidence",
    "abstract",
)
_KNOWN = set(KEY_ORDER)
PAPERS_HEADER = """\
# The survey's papers, one entry per paper. Within a section, the order here is the order of
# the rendered list. Move a paper by editing its `section:` (ids are in taxonomy.yaml), then
# run `tracker render`. Required: title, section, venue, year, links.pdf.
"""
MIN_YEAR = 1950


@dataclass(frozen=True)
class Entry:
    """A paper in the catalog.

    Fields:
        paper: the shared paper record.
        section: the id of the leaf section it is listed under.
        added: the date tracker (or a maintainer) added it, when recorded.
        confidence: the classifier's section confidence when the bot proposed it.
        line: the entry's line in papers.yaml, for messages (None for new entries).
    """

    paper: Paper
    section: str
    added: dt.date | None = None
    confidence: float | None = None
    line: int | None = field(default=None, compare=False)

    def to_yaml(self) -> CommentedMap:
        """The entry as a mapping in `KEY_ORDER`, leaving out empty fields."""
        p = self.paper
        arxiv, doi = paper_ids(p)
        values: dict[str, Any] = {
            "title": p.title,
            "section": self.section,
            "venue": p.venue,
            "year": p.year,
            "authors": list(p.authors) or None,
            "arxiv": arxiv,
            "doi": doi,
            "links": CommentedMap(_ordered_links(p.links)) if p.links else None,
            "added": self.added.isoformat() if self.added else None,
            "source": p.source,
            "confidence": round(self.confidence, 3) if self.confidence is not None else None,
            "abstract": p.abstract or None,
        }
        out = CommentedMap()
        for key in KEY_ORDER:
            if values[key] is not None:
                out[key] = values[key]
        return out


def new_entry(paper: Paper, section: str, confidence: float, added: dt.date) -> Entry:
    """The entry for a paper tracker adds under `section`: venue "arXiv" when the record names
    none, the year it has (else the year it appeared, else the year of `added`); the record's
    `abs` link as the catalog's required `pdf` link (for arXiv papers the abstract page, as in
    the seed list) and its code link when it has a valid one; no abstract (the list shows none);
    the date added and the classifier's section confidence."""
    arxiv, _ = paper_ids(paper)
    venue = paper.venue if paper.venue and paper.venue.casefold() != "arxiv" else "arXiv"
    year = paper.year or _year_of(paper) or added.year
    links: dict[str, str] = {}
    pdf = paper.link(LINK_ABS) or (f"https://arxiv.org/abs/{arxiv}" if arxiv else None)
    pdf = pdf or paper.link(LINK_PDF)
    if pdf and is_valid_url(pdf):
        links[LINK_PDF] = pdf
    code = paper.link(LINK_CODE)
    if code and is_valid_url(code):
        links[LINK_CODE] = code
    return Entry(
        paper=paper.replace(venue=venue, year=year, links=links, arxiv_id=arxiv, abstract=""),
        section=section,
        added=added,
        confidence=confidence,
    )


def _year_of(paper: Paper) -> int | None:
    for date in (paper.announced, paper.submitted):
        if date is not None:
            return date.year
    return None


def _ordered_links(links: Any) -> list[tuple[str, str]]:
    order = {"pdf": 0, "code": 1, "abs": 2}
    return sorted(links.items(), key=lambda kv: (order.get(kv[0], 9), kv[0]))


class Catalog:
    """The catalog directory: taxonomy, entries, and the raw document they came from."""

    def __init__(self, root: Path, taxonomy: Taxonomy, entries: list[Entry], doc: Any) -> None:
        self.root = root
        self.taxonomy = taxonomy
        self.entries = entries
        self._doc = doc

    @property
    def papers_path(self) -> Path:
        return self.root / PAPERS_FILE

    @classmethod
    def load(cls, root: Path, *, allow_missing: bool = False) -> Catalog:
        """Read the catalog in `root`; raises CatalogError listing every problem.

        With `allow_missing`, a missing papers.yaml is an empty catalog (for `tracker import`).
        """
        settle(root)  # finish or undo a write a killed process left, unless one is at work
        taxonomy = load_taxonomy(root / TAXONOMY_FILE)
        path = root / PAPERS_FILE
        if allow_missing and not path.exists():
            return cls(root, taxonomy, [], _new_doc())
        doc, problems = read_papers(path)
        entries, more = parse_entries(doc, str(path), taxonomy)
        found = Problems(str(path))
        found.extend(
            sorted(
                problems + more + duplicate_problems(entries, str(path)),
                key=lambda p: (p.line or 0, p.message),
            )
        )
        found.raise_if_any(hint="fix the lines listed, then run `tracker check`")
        return cls(root, taxonomy, entries, doc if doc is not None else _new_doc())

    def in_section(self, section_id: str) -> list[Entry]:
        return [e for e in self.entries if e.section == section_id]

    def index(self) -> PaperIndex[Entry]:
        return PaperIndex((e.paper, e) for e in self.entries)

    def add(self, new: Iterable[Entry]) -> list[Entry]:
        """Add entries after the last entry of their section (or where their section would
        start), in the order given; returns what was added. Raises CatalogError on an unknown
        or non-leaf section, or on a paper that is already in the catalog."""
        added: list[Entry] = []
        index = self.index()
        leaf_order = self.taxonomy.leaf_order()
        for entry in new:
            if entry.section not in leaf_order:
                raise CatalogError(f"unknown section '{entry.section}' for '{entry.paper.title}'")
            existing = index.find(entry.paper)
            if existing is not None:
                where = f"{self.papers_path}:{existing.line}" if existing.line else "the catalog"
                raise CatalogError(
                    f"'{entry.paper.title}' is already in the catalog ({where})",
                    hint="a paper is listed once",
                )
            position = self._insert_position(entry.section, leaf_order)
            self._doc.insert(position, entry.to_yaml())
            self.entries.insert(position, entry)
            index.add(entry.paper, entry)
            added.append(entry)
        return added

    def set_published(
        self,
        title: str,
        venue: str,
        year: int | None,
        doi: str | None = None,
        link: str | None = None,
    ) -> Entry | None:
        """Record that the entry titled `title` was published at `venue` in `year`: its venue
        and year change, its DOI and venue page (links `venue`) are added when it has none. The
        entry keeps its place, comments and other keys. Returns the updated entry, or None when
        no entry has that title."""
        for i, entry in enumerate(self.entries):
            if entry.paper.title != title:
                continue
            item = self._doc[i]
            item["venue"] = venue
            if year is not None:
                item["year"] = year
            paper = entry.paper.replace(venue=venue, year=year or entry.paper.year)
            if doi and not paper.doi:
                position = list(item).index("year") + 1
                for key in ("authors", "arxiv"):
                    if key in item:
                        position = list(item).index(key) + 1
                item.insert(position, "doi", doi)
                paper = paper.replace(doi=doi)
            if link and link not in paper.links.values():
                links = item.get("links")
                if links is None:
                    links = item["links"] = CommentedMap()
                links.setdefault("venue", link)
                paper = paper.replace(links={**paper.links, "venue": links["venue"]})
            self.entries[i] = replace(entry, paper=paper)
            return self.entries[i]
        return None

    def remove(self, paper: Paper) -> Entry | None:
        """Remove the entry of `paper` (the same paper by `tracker.identity`); returns it, or
        None when the catalog does not list it."""
        i = self._position(paper)
        if i is None:
            return None
        del self._doc[i]
        return self.entries.pop(i)

    def move(self, paper: Paper, section: str) -> Entry | None:
        """Move the entry of `paper` to leaf `section`, after that section's last entry (as an
        added one would go); returns the moved entry, or None when the catalog does not list
        the paper. Raises CatalogError for a section that is not a leaf."""
        leaf_order = self.taxonomy.leaf_order()
        if section not in leaf_order:
            raise CatalogError(f"unknown section '{section}'")
        i = self._position(paper)
        if i is None:
            return None
        if self.entries[i].section == section:
            return self.entries[i]
        item = self._doc.pop(i)
        entry = replace(self.entries.pop(i), section=section)
        item["section"] = section
        position = self._insert_position(section, leaf_order)
        self._doc.insert(position, item)
        self.entries.insert(position, entry)
        return entry

    def _position(self, paper: Paper) -> int | None:
        index: PaperIndex[int] = PaperIndex((e.paper, i) for i, e in enumerate(self.entries))
        return index.find(paper)

    def _insert_position(self, section: str, leaf_order: dict[str, int]) -> int:
        rank = leaf_order[section]
        last_same = [i for i, e in enumerate(self.entries) if e.section == section]
        if last_same:
            return last_same[-1] + 1
        # No entry of this section yet: after the last entry of any earlier section.
        earlier = [i for i, e in enumerate(self.entries) if leaf_order.get(e.section, -1) < rank]
        return earlier[-1] + 1 if earlier else 0

    def dumps(self) -> str:
        text = dumps_yaml(self._doc)
        return text if text.startswith("#") else PAPERS_HEADER + text

    def save(self) -> None:
        write_files({self.papers_path: self.dumps()})


def _new_doc() -> CommentedSeq:
    return CommentedSeq()


def new_catalog_text(entries: Iterable[Entry]) -> str:
    """papers.yaml for a fresh catalog holding `entries` in the given order."""
    doc = CommentedSeq([e.to_yaml() for e in entries])
    return PAPERS_HEADER + dumps_yaml(doc)


EMPTY_PAPERS = (
    "papers.yaml holds no list (the file is empty or only comments): an empty or truncated "
    "catalog is refused; an empty catalog is written `[]`"
)
TRUNCATED_PAPERS = (
    "papers.yaml ends in the middle of a line: it looks truncated (tracker writes a newline "
    "at the end; restore the file from git, or end it with a newline if it is complete)"
)


def read_papers(path: Path) -> tuple[Any, list[Problem]]:
    """Load papers.yaml; CatalogError if it cannot be read or parsed, and a Problem if it is
    empty (only an explicit `[]` is an empty catalog) or ends mid-line (truncated)."""
    text = read_text(path, CatalogError)
    return loads_yaml(text, str(path)), completeness_problems(text, str(path))


def completeness_problems(text: str, name: str, *, final_newline: bool = True) -> list[Problem]:
    """Problems of a papers.yaml text that is not a whole catalog: empty, only comments, or
    (with `final_newline`) cut off in the middle of its last line."""
    if not any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
        return [Problem(name, 1, EMPTY_PAPERS)]
    if final_newline and not text.endswith("\n"):
        return [Problem(name, text.count("\n") + 1, TRUNCATED_PAPERS)]
    return []


def parse_entries(doc: Any, path: str, taxonomy: Taxonomy) -> tuple[list[Entry], list[Problem]]:
    """Turn the loaded papers.yaml into entries, collecting a Problem for each fault found."""
    problems = Problems(path)
    if doc is None:
        return [], []
    if not isinstance(doc, list):
        problems.add(line_of(doc) or 1, "papers.yaml must be a list of entries")
        return [], problems.items
    entries = []
    for i, item in enumerate(doc):
        line = line_of(doc, i)
        if not isinstance(item, dict):
            problems.add(line, "an entry must be a mapping (title: ..., ...)")
            continue
        entry = _parse_entry(item, line, taxonomy, problems)
        if entry is not None:
            entries.append(entry)
    return entries, problems.items


def _parse_entry(
    item: dict[str, Any], line: int | None, taxonomy: Taxonomy, problems: Problems
) -> Entry | None:
    def problem(key: str | None, message: str) -> None:
        problems.add(line_of(item, key) if key else line, message)

    for key in item:
        if key not in _KNOWN:
            problem(key, f"unknown field {shown(key)} (known: {', '.join(KEY_ORDER)})")
    for key in REQUIRED:
        if item.get(key) in (None, ""):
            problem(None, f"missing required field '{key}'")
    title = item.get("title")
    if title is not None and not isinstance(title, str):
        problem("title", "'title' must be text")
        title = None if isinstance(title, list | dict) else str(title)
    section = item.get("section")
    if isinstance(section, str) and section:
        node = taxonomy.get(section)
        if node is None:
            problem("section", f"unknown section '{section}' (see taxonomy.yaml for the ids)")
        elif not node.is_leaf:
            leaves = ", ".join(c.id for c in node.children)
            problem("section", f"'{section}' has sub-sections; use one of: {leaves}")
    year = item.get("year")
    if year is not None and (
        isinstance(year, bool)
        or not isinstance(year, int)
        or not MIN_YEAR <= year <= dt.date.today().year + 1
    ):
        problem("year", f"'year' must be a year, not {shown(year)}")
        year = None
    venue = item.get("venue")
    if venue is not None and not isinstance(venue, str):
        problem("venue", "'venue' must be text")
        venue = str(venue)

    links = item.get("links") or {}
    if not isinstance(links, dict):
        problem("links", "'links' must be a mapping such as {pdf: URL, code: URL}")
        links = {}
    clean_links: dict[str, str] = {}
    for kind, url in links.items():
        if not isinstance(url, str) or not is_valid_url(url):
            problems.add(
                line_of(links, kind) or line, f"malformed URL for {shown(kind)}: {shown(url)}"
            )
        else:
            clean_links[str(kind)] = url
    if LINK_PDF not in links:
        problem(None, "missing required field 'links.pdf'")

    arxiv_raw = item.get("arxiv")
    arxiv = parse_arxiv_id(_scalar(arxiv_raw)) if arxiv_raw is not None else None
    if arxiv_raw is not None and arxiv is None:
        problem("arxiv", f"malformed arXiv id {shown(arxiv_raw)}")
    doi_raw = item.get("doi")
    doi = normalize_doi(_scalar(doi_raw)) if doi_raw is not None else None
    if doi_raw is not None and doi is None:
        problem("doi", f"malformed DOI {shown(doi_raw)}")
    authors = item.get("authors") or []
    if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
        problem("authors", "'authors' must be a list of names")
        authors = []
    added = item.get("added")
    added_date: dt.date | None = None
    if added is not None:
        try:
            added_date = added if isinstance(added, dt.date) else dt.date.fromisoformat(str(added))
        except ValueError:
            problem("added", f"'added' must be a date (YYYY-MM-DD), not {shown(added)}")
    confidence = item.get("confidence")
    if confidence is not None and (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not 0 <= confidence <= 1
    ):
        problem("confidence", f"'confidence' must be a number from 0 to 1, not {shown(confidence)}")
        confidence = None
    abstract = item.get("abstract")
    if abstract is not None and not isinstance(abstract, str):
        problem("abstract", "'abstract' must be text")
        abstract = None

    if not isinstance(title, str) or not title.strip():
        return None
    paper = Paper(
        title=" ".join(title.split()),
        abstract=abstract or "",
        authors=tuple(authors),
        arxiv_id=arxiv.id if arxiv else None,
        arxiv_version=arxiv.version if arxiv else None,
        doi=doi,
        venue=venue,
        year=year,
        links=clean_links,
        source=item.get("source") if isinstance(item.get("source"), str) else None,
    )
    return Entry(
        paper=paper,
        section=section if isinstance(section, str) else "",
        added=added_date,
        confidence=float(confidence) if confidence is not None else None,
        line=line,
    )


def _scalar(value: object) -> str:
    """A YAML scalar as text; "" for a list or mapping (never the text of a whole structure)."""
    return "" if isinstance(value, list | dict) else str(value)


def is_valid_url(url: str) -> bool:
    """An absolute http(s) URL with a host and no whitespace."""
    if not url or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = parts.hostname or ""
    return parts.scheme in ("http", "https") and "." in host


def duplicate_problems(entries: list[Entry], path: str) -> list[Problem]:
    """A Problem for each entry that is the same paper as an earlier one."""
    problems = []
    index: PaperIndex[Entry] = PaperIndex()
    for entry in entries:
        first = index.find(entry.paper)
        if first is not None:
            problems.append(
                Problem(
                    path,
                    entry.line,
                    f"duplicate paper: same {_why_same(first.paper, entry.paper)} as the entry "
                    f"at line {first.line} ('{first.paper.title}')",
                )
            )
        else:
            index.add(entry.paper, entry)
    return problems


def _why_same(a: Paper, b: Paper) -> str:
    a_arxiv, a_doi = paper_ids(a)
    b_arxiv, b_doi = paper_ids(b)
    if a_arxiv and a_arxiv == b_arxiv:
        return f"arXiv id {a_arxiv}"
    if a_doi and a_doi == b_doi:
        return f"DOI {a_doi}"
    return "title"


def parse_papers_text(text: str, name: str, taxonomy: Taxonomy) -> list[Entry]:
    """Entries from papers.yaml text (used by tests and by the bot to read a branch's file)."""
    # No final-newline rule here: a file on a branch is exactly what someone committed.
    problems = Problems(name)
    problems.extend(completeness_problems(text, name, final_newline=False))
    entries, more = parse_entries(loads_yaml(text, name), name, taxonomy)
    problems.extend(more)
    problems.raise_if_any()
    return entries

"""Reading and writing awesome lists in the survey's Markdown format.

An item is `N. Title. Venue Year. [\\[pdf\\]](url) [\\[code\\]](url)`; headings (`##`, `###`)
name sections by their Chinese or English heading. The same module writes items, so that what
`render` writes, `import` reads back unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from tracker.catalog.store import Entry
from tracker.catalog.taxonomy import Section, Taxonomy
from tracker.errors import Problem
from tracker.identity import doi_from_url, normalize_arxiv_id
from tracker.paper import Paper
from tracker.text import plain

_HEADING = re.compile(r"^(?P<marks>#{1,6})\s+(?P<text>.*?)\s*#*\s*$")
_ITEM = re.compile(r"^\s{0,3}(?:\d+[.)]|[-*+])\s+(?P<body>.*\S)\s*$")
# [\[pdf\]](url), [[pdf]](url) and [pdf](url)
_LINK = re.compile(
    r"\[(?:\\?\[)?(?P<label>[A-Za-z][\w -]*?)(?:\\?\])?\]"
    r"\((?P<url>[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)\)"
)
_HEAD = re.compile(r"^(?P<title>.+?[.?!])\s+(?P<venue>[^.?!]*?)\s*(?P<year>(?:19|20)\d{2})\s*\.?$")
_MD_ESCAPED = re.compile(r"\\([\\`*_\[\]<>#|])")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


@dataclass
class ParsedList:
    """What an awesome list holds: its intro (text above the first section), entries, problems."""

    intro: str
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def parse_list(text: str, name: str, taxonomy: Taxonomy) -> ParsedList:
    """Parse Markdown `text` (from file `name`) into entries under taxonomy sections."""
    lines = text.splitlines()
    intro_lines: list[str] = []
    result = ParsedList(intro="")
    section: Section | None = None
    seen_section = False
    for number, line in enumerate(lines, start=1):
        heading = _HEADING.match(line)
        if heading and len(heading.group("marks")) >= 2:
            seen_section = True
            node = taxonomy.by_heading(heading.group("text"))
            if node is None:
                result.problems.append(
                    Problem(name, number, f"unknown section heading '{heading.group('text')}'")
                )
            section = node
            continue
        if not seen_section:
            intro_lines.append(line)
            continue
        item = _ITEM.match(line)
        if not item:
            continue  # prose between items is allowed and ignored
        if section is None:
            result.problems.append(Problem(name, number, "list item outside a known section"))
            continue
        if not section.is_leaf:
            result.problems.append(
                Problem(
                    name,
                    number,
                    f"list item under '{section.heading_zh or section.heading_en}', "
                    "which has sub-sections",
                )
            )
            continue
        entry = parse_item(item.group("body"), section.id, number)
        if isinstance(entry, str):
            result.problems.append(Problem(name, number, entry))
        else:
            result.entries.append(entry)
    result.intro = "\n".join(intro_lines).strip("\n") + "\n" if any(intro_lines) else ""
    if not result.entries and not result.problems:
        result.problems.append(
            Problem(name, None, "no list items found (expected `N. Title. Venue Year. [pdf](url)`)")
        )
    return result


def parse_item(body: str, section_id: str, line: int | None = None) -> Entry | str:
    """An entry from the text of one item, or a message saying why it cannot be read."""
    first_link = _LINK.search(body)
    head = body[: first_link.start()] if first_link else body
    links: dict[str, str] = {}
    if first_link:
        for m in _LINK.finditer(body, first_link.start()):
            links.setdefault(m.group("label").strip().lower(), m.group("url"))
    head_match = _HEAD.match(head.strip())
    if not head_match:
        return f"cannot read item '{_short(body)}' (expected `Title. Venue Year. [pdf](url)`)"
    m = head_match
    title = _MD_ESCAPED.sub(r"\1", m.group("title"))
    if title.endswith("."):
        title = title[:-1]
    venue = _MD_ESCAPED.sub(r"\1", m.group("venue")).strip()
    if not venue:
        return f"item '{_short(body)}' has no venue before the year"
    arxiv = doi = None
    for url in links.values():
        arxiv = arxiv or normalize_arxiv_id(url)
        doi = doi or doi_from_url(url)
    paper = Paper(
        title=" ".join(title.split()),
        venue=" ".join(venue.split()),
        year=int(m.group("year")),
        links=links,
        arxiv_id=arxiv,
        doi=doi,
    )
    return Entry(paper=paper, section=section_id, line=line)


def format_item(number: int, entry: Entry) -> str:
    """One rendered item, in the seed's format; text is Markdown-escaped, URLs made safe."""
    p = entry.paper
    title = escape_markdown(p.title)
    # A title ending in "?" or "!" takes no period (the seed's style); import strips one ".".
    end = "" if title.endswith(("?", "!")) else "."
    head = f"{number}. {title}{end} {escape_markdown(p.venue or '')} {p.year}."
    links = "  ".join(f"[\\[{kind}\\]]({safe_url(url)})" for kind, url in _link_order(p.links))
    return f"{head} {links}" if links else head


def format_link_item(entry: Entry) -> str:
    """One rendered item in the awesome-list link style: `- [Title](pdf) - Venue Year` and
    the other links as `[[kind]](url)`; text Markdown-escaped, URLs made safe."""
    p = entry.paper
    title = escape_markdown(p.title)
    links = _link_order(p.links)
    pdf = next((url for kind, url in links if kind == "pdf"), None)
    head = f"- [{title}]({safe_url(pdf)})" if pdf else f"- {title}"
    head += f" - {escape_markdown(p.venue or '')} {p.year}".rstrip()
    rest = " ".join(f"[[{kind}]]({safe_url(url)})" for kind, url in links if kind != "pdf")
    return f"{head} {rest}" if rest else head


def _link_order(links: dict[str, str] | object) -> list[tuple[str, str]]:
    order = {"pdf": 0, "code": 1}
    items = list(links.items()) if isinstance(links, dict) else []
    return sorted(items, key=lambda kv: (order.get(kv[0], 9), kv[0]))


def escape_markdown(text: str) -> str:
    """Escape characters that would make untrusted text into links, HTML or emphasis."""
    return _MD_SPECIAL.sub(r"\\\1", plain(text))


def safe_url(url: str) -> str:
    """A URL that cannot break out of `(...)` in a Markdown link."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%~-._")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

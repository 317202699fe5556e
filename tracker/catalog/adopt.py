"""`tracker init`: read an existing awesome-list README into a taxonomy and a catalog.

The list is the part of the README from the first section that holds a paper to the last paper
item. Its headings (any depth) become the taxonomy, with stable ids made from the heading text;
its items become catalog entries. Item forms read, as awesome lists write them:

    - [Title](url) - Venue Year [[code]](url)
    1. Title. Venue Year. [[pdf]](url) [[code]](url)
    + **Title**, *[NeurIPS 2022](url)*, *[Code](url)*
    - Title (2021) [[Code]](url)

An item is a paper when a year can be read from it (or from its arXiv id). The README itself
is changed only by adding the two markers around the list; what goes between them is rendered
from the catalog (`tracker.catalog.render`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from tracker.catalog.render import MARK_END, MARK_START
from tracker.catalog.store import Entry
from tracker.identity import doi_from_url, normalize_arxiv_id
from tracker.paper import Paper

_HEADING = re.compile(r"^(?P<marks>#{1,6})\s+(?P<text>.*?)\s*#*\s*$")
_ITEM = re.compile(r"^(?P<indent> {0,3})(?P<marker>[-*+]|\d+[.)])\s+(?P<body>.*\S)\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
# [label](url), [[label]](url) and [\[label\]](url)
_LINK = re.compile(
    r"\[(?:\\?\[)?(?P<label>[^\[\]]*?)(?:\\?\])?\]"
    r"\((?P<url>[^()\s]+(?:\([^()\s]*\)[^()\s]*)*)\)"
)
_YEAR = re.compile(r"(?<![\d.])(?P<year>(?:19|20)\d{2})(?![\d.])")
_SHORT_YEAR = re.compile(r"(?P<venue>[A-Za-z][A-Za-z&\-]*)\s*['’](?P<yy>\d{2})\b")
_VENUE_YEAR = re.compile(r"(?P<venue>[A-Za-z][\w&\-. ]*?)\s*['’]?(?P<year>(?:19|20)\d{2})(?!\d)")
_GENERIC_LABELS = {"pdf", "paper", "code", "link", "arxiv", "project", "website", "slides", "video"}
_EMPHASIS = re.compile(r"^[*_]+|[*_]+$")
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[IVX]+\.)\s+")


@dataclass(frozen=True)
class Heading:
    line: int  # 0-based line index
    level: int
    text: str


@dataclass
class Node:
    """A section found in the README: its heading and the papers listed right under it."""

    heading: Heading | None
    children: list[Node] = field(default_factory=list)
    papers: list[tuple[int, Paper]] = field(default_factory=list)
    id: str = ""


@dataclass
class Survey:
    """What `read_survey` found.

    Fields:
        roots: the section tree of the list part.
        start, end: the list part's first and last line (0-based, inclusive).
        style: "link" or "numbered", as most of its items are written.
        level: the heading level of its top sections.
        left_out: (line number, text) of items inside the list part that are not papers;
            the rendered list will not have them.
    """

    roots: list[Node]
    start: int
    end: int
    style: str
    level: int
    left_out: list[tuple[int, str]]

    def entries(self) -> list[Entry]:
        out: list[Entry] = []

        def visit(node: Node) -> None:
            out.extend(Entry(paper, node.id, line=line + 1) for line, paper in node.papers)
            for child in node.children:
                visit(child)

        for root in self.roots:
            visit(root)
        return out


class NoListError(ValueError):
    """The README holds no item that reads as a paper."""


def read_survey(text: str) -> Survey:
    """Find the list part of README `text` and read its sections and papers.

    Raises NoListError when no item reads as a paper.
    """
    lines = text.splitlines()
    headings: list[Heading] = []
    items: list[tuple[int, str, str]] = []  # line, marker, body
    fenced = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        if m := _HEADING.match(line):
            headings.append(Heading(i, len(m.group("marks")), m.group("text")))
        elif m := _ITEM.match(line):
            items.append((i, m.group("marker"), m.group("body")))
    papers = [(i, marker, p) for i, marker, body in items if (p := read_item(body)) is not None]
    if not papers:
        raise NoListError("no list item reads as a paper (a title with a venue and year)")
    title = headings[0] if headings and headings[0].level == 1 else None
    sections = [h for h in headings if h is not title]
    first, last = papers[0][0], papers[-1][0]
    before = [h for h in sections if h.line < first]
    # The top section of the first paper: the outermost heading in its chain.
    chain: list[Heading] = []
    for h in before:
        chain = [c for c in chain if c.level < h.level] + [h]
    start = chain[0].line if chain else first
    end = last
    while (
        end + 1 < len(lines) and lines[end + 1].startswith((" ", "\t")) and lines[end + 1].strip()
    ):
        end += 1  # the last item's continuation lines
    inside = [h for h in sections if start <= h.line <= end]
    level = min((h.level for h in inside), default=2)
    roots = _tree(inside, [(i, p) for i, _, p in papers if start <= i <= end])
    _assign_ids(roots, "")
    paper_lines = {i for i, _, _ in papers}
    left_out = [
        (i + 1, lines[i].strip()) for i, _, _ in items if start <= i <= end and i not in paper_lines
    ]
    linked = sum(1 for _, marker, p in papers if not marker[0].isdigit())
    style = "link" if linked * 2 >= len(papers) else "numbered"
    return Survey(roots, start, end, style, level, left_out)


def _tree(headings: list[Heading], papers: list[tuple[int, Paper]]) -> list[Node]:
    roots: list[Node] = []
    stack: list[Node] = []
    loose = Node(None)  # papers before any heading of the list part
    events: list[tuple[int, Heading | None, Paper | None]] = [(h.line, h, None) for h in headings]
    events += [(i, None, p) for i, p in papers]
    lines = {i: p for i, p in papers}
    for line, heading, _paper in sorted(events, key=lambda e: e[0]):
        if heading is not None:
            node = Node(heading)
            while stack and stack[-1].heading and stack[-1].heading.level >= heading.level:
                stack.pop()
            (stack[-1].children if stack else roots).append(node)
            stack.append(node)
        else:
            (stack[-1] if stack else loose).papers.append((line, lines[line]))
    if loose.papers:
        roots.insert(0, loose)

    # A section with papers and sub-sections: its papers go to a child without a heading of
    # its own, rendered first under the section's heading (where they were).
    def split(node: Node) -> None:
        for child in node.children:
            split(child)
        if node.papers and node.children:
            node.children.insert(0, Node(None, papers=node.papers))
            node.papers = []

    for root in roots:
        split(root)
    return roots


def _assign_ids(nodes: list[Node], parent: str) -> None:
    used: set[str] = set()
    for node in nodes:
        base = slug(clean_heading(node.heading.text)) if node.heading else "general"
        sid, n = base, 2
        while sid in used:
            sid, n = f"{base}-{n}", n + 1
        used.add(sid)
        node.id = f"{parent}.{sid}" if parent else sid
        _assign_ids(node.children, node.id)


def clean_heading(text: str) -> str:
    """A heading without emoji, symbols, Markdown and numbering: `⚔ 3.1 **Attack**` -> `Attack`."""
    text = re.sub(r"[*_`]", "", _LINK.sub(lambda m: m.group("label"), text))
    kept = "".join(c for c in text if unicodedata.category(c)[0] in "LNZP" or c in "&+-/'")
    kept = _NUMBERING.sub("", kept.strip())
    return " ".join(kept.split()).strip(" -:.") or text.strip()


def slug(text: str) -> str:
    """A stable id part: lower-case ASCII words joined by `-` (`Computer Vision` ->
    `computer-vision`)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words)[:40].strip("-") or "section"


def read_item(body: str) -> Paper | None:
    """A paper from the text of one list item, or None when it does not read as one (a tool,
    a link to a section, prose)."""
    links = [
        (m.group("label").strip(), m.group("url"), m.start(), m.end()) for m in _LINK.finditer(body)
    ]
    stripped = body.lstrip("*_ ")
    offset = len(body) - len(stripped)
    title, title_url, rest = "", None, body
    lead = next((lk for lk in links if lk[2] == offset), None)
    if lead and lead[0].lower().strip("📝 ") not in _GENERIC_LABELS and len(lead[0]) > 8:
        title, title_url, rest = lead[0], lead[1], body[lead[3] :]
    elif m := re.match(r"^(\*\*|__)(?P<t>.+?)\1", body):
        title, rest = m.group("t"), body[m.end() :]
    else:
        head = body[: links[0][2]] if links else body
        m = re.match(r"^(?P<t>.+?[.?!])\s+(?P<rest>[^.?!]*?(?:19|20)\d{2}.*)$", head.strip())
        if m:
            title, rest = m.group("t"), m.group("rest") + body[len(head) :]
        else:
            title = re.sub(r"\(?\b(?:19|20)\d{2}\)?\s*$", "", head.strip()).strip()
            rest = body[len(head) :] + " " + head[len(title) :]
    title = _EMPHASIS.sub("", title).strip().rstrip(".").strip()
    title = title.replace("\\", "")
    if len(title) < 8:
        return None
    plain = _LINK.sub(lambda m: f" {m.group('label')} ", rest)
    plain = "".join(
        c if unicodedata.category(c)[0] in "LNZP" or c in "&+-'’" else " " for c in plain
    )
    year: int | None = None
    venue = ""
    if m := _VENUE_YEAR.search(plain):
        year = int(m.group("year"))
        venue = m.group("venue")
    elif m := _SHORT_YEAR.search(plain):
        year = 2000 + int(m.group("yy"))
        venue = m.group("venue")
    elif m := _YEAR.search(plain):
        year = int(m.group("year"))
    kinds: dict[str, str] = {}
    if title_url:
        kinds["pdf"] = title_url
    for label, url, _s, _e in links:
        if url == title_url:
            continue
        low = label.lower()
        if "code" in low or "octocat" in low or re.search(r"//(www\.)?(github|gitlab)\.com/", url):
            kinds.setdefault("code", url)
        elif any(w in low for w in ("pdf", "paper", "arxiv")) or normalize_arxiv_id(url):
            kinds.setdefault("pdf", url)
        else:
            kinds.setdefault("pdf" if "pdf" not in kinds else (slug(label) or "link"), url)
    arxiv = doi = None
    for url in kinds.values():
        arxiv = arxiv or normalize_arxiv_id(url)
        doi = doi or doi_from_url(url)
    if year is None and arxiv and re.match(r"\d{4}\.", arxiv):
        year = 2000 + int(arxiv[:2])
    venue = " ".join(re.sub(r"^[\s\-–—,;:|(]+|[\s\-–—,;:|)]+$", "", venue).split())
    if venue.lower() in {"in", "at", "and", ""} or len(venue) > 40:
        venue = "arXiv" if arxiv else ""
    if year is None or not venue or "pdf" not in kinds:
        return None
    return Paper(
        title=" ".join(title.split()), venue=venue, year=year, links=kinds, arxiv_id=arxiv, doi=doi
    )


def with_markers(text: str, survey: Survey) -> str:
    """`text` with the markers around the list part (its lines replaced by nothing: the
    rendering fills them in); every other byte kept."""
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    before = "".join(lines[: survey.start])
    after = "".join(lines[survey.end + 1 :])
    return f"{before}{MARK_START}{newline}{MARK_END}{newline}{after}"


def taxonomy_yaml(survey: Survey, source: str) -> str:
    """taxonomy.yaml for the sections found, with descriptions drafted from the headings."""
    out = [
        f"# Sections read from {source} by `tracker init`. `id` is stable: papers.yaml refers",
        "# to it. `heading_zh` is the list's own heading, rendered as written; `heading_en` is",
        "# its plain text. Each `description` is a draft made from the headings: say in a few",
        "# sentences what belongs there. The classifier learns from them, and a description",
        "# worth reading is worth a dozen labelled papers to a new survey.",
    ]

    def quote(s: str) -> str:
        return "'" + s.replace("'", "''") + "'"

    def visit(node: Node, depth: int, path: list[str]) -> None:
        pad = "  " * depth
        plain = (
            clean_heading(node.heading.text)
            if node.heading
            else f"{path[-1]} (general)"
            if path
            else "General"
        )
        trail = [*path, plain] if node.heading else path
        out.append(f"{pad}- id: {node.id}")
        out.append(f"{pad}  heading_zh: {quote(node.heading.text) if node.heading else 'null'}")
        out.append(f"{pad}  heading_en: {quote(plain)}")
        out.append(f"{pad}  description: {quote('Papers on ' + ': '.join(trail or [plain]) + '.')}")
        if node.children:
            out.append(f"{pad}  children:")
            for child in node.children:
                visit(child, depth + 2, trail)

    for root in survey.roots:
        visit(root, 0, [])
    return "\n".join(out) + "\n"

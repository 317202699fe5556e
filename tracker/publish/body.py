"""The pull request's title and body, written for a reviewer, and the machine-readable block of
proposed papers that `tracker.publish.state` reads back from earlier pull requests.

Every piece of text that comes from a paper (titles, author names, source names, neighbours'
titles) goes through `inert`: it cannot open HTML, a link, an image, a table cell, a heading,
emphasis or math; it cannot @-mention anyone or reference an issue; a URL in it is not
auto-linked. The only links in the body are ones we build: arXiv abstract pages from a parsed
arXiv id, and code links shown with their real address as the link text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from tracker.catalog.awesome import escape_markdown, safe_url
from tracker.catalog.rejected import Rejection
from tracker.catalog.store import is_valid_url
from tracker.catalog.taxonomy import Taxonomy
from tracker.classify.result import Classification
from tracker.identity import normalize_doi, paper_ids, parse_arxiv_id
from tracker.paper import LINK_ABS, LINK_CODE, LINK_PDF, Paper
from tracker.selection import REASON_OVER_CAP, NearMiss, Proposal, RunStats

# --- user-facing text (tests assert on these) ------------------------------------------------

TITLE = "Add {count} {papers} ({date})"
INTRO = (
    "tracker proposes **{count}** new {papers} for the survey. Each is added to "
    "`{papers_file}` under its predicted section, and the rendered lists are updated. "
    "Please review the sections and confidences below."
)
SECTION_HEADING = "### {heading_zh} · {heading_en} ({count})"
TABLE_HEAD = (
    "| Paper | Authors | Confidence | Why: nearest paper in the catalog | Code |\n"
    "|---|---|---|---|---|"
)
CONFIDENCE = "relevance {relevance:.2f} · section {section:.2f}"
ALTERNATIVES = "<br>also possible: {sections}"
NO_NEIGHBOUR = "no close paper in the catalog"
NO_CODE = "—"
NEAR_MISSES_HEADING = "### Considered, not added"
NEAR_MISS_BELOW = "relevance {relevance:.2f}, below the threshold {threshold:.2f}"
NEAR_MISS_CAP = "relevance {relevance:.2f}, over this run's cap of {cap} proposals"
NO_NEAR_MISSES = "Nothing else came close."
STATS_HEADING = "### Run statistics"
REJECTIONS_HEADING = "### Rejections recorded in this pull request"
REJECTIONS_TEXT = (
    "These papers were rejected in earlier tracker pull requests; this one records them in "
    "`{rejected_file}` so they are never proposed again:"
)
HOW_TO_REJECT = """### How to reject
- **All of them**: close this pull request without merging. tracker records its papers as \
rejected (in `{rejected_file}`, with its next pull request) and never proposes them again.
- **One paper**: delete its entry from `{papers_file}` on this branch and run `tracker render`, \
then merge. Papers deleted before merging are recorded as rejected too.
- **Wrong section**: edit the entry's `section:` in `{papers_file}`, then run `tracker render`.
- To block a paper by hand, add it to `{rejected_file}`."""
FOOTER = "<sub>Opened by tracker on {date}. {count} {papers} proposed; the block below is read \
by tracker, please keep it.</sub>"
BODY_TRUNCATED = "_Near misses and details were left out to keep this description within \
GitHub's size limit._"

BLOCK_MARKER = "tracker:proposals"
BLOCK_VERSION = 1
# GitHub refuses a pull request body longer than 65536 characters.
MAX_BODY = 65_000
MAX_AUTHORS = 3

_BLOCK = re.compile(r"<!--\s*" + re.escape(BLOCK_MARKER) + r"\s*(?P<json>\{.*?\})\s*-->", re.S)
_URL_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*):(?=//)")
_WWW = re.compile(r"(?i)\bwww\.")
_ISSUE_REF = re.compile(r"(?i)(#|\bgh-)(?=\d)")
_ZWSP = "&#8203;"  # a zero-width space, as an entity: survives copy, breaks auto-linking


@dataclass(frozen=True)
class ProposedPaper:
    """One paper listed in a pull request's machine-readable block."""

    title: str
    arxiv: str | None = None
    doi: str | None = None
    section: str | None = None

    def as_paper(self) -> Paper:
        return Paper(title=self.title, arxiv_id=self.arxiv, doi=self.doi)


def inert(text: str) -> str:
    """`text` as Markdown that shows exactly these characters and does nothing else."""
    text = " ".join(text.split())  # no newline can end a table row or start a block
    text = text.replace("&", "&amp;")  # no entity can spell `@`, `<` or a link
    text = escape_markdown(text)  # \ ` * _ [ ] < > |
    text = re.sub(r"([~$])", r"\\\1", text)  # no strike-through, no math
    # Entities are inserted last, and the issue references first: `&#8203;` holds a `#`.
    text = _ISSUE_REF.sub(lambda m: m.group(1) + _ZWSP, text)  # no #123, no GH-123
    text = text.replace("@", "@" + _ZWSP)  # no @-mention, no e-mail auto-link
    text = _URL_SCHEME.sub(lambda m: m.group(1) + _ZWSP + ":", text)  # no URL auto-link
    return _WWW.sub(lambda m: m.group(0)[:-1] + _ZWSP + ".", text)


def pr_title(count: int, date: dt.date) -> str:
    return TITLE.format(count=count, papers=_papers(count), date=date.isoformat())


def pr_body(
    proposals: Sequence[Proposal],
    near_misses: Sequence[NearMiss],
    stats: RunStats,
    taxonomy: Taxonomy,
    date: dt.date,
    *,
    papers_file: str = "catalog/papers.yaml",
    rejected_file: str = "catalog/rejected.yaml",
    new_rejections: Sequence[Rejection] = (),
) -> str:
    """The whole description; shortened (near misses left out) if GitHub would refuse it."""
    body = _body(
        proposals, near_misses, stats, taxonomy, date, papers_file, rejected_file, new_rejections
    )
    if len(body) > MAX_BODY:
        body = _body(proposals, (), stats, taxonomy, date, papers_file, rejected_file, (), True)
    return body


def _body(
    proposals: Sequence[Proposal],
    near_misses: Sequence[NearMiss],
    stats: RunStats,
    taxonomy: Taxonomy,
    date: dt.date,
    papers_file: str,
    rejected_file: str,
    new_rejections: Sequence[Rejection],
    truncated: bool = False,
) -> str:
    count = len(proposals)
    out = [INTRO.format(count=count, papers=_papers(count), papers_file=papers_file), ""]
    order = taxonomy.leaf_order()
    by_section: dict[str, list[Proposal]] = {}
    for p in proposals:
        by_section.setdefault(p.entry.section, []).append(p)
    for section_id in sorted(by_section, key=lambda s: order.get(s, len(order))):
        node = taxonomy.get(section_id)
        heading_zh = node.heading_zh if node and node.heading_zh else section_id
        heading_en = node.heading_en if node else section_id
        rows = by_section[section_id]
        out.append(
            SECTION_HEADING.format(
                heading_zh=inert(heading_zh), heading_en=inert(heading_en), count=len(rows)
            )
        )
        out.append("")
        out.append(TABLE_HEAD)
        out.extend(_row(p, taxonomy) for p in rows)
        out.append("")

    out.append(NEAR_MISSES_HEADING)
    out.append("")
    if truncated:
        out.append(BODY_TRUNCATED)
    elif near_misses:
        for miss in near_misses:
            out.append(f"- {_near_miss(miss, stats)}")
    else:
        out.append(NO_NEAR_MISSES)
    out.append("")

    if new_rejections:
        out.append(REJECTIONS_HEADING)
        out.append("")
        out.append(REJECTIONS_TEXT.format(rejected_file=rejected_file))
        for r in new_rejections:
            out.append(f"- {inert(r.title)} ({inert(r.reason)}, #{r.pr})")
        out.append("")

    out.append(STATS_HEADING)
    out.append("")
    out.extend(stats_table(stats))
    out.append("")
    out.append(HOW_TO_REJECT.format(papers_file=papers_file, rejected_file=rejected_file))
    out.append("")
    out.append(FOOTER.format(date=date.isoformat(), count=count, papers=_papers(count)))
    out.append("")
    out.append(block([p.paper for p in proposals], [p.entry.section for p in proposals], date))
    return "\n".join(out) + "\n"


def _row(p: Proposal, taxonomy: Taxonomy) -> str:
    paper = p.paper
    confidence = CONFIDENCE.format(
        relevance=p.classification.relevance, section=p.section.probability
    )
    if p.alternatives:
        names = ", ".join(
            f"{inert(_heading(taxonomy, s.id, s.heading_zh))} {s.probability:.2f}"
            for s in p.alternatives
        )
        confidence += ALTERNATIVES.format(sections=names)
    neighbour = p.classification.neighbors[0] if p.classification.neighbors else None
    why = f"*{inert(neighbour.title)}* ({neighbour.similarity:.2f})" if neighbour else NO_NEIGHBOUR
    cells = [_paper_link(paper), _authors(paper), confidence, why, _code(paper.link(LINK_CODE))]
    return "| " + " | ".join(cells) + " |"


def _heading(taxonomy: Taxonomy, section_id: str, fallback: str) -> str:
    node = taxonomy.get(section_id)
    return node.heading_zh if node and node.heading_zh else fallback


def _paper_link(paper: Paper) -> str:
    arxiv, _doi = paper_ids(paper)
    title = inert(paper.title)
    if arxiv:
        return f"[{title}](https://arxiv.org/abs/{safe_url(arxiv)}) `{arxiv}`"
    url = paper.link(LINK_ABS) or paper.link(LINK_PDF)
    if url and is_valid_url(url):
        return f"[{title}]({safe_url(url)})"
    return title


def _authors(paper: Paper) -> str:
    names = [inert(a) for a in paper.authors[:MAX_AUTHORS]]
    if len(paper.authors) > MAX_AUTHORS:
        names.append("et al.")
    return ", ".join(names) or "—"


def _code(url: str | None) -> str:
    if not url or not is_valid_url(url):
        return NO_CODE
    parts = urlsplit(url)
    shown = inert(f"{parts.hostname}{parts.path}".rstrip("/"))
    return f"[{shown}]({safe_url(url)})"


def _near_miss(miss: NearMiss, stats: RunStats) -> str:
    c: Classification = miss.classification
    if miss.reason == REASON_OVER_CAP:
        why = NEAR_MISS_CAP.format(relevance=c.relevance, cap=stats.cap)
    else:
        why = NEAR_MISS_BELOW.format(relevance=c.relevance, threshold=stats.threshold)
    return f"{_paper_link(c.paper)}: {why}; would go to {inert(c.section.heading_zh)}"


def stats_table(stats: RunStats) -> list[str]:
    """The run statistics as a two-column Markdown table."""
    sources = ", ".join(f"{inert(name)} {n}" for name, n in sorted(stats.per_source.items()))
    if stats.failed_sources:
        failed = "; ".join(
            f"{inert(name)}: {inert(why)}" for name, why in sorted(stats.failed_sources.items())
        )
        sources += f" (failed: {failed})"
    if stats.window:
        fetched = f"{stats.fetched} papers from {stats.window[0]} to {stats.window[1]}"
    elif stats.since:
        fetched = f"{stats.fetched} papers since {stats.since}"
    else:
        fetched = f"{stats.fetched} papers from the sources' default window"
    rows = [
        ("Sources", sources or "none"),
        ("Fetched", fetched),
        (
            "Already known",
            f"{stats.known_catalog} in the catalog, {stats.known_open} in open tracker pull "
            f"requests, {stats.known_rejected} rejected earlier, {stats.duplicates} duplicates",
        ),
        ("Candidates", f"{stats.candidates} classified"),
        ("In scope", f"{stats.in_scope} at relevance ≥ {stats.threshold:.2f}"),
        ("Proposed", f"{stats.proposed} (cap {stats.cap})"),
        ("Model", inert(stats.model_version) or "unknown"),
    ]
    if stats.source_warnings:
        warnings = "<br>".join(
            f"{inert(name)}: {inert(w)}"
            for name, ws in sorted(stats.source_warnings.items())
            for w in ws
        )
        rows.insert(1, ("Warnings", warnings))
    return ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]


def block(papers: Sequence[Paper], sections: Sequence[str], date: dt.date) -> str:
    """The machine-readable list of proposed papers, as an HTML comment GitHub does not show.

    The JSON is ASCII with `<`, `>` and `&` escaped, so no title can close the comment."""
    items = []
    for paper, section in zip(papers, sections, strict=True):
        arxiv, doi = paper_ids(paper)
        items.append({"arxiv": arxiv, "doi": doi, "title": paper.title, "section": section})
    data = {"version": BLOCK_VERSION, "date": date.isoformat(), "papers": items}
    text = json.dumps(data, ensure_ascii=True, sort_keys=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"<!-- {BLOCK_MARKER}\n{text}\n-->"


def parse_block(body: str) -> list[ProposedPaper] | None:
    """The papers in a body's machine-readable block; None when there is no readable block."""
    m = _BLOCK.search(body or "")
    if not m:
        return None
    try:
        data = json.loads(m.group("json"))
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("papers"), list):
        return None
    out = []
    for item in data["papers"]:
        if not isinstance(item, dict) or not isinstance(item.get("title"), str):
            continue
        arxiv = parse_arxiv_id(item["arxiv"]) if isinstance(item.get("arxiv"), str) else None
        doi = normalize_doi(item["doi"]) if isinstance(item.get("doi"), str) else None
        section = item.get("section") if isinstance(item.get("section"), str) else None
        out.append(ProposedPaper(item["title"], arxiv.id if arxiv else None, doi, section))
    return out


def _papers(count: int) -> str:
    return "paper" if count == 1 else "papers"

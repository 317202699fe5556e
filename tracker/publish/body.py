"""The pull request's title and body, written for a reviewer from the pull request's state
(`tracker.publish.block.PullState`), and the checkboxes read back from a body a maintainer
edited.

The body is a task list grouped under each leaf section's headings: every paper in papers.yaml
on the branch is a ticked item `- [x] `, every other listed paper (candidates, dropped papers)
an unticked one `- [ ] `, one line each, starting with the paper's key as link text
(`arXiv:2604.01234`). Ticking or unticking is how a maintainer decides; `tracker review`
applies it. The body is a function of the state: the same state gives the same bytes.

Every piece of text that comes from a paper (titles, author names, source names, neighbours'
titles) goes through `inert`: it cannot open HTML or an HTML comment, a link, an image, a table
cell, a heading, a list item, emphasis or math; it cannot @-mention anyone or reference an
issue; a URL in it is not auto-linked. The only links in the body are ones we build: arXiv
abstract pages from a parsed arXiv id, DOI resolver links, and code links shown with their
real address as the link text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from tracker.catalog.awesome import escape_markdown, safe_url
from tracker.catalog.store import is_valid_url
from tracker.catalog.taxonomy import Taxonomy
from tracker.paper import LINK_ABS, LINK_CODE, LINK_PDF
from tracker.publish import venues
from tracker.publish.block import (
    TIER_CANDIDATE,
    TIER_MAINTAINER,
    Item,
    PullState,
    decode,
    encode,
)
from tracker.publish.venues import updates_title
from tracker.selection import RunStats
from tracker.text import plain

# --- user-facing text (tests assert on these) ------------------------------------------------

TITLE = "Add {count} {papers} ({date})"
TITLE_CANDIDATES = "Add {count} {papers}, {candidates} to review ({date})"
INTRO = (
    "tracker adds **{count}** {papers} to `{papers_file}` (ticked) and offers **{candidates}** "
    "more (not ticked), under the section each goes to. **Untick** a paper to drop it, "
    "**tick** one to add it: tracker commits the change to this branch and updates this "
    "description. Commands and details: *How to review* below."
)
SECTION_HEADING = "### {heading_zh} · {heading_en} ({counts})"
ITEM = "- [{mark}] {key} {title} · {details}"
RELEVANCE = "relevance {relevance:.2f} · section {section:.2f}"
ALTERNATIVES = " (also possible: {sections})"
MOVED = "moved from {heading}"
TAG_CANDIDATE = "candidate"
TAG_MAINTAINER = "added by a maintainer"
# A venue record without an abstract (dblp) that arXiv did not have either.
TAG_TITLE_ONLY = "title only: no abstract found, judged on the title"
NEIGHBOUR = "nearest: *{title}* ({similarity:.2f})"
CODE = "code: {link}"
STATS_HEADING = "### Run statistics"
DECISIONS_ROW = "{count} from {pulls}, in `decisions.yaml` (what `tracker train` learns from)"
REJECTIONS_HEADING = "### Rejections recorded in this pull request"
REJECTIONS_TEXT = (
    "These papers were rejected in earlier tracker pull requests; this one records them in "
    "`{rejected_file}` so they are never proposed again:"
)
HOW_TO_REVIEW = """### How to review
- **Tick or untick** papers above. A ticked paper is in `{papers_file}` on this branch, under \
its heading; an unticked one is not. tracker applies the change as one commit.
- **Comment** (one command a line, people with write access only): `/tracker add ID [SECTION]` \
adds any arXiv paper, `/tracker drop ID` drops one, `/tracker move ID SECTION` moves one. \
SECTION is a section id from `taxonomy.yaml` or its exact Chinese heading.
- **Merge** to accept the ticked papers. **Close** without merging to reject all of them: \
tracker records them in `{rejected_file}` and never proposes them again. Unticked papers of a \
merged pull request are recorded as rejected too.
- Your own commits on this branch are kept; tracker adds its commits on top of them."""
FOOTER = "<sub>Opened by tracker on {date}. {count} {papers} ticked, {candidates} not; the \
block below is read by tracker, please keep it.</sub>"
BODY_TRUNCATED = "_Details were left out to keep this description within GitHub's size limit._"

# GitHub refuses a pull request body longer than 65536 characters.
MAX_BODY = 65_000
MAX_AUTHORS = 3

_URL_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*):(?=//)")
_WWW = re.compile(r"(?i)\bwww\.")
_ISSUE_REF = re.compile(r"(?i)(#|\bgh-)(?=\d)")
_ZWSP = "&#8203;"  # a zero-width space, as an entity: survives copy, breaks auto-linking
_TASK = re.compile(r"^[-*] \[(?P<mark>[ xX])\] \[(?P<key>(?:arXiv|doi|ref):[^\]\s]+)\]\(", re.M)


def inert(text: str) -> str:
    """`text` as Markdown that shows exactly these characters and does nothing else."""
    # One line of visible characters (tracker.text): no newline can end a line, a table row
    # or start a block; no escape sequence or bidi override survives.
    text = plain(text)
    text = text.replace("&", "&amp;")  # no entity can spell `@`, `<` or a link
    # No `<` or `>` at all: no HTML, and no `<!--` or `-->` that could open or close the
    # hidden block's comment (a backslash would not stop a parser reading the raw body).
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    text = escape_markdown(text)  # \ ` * _ [ ] |
    text = re.sub(r"([~$])", r"\\\1", text)  # no strike-through, no math
    # Entities are inserted last, and the issue references first: `&#8203;` holds a `#`.
    text = _ISSUE_REF.sub(lambda m: m.group(1) + _ZWSP, text)  # no #123, no GH-123
    text = text.replace("@", "@" + _ZWSP)  # no @-mention, no e-mail auto-link
    text = _URL_SCHEME.sub(lambda m: m.group(1) + _ZWSP + ":", text)  # no URL auto-link
    return _WWW.sub(lambda m: m.group(0)[:-1] + _ZWSP + ".", text)


def pr_title(state: PullState) -> str:
    added, other = _counts(state.items)
    if not state.items and state.venues:
        return updates_title(state)
    date = state.date.isoformat() if state.date else ""
    if other:
        return TITLE_CANDIDATES.format(
            count=added, papers=_papers(added), candidates=other, date=date
        )
    return TITLE.format(count=added, papers=_papers(added), date=date)


def pr_body(
    state: PullState,
    taxonomy: Taxonomy,
    *,
    papers_file: str = "catalog/papers.yaml",
    rejected_file: str = "catalog/rejected.yaml",
) -> str:
    """The whole description; with fewer details if GitHub would refuse it."""
    body = _body(state, taxonomy, papers_file, rejected_file, detailed=True)
    if len(body) > MAX_BODY:
        body = _body(state, taxonomy, papers_file, rejected_file, detailed=False)
    return body


def parse_block(body: str | None) -> list[Item] | None:
    """The papers a body's block says the pull request adds (its ticked items); None when the
    body has no valid block."""
    state = decode(body)
    return None if state is None else [i for i in state.items if i.checked]


def checkboxes(body: str | None) -> dict[str, bool]:
    """Item key -> ticked, as the body shows it now (the first line of each key counts). Only
    people with write access can edit a pull request's body, so every tick is a maintainer's."""
    out: dict[str, bool] = {}
    for m in _TASK.finditer((body or "").replace("\r\n", "\n")):
        out.setdefault(m.group("key"), m.group("mark") != " ")
    return out


def _body(
    state: PullState, taxonomy: Taxonomy, papers_file: str, rejected_file: str, detailed: bool
) -> str:
    added, other = _counts(state.items)
    out = [
        INTRO.format(count=added, papers=_papers(added), papers_file=papers_file, candidates=other),
        "",
    ]
    order = taxonomy.leaf_order()
    by_section: dict[str, list[Item]] = {}
    for item in state.items:
        by_section.setdefault(item.section, []).append(item)
    for section_id in sorted(by_section, key=lambda s: (order.get(s, len(order)), s)):
        items = sorted(by_section[section_id], key=_item_order)
        counts = _section_counts(items)
        out.append(
            SECTION_HEADING.format(
                heading_zh=inert(_heading(taxonomy, section_id)),
                heading_en=inert(_heading(taxonomy, section_id, english=True)),
                counts=counts,
            )
        )
        out.append("")
        out.extend(_item(i, taxonomy, detailed) for i in items)
        out.append("")
    if not detailed:
        out += [BODY_TRUNCATED, ""]

    if state.rejections:
        out.append(REJECTIONS_HEADING)
        out.append("")
        out.append(REJECTIONS_TEXT.format(rejected_file=rejected_file))
        shown = state.rejections if detailed else state.rejections[:20]
        for title, reason, pr in shown:
            where = f", #{pr}" if pr is not None else ""
            out.append(f"- {inert(title)} ({inert(reason)}{where})")
        if len(shown) < len(state.rejections):
            out.append(f"- and {len(state.rejections) - len(shown)} more")
        out.append("")

    out.extend(_venue_sections(state, papers_file))
    out.append(STATS_HEADING)
    out.append("")
    out.extend(stats_table(RunStats.from_json(state.stats)))
    out.append("")
    out.append(HOW_TO_REVIEW.format(papers_file=papers_file, rejected_file=rejected_file))
    out.append("")
    out.append(
        FOOTER.format(
            date=state.date.isoformat() if state.date else "",
            count=added,
            papers=_papers(added),
            candidates=other,
        )
    )
    out.append("")
    out.append(encode(state))
    return "\n".join(out) + "\n"


def _venue_sections(state: PullState, papers_file: str) -> list[str]:
    """ "Published since listed" and the volumes read (`tracker.publish.venues`), if any."""
    out: list[str] = []
    found = venues.updates(state.venues)
    if found:
        out += [venues.PUBLISHED_HEADING.format(count=len(found)), ""]
        out += [venues.PUBLISHED_TEXT.format(papers_file=papers_file), "", venues.PUBLISHED_HEAD]
        for u in found:
            arxiv, doi = venues.arxiv_of(u), venues.doi_of(u)
            paper = inert(u.title)
            if arxiv:
                paper = f"[{paper}](https://arxiv.org/abs/{safe_url(arxiv)}) `{arxiv}`"
            was = f"arXiv {u.old_year}" if u.old_year else "arXiv"
            now = inert(f"{u.venue} {u.year}" if u.year else u.venue)
            if doi:
                now += f" · [doi:{inert(doi)}](https://doi.org/{safe_url(doi)})"
            elif u.link and is_valid_url(u.link):
                now += f" · [venue page]({safe_url(u.link)})"
            evidence = inert(u.evidence)
            url = venues.evidence_url(u.evidence_url)
            if url:
                evidence = f"[{evidence}]({safe_url(url)})"
            out.append(f"| {paper} | {was} | {now} | {evidence} |")
        out.append("")
    read, where = venues.volumes(state.venues)
    if read:
        names = ", ".join(inert(f"{label} ({n} records)") for label, n in read)
        out += [venues.VOLUMES_TEXT.format(volumes_file=inert(where), volumes=names), ""]
    return out


def _section_counts(items: Sequence[Item]) -> str:
    ticked = sum(1 for i in items if i.checked)
    if ticked == len(items):
        return f"{ticked}"
    if ticked == 0:
        return f"{len(items)} not ticked"
    return f"{ticked} ticked, {len(items) - ticked} not"


def _item_order(item: Item) -> tuple[int, int, float, str]:
    """Ticked first; the bot's tiers before maintainers' additions; most relevant first."""
    return (
        0 if item.checked else 1,
        1 if item.tier == TIER_MAINTAINER else 0,
        -(item.relevance or 0.0),
        item.key,
    )


def _item(item: Item, taxonomy: Taxonomy, detailed: bool) -> str:
    details: list[str] = []
    if item.tier == TIER_CANDIDATE:
        details.append(TAG_CANDIDATE)
    elif item.tier == TIER_MAINTAINER:
        details.append(TAG_MAINTAINER)
    if item.title_only:
        details.append(TAG_TITLE_ONLY)
    if detailed and item.authors:
        details.append(_authors(item.authors))
    if item.relevance is not None and item.probability is not None:
        text = RELEVANCE.format(relevance=item.relevance, section=item.probability)
        if detailed and item.alternatives:
            names = ", ".join(
                f"{inert(_heading(taxonomy, s))} {p:.2f}" for s, p in item.alternatives
            )
            text += ALTERNATIVES.format(sections=names)
        details.append(text)
    if item.predicted and item.predicted != item.section:
        details.append(MOVED.format(heading=inert(_heading(taxonomy, item.predicted))))
    if detailed and item.neighbor:
        details.append(NEIGHBOUR.format(title=inert(item.neighbor[0]), similarity=item.neighbor[1]))
    code = item.links.get(LINK_CODE)
    if detailed and code and is_valid_url(code):
        details.append(CODE.format(link=_code(code)))
    return ITEM.format(
        mark="x" if item.checked else " ",
        key=_key_link(item),
        title=f"**{inert(item.title)}**",
        details=" · ".join(details) or "—",
    )


def _key_link(item: Item) -> str:
    """The item's key as link text: to arXiv's abstract page, the DOI resolver, or the paper's
    own page (the key alone when there is no valid address)."""
    key = item.key
    if item.arxiv:
        url = f"https://arxiv.org/abs/{item.arxiv}"
    elif key.startswith("doi:"):
        url = f"https://doi.org/{item.doi}"
    else:
        url = item.links.get(LINK_PDF) or item.links.get(LINK_ABS) or ""
    if not url or not is_valid_url(url):
        url = "https://arxiv.org/"  # keeps the line's shape for `checkboxes`
    return f"[{key}]({safe_url(url)})"


def _heading(taxonomy: Taxonomy, section_id: str, *, english: bool = False) -> str:
    node = taxonomy.get(section_id)
    if node is None:
        return section_id
    if english:
        return node.heading_en
    return node.heading_zh or node.heading_en


def _authors(authors: Sequence[str]) -> str:
    names = [inert(a) for a in authors[:MAX_AUTHORS]]
    if len(authors) > MAX_AUTHORS:
        names.append("et al.")
    return ", ".join(names)


def _code(url: str) -> str:
    parts = urlsplit(url)
    shown = inert(f"{parts.hostname}{parts.path}".rstrip("/"))
    return f"[{shown}]({safe_url(url)})"


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
    offered = f"{stats.candidates} (cap {stats.candidate_cap}"
    if stats.candidate_threshold is not None:
        offered += f", relevance ≥ {stats.candidate_threshold:.2f}"
    offered += f"; {stats.over_cap} more left out by the caps)" if stats.over_cap else ")"
    rows = [
        ("Sources", sources or "none"),
        ("Fetched", fetched),
        (
            "Already known",
            f"{stats.known_catalog} in the catalog, {stats.known_open} in open tracker pull "
            f"requests, {stats.known_rejected} rejected earlier, {stats.duplicates} duplicates",
        ),
        ("Classified", f"{stats.classified}"),
        (
            "Added",
            f"{stats.proposed} of {stats.in_scope} at relevance ≥ {stats.threshold:.2f} "
            f"(cap {stats.cap})",
        ),
        ("Not ticked", offered),
        ("Model", inert(stats.model_version) or "unknown"),
    ]
    if stats.decisions:
        pulls = ", ".join(f"#{n}" for n in stats.decision_pulls)
        rows.append(
            ("Decisions recorded", DECISIONS_ROW.format(count=stats.decisions, pulls=pulls))
        )
    if stats.source_warnings:
        warnings = "<br>".join(
            f"{inert(name)}: {inert(w)}"
            for name, ws in sorted(stats.source_warnings.items())
            for w in ws
        )
        rows.insert(1, ("Warnings", warnings))
    return ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]


def _counts(items: Sequence[Item]) -> tuple[int, int]:
    ticked = sum(1 for i in items if i.checked)
    return ticked, len(items) - ticked


def _papers(count: int) -> str:
    return "paper" if count == 1 else "papers"

"""arXiv as a loopback server sees it: the export API's Atom and the daily listing's RSS.

The renderers write the formats arXiv serves (element names, namespaces, the opensearch
totals, the `Announce Type:` description prefix), from `Paper` records:

    api = ArxivApi(papers)                      # pages by start/max_results, answers id_list
    server.route("/api/query", api)
    server.route("/rss/cs.CR+cs.LG", Reply(body=listing_rss(papers, date)))

`ArxivApi.empty_pages` scripts the API's empty-page anomaly: {start: times} answers that many
requests for that page with no entries (the totals unchanged). A `search_query` made of title
phrases (`ti:"a b c" OR ti:"d e"`) answers the papers whose title holds one of the phrases, as
the API's title search does; any other search answers every paper.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from tests.servers.loopback import Reply, Request
from tracker.paper import Paper

ATOM_TYPE = "application/atom+xml; charset=UTF-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"
_EASTERN = dt.timezone(dt.timedelta(hours=-5))


def _version_id(paper: Paper) -> str:
    return f"{paper.arxiv_id}v{paper.arxiv_version or 1}"


def api_entry(paper: Paper) -> str:
    """One `<entry>` as the export API writes it."""
    ident = _version_id(paper)
    submitted = paper.submitted or dt.date(2026, 1, 15)
    stamp = f"{submitted.isoformat()}T18:59:59Z"
    primary = paper.categories[0] if paper.categories else "cs.CR"
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{ident}</id>",
        f"    <title>{escape(paper.title)}</title>",
        f"    <updated>{stamp}</updated>",
        f'    <link href="https://arxiv.org/abs/{ident}" rel="alternate" type="text/html"/>',
        f'    <link href="https://arxiv.org/pdf/{ident}" rel="related" type="application/pdf"'
        ' title="pdf"/>',
        f"    <summary>{escape(paper.abstract)}\n</summary>",
    ]
    for cat in paper.categories or (primary,):
        lines.append(f'    <category term="{cat}" scheme="http://arxiv.org/schemas/atom"/>')
    lines.append(f"    <published>{stamp}</published>")
    if paper.comment:
        lines.append(f"    <arxiv:comment>{escape(paper.comment)}</arxiv:comment>")
    lines.append(
        f'    <arxiv:primary_category term="{primary}" scheme="http://arxiv.org/schemas/atom"/>'
    )
    if paper.doi:
        lines.append(f"    <arxiv:doi>{escape(paper.doi)}</arxiv:doi>")
    for name in paper.authors:
        lines.append(f"    <author>\n      <name>{escape(name)}</name>\n    </author>")
    lines.append("  </entry>")
    return "\n".join(lines)


def api_feed(
    entries: Sequence[Paper], *, total: int, start: int, per_page: int, query: str = ""
) -> bytes:
    """A page of API results, with the opensearch totals."""
    title = f"search_query={query}&id_list=&start={start}&max_results={per_page}"
    head = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <id>https://arxiv.org/api/ZLSlQCTgQ7hk2cQ2Zv7a7IdSmCw</id>
  <title>arXiv Query: {escape(title)}</title>
  <updated>2026-01-16T00:00:00Z</updated>
  <link href={quoteattr("https://arxiv.org/api/query?" + title)} type="application/atom+xml"/>
  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>{start}</opensearch:startIndex>
"""
    body = "\n".join(api_entry(p) for p in entries)
    return (head + body + "\n</feed>\n").encode("utf-8")


@dataclass
class ArxivApi:
    """The export API's query endpoint over `papers`: pages by `start`/`max_results`, and
    answers `id_list` queries with the papers that have those ids (any version given)."""

    papers: Sequence[Paper]
    empty_pages: dict[int, int] = field(default_factory=dict)
    queries: list[Mapping[str, str]] = field(default_factory=list)

    def __call__(self, request: Request) -> Reply:
        start = int(request.param("start", "0"))
        per_page = int(request.param("max_results", "10"))
        id_list = [i for i in request.param("id_list").split(",") if i]
        self.queries.append(
            {
                "search_query": request.param("search_query"),
                "id_list": ",".join(id_list),
                "start": str(start),
                "max_results": str(per_page),
            }
        )
        phrases = _TITLE_PHRASE.findall(request.param("search_query"))
        if id_list:
            wanted = {i.split("v")[0] if "/" not in i else i.rsplit("v", 1)[0] for i in id_list}
            matching = [p for p in self.papers if p.arxiv_id in wanted]
        elif phrases:
            wanted_words = [f" {' '.join(_words(p))} " for p in phrases]
            matching = [
                p
                for p in self.papers
                if any(w in f" {' '.join(_words(p.title))} " for w in wanted_words)
            ]
        else:
            matching = list(self.papers)
        page = matching[start : start + per_page]
        if self.empty_pages.get(start, 0) > 0:
            self.empty_pages[start] -= 1
            page = []
        body = api_feed(
            page,
            total=len(matching),
            start=start,
            per_page=per_page,
            query=request.param("search_query"),
        )
        return Reply(200, body, ATOM_TYPE)


_TITLE_PHRASE = re.compile(r'ti:"([^"]*)"')


def _words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[^\W_]+", text)]


def listing_item(paper: Paper, announce_type: str = "new") -> str:
    """One `<item>` of the daily listing RSS."""
    ident = _version_id(paper)
    day = paper.announced or dt.date(2026, 1, 16)
    pub = format_datetime(dt.datetime(day.year, day.month, day.day, tzinfo=_EASTERN))
    description = f"arXiv:{ident} Announce Type: {announce_type} \nAbstract: {paper.abstract}"
    lines = [
        "    <item>",
        f"      <title>{escape(paper.title)}</title>",
        f"      <link>https://arxiv.org/abs/{paper.arxiv_id}</link>",
        f"      <description>{escape(description)}</description>",
        f'      <guid isPermaLink="false">oai:arXiv.org:{ident}</guid>',
    ]
    lines += [f"      <category>{c}</category>" for c in paper.categories]
    lines += [
        f"      <pubDate>{pub}</pubDate>",
        f"      <arxiv:announce_type>{announce_type}</arxiv:announce_type>",
        "      <dc:rights>http://arxiv.org/licenses/nonexclusive-distrib/1.0/</dc:rights>",
    ]
    if paper.doi:
        lines.append(f"      <arxiv:DOI>{escape(paper.doi)}</arxiv:DOI>")
    if paper.comment:
        lines.append(f"      <arxiv:comment>{escape(paper.comment)}</arxiv:comment>")
    lines.append(f"      <dc:creator>{escape(', '.join(paper.authors))}</dc:creator>")
    lines.append("    </item>")
    return "\n".join(lines)


def listing_rss(
    papers: Sequence[Paper],
    day: dt.date,
    categories: Sequence[str] = ("cs.CR",),
    announce_types: Mapping[str, str] | None = None,
) -> bytes:
    """A daily listing in RSS 2.0 for `day`; `announce_types` maps an arXiv id to its type
    (`new` by default; `cross`, `replace`, `replace-cross`)."""
    types = announce_types or {}
    cats = "+".join(categories)
    pub = format_datetime(dt.datetime(day.year, day.month, day.day, tzinfo=_EASTERN))
    built = format_datetime(dt.datetime(day.year, day.month, day.day, 5, 30, tzinfo=dt.UTC))
    head = f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">
  <channel>
    <title>{cats} updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/{cats}</link>
    <description>{cats} updates on the arXiv.org e-print archive.</description>
    <atom:link href="http://rss.arxiv.org/rss/{cats}" rel="self" type="application/rss+xml"/>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <language>en-us</language>
    <lastBuildDate>{built}</lastBuildDate>
    <managingEditor>rss-help@arxiv.org</managingEditor>
    <pubDate>{pub}</pubDate>
    <skipDays>
      <day>Saturday</day>
      <day>Sunday</day>
    </skipDays>
"""
    items = "\n".join(listing_item(p, types.get(p.arxiv_id or "", "new")) for p in papers)
    return (head + items + "\n  </channel>\n</rss>\n").encode("utf-8")

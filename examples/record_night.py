"""Write one night of a labelled arXiv stream as the daily listing arXiv serves for tracker's
categories (RSS 2.0, as rss.arxiv.org/rss/cs.CR+cs.LG+... writes it), for `tracker run --replay`.

    python examples/record_night.py --data stream-2026.jsonl --night 2026-03-16 \\
        --out examples/arxiv-2026-03-16.rss

`--data` is a JSONL file in the shared stream's format (id, title, abstract, authors,
categories, comment, announced). Every paper of the night listed in one of the categories is
written: `new` when its primary category is one of them, `cross` otherwise, new ones first, as
arXiv orders them. Nothing is invented: the stream keeps no version (v1 is written) and no
licence (no dc:rights).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

CATEGORIES = ("cs.CR", "cs.LG", "cs.CL", "cs.CV", "cs.SE", "cs.AI")
EASTERN = ZoneInfo("America/New_York")
NAMESPACES = " ".join(
    (
        'xmlns:arxiv="http://arxiv.org/schemas/atom"',
        'xmlns:dc="http://purl.org/dc/elements/1.1/"',
        'xmlns:atom="http://www.w3.org/2005/Atom"',
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"',
    )
)


def item(row: dict[str, Any], kind: str, pub: str) -> str:
    ident = f"{row['id']}v1"
    description = f"arXiv:{ident} Announce Type: {kind} \nAbstract: {row['abstract']}"
    lines = [
        "    <item>",
        f"      <title>{escape(str(row['title']))}</title>",
        f"      <link>https://arxiv.org/abs/{row['id']}</link>",
        f"      <description>{escape(description)}</description>",
        f'      <guid isPermaLink="false">oai:arXiv.org:{ident}</guid>',
        *(f"      <category>{c}</category>" for c in row["categories"]),
        f"      <pubDate>{pub}</pubDate>",
        f"      <arxiv:announce_type>{kind}</arxiv:announce_type>",
    ]
    if row.get("comment"):
        lines.append(f"      <arxiv:comment>{escape(str(row['comment']))}</arxiv:comment>")
    authors = ", ".join(row["authors"])
    lines += [f"      <dc:creator>{escape(authors)}</dc:creator>", "    </item>"]
    return "\n".join(lines)


def listing(rows: list[dict[str, Any]], night: dt.date) -> str:
    cats = "+".join(CATEGORIES)
    midnight = dt.datetime(night.year, night.month, night.day, tzinfo=EASTERN)
    pub = format_datetime(midnight)
    built = format_datetime(midnight.astimezone(dt.UTC) + dt.timedelta(hours=1))
    chosen = [r for r in rows if set(r["categories"]) & set(CATEGORIES)]
    new = [r for r in chosen if r["categories"][0] in CATEGORIES]
    cross = [r for r in chosen if r["categories"][0] not in CATEGORIES]
    items = [item(r, "new", pub) for r in new] + [item(r, "cross", pub) for r in cross]
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<rss {NAMESPACES} version="2.0">
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
{chr(10).join(items)}
  </channel>
</rss>
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the stream (JSONL)")
    parser.add_argument("--night", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    with args.data.open(encoding="utf-8") as f:
        rows = [r for r in map(json.loads, f) if r["announced"] == args.night.isoformat()]
    written = listing(rows, args.night)
    args.out.write_text(written, encoding="utf-8")
    print(f"{args.out}: {written.count('<item>')} of the {len(rows)} papers of {args.night}")


if __name__ == "__main__":
    main()

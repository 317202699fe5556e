"""Fetch+parse+merge throughput of the arXiv listing source, on the labelled 2026 stream (the
committed sample by default, or the full stream with --data: see benchmarks/data.py).

Each night of the stream is served by a loopback HTTP server as one arXiv daily listing (RSS
2.0, the format rss.arxiv.org serves); the real `ArxivListingSource` fetches it, feedparser
parses it, and `fetch_all` merges it and drops the papers already in the catalog. The per-host
delay is 0 on loopback: the mandatory 3 s between requests to arXiv is excluded (a real night
adds 3 s per request, and the listing is one request).

    python -m benchmarks.fetch_throughput [--data PATH] [--repeats N]

Prints papers/s (median over nights x repeats, and overall), a per-stage breakdown, whether
every paper came through with its title intact, and the machine.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path

import requests

from benchmarks.data import STREAM_HELP, default_stream, stream_lines
from benchmarks.machine import machine
from tests.servers import LoopbackServer, Reply
from tests.servers.arxiv import RSS_TYPE, listing_rss
from tracker.catalog.known import Known
from tracker.config import ArxivConfig
from tracker.http import HttpClient
from tracker.paper import Paper
from tracker.sources import fetch_all
from tracker.sources.arxiv_listing import ArxivListingSource, parse_listing
from tracker.sources.fetch import merge_papers

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = default_stream()


def load_nights(path: Path) -> dict[dt.date, list[Paper]]:
    nights: dict[dt.date, list[Paper]] = collections.defaultdict(list)
    for line in stream_lines(path):
        row = json.loads(line)
        paper = Paper.from_dict(row).replace(arxiv_version=1, source=None)
        assert paper.announced is not None, f"row {row.get('id')} has no announce date"
        nights[paper.announced].append(paper)
    return dict(sorted(nights.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=STREAM_HELP)
    parser.add_argument("--repeats", type=int, default=5, help="passes over all nights")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"Error: no stream at {args.data} (give --data PATH)", file=sys.stderr)
        return 2

    nights = load_nights(args.data)
    categories = ArxivConfig().categories
    cats = "+".join(categories)
    known = Known.in_folder(REPO / "catalog")
    http = HttpClient(requests.Session(), delay=0.0, timeout=30.0, sleep=lambda s: None)

    rates: list[float] = []
    stage: dict[str, list[float]] = collections.defaultdict(list)
    total_papers = total_time = 0.0
    lost = changed = 0
    with LoopbackServer() as server:
        for night, papers in nights.items():
            types = {
                p.arxiv_id or "": "new" if p.categories[0] in categories else "cross"
                for p in papers
            }
            body = listing_rss(papers, night, categories, types)
            server.route(f"/{night}/rss/{cats}", Reply(body=body, content_type=RSS_TYPE))

        for repeat in range(args.repeats):
            for night, papers in nights.items():
                source = ArxivListingSource(
                    http, server.url(f"/{night}/rss"), categories, today=lambda n=night: n
                )
                started = time.perf_counter()
                report = fetch_all([source], night, night, known)
                elapsed = time.perf_counter() - started
                fetched = report.sources[0].fetched
                rates.append(fetched / elapsed)
                total_papers += fetched
                total_time += elapsed
                if repeat == 0:
                    lost += len(papers) - fetched
                    # Stage breakdown, measured apart on the same night.
                    t0 = time.perf_counter()
                    response = http.get(source.url)
                    t1 = time.perf_counter()
                    listing = parse_listing(response.content, response.url)
                    t2 = time.perf_counter()
                    merged = merge_papers(listing.papers)
                    known.sift(merged)
                    t3 = time.perf_counter()
                    for name, seconds in (
                        ("http", t1 - t0),
                        ("parse", t2 - t1),
                        ("merge", t3 - t2),
                    ):
                        stage[name].append(seconds / max(len(papers), 1) * 1000)
                    expected = {p.arxiv_id: (p.title, p.abstract, p.authors) for p in papers}
                    changed += sum(
                        1
                        for p in listing.papers
                        if expected.get(p.arxiv_id) != (p.title, p.abstract, p.authors)
                    )

    n_papers = sum(len(p) for p in nights.values())
    print(
        f"stream: {args.data} ({len(nights)} nights, {n_papers} papers, "
        f"{min(len(p) for p in nights.values())}-{max(len(p) for p in nights.values())} per night)"
    )
    print(
        f"fetch+parse+merge+drop-known, {args.repeats} passes, per-host delay 0 "
        "(the mandatory 3 s between requests to arXiv is excluded):"
    )
    print(
        f"  median {statistics.median(rates):,.0f} papers/s per night "
        f"(p10 {statistics.quantiles(rates, n=10)[0]:,.0f}, "
        f"p90 {statistics.quantiles(rates, n=10)[-1]:,.0f}); "
        f"overall {total_papers / total_time:,.0f} papers/s"
    )
    print(
        "  per paper, median over nights: "
        + ", ".join(f"{name} {statistics.median(ms):.3f} ms" for name, ms in stage.items())
    )
    print(
        f"  check: {n_papers - lost}/{n_papers} papers came through, "
        f"{changed} changed in transit (title, abstract or authors)"
    )
    print(f"machine: {machine()}, feedparser {version('feedparser')}")
    return 0 if lost == 0 and changed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Replay the shared 2026 stream night by night through `tracker run`, and score its proposals
against the shared labels.

Each replayed night, a loopback server serves that night's papers as arXiv's daily listing (RSS,
new and cross-listed) and as the export API's search result; the real `tracker run --date NIGHT`
runs in-process with the real sources, pipeline and publisher, and opens its pull request on the
loopback GitHub server, which holds a copy of the committed catalog. Each pull request is merged
there, so the catalog grows as the real one would (the next night's neighbours and known papers
include it). Per-host delays and GitHub's pause between writes are 0: the mandatory 3 s between
requests to arXiv (two or three requests a night) and about 1 s per write to GitHub (about nine
a night) are excluded from the wall times.

Honest protocol: the model that classifies is not the shipped one (trained on every night of the
stream), but one trained here, with the classifier's own `tracker train`, on the catalog plus
the nights up to --train-until (default 2026-03-13), into a temporary models folder; the replay
covers the nights after it (default from 2026-03-16).

    python -m benchmarks.replay_nights [--data PATH] [--train-until DATE] [--from DATE]
                                      [--nights N] [--out PATH] [--no-docs]

The nights are replayed at full size (every paper of the stream's night: give the full stream
with --data or $TRACKER_STREAM). Prints a Markdown table (per night: wall time, fetched, added,
right, wrong, candidates, in-scope candidates, right section) with totals and the machine,
writes it to benchmarks/results/replay_nights.md and between the `benchmark:replay-nights`
markers of README and the model card.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from benchmarks.data import STREAM_HELP, default_stream, stream_lines
from benchmarks.docs import replace_block
from benchmarks.machine import machine
from tests.servers import LoopbackServer, Reply
from tests.servers.arxiv import RSS_TYPE, ArxivApi, listing_rss
from tests.servers.github import GitHubServer
from tracker.catalog.taxonomy import load_taxonomy
from tracker.cli import main as tracker_main
from tracker.config import ArxivConfig
from tracker.paper import Paper
from tracker.publish import github as github_client
from tracker.publish.block import TIER_CANDIDATE, decode

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = default_stream()
DEFAULT_OUT = REPO / "benchmarks" / "results" / "replay_nights.md"
TOKEN = "replay-token"
Row = dict[str, Any]


@dataclass
class Night:
    """One replayed night: what the run did and how it compares with the labels."""

    date: dt.date
    papers: int
    labelled_in: set[str]
    in_cr: set[str]  # labelled in, listed in cs.CR
    seconds: float = 0.0
    exit_code: int = 0
    fetched: int = 0
    proposed: dict[str, str] = field(default_factory=dict)  # added tier: arXiv id -> section id
    candidates: set[str] = field(default_factory=set)  # the candidate tier's arXiv ids
    right_section: int = 0

    @property
    def right(self) -> set[str]:
        return set(self.proposed) & self.labelled_in

    @property
    def wrong(self) -> set[str]:
        return set(self.proposed) - self.labelled_in

    @property
    def recall(self) -> float | None:
        return len(self.right) / len(self.labelled_in) if self.labelled_in else None

    @property
    def reached(self) -> set[str]:
        """In-scope papers added or offered as candidates."""
        return (set(self.proposed) | self.candidates) & self.labelled_in


def load_nights(path: Path) -> dict[dt.date, list[Row]]:
    nights: dict[dt.date, list[Row]] = collections.defaultdict(list)
    for line in stream_lines(path):
        row = json.loads(line)
        nights[dt.date.fromisoformat(row["announced"])].append(row)
    return dict(sorted(nights.items()))


def _paper(row: Row) -> Paper:
    return Paper.from_dict(row).replace(arxiv_version=1, source=None)


class Servers:
    """arXiv (listing and API) and GitHub on loopback, one night at a time."""

    def __init__(self, catalog: Path) -> None:
        self.arxiv = LoopbackServer()
        files = {
            f"catalog/{p.relative_to(catalog).as_posix()}": p.read_text(encoding="utf-8")
            for p in sorted(catalog.rglob("*"))
            if p.is_file()
        }
        self.github = GitHubServer(files=files, token=TOKEN)
        self.categories = ArxivConfig().categories

    @contextlib.contextmanager
    def running(self) -> Iterator[Servers]:
        with self.arxiv, self.github:
            yield self

    def env(self) -> dict[str, str | None]:
        return {
            "TRACKER_ARXIV_RSS_URL": self.arxiv.url("/rss"),
            "TRACKER_ARXIV_API_URL": self.arxiv.url("/api/query"),
            "GITHUB_API_URL": self.github.api_url,
            "GITHUB_REPOSITORY": self.github.full_name,
            "GITHUB_TOKEN": TOKEN,
            "TRACKER_GITHUB_TOKEN": None,  # GITHUB_TOKEN is the one
        }

    def serve(self, night: dt.date, rows: Sequence[Row]) -> None:
        papers = [_paper(r) for r in rows]
        types = {
            p.arxiv_id or "": "new"
            if p.categories and p.categories[0] in self.categories
            else "cross"
            for p in papers
        }
        body = listing_rss(papers, night, self.categories, types)
        self.arxiv.route(
            "/rss/" + "+".join(self.categories), Reply(body=body, content_type=RSS_TYPE)
        )
        searched = [p.replace(submitted=night) for p in papers]
        self.arxiv.route("/api/query", ArxivApi(searched))


def write_config(folder: Path, models_dir: Path, labels: Path | None = None) -> Path:
    """A tracker.yaml for the replay: a scratch copy of the catalog, the given models folder,
    no delays, no pause between GitHub writes."""
    config = {
        "catalog_dir": str(folder / "catalog"),
        "models_dir": str(models_dir),
        "cache_dir": str(folder / "cache"),
        "http": {"delay": 0, "retries": 1, "backoff": 0},
    }
    if labels is not None:
        config["classifier"] = {"training_labels": [str(labels)]}
    path = folder / "tracker.yaml"
    path.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in config.items()), "utf-8")
    return path


def train(config: Path) -> float:
    """Train a model with the classifier's own entry point, `tracker train`, as `config` says
    (the catalog plus `classifier.training_labels`, into `models_dir`); returns the seconds."""
    started = time.perf_counter()
    result = CliRunner().invoke(tracker_main, ["--config", str(config), "train"])
    if result.exit_code != 0:
        raise SystemExit(
            f"tracker train failed (exit {result.exit_code}):\n{result.stderr or result.output}"
        )
    return time.perf_counter() - started


def replay(
    nights: dict[dt.date, list[Row]],
    config: Path,
    servers: Servers,
    *,
    progress: Callable[[str], None] = lambda line: None,
) -> list[Night]:
    """Run `tracker run --date NIGHT` for each night in order; merge each pull request."""
    taxonomy = load_taxonomy(REPO / "catalog" / "taxonomy.yaml")
    section_id = {leaf.heading_zh: leaf.id for leaf in taxonomy.leaves}
    runner = CliRunner()
    out: list[Night] = []
    # No pause between GitHub writes on the loopback server (a real night pays about 1 s per
    # write, excluded from the wall times like arXiv's delay).
    kept, github_client.WRITE_INTERVAL = github_client.WRITE_INTERVAL, 0.0
    try:
        for date, rows in nights.items():
            record = Night(
                date,
                len(rows),
                {r["id"] for r in rows if r["in_scope"]},
                {r["id"] for r in rows if r["in_scope"] and "cs.CR" in r["categories"]},
            )
            servers.serve(date, rows)
            pulls_before = len(servers.github.pulls)
            started = time.perf_counter()
            result = runner.invoke(
                tracker_main,
                ["--config", str(config), "run", "--date", date.isoformat()],
                env=servers.env(),
            )
            record.seconds = time.perf_counter() - started
            record.exit_code = result.exit_code
            if result.exit_code not in (0, 3):
                raise SystemExit(f"tracker run failed on {date}:\n{result.stderr}")
            m = re.search(r": fetched (\d+)", result.stderr)
            record.fetched = int(m.group(1)) if m else 0
            if len(servers.github.pulls) > pulls_before:
                pull = servers.github.pulls[-1]
                state = decode(pull.body)
                items = state.items if state is not None else []
                record.proposed = {p.arxiv or "": p.section or "" for p in items if p.checked}
                record.candidates = {
                    p.arxiv or "" for p in items if not p.checked and p.tier == TIER_CANDIDATE
                }
                servers.github.merge_pull(pull.number)
            labels = {r["id"]: r["section"] for r in rows if r["in_scope"]}
            record.right_section = sum(
                1 for i in record.right if section_id.get(labels[i]) == record.proposed[i]
            )
            out.append(record)
            progress(
                f"{date}: {record.seconds:.1f} s, fetched {record.fetched}, "
                f"added {len(record.proposed)} ({len(record.right)} right, "
                f"{len(record.wrong)} wrong), {len(record.candidates)} candidates; "
                f"{len(record.reached)} of {len(record.labelled_in)} in scope reached"
            )
    finally:
        github_client.WRITE_INTERVAL = kept
    return out


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def table(records: Sequence[Night], header: Sequence[str] = ()) -> str:
    """The Markdown report: per night and totals."""
    lines = [*header]
    lines += [
        "| night | papers (in scope) | wall time | fetched | added | right | wrong "
        "| candidates | in scope among them | right section | exit |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        lines.append(
            f"| {r.date} | {r.papers} ({len(r.labelled_in)}) | {r.seconds:.1f} s | {r.fetched} "
            f"| {len(r.proposed)} | {len(r.right)} | {len(r.wrong)} | {len(r.candidates)} "
            f"| {len(r.candidates & r.labelled_in)} | {r.right_section} | {r.exit_code} |"
        )
    labelled = sum(len(r.labelled_in) for r in records)
    right = sum(len(r.right) for r in records)
    wrong = sum(len(r.wrong) for r in records)
    added = sum(len(r.proposed) for r in records)
    cands = sum(len(r.candidates) for r in records)
    cand_in = sum(len(r.candidates & r.labelled_in) for r in records)
    reached = sum(len(r.reached) for r in records)
    in_cr = sum(len(r.in_cr) for r in records)
    reached_cr = sum(len(r.reached & r.in_cr) for r in records)
    lines.append(
        f"| **all {len(records)}** | {sum(r.papers for r in records)} ({labelled}) "
        f"| {sum(r.seconds for r in records):.1f} s | {sum(r.fetched for r in records)} "
        f"| {added} | {right} | {wrong} | {cands} | {cand_in} "
        f"| {sum(r.right_section for r in records)} | |"
    )
    seconds = [r.seconds for r in records]
    nights = len(records) or 1

    def share(n: int, d: int) -> str:
        return f"{_pct(n / d if d else None)} ({n} of {d})"

    lines += [
        "",
        f"- median wall time per night: **{statistics.median(seconds):.1f} s** "
        f"(min {min(seconds):.1f}, max {max(seconds):.1f}), model loading included",
        f"- added tier: **{added / nights:.1f} a night, {wrong / nights:.1f} of them wrong** "
        f"(worst night {max((len(r.wrong) for r in records), default=0)}); in-scope papers "
        f"added: {share(right, labelled)}; right section for "
        f"{sum(r.right_section for r in records)} of {right}",
        f"- candidates: **{cands / nights:.1f} a night**; in-scope papers added or candidates: "
        f"**{share(reached, labelled)}** (cs.CR {share(reached_cr, in_cr)}, other "
        f"{share(reached - reached_cr, labelled - in_cr)})",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=STREAM_HELP)
    parser.add_argument(
        "--train-until",
        type=dt.date.fromisoformat,
        default=dt.date(2026, 3, 13),
        help="train on the nights up to this day (default 2026-03-13)",
    )
    parser.add_argument(
        "--from",
        dest="start",
        type=dt.date.fromisoformat,
        default=dt.date(2026, 3, 16),
        help="replay the nights from this day (default 2026-03-16); must be after --train-until",
    )
    parser.add_argument("--nights", type=int, default=0, help="replay only this many (0: all)")
    parser.add_argument("--no-docs", action="store_true", help="do not update README")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"Error: no stream at {args.data} (give --data PATH)", file=sys.stderr)
        return 2
    if args.start <= args.train_until:
        print("Error: --from must be after --train-until (no training night is replayed)")
        return 2

    nights = load_nights(args.data)
    train_rows = [r for d, rows in nights.items() if d <= args.train_until for r in rows]
    replayed = {d: rows for d, rows in nights.items() if d >= args.start}
    if args.nights:
        replayed = dict(list(replayed.items())[: args.nights])

    with tempfile.TemporaryDirectory(prefix="tracker-replay-") as scratch:
        folder = Path(scratch)
        shutil.copytree(REPO / "catalog", folder / "catalog")
        labels = folder / "train.jsonl"
        labels.write_text("".join(json.dumps(r) + "\n" for r in train_rows), "utf-8")
        config = write_config(folder, folder / "models", labels)
        print(f"training on {len(train_rows)} stream rows up to {args.train_until} + the catalog")
        train_seconds = train(config)
        print(f"trained in {train_seconds:.0f} s; replaying {len(replayed)} nights")
        servers = Servers(folder / "catalog")
        with servers.running():
            records = replay(replayed, config, servers, progress=print)

    header = [
        f"Replay of {args.data.name}: nights {min(replayed)} to {max(replayed)}, model trained "
        f"on the catalog and the {len({d for d in nights if d <= args.train_until})} nights up "
        f"to {args.train_until} ({len(train_rows)} rows) with `tracker train` "
        f"({train_seconds:.0f} s, embeddings cached). Each night at full size. "
        f"Measured by `python -m benchmarks.replay_nights` on {machine()}.",
        "",
    ]
    report = table(records, header)
    print()
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, "utf-8")
    print(f"written to {args.out}")
    if not args.no_docs:
        for path in replace_block("replay-nights", report):
            print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Replay the labelled 2026 stream night by night through `tracker run` and `tracker review`,
with a simulated maintainer, and measure the two tiers against the labels.

Each replayed night (at its full size: every paper of the night, as `benchmarks.replay_nights`
serves it): loopback servers serve the night as arXiv's listing and API; the real
`tracker run --date NIGHT` opens its pull request on the loopback GitHub; a simulated maintainer
unticks exactly the added papers labelled out of scope and ticks exactly the candidates labelled
in scope, in the pull request's description, as a browser would; the real
`tracker review --pr N` applies the clicks (one commit); the pull request is merged, so the
catalog grows and the next night knows what was accepted and rejected. Per-host delays and
GitHub's pause between writes are 0 (excluded from the wall times).

Honest protocol, as `benchmarks.replay_nights`: the model is trained here with `tracker train`
on the catalog and the nights up to --train-until (default 2026-03-13), and the replay covers
the nights from --from (default 2026-03-16). For the shared stream's embeddings point
`TRACKER_CACHE_DIR` at a cache that holds them.

    python -m benchmarks.review_replay DATA [--train-until DATE] [--from DATE] [--nights N]
                                           [--out PATH] [--no-docs]

Reports per night and in total: papers (in scope), added, wrong added, candidates, in-scope
candidates, recall of the added tier, recall of added + candidates, clicks the maintainer
needed, wall time; then the issue's aims (at most 1 wrong added paper a night, added +
candidates at least 95 % of the in-scope papers, at most 12 candidates a night) with how far
each is met. Writes benchmarks/results/review_replay.md and the README block
`<!-- benchmark:review-replay -->` (and the model card's, if it has the markers).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner

from benchmarks.docs import replace_block
from benchmarks.machine import machine
from benchmarks.replay_nights import Row, Servers, load_nights, train, write_config
from tests.servers.github import GitHubServer
from tracker.catalog.store import parse_papers_text
from tracker.catalog.taxonomy import Taxonomy, load_taxonomy
from tracker.cli import main as tracker_main
from tracker.publish import github as github_client
from tracker.publish.block import decode

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "benchmarks" / "results" / "review_replay.md"
PAPERS = "catalog/papers.yaml"
# The aims for nights the model never trained on.
AIM_WRONG = 1.0  # wrong added papers a night, at most
AIM_RECALL = 0.95  # share of the in-scope papers among added + candidates, at least
AIM_CANDIDATES = 12.0  # candidates a night, at most


@dataclass
class ReviewedNight:
    """One replayed night: the two tiers, the maintainer's clicks, what the branch held after."""

    date: dt.date
    papers: int
    labelled_in: set[str]
    added: set[str] = field(default_factory=set)
    candidates: set[str] = field(default_factory=set)
    accepted: set[str] = field(default_factory=set)  # added to papers.yaml after the review
    clicks: int = 0
    seconds: float = 0.0
    fetched: int = 0

    @property
    def wrong_added(self) -> set[str]:
        return self.added - self.labelled_in

    @property
    def in_candidates(self) -> set[str]:
        return self.candidates & self.labelled_in

    @property
    def recall_added(self) -> float | None:
        return (
            len(self.added & self.labelled_in) / len(self.labelled_in) if self.labelled_in else None
        )

    @property
    def recall_both(self) -> float | None:
        if not self.labelled_in:
            return None
        return len((self.added | self.candidates) & self.labelled_in) / len(self.labelled_in)


def replay(
    nights: dict[dt.date, list[Row]],
    config: Path,
    servers: Servers,
    *,
    progress: Callable[[str], None] = lambda line: None,
) -> list[ReviewedNight]:
    """For each night in order: `tracker run`, the simulated maintainer's clicks, `tracker
    review`, a check that the branch holds exactly the papers the maintainer wanted, the merge."""
    runner = CliRunner()
    gh = servers.github
    taxonomy = load_taxonomy(REPO / "catalog" / "taxonomy.yaml")
    out: list[ReviewedNight] = []
    kept, github_client.WRITE_INTERVAL = github_client.WRITE_INTERVAL, 0.0
    try:
        for date, rows in nights.items():
            record = ReviewedNight(date, len(rows), {r["id"] for r in rows if r["in_scope"]})
            servers.serve(date, rows)
            before = len(gh.pulls)
            started = time.perf_counter()
            result = runner.invoke(
                tracker_main,
                ["--config", str(config), "run", "--date", date.isoformat()],
                env=servers.env(),
            )
            if result.exit_code not in (0, 3):
                raise SystemExit(f"tracker run failed on {date}:\n{result.stderr}")
            record.fetched = _fetched(result.stderr)
            if len(gh.pulls) > before:
                number = gh.pulls[-1].number
                _maintainer(gh, number, record)
                result = runner.invoke(
                    tracker_main,
                    ["--config", str(config), "review", "--pr", str(number)],
                    env=servers.env(),
                )
                if result.exit_code != 0:
                    raise SystemExit(f"tracker review failed on {date}:\n{result.stderr}")
                record.accepted = _additions(gh, gh.pulls[-1].head, taxonomy)
                wanted = (record.added - record.wrong_added) | record.in_candidates
                if record.accepted != wanted:
                    raise SystemExit(
                        f"{date}: the branch holds {sorted(record.accepted)} after the review, "
                        f"the maintainer wanted {sorted(wanted)}"
                    )
                gh.merge_pull(number)
            record.seconds = time.perf_counter() - started
            out.append(record)
            progress(
                f"{date}: {record.papers} papers ({len(record.labelled_in)} in scope), added "
                f"{len(record.added)} ({len(record.wrong_added)} wrong), candidates "
                f"{len(record.candidates)} ({len(record.in_candidates)} in scope), "
                f"{record.clicks} clicks, {record.seconds:.1f} s"
            )
    finally:
        github_client.WRITE_INTERVAL = kept
    return out


def _maintainer(gh: GitHubServer, number: int, record: ReviewedNight) -> None:
    """Read the tiers off the pull request, then untick the wrong added papers and tick the
    in-scope candidates, one click each, in the description."""
    state = decode(gh.pulls[-1].body)
    if state is None:
        raise SystemExit(f"{record.date}: pull request #{number} has no tracker block")
    record.added = {i.arxiv or i.key for i in state.items if i.checked}
    record.candidates = {i.arxiv or i.key for i in state.items if not i.checked}
    for item in state.items:
        paper = item.arxiv or item.key
        if item.checked and paper not in record.labelled_in:
            gh.tick(number, item.key, ticked=False)
            record.clicks += 1
        elif not item.checked and paper in record.labelled_in:
            gh.tick(number, item.key, ticked=True)
            record.clicks += 1


def _additions(gh: GitHubServer, branch: str, taxonomy: Taxonomy) -> set[str]:
    def ids(ref: str) -> set[str]:
        entries = parse_papers_text(gh.file_at(ref, PAPERS) or "", PAPERS, taxonomy)
        return {e.paper.arxiv_id or e.paper.title for e in entries}

    return ids(branch) - ids(gh.default_branch)


def _fetched(stderr: str) -> int:
    m = re.search(r": fetched (\d+)", stderr)
    return int(m.group(1)) if m else 0


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def table(records: Sequence[ReviewedNight], header: Sequence[str] = ()) -> str:
    """The Markdown report: one row a night, the total, and the aims."""
    lines = [*header]
    lines += [
        "| night | papers (in scope) | added | wrong added | candidates | in-scope candidates "
        "| recall of added | recall of added + candidates | clicks | wall time |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        lines.append(
            f"| {r.date} | {r.papers} ({len(r.labelled_in)}) | {len(r.added)} "
            f"| {len(r.wrong_added)} | {len(r.candidates)} | {len(r.in_candidates)} "
            f"| {_pct(r.recall_added)} | {_pct(r.recall_both)} | {r.clicks} | {r.seconds:.1f} s |"
        )
    n = len(records) or 1
    labelled = sum(len(r.labelled_in) for r in records)
    right = sum(len(r.added & r.labelled_in) for r in records)
    both = sum(len((r.added | r.candidates) & r.labelled_in) for r in records)
    wrong = sum(len(r.wrong_added) for r in records)
    candidates = sum(len(r.candidates) for r in records)
    clicks = sum(r.clicks for r in records)
    recall_added = right / labelled if labelled else None
    recall_both = both / labelled if labelled else None
    lines.append(
        f"| **all {len(records)}** | {sum(r.papers for r in records)} ({labelled}) "
        f"| {sum(len(r.added) for r in records)} | {wrong} | {candidates} "
        f"| {sum(len(r.in_candidates) for r in records)} | {_pct(recall_added)} "
        f"| {_pct(recall_both)} | {clicks} | {sum(r.seconds for r in records):.1f} s |"
    )
    per_night_wrong = wrong / n
    per_night_candidates = candidates / n
    worst_wrong = max((len(r.wrong_added) for r in records), default=0)
    worst_candidates = max((len(r.candidates) for r in records), default=0)
    seconds = [r.seconds for r in records] or [0.0]
    lines += [
        "",
        f"- a night: **{per_night_wrong:.1f} wrong added papers** (most {worst_wrong}), "
        f"**{per_night_candidates:.1f} candidates** (most {worst_candidates}), "
        f"**{clicks / n:.1f} clicks**; median wall time {statistics.median(seconds):.1f} s "
        "(run and review, model loading included)",
        f"- recall: added tier **{_pct(recall_added)}** ({right} of {labelled}), added + "
        f"candidates **{_pct(recall_both)}** ({both} of {labelled})",
        "- aims: "
        + "; ".join(
            (
                aim_line("wrong added a night", per_night_wrong, AIM_WRONG, "{:.1f}"),
                aim_line("added + candidates", recall_both, AIM_RECALL, "{:.0%}", at_least=True),
                aim_line("candidates a night", per_night_candidates, AIM_CANDIDATES, "{:.1f}"),
            )
        ),
    ]
    return "\n".join(lines) + "\n"


def aim_line(name: str, value: float | None, aim: float, fmt: str, at_least: bool = False) -> str:
    if value is None:
        return f"{name}: not measured"
    kind = "at least" if at_least else "at most"
    met = value >= aim if at_least else value <= aim
    shown, target = fmt.format(value), fmt.format(aim)
    if met:
        return f"{name} {shown} ({kind} {target}: met)"
    return f"{name} {shown} ({kind} {target}: missed by {fmt.format(abs(value - aim))})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="the labelled stream (stream-2026.jsonl)")
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
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    parser.add_argument("--no-docs", action="store_true", help="do not update README's figures")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"Error: no stream at {args.data}", file=sys.stderr)
        return 2
    if args.start <= args.train_until:
        print("Error: --from must be after --train-until (no training night is replayed)")
        return 2

    nights = load_nights(args.data)
    train_rows = [r for d, rows in nights.items() if d <= args.train_until for r in rows]
    replayed = {d: rows for d, rows in nights.items() if d >= args.start}
    if args.nights:
        replayed = dict(list(replayed.items())[: args.nights])

    with tempfile.TemporaryDirectory(prefix="tracker-review-replay-") as scratch:
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
        f"Replay of {args.data.name} through `tracker run` and `tracker review`: nights "
        f"{min(replayed)} to {max(replayed)} at full size, a maintainer who unticks exactly the "
        f"wrong added papers and ticks exactly the in-scope candidates. Model trained on the "
        f"catalog and the {len({d for d in nights if d <= args.train_until})} nights up to "
        f"{args.train_until} ({len(train_rows)} rows) with `tracker train` ({train_seconds:.0f} "
        f"s). Caps: `bot.max_proposals` 20, `bot.max_candidates` 12. Machine: {machine()}.",
        "",
    ]
    report = table(records, header)
    print()
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, "utf-8")
    print(f"written to {args.out}")
    if not args.no_docs:
        for path in replace_block("review-replay", report):
            print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

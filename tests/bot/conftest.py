"""The bot's test harness: the loopback GitHub server holding a copy of the real catalog, a fake
clock (no test waits for real), and a classifier that answers from the shared stream's labels."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO
from tests.servers.github import GitHubServer
from tracker.catalog.taxonomy import Taxonomy, load_taxonomy
from tracker.classify.result import Classification, Neighbor, SectionScore
from tracker.config import BotConfig, Config, Secret
from tracker.paper import Paper
from tracker.pipeline import Fetched, RunReport, run
from tracker.publish.github import GitHubClient
from tracker.publish.publisher import Publisher

TOKEN = "ghp_TestTokenThatMustNeverBePrinted0042"
NIGHT = dt.date(2026, 3, 16)
START = dt.datetime(2026, 3, 16, 4, 30, tzinfo=dt.UTC)


class FakeClock:
    """Epoch seconds that only move when someone sleeps (or a test says so)."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.now_s = start.timestamp()
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now_s += seconds

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now_s, dt.UTC)

    def advance(self, days: float = 0, seconds: float = 0) -> None:
        self.now_s += days * 86400 + seconds


def catalog_files(root: Path = REPO / "catalog") -> dict[str, str]:
    """Every file of the committed catalog, by repository path."""
    return {
        f"catalog/{p.relative_to(root).as_posix()}": p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def stream_rows(path: Path = FIXTURES / "night-2026-03-16.jsonl") -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def stream_papers(rows: Sequence[dict[str, object]] | None = None) -> list[Paper]:
    return [Paper.from_dict({**r, "source": "arxiv-listing"}) for r in (rows or stream_rows())]


@dataclass
class OracleClassifier:
    """A classifier test double that answers from the stream's labels: in-scope rows get
    relevance 0.95, 0.90, ... in file order and their labelled section; out-of-scope rows get
    relevance below the threshold. Every verdict is a real `Classification`."""

    taxonomy: Taxonomy
    labels: dict[str, str | None]  # arXiv id or title -> section heading (None: out of scope)
    threshold: float = 0.5
    version: str = "oracle-2026-03"
    low_confidence: set[str] = field(default_factory=set)  # ids given a 0.45 section score
    calls: list[int] = field(default_factory=list)

    def classify(self, papers: Sequence[Paper]) -> list[Classification]:
        self.calls.append(len(papers))
        leaves = self.taxonomy.leaves
        out = []
        order = list(self.labels)
        for paper in papers:
            key = paper.arxiv_id or paper.title
            heading = self.labels.get(key)
            rank = order.index(key) if key in order else len(order)
            if heading is not None:
                relevance = round(0.95 - 0.05 * rank, 4)
                top = next(s for s in leaves if s.heading_zh == heading)
            else:
                relevance = round(0.3 - 0.01 * rank, 4)
                top = leaves[rank % len(leaves)]
            first = 0.45 if key in self.low_confidence else 0.8
            rest = [s for s in leaves if s.id != top.id]
            second = 1 - first - 0.01 * (len(rest) - 1)
            ranked = [SectionScore(top.id, top.heading_zh or "", top.heading_en, first)]
            ranked.append(
                SectionScore(rest[0].id, rest[0].heading_zh or "", rest[0].heading_en, second)
            )
            ranked += [SectionScore(s.id, s.heading_zh or "", s.heading_en, 0.01) for s in rest[1:]]
            neighbour = Neighbor("Weight Poisoning Attacks on Pretrained Models", top.id, 0.61)
            out.append(
                Classification(
                    paper, relevance >= self.threshold, relevance, tuple(ranked), (neighbour,)
                )
            )
        return out


def oracle(rows: Sequence[dict[str, object]] | None = None, **options: object) -> OracleClassifier:
    rows = rows or stream_rows()
    labels = {str(r["id"]): (r["section"] if r["in_scope"] else None) for r in rows}
    return OracleClassifier(load_taxonomy(REPO / "catalog" / "taxonomy.yaml"), labels, **options)  # type: ignore[arg-type]


@dataclass
class Harness:
    """One repository on the loopback server and the bot pointed at it."""

    server: GitHubServer
    clock: FakeClock
    config: Config

    def client(self) -> GitHubClient:
        return GitHubClient.connect(
            self.config.bot,
            self.config.github_token,
            sleep=self.clock.sleep,
            clock=self.clock.time,
            write_interval=0,
        )

    def publisher(self) -> Publisher:
        return Publisher(self.client(), self.config.bot, "catalog", now=self.clock.now)

    def run(
        self,
        today: dt.date = NIGHT,
        papers: Sequence[Paper] | None = None,
        classifier: OracleClassifier | None = None,
        *,
        dry_run: bool = False,
        failed: dict[str, str] | None = None,
    ) -> RunReport:
        batch = list(stream_papers() if papers is None else papers)
        return run(
            self.config,
            fetch=lambda since: Fetched(batch, {"arxiv-listing": len(batch)}, failed or {}),
            classifier=classifier or oracle(),
            today=today,
            publisher=self.publisher(),
            dry_run=dry_run,
        )

    def with_bot(self, **changes: object) -> None:
        self.config = replace(self.config, bot=replace(self.config.bot, **changes))  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gh(clock: FakeClock) -> Iterator[GitHubServer]:
    server = GitHubServer(files=catalog_files(), token=TOKEN, clock=clock.time)
    with server:
        yield server


@pytest.fixture
def harness(gh: GitHubServer, clock: FakeClock, tmp_path: Path) -> Harness:
    bot = BotConfig(
        repository=gh.full_name,
        api_url=gh.api_url,
        timeout=5,
        retries=2,
        retry_backoff=0.0,
    )
    config = Config(catalog_dir=tmp_path / "catalog", bot=bot, github_token=Secret(TOKEN))
    return Harness(gh, clock, config)

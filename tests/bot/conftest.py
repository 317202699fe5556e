"""The bot's test harness: loopback arXiv (daily listing RSS and export API) and GitHub servers,
the GitHub one holding a copy of the real catalog; `tracker run` wired to both through the real
sources and publisher; a fake clock for the pipeline-level tests (no test waits for real); and
the classifier the end-to-end tests run with (`e2e_classifier`)."""

from __future__ import annotations

import atexit
import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, Result, run_cli
from tests.servers import LoopbackServer, Reply
from tests.servers.arxiv import RSS_TYPE, ArxivApi, listing_rss
from tests.servers.github import GitHubServer
from tracker.catalog.taxonomy import Taxonomy, load_taxonomy
from tracker.classify.result import Classification, Neighbor, SectionScore
from tracker.cli import bot as bot_cli
from tracker.config import ArxivConfig, BotConfig, Config, HttpConfig, Secret
from tracker.http import HttpClient
from tracker.paper import Paper
from tracker.pipeline import Classifier, RunReport, run, source_fetch
from tracker.publish import github as github_client
from tracker.publish.github import GitHubClient
from tracker.publish.publisher import Publisher
from tracker.sources import build_sources

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
    relevance 0.30, 0.29, ... below the threshold (candidates from `candidate_threshold`).
    Every verdict is a real `Classification`."""

    taxonomy: Taxonomy
    labels: dict[str, str | None]  # arXiv id or title -> section heading (None: out of scope)
    threshold: float = 0.5
    candidate_threshold: float = 0.5  # from here to `threshold`: candidates (none by default)
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
            tier = (
                "added"
                if relevance >= self.threshold
                else "candidate"
                if relevance >= self.candidate_threshold
                else "out"
            )
            out.append(
                Classification(
                    paper,
                    tier == "added",
                    relevance,
                    tuple(ranked),
                    (neighbour,),
                    tier=tier,
                    title_only=not paper.abstract.strip(),
                )
            )
        return out


def oracle(rows: Sequence[dict[str, object]] | None = None, **options: object) -> OracleClassifier:
    rows = rows or stream_rows()
    labels = {str(r["id"]): (r["section"] if r["in_scope"] else None) for r in rows}
    return OracleClassifier(load_taxonomy(REPO / "catalog" / "taxonomy.yaml"), labels, **options)  # type: ignore[arg-type]


# A stream row whose title and authors try every injection a PR body or a rendered list could
# suffer; its abstract is an in-scope paper's, so any sensible classifier proposes it.
HOSTILE_ROW: dict[str, object] = {
    "id": "2603.19999",
    "title": (
        "Backdoors <img src=x onerror=alert(1)> <script>alert(1)</script> | x | y @octocat "
        "[click me](https://evil.example/login) https://evil.example/phish www.evil.example "
        "#1 GH-2 ~~gone~~ **bold** `code` &#64;octocat --> <!-- end"
    ),
    "abstract": next(str(r["abstract"]) for r in stream_rows() if r["id"] == "2603.12681"),
    "authors": ["@admin", "Eve <eve@evil.example>", "Mallory | Bob"],
    "categories": ["cs.CR"],
    "comment": None,
    "announced": "2026-03-16",
    "in_scope": True,
    "section": "针对迁移的攻击",
}


_E2E: list[Classifier] = []


def e2e_classifier() -> Classifier:
    """The classifier `tracker run` gets in the end-to-end tests: the trained model in models/,
    loaded (and verified) once per session, with a scratch embedding cache. The end-to-end
    tests derive what to expect from this classifier's verdicts, never from the labels."""
    if not _E2E:
        from tracker.classify.model import Classifier as TrainedClassifier

        cache = Path(tempfile.mkdtemp(prefix="tracker-e2e-cache-"))
        atexit.register(shutil.rmtree, cache, ignore_errors=True)
        _E2E.append(TrainedClassifier.load(REPO / "models", REPO / "catalog", cache_dir=cache))
    return _E2E[0]


def expected_proposals(classifier: Classifier, papers: Sequence[Paper], cap: int = 20) -> list[str]:
    """The arXiv ids `classifier` puts in scope among `papers`, most relevant first, capped."""
    verdicts = sorted(
        (c for c in classifier.classify(papers) if c.in_scope),
        key=lambda c: (-c.relevance, c.paper.arxiv_id or ""),
    )
    return [c.paper.arxiv_id or "" for c in verdicts[:cap]]


def expected_candidates(
    classifier: Classifier, papers: Sequence[Paper], cap: int = 20, candidate_cap: int = 12
) -> list[str]:
    """The arXiv ids offered unticked: the added tier over `cap`, then the candidate tier,
    most relevant first, at most `candidate_cap`."""
    verdicts = sorted(
        (c for c in classifier.classify(papers) if c.tier in ("added", "candidate")),
        key=lambda c: (-c.relevance, c.paper.arxiv_id or ""),
    )
    added = set(expected_proposals(classifier, papers, cap))
    rest = [c.paper.arxiv_id or "" for c in verdicts if c.paper.arxiv_id not in added]
    return rest[:candidate_cap]


def expected_title(classifier: Classifier, papers: Sequence[Paper], night: dt.date) -> str:
    """The pull request's title for `papers` (the classifier's own verdicts)."""
    added = len(expected_proposals(classifier, papers))
    others = len(expected_candidates(classifier, papers))
    noun = "paper" if added == 1 else "papers"
    more = f", {others} to review" if others else ""
    return f"Add {added} {noun}{more} ({night.isoformat()})"


# --- arXiv on a loopback server ----------------------------------------------------------------

CATEGORIES = ArxivConfig().categories


class ArxivServer:
    """One night of arXiv: the daily listing of `CATEGORIES` as RSS at `<rss_url>/cs.CR+...`,
    and the export API's search (`api`, by default the same papers) at `api_url`."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.rss_url = server.url("/rss")
        self.api_url = server.url("/api/query")
        self.listing_path = "/rss/" + "+".join(CATEGORIES)
        self.api = ArxivApi([])

    def serve(
        self, papers: Sequence[Paper], night: dt.date, *, api: Sequence[Paper] | None = None
    ) -> None:
        body = listing_rss(papers, night, CATEGORIES)
        self.server.route(self.listing_path, Reply(body=body, content_type=RSS_TYPE))
        searched = list(papers) if api is None else list(api)
        self.api = ArxivApi([p.replace(submitted=p.submitted or night) for p in searched])
        self.server.route("/api/query", self.api)

    def fail_listing(self, status: int = 503) -> None:
        self.server.route(self.listing_path, Reply(status, b"unavailable", "text/plain"))


@pytest.fixture
def arxiv() -> Iterator[ArxivServer]:
    with LoopbackServer() as server:
        yield ArxivServer(server)


# --- `tracker run` in-process, against both servers ----------------------------------------------

# Fast settings for loopback servers: no delays, one retry, no backoff, a short timeout (and,
# in `_bot`, no pause between writes to GitHub).
FAST_SETTINGS: dict[str, dict[str, object]] = {
    "http": {"delay": 0, "retries": 1, "backoff": 0, "timeout": 2},
}


def write_config(root: Path, **changes: dict[str, object]) -> None:
    """`root/tracker.yaml` with `FAST_SETTINGS` updated by `changes` (section -> settings)."""
    sections = {name: dict(values) for name, values in FAST_SETTINGS.items()}
    for name, values in changes.items():
        sections.setdefault(name, {}).update(values)
    # JSON is YAML: one flow mapping per section.
    text = "".join(f"{name}: {json.dumps(values)}\n" for name, values in sections.items())
    (root / "tracker.yaml").write_text(text, "utf-8")


@dataclass
class Bot:
    """`tracker run` in a scratch checkout, reading arXiv from `arxiv` and, when `github` is
    set, publishing to it with a token."""

    root: Path
    arxiv: ArxivServer
    classifier: Classifier
    github: GitHubServer | None = None

    def run(
        self,
        *args: str,
        night: dt.date = NIGHT,
        papers: Sequence[Paper] | None = None,
        api: Sequence[Paper] | None = None,
    ) -> Result:
        """Serve `papers` (default: the fixture night) as `night`'s listing, then run
        `tracker run --date NIGHT ARGS`."""
        self.arxiv.serve(stream_papers() if papers is None else papers, night, api=api)
        return run_cli("run", "--date", night.isoformat(), *args)

    @property
    def gh(self) -> GitHubServer:
        """The loopback GitHub (for the `bot` fixture; `local_bot` has none)."""
        assert self.github is not None, "a dry-run bot has no GitHub"
        return self.github

    def configure(self, **changes: dict[str, object]) -> None:
        """Change settings of tracker.yaml (section -> settings), keeping the fast ones."""
        write_config(self.root, **changes)


def _bot(
    root: Path, arxiv: ArxivServer, monkeypatch: pytest.MonkeyPatch, github: GitHubServer | None
) -> Bot:
    write_config(root)
    monkeypatch.setattr(github_client, "WRITE_INTERVAL", 0.0)
    monkeypatch.setenv("TRACKER_ARXIV_RSS_URL", arxiv.rss_url)
    monkeypatch.setenv("TRACKER_ARXIV_API_URL", arxiv.api_url)
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    if github is not None:
        monkeypatch.setenv("GITHUB_API_URL", github.api_url)
        monkeypatch.setenv("GITHUB_REPOSITORY", github.full_name)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    classifier = e2e_classifier()
    monkeypatch.setattr(bot_cli, "load_classifier", lambda config: classifier)
    return Bot(root, arxiv, classifier, github)


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    """The catalog repository on a loopback GitHub (on the real clock, as `tracker run` is)."""
    with GitHubServer(files=catalog_files(), token=TOKEN) as server:
        yield server


@pytest.fixture
def bot(
    seeded: Path, arxiv: ArxivServer, github: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> Bot:
    """`tracker run` publishing to the loopback GitHub."""
    return _bot(seeded, arxiv, monkeypatch, github)


@pytest.fixture
def local_bot(seeded: Path, arxiv: ArxivServer, monkeypatch: pytest.MonkeyPatch) -> Bot:
    """`tracker run` without a token: a dry run on the scratch checkout."""
    return _bot(seeded, arxiv, monkeypatch, None)


# --- the pipeline in-process, on a fake clock ----------------------------------------------------


@dataclass
class Harness:
    """One repository on the loopback GitHub server and the pipeline pointed at it, with the
    real sources reading `arxiv` and the GitHub client on a fake clock (rate-limit waits)."""

    server: GitHubServer
    clock: FakeClock
    config: Config
    arxiv: ArxivServer

    def client(self) -> GitHubClient:
        return GitHubClient.connect(
            self.config.bot,
            self.config.github_token,
            http=HttpClient.from_config(self.config.http),
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
        classifier: Classifier | None = None,
        *,
        dry_run: bool = False,
    ) -> RunReport:
        self.arxiv.serve(stream_papers() if papers is None else papers, today)
        sources = build_sources(self.config, today=lambda: today)
        return run(
            self.config,
            fetch=source_fetch(self.config, sources),
            classifier=classifier or e2e_classifier(),
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
def harness(gh: GitHubServer, clock: FakeClock, arxiv: ArxivServer, tmp_path: Path) -> Harness:
    bot = BotConfig(repository=gh.full_name, api_url=gh.api_url)
    config = Config(
        catalog_dir=tmp_path / "catalog",
        bot=bot,
        github_token=Secret(TOKEN),
        http=HttpConfig(timeout=5, delay=0, retries=2, backoff=0),
        arxiv=replace(ArxivConfig(), api_url=arxiv.api_url, rss_url=arxiv.rss_url),
    )
    return Harness(gh, clock, config, arxiv)

"""fetch_all: merging across sources, dropping known papers, failure isolation, and building
sources from the configuration."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from tests.servers import LoopbackServer, Reply
from tests.servers.arxiv import ArxivApi, listing_rss
from tests.sources.conftest import MakeHttp, fixture_bytes
from tracker.catalog.known import Known
from tracker.config import Config, FeedConfig, load_config
from tracker.errors import ConfigError, InputError
from tracker.paper import Paper
from tracker.sources import Status, build_sources, fetch_all, merge_papers
from tracker.sources.arxiv_api import ArxivApiSource
from tracker.sources.arxiv_listing import ArxivListingSource
from tracker.sources.base import Progress, Source, SourceResult, no_progress
from tracker.sources.feeds import FeedSource
from tracker.sources.fetch import merge_pair

SINCE, UNTIL = dt.date(2026, 1, 14), dt.date(2026, 1, 19)


def _sources(server: LoopbackServer, make_http: MakeHttp) -> list[Source]:
    http = make_http()
    server.route("/api/query", Reply(body=fixture_bytes("arxiv_api_page.xml")))
    server.route("/rss/cs.CR+cs.LG", Reply(body=fixture_bytes("arxiv_listing.rss")))
    server.route("/usenix.xml", Reply(body=fixture_bytes("conference_rss20.xml")))
    return [
        ArxivApiSource(http, server.url("/api/query"), ["cs.CR", "cs.LG"], ["backdoor"]),
        ArxivListingSource(http, server.url("/rss"), ["cs.CR", "cs.LG"]),
        FeedSource(http, FeedConfig("usenix-sec-26", server.url("/usenix.xml"), "USENIX", 2026)),
    ]


def test_the_same_paper_from_api_listing_and_conference_feed_becomes_one_record(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    report = fetch_all(_sources(server, make_http), SINCE, UNTIL)
    lora = [p for p in report.papers if p.title == "LoRA as Oracle"]
    assert len(lora) == 1
    (paper,) = lora
    assert (paper.arxiv_id, paper.arxiv_version) == ("2601.11207", 2)  # the latest version
    assert (paper.venue, paper.year) == ("USENIX", 2026)
    assert paper.submitted == dt.date(2026, 1, 16)  # from the API
    assert paper.announced == dt.date(2026, 1, 19)  # from the listing
    assert paper.comment == "Accepted at USENIX Security 2026; 18 pages, 7 figures"
    assert paper.links == {
        "abs": "https://arxiv.org/abs/2601.11207",
        "pdf": "https://arxiv.org/pdf/2601.11207",
        "code": "https://github.com/arazzi/lora-oracle",
        "venue": "https://www.usenix.org/conference/usenixsecurity26/presentation/arazzi",
    }
    assert paper.source == "arxiv-api+arxiv-listing+usenix-sec-26"


def test_counts_per_source_add_up_after_merging(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    report = fetch_all(_sources(server, make_http), SINCE, UNTIL)
    by_name = {s.name: s for s in report.sources}
    assert [s.status for s in report.sources] == [Status.OK, Status.OK, Status.OK]
    assert (by_name["arxiv-api"].fetched, by_name["arxiv-listing"].fetched) == (3, 3)
    assert by_name["usenix-sec-26"].fetched == 2  # the Dec 2025 entry is before the window
    # 3 API + 3 listing + 2 feed records; LoRA is in all three (two duplicates), no other overlap.
    assert report.merged == len(report.papers) == 3 + 3 + 2 - 2
    assert by_name["arxiv-listing"].new == 3
    assert report.outcome == "ok"


def test_papers_already_known_are_dropped(server: LoopbackServer, make_http: MakeHttp) -> None:
    catalogued = Paper(
        title="Backdoor attacks on multi-modal contrastive learning", venue="arXiv", year=2026
    )
    by_id = Paper(title="Something else entirely", arxiv_id="2601.11210")
    known = Known(catalog=[catalogued, by_id])
    report = fetch_all(_sources(server, make_http), SINCE, UNTIL, known)
    titles = {p.title for p in report.papers}
    assert "Backdoor Attacks on Multi-modal Contrastive Learning" not in titles
    assert not any(p.arxiv_id == "2601.11210" for p in report.papers)
    assert report.known == 2
    assert len(report.papers) == report.merged - 2
    assert report.known_by == {"catalog": 2}


def test_one_failing_source_never_stops_the_others(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    sources = _sources(server, make_http)
    server.route(
        "/usenix.xml", Reply(body=fixture_bytes("not_a_feed.html"), content_type="text/html")
    )
    server.route("/api/query", Reply(503))
    report = fetch_all(sources, SINCE, UNTIL)
    status = {s.name: s.status for s in report.sources}
    assert status == {
        "arxiv-api": Status.FAILED,
        "arxiv-listing": Status.OK,
        "usenix-sec-26": Status.FAILED,
    }
    assert report.outcome == "partial"
    assert len(report.papers) == 3  # the listing's papers are used
    api = report.sources[0]
    assert api.errors == 1 and api.fetched == 0
    assert api.error and "failed after 4 attempt(s): HTTP 503" in api.error
    assert report.sources[2].messages[0].startswith("error: ")
    assert "is not a feed" in report.sources[2].messages[0]


class _Broken(Source):
    name = "broken"

    def fetch(
        self, since: dt.date, until: dt.date, progress: Progress = no_progress
    ) -> SourceResult:
        raise KeyError("title")


class _Fixed(Source):
    def __init__(self, name: str, *papers: Paper, warnings: tuple[str, ...] = ()) -> None:
        self.name = name
        self.result = SourceResult(papers, warnings)

    def fetch(
        self, since: dt.date, until: dt.date, progress: Progress = no_progress
    ) -> SourceResult:
        progress(len(self.result.papers), len(self.result.papers), "")
        return self.result


def test_a_bug_in_one_source_is_reported_as_its_failure() -> None:
    report = fetch_all([_Broken(), _Fixed("ok", Paper(title="A paper"))], SINCE, UNTIL)
    broken, ok = report.sources
    assert broken.status is Status.FAILED and broken.error == "unexpected KeyError: 'title'"
    assert ok.status is Status.OK and ok.new == 1


def test_every_source_failing_is_a_failed_fetch() -> None:
    report = fetch_all([_Broken()], SINCE, UNTIL)
    assert report.outcome == "failed" and report.papers == ()


def test_a_source_with_warnings_is_marked_warning_and_still_used() -> None:
    report = fetch_all([_Fixed("x", Paper(title="A paper"), warnings=("looks odd",))], SINCE, UNTIL)
    (source,) = report.sources
    assert source.status is Status.WARNING and source.messages == ("warning: looks odd",)
    assert report.outcome == "ok" and len(report.papers) == 1


def test_progress_is_reported_per_source() -> None:
    events: list[tuple[str, int, int | None, str]] = []
    fetch_all(
        [_Fixed("a", Paper(title="A")), _Broken()],
        SINCE,
        UNTIL,
        progress=lambda *e: events.append(e),
    )
    assert events == [
        ("a", 0, None, "starting"),
        ("a", 1, 1, ""),
        ("a", 1, 1, "done"),
        ("broken", 0, None, "starting"),
        ("broken", 0, 0, "failed"),
    ]


def test_a_window_that_ends_before_it_starts_is_an_input_error() -> None:
    with pytest.raises(InputError, match="starts"):
        fetch_all([], UNTIL, SINCE)


def test_merging_prefers_the_richer_record_and_fills_gaps_from_the_other() -> None:
    thin = Paper(
        title="Trojan Tokenizers",
        venue="SMR Workshop",
        year=2026,
        links={"abs": "https://smr.example.org/2"},
        source="smr",
    )
    rich = Paper(
        title="Trojan tokenizers",
        abstract="A tokenizer hides the trigger.",
        authors=("Ada Lovelace",),
        arxiv_id="2601.00002",
        arxiv_version=1,
        venue="arXiv",
        year=2026,
        categories=("cs.CR",),
        links={"abs": "https://arxiv.org/abs/2601.00002"},
        source="arxiv-listing",
    )
    merged = merge_pair(thin, rich)
    assert (merged.title, merged.abstract, merged.authors) == (
        rich.title,
        rich.abstract,
        rich.authors,
    )
    assert (merged.venue, merged.year) == ("SMR Workshop", 2026)
    assert merged.links == {
        "abs": "https://arxiv.org/abs/2601.00002",
        "venue": "https://smr.example.org/2",
    }
    assert merged.source == "smr+arxiv-listing"
    assert merge_pair(rich, thin) == dataclasses.replace(merged, source="arxiv-listing+smr")


def test_merge_papers_never_merges_two_different_arxiv_ids() -> None:
    a = Paper(title="Same Title", arxiv_id="2601.00001")
    b = Paper(title="Same Title", arxiv_id="2601.00002")
    assert merge_papers([a, b]) == [a, b]


# --- building sources from the configuration ---------------------------------------------------


def test_sources_are_built_from_the_configuration_and_its_environment_overrides(
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "tracker.yaml"
    cfg.write_text(
        "arxiv:\n  categories: [cs.CR]\nfeeds:\n"
        "  - {name: ccs-26, url: 'https://example.org/ccs.atom', venue: CCS, year: 2026}\n",
        "utf-8",
    )
    config = load_config(
        cfg,
        env={
            "TRACKER_ARXIV_API_URL": "http://127.0.0.1:9/api/query",
            "TRACKER_ARXIV_RSS_URL": "http://127.0.0.1:9/rss",
        },
    )
    api, listing, feed = build_sources(config)
    assert isinstance(api, ArxivApiSource) and api.api_url == "http://127.0.0.1:9/api/query"
    assert isinstance(listing, ArxivListingSource) and listing.url == "http://127.0.0.1:9/rss/cs.CR"
    assert isinstance(feed, FeedSource) and feed.name == "ccs-26" and feed.feed.year == 2026
    assert api.http is listing.http is feed.http  # one client: one delay budget per host
    assert [s.name for s in build_sources(config, only=["ccs-26"])] == ["ccs-26"]


def test_an_unknown_source_name_is_an_input_error_listing_the_configured_ones() -> None:
    with pytest.raises(InputError, match="unknown source 'nope'") as caught:
        build_sources(Config(), only=["nope"])
    assert caught.value.hint == "configured sources: arxiv-api, arxiv-listing"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"http": {"user_agent": "tracker/0.1"}}, "must carry a contact address"),
        ({"arxiv": {"categories": []}}, "arxiv.categories is empty"),
        ({"arxiv": {"api_url": "ftp://example.org/api"}}, "arxiv.api_url is not an http(s) URL"),
        (
            {"feeds": [FeedConfig("arxiv-api", "https://e.org/f", "CCS")]},
            "is empty or already used",
        ),
        (
            {
                "feeds": [
                    FeedConfig("a", "https://e.org/f", "CCS"),
                    FeedConfig("a", "https://e.org/g", "NDSS"),
                ]
            },
            "feeds[1].name 'a' is empty or already used",
        ),
        ({"arxiv": {"search": False, "listing": False}}, "no sources are configured"),
    ],
)
def test_an_unusable_configuration_is_a_config_error(change: dict, message: str) -> None:
    config = Config()
    for section, value in change.items():
        if isinstance(value, dict):
            value = dataclasses.replace(getattr(config, section), **value)
        config = dataclasses.replace(config, **{section: value})
    with pytest.raises(ConfigError) as caught:
        build_sources(config)
    assert message in str(caught.value)


def test_a_listing_rendered_from_records_round_trips() -> None:
    # The loopback renderer and the parser agree, so the benchmark measures the real parser.
    from tracker.sources.arxiv_listing import parse_listing

    paper = Paper(
        title="A & B <c>",
        abstract="Bounds for $x<y$ and $a > b$ & more",
        authors=("Ada Lovelace", "Alan Turing"),
        arxiv_id="2601.00001",
        arxiv_version=1,
        categories=("cs.CR", "cs.AI"),
        announced=dt.date(2026, 1, 16),
    )
    (parsed,) = parse_listing(listing_rss([paper], dt.date(2026, 1, 16)), "http://x/rss").papers
    assert (parsed.title, parsed.abstract, parsed.authors) == (
        paper.title,
        paper.abstract,
        paper.authors,
    )
    assert (parsed.categories, parsed.announced) == (paper.categories, paper.announced)
    assert ArxivApi([paper]).papers == [paper]


def test_the_feed_example_in_readme_is_a_valid_configuration(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    example = text.split("```yaml\nfeeds:\n", 1)[1].split("```", 1)[0]
    cfg = tmp_path / "tracker.yaml"
    cfg.write_text("feeds:\n" + example, "utf-8")
    (feed,) = load_config(cfg, env={}).feeds
    assert (feed.name, feed.venue, feed.year) == ("usenix-security-26", "USENIX", 2026)
    assert [s.name for s in build_sources(load_config(cfg, env={}))][-1] == "usenix-security-26"

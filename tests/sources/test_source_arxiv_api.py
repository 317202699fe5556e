"""The arXiv API source: paging, id lookups, 429/503, the empty-page anomaly, record fields."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.servers import LoopbackServer, Reply
from tests.servers.arxiv import ArxivApi
from tests.sources.conftest import USER_AGENT, FakeClock, MakeHttp, fixture_bytes
from tracker.http import HttpClient, HttpError
from tracker.paper import Paper
from tracker.sources.arxiv_api import ArxivApiSource

MON, THU = dt.date(2026, 1, 12), dt.date(2026, 1, 15)
SAT, SUN = dt.date(2026, 1, 17), dt.date(2026, 1, 18)


def _papers(n: int) -> list[Paper]:
    return [
        Paper(
            title=f"Backdoor number {i} in pre-trained encoders",
            abstract=f"Abstract {i}.",
            authors=("Ada Lovelace", "Alan Turing"),
            arxiv_id=f"2601.{20000 + i}",
            arxiv_version=1,
            categories=("cs.CR", "cs.LG"),
            submitted=dt.date(2026, 1, 14),
        )
        for i in range(n)
    ]


def _source(
    server: LoopbackServer,
    make_http: MakeHttp,
    http: HttpClient | None = None,
    **settings: int,
) -> ArxivApiSource:
    return ArxivApiSource(
        http or make_http(),
        server.url("/api/query"),
        ["cs.CR", "cs.LG"],
        ["backdoor", "pre-trained model"],
        **settings,
    )


def test_search_pages_through_every_result(server: LoopbackServer, make_http: MakeHttp) -> None:
    api = ArxivApi(_papers(250))
    server.route("/api/query", api)
    seen: list[tuple[int, int | None]] = []
    result = _source(server, make_http).fetch(MON, THU, lambda d, t, n="": seen.append((d, t)))
    assert len(result.papers) == 250
    assert [q["start"] for q in api.queries] == ["0", "100", "200"]
    assert {q["max_results"] for q in api.queries} == {"100"}
    assert result.warnings == ()
    assert seen[-1] == (250, 250)


def test_the_search_asks_for_categories_terms_and_the_submitted_window(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    api = ArxivApi(_papers(1))
    server.route("/api/query", api)
    _source(server, make_http).fetch(MON, THU)
    assert api.queries[0]["search_query"] == (
        '(cat:cs.CR OR cat:cs.LG) AND (all:"backdoor" OR all:"pre-trained model") '
        "AND submittedDate:[202601120000 TO 202601152359]"
    )
    assert server.requests[0].param("sortBy") == "submittedDate"


def test_every_api_request_goes_through_the_http_policy(
    server: LoopbackServer, make_http: MakeHttp, clock: FakeClock
) -> None:
    server.route("/api/query", ArxivApi(_papers(250)))
    _source(server, make_http, http=make_http(delay=3.0)).fetch(MON, THU)
    assert {r.headers["User-Agent"] for r in server.requests} == {USER_AGENT}
    assert clock.sleeps == [3.0, 3.0]  # the policy's delay between the three pages


def test_an_api_page_answered_503_is_retried_with_our_user_agent(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route("/api/query", Reply(503), ArxivApi(_papers(3)))
    assert len(_source(server, make_http).fetch(MON, THU).papers) == 3
    assert [r.headers["User-Agent"] for r in server.requests] == [USER_AGENT, USER_AGENT]


def test_api_results_become_papers_with_versions_venue_hints_dois_and_code_links(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route("/api/query", Reply(body=fixture_bytes("arxiv_api_page.xml")))
    papers = {p.arxiv_id: p for p in _source(server, make_http).fetch(MON, THU).papers}
    assert list(papers) == ["2601.11207", "2601.11210", "2601.11113"]
    lora = papers["2601.11207"]
    assert lora.arxiv_version == 2
    assert lora.title == "LoRA as Oracle"
    assert lora.abstract.startswith("Low-rank adapters are shared on model hubs and merged")
    assert lora.authors == ("Marco Arazzi", "Antonino Nocera")
    assert lora.categories == ("cs.CR", "cs.AI")
    assert (lora.venue, lora.year) == ("USENIX", 2026)
    assert lora.comment == "Accepted at USENIX Security 2026; 18 pages, 7 figures"
    assert lora.submitted == dt.date(2026, 1, 16)
    assert lora.source == "arxiv-api"
    assert dict(lora.links) == {
        "abs": "https://arxiv.org/abs/2601.11207",
        "pdf": "https://arxiv.org/pdf/2601.11207",
        "code": "https://github.com/arazzi/lora-oracle",
    }
    vid = papers["2601.11210"]
    assert vid.title == "VidLeaks: Membership Inference Attacks Against Text-to-Video Models"
    assert vid.doi == "10.1145/3719027.3744801"
    assert (vid.venue, vid.year) == ("CCS", 2025)  # from the journal reference
    dp = papers["2601.11113"]
    assert (dp.venue, dp.year) == ("arXiv", 2026)  # "Submitted to ICML 2026" is no venue
    assert dp.categories[0] == "cs.LG"
    assert dp.links["model"] == "https://huggingface.co/dpsft/llama-dp-subspace"


def test_lookups_by_id_go_in_batches_and_report_missing_ids(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    api = ArxivApi(_papers(10))
    server.route("/api/query", api)
    ids = [
        "2601.20000",
        "2601.20001v1",
        "arXiv:2601.20002",
        "2601.20003",
        "2601.20004",
        "https://arxiv.org/abs/2601.20005v2",
        "2601.99999",
        "not an id",
    ]
    result = _source(server, make_http, id_batch_size=3).lookup(ids)
    # The last batch finds nothing, so it is asked once more before its id is reported.
    assert [len(q["id_list"].split(",")) for q in api.queries] == [3, 3, 1, 1]
    assert api.queries[0]["id_list"] == "2601.20000,2601.20001v1,2601.20002"
    assert sorted(p.arxiv_id or "" for p in result.papers) == [f"2601.2000{i}" for i in range(6)]
    assert result.warnings == ("not an arXiv id: 'not an id'", "not found on arXiv: 2601.99999")


def test_a_429_followed_by_success_delivers_every_paper(
    server: LoopbackServer, make_http: MakeHttp, clock: FakeClock
) -> None:
    api = ArxivApi(_papers(120))
    server.route("/api/query", Reply(429, headers={"Retry-After": "5"}), api)
    result = _source(server, make_http).fetch(MON, THU)
    assert len(result.papers) == 120
    assert clock.sleeps == [5.0]
    assert len(server.requests) == 3  # the 429, then two pages


def test_a_503_storm_fails_the_search_with_a_clear_error(
    server: LoopbackServer, make_http: MakeHttp, clock: FakeClock
) -> None:
    server.route("/api/query", Reply(503, b"Service Unavailable", "text/plain"))
    with pytest.raises(
        HttpError, match=r"/api/query\?search_query=.* failed after 4 attempt\(s\): HTTP 503"
    ):
        _source(server, make_http).fetch(MON, THU)
    assert len(server.requests) == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_an_empty_page_in_the_middle_is_retried_and_the_search_completes(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    api = ArxivApi(_papers(250), empty_pages={100: 2})
    server.route("/api/query", api)
    result = _source(server, make_http).fetch(MON, THU)
    assert len(result.papers) == 250
    assert [q["start"] for q in api.queries] == ["0", "100", "100", "100", "200"]


def test_an_empty_page_that_stays_empty_is_an_error_not_no_new_papers(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route("/api/query", ArxivApi(_papers(250), empty_pages={100: 99}))
    with pytest.raises(HttpError, match="empty page at start=100 although results were expected"):
        _source(server, make_http).fetch(MON, THU)


def test_an_empty_first_page_with_results_reported_is_retried(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    api = ArxivApi(_papers(30), empty_pages={0: 1})
    server.route("/api/query", api)
    assert len(_source(server, make_http).fetch(MON, THU).papers) == 30
    assert len(api.queries) == 2


def test_a_search_that_finds_nothing_on_weekdays_is_asked_again_then_warned(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    api = ArxivApi([])
    server.route("/api/query", api)
    result = _source(server, make_http).fetch(MON, THU)
    assert result.papers == ()
    assert len(api.queries) == 2
    (warning,) = result.warnings
    assert "found nothing submitted 2026-01-12..2026-01-15 in 2 tries" in warning
    assert "not taken as 'no new papers'" in warning


def test_a_search_that_finds_nothing_over_a_weekend_is_fine(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    api = ArxivApi([])
    server.route("/api/query", api)
    result = _source(server, make_http).fetch(SAT, SUN)
    assert (result.papers, result.warnings, len(api.queries)) == ((), (), 1)


def test_more_results_than_the_guard_are_cut_with_a_warning(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route("/api/query", ArxivApi(_papers(250)))
    result = _source(server, make_http, page_size=50, max_results=100).fetch(MON, THU)
    assert len(result.papers) == 100
    assert result.warnings == (
        "the search has 250 results; only the first 100 were taken (shorten the window)",
    )


def test_an_html_error_page_instead_of_the_api_feed_is_retried_then_an_error(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route(
        "/api/query",
        Reply(body=b"<html><body>Rate exceeded.</body></html>", content_type="text/html"),
    )
    with pytest.raises(HttpError, match="the answer is not an arXiv API Atom feed"):
        _source(server, make_http, http=make_http(retries=1)).fetch(MON, THU)
    assert len(server.requests) == 2


def test_a_truncated_api_page_is_retried(server: LoopbackServer, make_http: MakeHttp) -> None:
    whole = fixture_bytes("arxiv_api_page.xml")
    server.route("/api/query", Reply(body=whole[: len(whole) // 2]), Reply(body=whole))
    assert len(_source(server, make_http).fetch(MON, THU).papers) == 3

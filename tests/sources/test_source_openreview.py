"""Source `openreview`: OpenReview's API v2 over a loopback server speaking its JSON."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.servers import LoopbackServer, Reply
from tests.servers.openreview import OpenReviewApi, openreview_note, rate_limited
from tests.sources.conftest import FakeClock, MakeHttp
from tracker.errors import SourceError
from tracker.paper import Paper
from tracker.sources.openreview import OpenReviewSource, OpenReviewVenue

ICLR = OpenReviewVenue("ICLR.cc/{year}/Conference", "ICLR")
TMLR = OpenReviewVenue("TMLR", "TMLR")
DECISIONS = dt.date(2026, 1, 26)


def paper(n: int) -> Paper:
    return Paper(
        title=f"Backdoors that survive fine-tuning, part {n}",
        abstract=f"We study backdoors {n}. Code: https://github.com/example/backdoor-{n}",
        authors=("Ada Lovelace", f"Author {n}"),
    )


def iclr(n: int, published: dt.date = DECISIONS, **kwargs: object) -> dict[str, object]:
    return openreview_note(
        paper(n),
        venueid="ICLR.cc/2026/Conference",
        venue="ICLR 2026 Poster",
        published=published,
        number=n,
        **kwargs,  # type: ignore[arg-type]
    )


def source(
    server: LoopbackServer,
    make_http: MakeHttp,
    *venues: OpenReviewVenue,
    max_bytes: int = 1_000_000,
) -> OpenReviewSource:
    return OpenReviewSource(make_http(max_bytes=max_bytes), server.url(""), venues or (ICLR,))


def test_accepted_papers_published_in_the_window_come_with_abstracts(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    api = OpenReviewApi([iclr(1), iclr(2, dt.date(2026, 1, 2))])
    server.route("/notes", api)
    result = source(server, make_http).fetch(DECISIONS, DECISIONS)
    (got,) = result.papers
    assert got.title == "Backdoors that survive fine-tuning, part 1"
    assert got.abstract.startswith("We study backdoors 1.")
    assert got.authors == ("Ada Lovelace", "Author 1")
    assert (got.venue, got.year) == ("ICLR", 2026)
    assert got.link("abs") == f"https://openreview.net/forum?id={iclr(1)['forum']}"
    assert got.link("pdf").startswith("https://openreview.net/pdf/")
    assert got.link("code") == "https://github.com/example/backdoor-1"
    assert got.announced == DECISIONS and got.source == "openreview"
    (params,) = api.requests
    assert params["content.venueid"] == "ICLR.cc/2026/Conference"
    assert params["sort"] == "tmdate:desc" and params["limit"] == "1000"


def test_year_templates_cover_each_year_of_the_window_and_fixed_ids_once(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    api = OpenReviewApi([])
    server.route("/notes", api)
    source(server, make_http, ICLR, TMLR).fetch(dt.date(2025, 12, 30), dt.date(2026, 1, 2))
    assert [r["content.venueid"] for r in api.requests] == [
        "ICLR.cc/2025/Conference",
        "ICLR.cc/2026/Conference",
        "TMLR",
    ]


def test_paging_stops_at_notes_modified_before_the_window(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    old = [iclr(n, dt.date(2025, 6, 1)) for n in range(1, 1500)]
    new = [iclr(n, DECISIONS) for n in range(1500, 2700)]
    api = OpenReviewApi(old + new)
    server.route("/notes", api)
    result = source(server, make_http, max_bytes=5_000_000).fetch(DECISIONS, DECISIONS)
    assert len(result.papers) == 1200
    # Newest first: the second page already reaches notes older than the window.
    assert [r["offset"] for r in api.requests] == ["0", "1000"]


def test_rejected_and_untitled_notes_are_not_papers(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    rejected = iclr(1)
    rejected["content"]["venue"]["value"] = "Submitted to ICLR 2026"  # type: ignore[index]
    untitled = iclr(2)
    del untitled["content"]["title"]  # type: ignore[attr-defined]
    server.route("/notes", OpenReviewApi([rejected, untitled, iclr(3)]))
    result = source(server, make_http).fetch(DECISIONS, DECISIONS)
    assert [p.title for p in result.papers] == ["Backdoors that survive fine-tuning, part 3"]
    assert result.errors == 1


def test_empty_venue_is_an_empty_result(server: LoopbackServer, make_http: MakeHttp) -> None:
    server.route("/notes", Reply(200, b'{"notes": [], "count": 0}', "application/json"))
    result = source(server, make_http).fetch(DECISIONS, DECISIONS)
    assert result.papers == () and result.warnings == ()


def test_rate_limit_is_waited_out(
    server: LoopbackServer, make_http: MakeHttp, clock: FakeClock
) -> None:
    server.route("/notes", rate_limited(4), OpenReviewApi([iclr(1)]))
    result = source(server, make_http).fetch(DECISIONS, DECISIONS)
    assert len(result.papers) == 1
    assert clock.sleeps == [4.0]


def test_rate_limit_asking_for_an_hour_fails_the_source(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route("/notes", rate_limited(3600))
    with pytest.raises(SourceError, match="asks to wait longer"):
        source(server, make_http).fetch(DECISIONS, DECISIONS)


def test_500_and_malformed_json_are_retried(server: LoopbackServer, make_http: MakeHttp) -> None:
    good = json.dumps({"notes": [iclr(1)], "count": 1}).encode()
    server.route(
        "/notes",
        Reply(500, b'{"name":"Error","message":"Internal","status":500}', "application/json"),
        Reply(200, good[:50], "application/json"),
        Reply(200, good, "application/json"),
    )
    result = source(server, make_http).fetch(DECISIONS, DECISIONS)
    assert len(result.papers) == 1
    assert len(server.requests_to("/notes")) == 3


def test_answers_that_stay_broken_fail_the_source(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route("/notes", Reply(200, b'{"error": "nope"}', "application/json"))
    with pytest.raises(SourceError, match="no list of notes"):
        source(server, make_http).fetch(DECISIONS, DECISIONS)


def test_a_huge_answer_is_refused(server: LoopbackServer, make_http: MakeHttp) -> None:
    big = paper(1).replace(abstract="x" * 2_000_000)
    note = openreview_note(big, venueid="TMLR", venue="Accepted by TMLR", published=DECISIONS)
    server.route("/notes", OpenReviewApi([note]))
    with pytest.raises(SourceError, match="larger than the limit"):
        source(server, make_http, TMLR).fetch(DECISIONS, DECISIONS)

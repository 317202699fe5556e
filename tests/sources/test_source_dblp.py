"""Source `dblp`: dblp's publication search API over a loopback server speaking its JSON."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.servers import LoopbackServer, Reply
from tests.servers.dblp import JOURNAL, TOO_MANY, DblpApi, DblpRecord, dblp_record, search_json
from tests.sources.conftest import FakeClock, MakeHttp, fixture_bytes
from tracker.catalog.volumes import Volume, VolumesRead
from tracker.errors import SourceError
from tracker.paper import Paper
from tracker.sources.dblp import DblpSource, DblpStream, stream_of

PATH = "/search/publ/api"
USS = DblpStream("conf/uss", "USENIX")
DAY = dt.date(2026, 9, 1)


def source(server: LoopbackServer, make_http: MakeHttp, **kwargs: object) -> DblpSource:
    return DblpSource(make_http(), server.url(PATH), [USS], **kwargs)  # type: ignore[arg-type]


def paper(n: int, **fields: object) -> Paper:
    base: dict[str, object] = {
        "title": f"Paper number {n} on model reuse",
        "authors": (f"Author {n}", "Shared Person"),
        "doi": f"10.5555/3766078.{n}",
        "year": 2026,
    }
    base.update(fields)
    return Paper(**base)  # type: ignore[arg-type]


def uss(n: int, year: int = 2026, **fields: object) -> DblpRecord:
    return dblp_record(
        paper(n, year=year, **fields),
        key=f"conf/uss/P{n}",
        stream="conf/uss",
        venue="USENIX Security Symposium",
        year=year,
    )


def test_quirks_of_the_json_are_read_as_dblp_means_them(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route(PATH, Reply(200, fixture_bytes("dblp_search.json"), "application/json"))
    result = source(server, make_http, from_year=2026).fetch(DAY, DAY)
    titles = [p.title for p in result.papers]
    # The period dblp adds is gone, entities are decoded, a question mark stays, and the
    # proceedings' front matter (type Editorship) is no paper.
    assert titles == [
        "Don't Trust the Hub: Backdoors in Model Merging & Reuse",
        "Is Quantization Safe? Trojans in Low-Bit Models?",
        "Fingerprinting Fine-Tuned Models Without Access to Weights",
    ]
    single, listed, numbered = result.papers
    assert single.authors == ("Hongbin Liu",)  # one author is an object, not a list
    assert listed.authors == ("Jinyuan Jia", "Yupei Liu", "Neil Zhenqiang Gong")
    assert numbered.authors == ("Wei Wang", "Xiaoyu Cao")  # "Wei Wang 0001": dblp's homonym number
    assert {p.venue for p in result.papers} == {"USENIX"}  # the catalog's name for the stream
    assert {p.year for p in result.papers} == {2026}  # "2026", a string in the JSON
    assert listed.doi == "10.5555/3766078.3766101"
    assert listed.link("abs") == "https://doi.org/10.5555/3766078.3766101"  # ee as a list
    assert (
        single.link("abs") == "https://www.usenix.org/conference/usenixsecurity26/presentation/liu"
    )
    assert single.link("dblp") == "https://dblp.org/rec/conf/uss/Liu26"
    assert stream_of(single) == "conf/uss"
    assert {p.source for p in result.papers} == {"dblp"}
    assert all(p.abstract == "" for p in result.papers)
    assert result.volumes == (Volume("dblp", "conf/uss", "USENIX Security Symposium 2026", 3),)


def test_asks_stream_queries_for_the_window_years_and_the_year_before(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    api = DblpApi([uss(1, 2026), uss(2, 2025), uss(3, 2024)])
    server.route(PATH, api)
    result = source(server, make_http).fetch(DAY, DAY)
    assert api.queries == [
        "stream:streams/conf/uss: year:2026:",
        "stream:streams/conf/uss: year:2025:",
    ]
    assert sorted(p.title for p in result.papers) == [
        "Paper number 1 on model reuse",
        "Paper number 2 on model reuse",
    ]
    request = server.requests_to(PATH)[0]
    assert request.param("format") == "json"
    assert request.param("h") == "1000"
    assert "mailto:" in request.headers["User-Agent"]


def test_from_year_keeps_older_volumes_unread(server: LoopbackServer, make_http: MakeHttp) -> None:
    api = DblpApi([uss(1, 2026), uss(2, 2025)])
    server.route(PATH, api)
    result = source(server, make_http, from_year=2026).fetch(DAY, DAY)
    assert api.queries == ["stream:streams/conf/uss: year:2026:"]
    assert [p.title for p in result.papers] == ["Paper number 1 on model reuse"]


def test_pages_through_every_hit(server: LoopbackServer, make_http: MakeHttp) -> None:
    api = DblpApi([uss(n) for n in range(2503)])
    server.route(PATH, api)
    result = source(server, make_http, from_year=2026).fetch(DAY, DAY)
    assert len(result.papers) == 2503
    assert [r.param("f") for r in server.requests_to(PATH)] == ["0", "1000", "2000"]


def test_a_server_sending_fewer_hits_than_asked_is_paged_by_what_it_sent(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    records = [uss(n) for n in range(250)]

    def hundred_at_a_time(request):  # type: ignore[no-untyped-def]
        first = int(request.param("f", "0"))
        page = [r.info for r in records[first : first + 100]]
        return Reply(200, search_json(page, query="q", total=250, first=first))

    server.route(PATH, hundred_at_a_time)
    result = source(server, make_http, from_year=2026).fetch(DAY, DAY)
    assert len(result.papers) == 250
    assert [r.param("f") for r in server.requests_to(PATH)] == ["0", "100", "200"]


def test_nothing_published_is_an_empty_result_not_an_error(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    body = search_json([], query="q", total=0, first=0)
    assert b'"hit"' not in body  # dblp leaves `hit` out when nothing matched
    server.route(PATH, Reply(200, body, "application/json"))
    result = source(server, make_http).fetch(DAY, DAY)
    assert result.papers == () and result.volumes == () and result.warnings == ()


def test_volumes_already_read_are_skipped_and_grown_ones_read_again(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    tifs = DblpStream("journals/tifs", "IEEE Transactions on Information Forensics and Security")
    records = [uss(1), uss(2)] + [
        dblp_record(
            paper(10 + n),
            key=f"journals/tifs/P{n}",
            stream="journals/tifs",
            venue="IEEE Trans. Inf. Forensics Secur.",
            kind=JOURNAL,
            volume="21",
        )
        for n in range(3)
    ]
    server.route(PATH, DblpApi(records))
    read = VolumesRead(
        [
            Volume("dblp", "conf/uss", "USENIX Security Symposium 2026", 2),
            Volume("dblp", "journals/tifs", "IEEE Trans. Inf. Forensics Secur. 21 2026", 2),
        ]
    )
    http = make_http()
    result = DblpSource(http, server.url(PATH), [USS, tifs], read=read, from_year=2026).fetch(
        DAY, DAY
    )
    # The proceedings were read with both records; the journal volume has grown from 2 to 3.
    assert {p.venue for p in result.papers} == {tifs.venue}
    assert len(result.papers) == 3
    assert result.volumes == (
        Volume("dblp", "journals/tifs", "IEEE Trans. Inf. Forensics Secur. 21 2026", 3),
    )
    assert any("already read" in n for n in result.notes)


def test_429_is_waited_out_for_its_retry_after(
    server: LoopbackServer, make_http: MakeHttp, clock: FakeClock
) -> None:
    server.route(
        PATH,
        Reply(429, TOO_MANY, "text/html", headers={"Retry-After": "7"}),
        DblpApi([uss(1)]),
    )
    result = source(server, make_http, from_year=2026).fetch(DAY, DAY)
    assert len(result.papers) == 1
    assert clock.sleeps == [7.0]


def test_500_is_retried_then_fails_the_source_with_the_url(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route(PATH, Reply(500, b"Internal Server Error", "text/plain"))
    with pytest.raises(SourceError, match=r"HTTP 500.*") as err:
        source(server, make_http, from_year=2026).fetch(DAY, DAY)
    assert "search/publ/api" in str(err.value)
    assert len(server.requests_to(PATH)) == 4  # one try and three retries


def test_malformed_json_is_retried_then_fails(server: LoopbackServer, make_http: MakeHttp) -> None:
    good = search_json([uss(1).info], query="q", total=1, first=0)
    server.route(PATH, Reply(200, good[:-40], "application/json"), DblpApi([uss(1)]))
    result = source(server, make_http, from_year=2026).fetch(DAY, DAY)
    assert len(result.papers) == 1  # the retry got a whole answer
    server.route(PATH, Reply(200, b'{"result": {"status": {"@code": "200"}}}'))
    with pytest.raises(SourceError, match=r"no result\.hits\.@total"):
        source(server, make_http, from_year=2026).fetch(DAY, DAY)


def test_an_empty_page_while_hits_remain_is_not_taken_as_the_end(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    empty = search_json([], query="q", total=5, first=0)
    server.route(PATH, Reply(200, empty), DblpApi([uss(n) for n in range(5)]))
    result = source(server, make_http, from_year=2026).fetch(DAY, DAY)
    assert len(result.papers) == 5


def test_a_huge_answer_is_refused(server: LoopbackServer, make_http: MakeHttp) -> None:
    body = search_json([uss(n).info for n in range(3000)], query="q", total=3000, first=0)
    assert len(body) > 1_000_000
    server.route(PATH, Reply(200, body, "application/json"))
    with pytest.raises(SourceError, match="larger than the limit"):
        source(server, make_http, from_year=2026).fetch(DAY, DAY)


def test_title_search_leaves_out_corr_preprints(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    published = uss(1)
    preprint = dblp_record(
        paper(1),
        key="journals/corr/abs-2601-00001",
        stream="journals/corr",
        venue="CoRR",
        kind="Informal and Other Publications",
    )
    api = DblpApi([published, preprint])
    server.route(PATH, api)
    found = source(server, make_http).search_title("Paper number 1 on model-reuse.")
    assert [p.venue for p in found] == ["USENIX"]  # the configured stream's catalog name
    assert api.queries == ["Paper number 1 on model reuse"]


def test_fixture_is_the_shape_the_faq_documents() -> None:
    data = json.loads(fixture_bytes("dblp_search.json"))
    hits = data["result"]["hits"]
    assert {k for k in hits if k.startswith("@")} == {"@total", "@computed", "@sent", "@first"}
    assert all(isinstance(hits[k], str) for k in ("@total", "@sent", "@first"))


def test_a_record_without_electronic_edition_links_to_its_dblp_page(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    record = dblp_record(paper(1, doi=None), key="conf/uss/P1", stream="conf/uss", venue="USS")
    assert "ee" not in record.info
    server.route(PATH, DblpApi([record]))
    (got,) = source(server, make_http, from_year=2026).fetch(DAY, DAY).papers
    assert got.link("abs") == "https://dblp.org/rec/conf/uss/P1"  # the catalog needs a link

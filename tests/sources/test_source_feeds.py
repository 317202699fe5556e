"""Conference feeds: RSS 2.0, Atom 1.0, RSS 1.0/RDF; not-a-feed, malformed, oversized, and
entity tricks (nothing expanded, no file read, nothing fetched)."""

from __future__ import annotations

import codecs
import datetime as dt
import time

import pytest
import requests

from tests.servers import LoopbackServer, Reply
from tests.sources.conftest import MakeHttp, fixture_bytes
from tracker.config import FeedConfig
from tracker.http import HttpClient, HttpError
from tracker.sources.feeds import (
    FeedSource,
    NotAFeedError,
    parse_feed,
    split_authors,
    strip_doctype,
)

SINCE = dt.date(2026, 1, 10)
UNTIL = dt.date(2026, 1, 20)


def _feed_source(
    server: LoopbackServer,
    make_http: MakeHttp,
    body: bytes,
    *,
    venue: str = "USENIX",
    year: int | None = None,
    content_type: str = "application/rss+xml",
    **http: object,
) -> FeedSource:
    server.route("/feed.xml", Reply(body=body, content_type=content_type))
    config = FeedConfig(name="conf", url=server.url("/feed.xml"), venue=venue, year=year)
    return FeedSource(make_http(**http), config)


def test_rss20_entries_become_papers_at_the_configured_venue(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    source = _feed_source(server, make_http, fixture_bytes("conference_rss20.xml"), year=2026)
    result = source.fetch(dt.date(2025, 11, 1), UNTIL)
    assert result.warnings == ()
    lora, pickles, bitflip = result.papers
    assert lora.title == "LoRA as Oracle"
    assert lora.abstract == (
        "Low-rank adapters are shared on model hubs and merged into pre-trained models by "
        "downstream developers."
    )
    assert lora.authors == ("Marco Arazzi", "Antonino Nocera")
    assert (lora.venue, lora.year, lora.source) == ("USENIX", 2026, "conf")
    assert lora.links == {
        "abs": "https://www.usenix.org/conference/usenixsecurity26/presentation/arazzi"
    }
    assert pickles.authors == ("Soo-ah Kim", "Daniel Park", "Maria Lopez")
    assert "malicious pickle payloads" in pickles.abstract
    assert pickles.links["code"] == "https://github.com/modelscan-lab/pickle-hunter"
    assert bitflip.doi == "10.5555/3766078.3766123"
    assert bitflip.authors == ("Yifan Chen",)


def test_the_year_comes_from_the_entry_when_the_configuration_gives_none(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    source = _feed_source(server, make_http, fixture_bytes("conference_rss20.xml"))
    years = [p.year for p in source.fetch(dt.date(2025, 11, 1), UNTIL).papers]
    assert years == [2026, 2026, 2025]


def test_entries_dated_before_the_window_are_skipped(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    source = _feed_source(server, make_http, fixture_bytes("conference_rss20.xml"))
    result = source.fetch(SINCE, UNTIL)
    assert [p.title for p in result.papers][
        -1
    ] == "Poisoned Pickles: Code Execution through Model Hub Checkpoints"
    assert result.notes == ("1 entries dated before 2026-01-10 skipped",)


def test_atom10_entries_carry_doi_pdf_html_titles_and_content(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    source = _feed_source(
        server,
        make_http,
        fixture_bytes("conference_atom10.xml"),
        venue="CCS",
        content_type="application/atom+xml",
    )
    vid, steal = source.fetch(SINCE, UNTIL).papers
    assert vid.title == "VidLeaks: Membership Inference Attacks Against Text-to-Video Models"
    assert vid.doi == "10.1145/3719027.3744801"
    assert vid.links["pdf"] == "https://dl.acm.org/doi/pdf/10.1145/3719027.3744801"
    assert vid.authors == ("Li Wang", "Wenyu Chen", "Ning Yu")
    assert (vid.venue, vid.year) == ("CCS", 2026)
    assert steal.abstract.startswith("We steal pre-trained encoders")
    assert steal.links["dataset"] == "https://huggingface.co/datasets/steal-lab/queries"


def test_rss10_rdf_entries_are_read_with_their_creators_and_dois(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    source = _feed_source(
        server,
        make_http,
        fixture_bytes("conference_rss10.rdf"),
        venue="IEEE Transactions on Dependable and Secure Computing",
        content_type="application/rdf+xml",
    )
    first, second = source.fetch(SINCE, UNTIL).papers
    assert first.title == "Detecting Trojaned Pre-Trained Encoders Before Fine-Tuning"
    assert first.authors == ("Hao Liu", "Xiaoyu Zhang")
    assert first.doi == "10.1109/tdsc.2026.3550001"
    assert first.year == 2026
    assert second.links["abs"] == "https://ieeexplore.ieee.org/document/11200002"


def test_an_html_page_is_not_a_feed(server: LoopbackServer, make_http: MakeHttp) -> None:
    source = _feed_source(
        server, make_http, fixture_bytes("not_a_feed.html"), content_type="text/html"
    )
    with pytest.raises(NotAFeedError) as caught:
        source.fetch(SINCE, UNTIL)
    assert str(caught.value).startswith(
        f"{server.url('/feed.xml')} is not a feed (RSS, Atom or RDF)"
    )
    assert "may point at a web page" in str(caught.value)


@pytest.mark.parametrize("body", [b'{"items": []}', b"", b"plain text, no markup", b"<html/>"])
def test_anything_else_that_is_not_a_feed_is_an_error(body: bytes) -> None:
    with pytest.raises(NotAFeedError, match="is not a feed"):
        parse_feed(body, "http://example.org/feed")


def test_malformed_xml_keeps_what_parsed_and_reports_the_problem(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    source = _feed_source(server, make_http, fixture_bytes("malformed.xml"))
    result = source.fetch(SINCE, UNTIL)
    titles = [p.title for p in result.papers]
    assert titles[:2] == ["Backdoors That Survive Model Merging", "Trojan Tokenizers"]
    assert result.warnings == (
        f"{server.url('/feed.xml')}: malformed XML at line 17: mismatched tag",
    )


def test_an_oversized_feed_is_refused(server: LoopbackServer, make_http: MakeHttp) -> None:
    body = fixture_bytes("conference_rss20.xml")
    source = _feed_source(server, make_http, body, max_bytes=len(body) - 1)
    with pytest.raises(HttpError, match="larger than the limit"):
        source.fetch(SINCE, UNTIL)


def test_a_billion_laughs_feed_is_never_expanded() -> None:
    started = time.monotonic()
    parsed = parse_feed(fixture_bytes("billion_laughs.xml"), "http://example.org/feed")
    assert time.monotonic() - started < 1
    text = repr(parsed.feed) + repr(parsed.entries)
    assert "lollol" not in text
    assert "removed a DOCTYPE declaration: entities are never expanded" in parsed.problems
    assert len(parsed.entries) == 1  # what parsed is kept


def test_an_external_entity_never_reads_a_file(server: LoopbackServer, make_http: MakeHttp) -> None:
    source = _feed_source(server, make_http, fixture_bytes("xxe_file.xml"))
    result = source.fetch(SINCE, UNTIL)
    (paper,) = result.papers
    text = paper.title + paper.abstract
    with open("/etc/passwd", encoding="utf-8") as passwd:
        first_line = passwd.readline().strip()
    assert first_line and first_line not in text and "root:" not in text
    assert any("removed a DOCTYPE" in w for w in result.warnings)


def test_an_external_dtd_or_parameter_entity_is_never_fetched(server: LoopbackServer) -> None:
    server.route(
        "/evil.dtd", Reply(body=b'<!ENTITY leak "LEAKED">', content_type="application/xml-dtd")
    )
    evil = server.url("/evil.dtd")
    body = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "{evil}" [\n'
        f'  <!ENTITY % p SYSTEM "{evil}"> %p;\n]>\n'
        '<rss version="2.0"><channel><title>t</title>'
        "<item><title>Paper &leak;</title><link>https://e.org/1</link></item></channel></rss>"
    ).encode()
    parsed = parse_feed(body, "http://example.org/feed")
    assert "LEAKED" not in repr(parsed.entries)
    assert server.requests_to("/evil.dtd") == []


def test_a_doctype_in_a_utf16_document_is_stripped_too() -> None:
    text = (
        fixture_bytes("billion_laughs.xml")
        .decode("utf-8")
        .replace('encoding="utf-8"', 'encoding="utf-16"')
    )
    parsed = parse_feed(codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "http://example.org/feed")
    assert "lollol" not in repr(parsed.entries)
    assert "removed a DOCTYPE declaration: entities are never expanded" in parsed.problems


def test_a_declaration_after_the_root_element_is_turned_into_text() -> None:
    body = (
        b'<rss version="2.0"><channel><title>t</title>'
        b'<!DOCTYPE x [<!ENTITY a "AAAAAAAAAA">]>'
        b"<item><title>Paper &a;</title></item></channel></rss>"
    )
    parsed = parse_feed(body, "http://example.org/feed")
    assert "AAAAAAAAAA" not in repr(parsed.entries)
    assert "neutralised a DOCTYPE or ENTITY declaration inside the document" in parsed.problems


def test_strip_doctype_cuts_the_whole_internal_subset_and_nothing_else() -> None:
    doc = (
        b'<?xml version="1.0"?>\n<!-- a comment -->\n'
        b"<!DOCTYPE rss [ <!ENTITY a \"x > ] y\"> <!-- ] > --> <!ENTITY b 'q'> ]>\n"
        b"<rss/>"
    )
    stripped, removed = strip_doctype(doc)
    assert removed
    assert stripped == b'<?xml version="1.0"?>\n<!-- a comment -->\n\n<rss/>'
    assert strip_doctype(b"<rss/>") == (b"<rss/>", False)
    with pytest.raises(NotAFeedError, match="unterminated DOCTYPE"):
        strip_doctype(b'<!DOCTYPE rss [ <!ENTITY a "x">')


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            ["Ada Lovelace, Alan Turing and Grace Hopper"],
            ("Ada Lovelace", "Alan Turing", "Grace Hopper"),
        ),
        (["A. One; B. Two"], ("A. One", "B. Two")),
        (["Lovelace, Ada"], ("Lovelace, Ada",)),
        (["Ada Lovelace", "Alan Turing"], ("Ada Lovelace", "Alan Turing")),
        (["  ", "Madonna"], ("Madonna",)),
    ],
)
def test_author_fields_are_split_only_when_each_part_is_a_full_name(
    fields: list[str], expected: tuple[str, ...]
) -> None:
    assert split_authors(fields) == expected


def test_arxiv_author_lists_are_split_even_around_one_word_names() -> None:
    names = ["Rishi Mishra, Smriti, Balaji Srinivasan"]
    assert split_authors(names) == ("Rishi Mishra, Smriti, Balaji Srinivasan",)
    assert split_authors(names, name_lists=True) == ("Rishi Mishra", "Smriti", "Balaji Srinivasan")


def test_plain_text_fields_keep_their_angle_brackets_and_html_fields_lose_their_tags() -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b"<entry><title>Bounds for $x&lt;y$ and $a &gt; b$</title>"
        b'<summary type="html">&lt;p&gt;We &lt;b&gt;prove&lt;/b&gt; it.&lt;/p&gt;</summary></entry></feed>'
    )
    source = FeedSource(HttpClient(requests.Session()), FeedConfig("f", "http://e.org/f", "CCS"))
    (entry,) = parse_feed(body, "http://e.org/f").entries
    paper = source.entry_paper(entry, None)
    assert paper is not None
    assert (paper.title, paper.abstract) == ("Bounds for $x<y$ and $a > b$", "We prove it.")

"""The arXiv daily listing: RSS and Atom, announce types, dates, and the empty-weekday alarm."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.servers import LoopbackServer, Reply
from tests.servers.arxiv import RSS_TYPE, listing_rss
from tests.sources.conftest import MakeHttp, fixture_bytes
from tracker.http import HttpClient, HttpError
from tracker.paper import Paper
from tracker.sources.arxiv_listing import ArxivListingSource, parse_listing
from tracker.sources.feeds import NotAFeedError

LISTING_DAY = dt.date(2026, 1, 19)  # a Monday, the fixture's pubDate
ROUTE = "/rss/cs.CR+cs.LG"


def _source(
    server: LoopbackServer, make_http: MakeHttp, http: HttpClient | None = None
) -> ArxivListingSource:
    return ArxivListingSource(
        http or make_http(),
        server.url("/rss"),
        ["cs.CR", "cs.LG"],
        today=lambda: LISTING_DAY,
    )


def test_the_listing_is_requested_for_all_categories_at_once(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route(ROUTE, Reply(body=fixture_bytes("arxiv_listing.rss"), content_type=RSS_TYPE))
    source = _source(server, make_http)
    assert source.url == server.url("/rss/cs.CR+cs.LG")
    result = source.fetch(dt.date(2026, 1, 16), LISTING_DAY)
    assert len(server.requests_to(ROUTE)) == 1
    assert [p.arxiv_id for p in result.papers] == ["2601.11207", "2601.11006", "2601.10045"]


def test_new_and_cross_listed_papers_are_kept_and_replacements_skipped() -> None:
    listing = parse_listing(fixture_bytes("arxiv_listing.rss"), "http://x/rss/cs.CR+cs.LG")
    assert listing.date == LISTING_DAY
    assert [p.arxiv_id for p in listing.papers] == ["2601.11207", "2601.11006", "2601.10045"]
    assert listing.replacements == 2
    assert (listing.skipped, listing.problems) == (0, ())


def test_a_listing_item_carries_id_version_title_abstract_authors_categories_and_date() -> None:
    papers = parse_listing(fixture_bytes("arxiv_listing.rss"), "http://x/rss").papers
    lora, cross, peft = papers
    assert (lora.arxiv_id, lora.arxiv_version) == ("2601.11207", 1)
    assert lora.title == "LoRA as Oracle"
    assert lora.abstract.startswith("Low-rank adapters are shared on model hubs")
    assert "Announce Type" not in lora.abstract and "arXiv:" not in lora.abstract
    assert lora.authors == ("Marco Arazzi", "Antonino Nocera")
    assert lora.categories == ("cs.CR", "cs.AI")
    assert lora.announced == LISTING_DAY
    assert (lora.venue, lora.year, lora.source) == ("arXiv", 2026, "arxiv-listing")
    assert lora.links["abs"] == "https://arxiv.org/abs/2601.11207"
    assert lora.links["pdf"] == "https://arxiv.org/pdf/2601.11207"
    assert cross.categories == ("cs.LG", "cs.CR")
    assert cross.links["code"] == "https://github.com/kuniyilh/mmcl-backdoor"
    assert peft.abstract.startswith("Parameter-efficient fine-tuning of pre-trained models leaks")
    assert "membership inference & extraction" in peft.abstract
    assert peft.comment == "Accepted to IEEE SaTML 2026"
    assert (peft.venue, peft.year) == ("SaTML", 2026)
    assert peft.doi is None  # arXiv's own DOI names the preprint, not a venue


def test_the_atom_flavour_of_the_listing_is_read_the_same_way() -> None:
    listing = parse_listing(fixture_bytes("arxiv_listing.atom"), "http://x/atom/cs.CR")
    (paper,) = listing.papers
    assert (paper.arxiv_id, paper.title, paper.announced) == (
        "2601.11207",
        "LoRA as Oracle",
        LISTING_DAY,
    )
    assert paper.authors == ("Marco Arazzi", "Antonino Nocera")
    assert listing.replacements == 1


def test_an_empty_listing_on_a_weekday_is_a_warning_not_nothing_new(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route(ROUTE, Reply(body=fixture_bytes("arxiv_listing_empty.rss")))
    result = _source(server, make_http).fetch(dt.date(2026, 1, 17), dt.date(2026, 1, 20))
    assert result.papers == ()
    (warning,) = result.warnings
    assert "has no new or cross-listed papers on a weekday (Tue 2026-01-20)" in warning
    assert "not taken as 'nothing new'" in warning


def test_an_empty_listing_on_a_weekend_is_only_a_note(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route(ROUTE, Reply(body=fixture_bytes("arxiv_listing_weekend.rss")))
    result = _source(server, make_http).fetch(dt.date(2026, 1, 21), dt.date(2026, 1, 24))
    assert result.warnings == ()
    assert "no listing on Saturday 2026-01-24: arXiv announces on weekdays" in result.notes


def test_a_listing_older_than_the_window_is_reported_as_stale(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route(ROUTE, Reply(body=fixture_bytes("arxiv_listing.rss")))
    result = _source(server, make_http).fetch(dt.date(2026, 1, 21), dt.date(2026, 1, 22))
    assert result.papers == ()
    assert any(
        "dated 2026-01-19, before the window starting 2026-01-21" in w for w in result.warnings
    )


def test_a_backfill_window_before_the_listing_takes_nothing_from_it(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route(ROUTE, Reply(body=fixture_bytes("arxiv_listing.rss")))
    result = _source(server, make_http).fetch(dt.date(2026, 1, 12), dt.date(2026, 1, 16))
    assert (result.papers, result.warnings) == ((), ())
    assert any(
        "after the window; days before it come from the API search" in n for n in result.notes
    )


def test_an_html_page_instead_of_the_listing_is_an_error(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route(ROUTE, Reply(body=fixture_bytes("not_a_feed.html"), content_type="text/html"))
    with pytest.raises(NotAFeedError, match=r"/rss/cs.CR\+cs.LG is not a feed"):
        _source(server, make_http).fetch(LISTING_DAY, LISTING_DAY)


def test_a_listing_server_that_never_answers_is_an_error(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route(ROUTE, Reply(body=b"", delay=30))
    http = make_http(timeout=0.25, retries=0)
    with pytest.raises(HttpError, match=r"no answer within the timeout of 0\.25 s"):
        _source(server, make_http, http=http).fetch(LISTING_DAY, LISTING_DAY)


def test_author_names_that_contain_an_address_are_kept_as_written() -> None:
    # feedparser cuts e-mail-like text out of dc:creator ("Eve <ple>"); the listing must not.
    paper = Paper(
        title="On model hubs",
        abstract="Pre-trained models are shared on hubs.",
        authors=("Eve <eve@evil.example>", "Bob Smith"),
        arxiv_id="2601.11999",
        arxiv_version=1,
        categories=("cs.CR",),
        announced=LISTING_DAY,
    )
    (parsed,) = parse_listing(listing_rss([paper], LISTING_DAY), "http://x/rss/cs.CR").papers
    assert parsed.authors == ("Eve <eve@evil.example>", "Bob Smith")


def _malformed_listing(creator: str) -> bytes:
    """A listing with one paper whose dc:creator is `creator` (XML as written), made
    malformed elsewhere (a stray `&` in another item's title), so that feedparser falls back to
    its loose parser, which leaves entities in author fields undecoded."""
    papers = [
        Paper(
            title=title,
            abstract="Backdoors in pre-trained models shared on hubs.",
            authors=("Placeholder Author",),
            arxiv_id=ident,
            arxiv_version=1,
            categories=("cs.CR",),
            announced=LISTING_DAY,
        )
        for ident, title in (("2601.11001", "On model hubs"), ("2601.11002", "Tom and Jerry"))
    ]
    text = listing_rss(papers, LISTING_DAY).decode("utf-8")
    text = text.replace("Placeholder Author", creator, 1).replace("Tom and Jerry", "Tom & Jerry")
    return text.encode("utf-8")


def test_a_malformed_listing_still_gives_whole_author_names(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    """Issue 11, case 11: `O&apos;Brien` became `O`, `apos`, `Brien`."""
    creator = "Sean O&apos;Brien, J&#252;rgen M&#xFC;ller, Ada Lovelace &amp; Bob Smith"
    server.route(ROUTE, Reply(body=_malformed_listing(creator), content_type=RSS_TYPE))

    result = _source(server, make_http).fetch(LISTING_DAY, LISTING_DAY)

    paper = next(p for p in result.papers if p.arxiv_id == "2601.11001")
    assert paper.authors == ("Sean O'Brien", "Jürgen Müller", "Ada Lovelace", "Bob Smith")
    assert any("not well-formed" in w or "malformed" in w for w in result.warnings)


def test_an_undecodable_entity_in_the_authors_is_reported_not_split(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route(ROUTE, Reply(body=_malformed_listing("Sean O&bogus;Brien"), content_type=RSS_TYPE))

    result = _source(server, make_http).fetch(LISTING_DAY, LISTING_DAY)

    paper = next(p for p in result.papers if p.arxiv_id == "2601.11001")
    assert paper.authors == ()
    assert any(
        "arXiv:2601.11001: the authors cannot be read (undecodable entity '&bogus;'" in w
        for w in result.warnings
    ), result.warnings

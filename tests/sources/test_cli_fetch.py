"""`tracker fetch`: summary per source, JSON lines, catalog papers dropped, exit codes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.servers import LoopbackServer, Reply
from tests.servers.arxiv import listing_rss
from tests.sources.conftest import fixture_bytes
from tracker.paper import Paper

WINDOW = ["--since", "2026-01-14", "--until", "2026-01-19"]
CONFIG = """\
http:
  timeout: 2
  delay: 0
  retries: 1
  backoff: 0
arxiv:
  categories: [cs.CR, cs.LG]
  query_terms: [backdoor]
feeds:
  - name: usenix-sec-26
    url: {feed}
    venue: USENIX
    year: 2026
"""


@pytest.fixture
def arxiv(seeded: Path) -> Iterator[tuple[LoopbackServer, dict[str, str]]]:
    """The seeded catalog, a config pointing at a loopback arXiv and feed, and the env."""
    with LoopbackServer() as server:
        server.route("/api/query", Reply(body=fixture_bytes("arxiv_api_page.xml")))
        server.route("/rss/cs.CR+cs.LG", Reply(body=fixture_bytes("arxiv_listing.rss")))
        server.route("/usenix.xml", Reply(body=fixture_bytes("conference_rss20.xml")))
        (seeded / "tracker.yaml").write_text(CONFIG.format(feed=server.url("/usenix.xml")), "utf-8")
        env = {
            "TRACKER_ARXIV_API_URL": server.url("/api/query"),
            "TRACKER_ARXIV_RSS_URL": server.url("/rss"),
        }
        yield server, env


def test_fetch_prints_a_summary_per_source_and_new_papers_as_json_lines(
    arxiv: tuple[LoopbackServer, dict[str, str]],
) -> None:
    _, env = arxiv
    result = run_cli("fetch", *WINDOW, "--json", env=env)
    assert result.exit_code == 0, result.stderr
    papers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(papers) == 6
    lora = next(p for p in papers if p["title"] == "LoRA as Oracle")
    assert (lora["arxiv_id"], lora["venue"], lora["year"]) == ("2601.11207", "USENIX", 2026)
    assert lora["announced"] == "2026-01-19" and lora["submitted"] == "2026-01-16"
    lines = result.stderr.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("source "))
    assert lines[header].split() == ["source", "status", "fetched", "new", "errors", "time"]
    rows = {
        ln.split()[0]: ln.split()[1:5] for ln in lines[header + 1 : header + 8] if ln[:1].isalpha()
    }
    assert rows["arxiv-api"] == ["ok", "3", "3", "0"]
    assert rows["arxiv-listing"] == ["ok", "3", "3", "0"]
    assert rows["usenix-sec-26"] == ["ok", "2", "2", "0"]
    assert (
        "2026-01-14..2026-01-19: 8 fetched, 6 distinct after merging, 0 already known, 6 new."
        in result.stderr
    )


def test_fetch_without_json_prints_no_data(arxiv: tuple[LoopbackServer, dict[str, str]]) -> None:
    result = run_cli("fetch", *WINDOW, env=arxiv[1])
    assert (result.exit_code, result.stdout) == (0, "")


def test_fetch_drops_papers_already_in_the_catalog(
    arxiv: tuple[LoopbackServer, dict[str, str]],
) -> None:
    server, env = arxiv
    catalogued = Paper(
        title="Weight Poisoning Attacks on Pretrained Models",
        abstract="RIPPLe.",
        authors=("Keita Kurita",),
        arxiv_id="2004.06660",
        categories=("cs.LG",),
        announced=dt.date(2026, 1, 19),
    )
    fresh = Paper(
        title="A Fresh Paper on Model Hubs",
        abstract="New.",
        authors=("Ada Lovelace",),
        arxiv_id="2601.12345",
        categories=("cs.CR",),
        announced=dt.date(2026, 1, 19),
    )
    server.route(
        "/rss/cs.CR+cs.LG",
        Reply(body=listing_rss([catalogued, fresh], dt.date(2026, 1, 19), ("cs.CR", "cs.LG"))),
    )
    result = run_cli("fetch", *WINDOW, "--json", "--source", "arxiv-listing", env=env)
    assert result.exit_code == 0, result.stderr
    titles = [json.loads(line)["title"] for line in result.stdout.splitlines()]
    assert titles == ["A Fresh Paper on Model Hubs"]
    assert "2 fetched, 2 distinct after merging, 1 already known, 1 new." in result.stderr


def test_fetch_drops_rejected_papers_as_tracker_run_does(
    arxiv: tuple[LoopbackServer, dict[str, str]], seeded: Path
) -> None:
    """One decision of "known" (tracker.catalog.known): a paper blocked in rejected.yaml is not
    new for `tracker fetch` either."""
    server, env = arxiv
    (seeded / "catalog" / "rejected.yaml").write_text(
        "- title: Blocked by hand\n  arxiv: '2601.12345'\n  reason: by hand\n", "utf-8"
    )
    blocked = Paper(
        title="A Fresh Paper on Model Hubs",
        abstract="New.",
        authors=("Ada Lovelace",),
        arxiv_id="2601.12345",
        categories=("cs.CR",),
        announced=dt.date(2026, 1, 19),
    )
    server.route(
        "/rss/cs.CR+cs.LG",
        Reply(body=listing_rss([blocked], dt.date(2026, 1, 19), ("cs.CR", "cs.LG"))),
    )
    result = run_cli("fetch", *WINDOW, "--json", "--source", "arxiv-listing", env=env)
    assert (result.exit_code, result.stdout) == (0, ""), result.stderr
    assert "1 fetched, 1 distinct after merging, 1 already known, 0 new." in result.stderr


def test_fetch_exits_3_when_some_sources_fail_and_uses_the_others(
    arxiv: tuple[LoopbackServer, dict[str, str]],
) -> None:
    server, env = arxiv
    server.route("/api/query", Reply(503))
    result = run_cli("fetch", *WINDOW, "--json", env=env)
    assert result.exit_code == 3
    assert len(result.stdout.splitlines()) == 4  # listing (3) and feed (2), LoRA merged
    assert "arxiv-api      failed" in result.stderr
    assert "  error: GET http://127.0.0.1:" in result.stderr
    assert "failed after 2 attempt(s): HTTP 503" in result.stderr
    assert "Some sources failed (arxiv-api); the others' papers were used." in result.stderr


def test_fetch_exits_1_when_every_source_fails(
    arxiv: tuple[LoopbackServer, dict[str, str]],
) -> None:
    server, env = arxiv
    for path in ("/api/query", "/rss/cs.CR+cs.LG", "/usenix.xml"):
        server.route(path, Reply(500))
    result = run_cli("fetch", *WINDOW, env=env)
    assert result.exit_code == 1
    assert "Every source failed: nothing was fetched." in result.stderr


def test_fetch_warns_about_an_empty_weekday_listing_and_still_exits_0(
    arxiv: tuple[LoopbackServer, dict[str, str]],
) -> None:
    server, env = arxiv
    server.route("/rss/cs.CR+cs.LG", Reply(body=fixture_bytes("arxiv_listing_empty.rss")))
    result = run_cli(
        "fetch",
        "--since",
        "2026-01-19",
        "--until",
        "2026-01-20",
        "--source",
        "arxiv-listing",
        env=env,
    )
    assert result.exit_code == 0
    assert "arxiv-listing  warning" in result.stderr
    assert "  warning: the daily listing" in result.stderr
    assert "not taken as 'nothing new'" in result.stderr


def test_fetch_runs_only_the_sources_named(arxiv: tuple[LoopbackServer, dict[str, str]]) -> None:
    server, env = arxiv
    result = run_cli("fetch", *WINDOW, "--source", "usenix-sec-26", env=env)
    assert result.exit_code == 0
    assert [r.path for r in server.requests] == ["/usenix.xml"]


def test_fetch_exits_2_for_an_unknown_source(arxiv: tuple[LoopbackServer, dict[str, str]]) -> None:
    result = run_cli("fetch", "--source", "nope", env=arxiv[1])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: unknown source 'nope' (configured sources: arxiv-api, arxiv-listing, usenix-sec-26)\n"
    )


def test_fetch_exits_2_for_an_invalid_configuration(
    arxiv: tuple[LoopbackServer, dict[str, str]], seeded: Path
) -> None:
    server, env = arxiv
    (seeded / "tracker.yaml").write_text("http:\n  user_agent: anonymous-bot\n", "utf-8")
    result = run_cli("fetch", env=env)
    assert result.exit_code == 2
    assert "http.user_agent must carry a contact address" in result.stderr
    assert server.requests == []


def test_fetch_exits_2_when_since_is_after_until(
    arxiv: tuple[LoopbackServer, dict[str, str]],
) -> None:
    result = run_cli("fetch", "--since", "2026-01-20", "--until", "2026-01-19", env=arxiv[1])
    assert result.exit_code == 2
    assert result.stderr == "Error: --since 2026-01-20 is after --until 2026-01-19\n"


def test_fetch_shows_progress_lines_on_stderr(arxiv: tuple[LoopbackServer, dict[str, str]]) -> None:
    result = run_cli("fetch", *WINDOW, env=arxiv[1])
    assert "arxiv-api: starting\n" in result.stderr
    assert "usenix-sec-26: done (2/2)" in result.stderr


def test_fetch_window_defaults_to_the_lookback_before_until(
    arxiv: tuple[LoopbackServer, dict[str, str]],
) -> None:
    result = run_cli("fetch", "--until", "2026-01-19", env=arxiv[1])
    assert "2026-01-16..2026-01-19: " in result.stderr  # arxiv.lookback_days is 3

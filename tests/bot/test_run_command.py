"""`tracker run` in-process: the dry run a maintainer tries locally, and what it writes."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.bot.conftest import (
    NIGHT,
    TOKEN,
    Bot,
    expected_candidates,
    expected_proposals,
    expected_title,
    oracle,
    stream_papers,
)
from tests.conftest import run_cli
from tracker import pipeline
from tracker.catalog.awesome import escape_markdown
from tracker.catalog.rejected import HEADER, REASON_BY_HAND
from tracker.catalog.store import Catalog
from tracker.cli import bot as bot_cli
from tracker.identity import parse_arxiv_id
from tracker.paper import Paper
from tracker.selection import make_entry, select
from tracker.sources.arxiv_record import arxiv_paper


def test_dry_run_is_the_default_without_a_token_and_writes_the_working_tree(
    local_bot: Bot,
) -> None:
    expected = expected_proposals(local_bot.classifier, stream_papers())

    result = local_bot.run()

    assert result.exit_code == 0, result.stderr
    assert bot_cli.NO_TOKEN in result.stderr
    title = expected_title(local_bot.classifier, stream_papers(), NIGHT)
    assert result.stdout.startswith(f"{bot_cli.DRY_RUN_HEADER}\n{title}\n")
    assert "<!-- tracker:proposals" in result.stdout
    catalog = Catalog.load(local_bot.root / "catalog")
    added = [e for e in catalog.entries if e.added == dt.date(2026, 3, 16)]
    assert {e.paper.arxiv_id for e in added} == set(expected)
    first = next(p for p in stream_papers() if p.arxiv_id == expected[0])
    assert escape_markdown(first.title) in (local_bot.root / "catalog" / "README.md").read_text(
        "utf-8"
    )

    # The working tree now knows the added papers; the candidates live only in a pull
    # request, so without one they are offered again, and nothing else.
    again = local_bot.run()
    assert again.exit_code == 0 and "in scope 0, proposed 0 + " in again.stderr
    left = expected_candidates(local_bot.classifier, stream_papers())
    if left:
        assert again.stdout.startswith(f"{bot_cli.DRY_RUN_HEADER}\nAdd 0 papers, {len(left)} to")
    else:
        assert "No new papers to propose." in again.stderr and again.stdout == ""


def test_no_write_prints_a_diff_and_writes_nothing(local_bot: Bot) -> None:
    before = (local_bot.root / "catalog" / "papers.yaml").read_text("utf-8")
    first = expected_proposals(local_bot.classifier, stream_papers())[0]

    result = local_bot.run("--no-write")

    assert result.exit_code == 0, result.stderr
    assert "+++ b/catalog/papers.yaml" in result.stdout
    assert f"+  arxiv: '{first}'" in result.stdout
    assert (local_bot.root / "catalog" / "papers.yaml").read_text("utf-8") == before
    assert not (local_bot.root / "catalog" / "README.md").exists()


def test_a_paper_listed_in_rejected_yaml_is_not_proposed(local_bot: Bot) -> None:
    expected = expected_proposals(local_bot.classifier, stream_papers())
    (local_bot.root / "catalog" / "rejected.yaml").write_text(
        HEADER + f"- title: Blocked by hand\n  arxiv: '{expected[0]}'\n  reason: by hand\n",
        "utf-8",
    )

    result = local_bot.run("--dry-run")

    rest = [p for p in stream_papers() if p.arxiv_id != expected[0]]
    assert expected_title(local_bot.classifier, rest, NIGHT) in result.stdout
    assert "rejected 1)" in result.stderr
    assert REASON_BY_HAND == "by hand"


def test_a_failed_source_gives_exit_code_3_and_the_dry_run_still_writes(local_bot: Bot) -> None:
    local_bot.arxiv.serve(stream_papers(), NIGHT)
    local_bot.arxiv.fail_listing(503)

    result = run_cli("run", "--dry-run", "--date", "2026-03-16")

    assert result.exit_code == 3, result.stderr
    assert "Source arxiv-listing failed: GET " in result.stderr
    assert "Source arxiv-api: 12 papers." in result.stderr
    assert "Dry run: wrote " in result.stderr


def test_without_a_network_every_source_fails_with_a_message_and_exit_code_1(
    local_bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # .invalid never resolves (RFC 2606): what a laptop without a network sees for arXiv.
    monkeypatch.setenv("TRACKER_ARXIV_RSS_URL", "http://rss.arxiv.invalid/rss")
    monkeypatch.setenv("TRACKER_ARXIV_API_URL", "http://export.arxiv.invalid/api/query")
    local_bot.configure(http={"backoff": 0.01, "retries": 4})

    result = run_cli("run", "--dry-run", "--date", "2026-03-16")

    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    for name, host in (
        ("arxiv-api", "export.arxiv.invalid"),
        ("arxiv-listing", "rss.arxiv.invalid"),
    ):
        assert re.search(
            rf"Source {name} failed: .*failed after 2 attempt\(s\): cannot resolve {host}: no "
            r"network, or DNS is failing \(check the network connection",
            result.stderr,
        ), result.stderr
    assert pipeline.ALL_FAILED.format(names="arxiv-api, arxiv-listing") in result.stderr
    assert "nothing to classify" in result.stderr


def test_the_token_is_not_printed_even_when_github_is_unreachable(
    local_bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", "survey-org/supply-chain-survey")
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")  # nothing listens there
    local_bot.configure(http={"retries": 0})

    result = local_bot.run()

    assert result.exit_code == 1
    assert "Error: reading " in result.stderr
    assert TOKEN not in result.stdout + result.stderr


def _as_listed(paper: Paper, comment: str | None = None) -> Paper:
    """`paper` as the arXiv sources deliver it, with `comment`: through the one conversion of
    arXiv metadata (`tracker.sources.arxiv_record`), where venue hints and code links are read."""
    ident = parse_arxiv_id(paper.arxiv_id or "")
    assert ident is not None
    return arxiv_paper(
        ident,
        title=paper.title,
        abstract=paper.abstract,
        authors=paper.authors,
        categories=paper.categories,
        comment=comment,
        journal_ref=None,
        doi=None,
        source="arxiv-listing",
        announced=paper.announced,
    )


def test_entries_take_venue_hints_and_code_links_through_the_sources_hints() -> None:
    paper = _as_listed(
        stream_papers()[1],
        comment="Accepted at USENIX Security 2026. Code: https://github.com/acme/wm-kit.",
    )
    verdicts = oracle().classify([paper])
    entry = select(verdicts, cap=20, candidate_cap=12, today=dt.date(2026, 3, 16)).added[0].entry
    assert (entry.paper.venue, entry.paper.year) == ("USENIX", 2026)  # the catalog's spelling
    assert entry.paper.links == {
        "pdf": "https://arxiv.org/abs/2603.12681",
        "code": "https://github.com/acme/wm-kit",
    }
    assert entry.section == "attack.secondary.transfer" and entry.confidence == 0.8
    assert entry.added == dt.date(2026, 3, 16) and entry.paper.abstract == ""
    plain = make_entry(oracle().classify([_as_listed(stream_papers()[2])])[0], dt.date(2026, 3, 16))
    assert (plain.paper.venue, plain.paper.year) == ("arXiv", 2026)
    assert "code" not in plain.paper.links
    from_abstract = make_entry(
        oracle().classify([_as_listed(stream_papers()[0])])[0], dt.date(2026, 3, 16)
    )
    assert from_abstract.paper.links["code"] == "https://anonymous.4open.science/r/anti-NSO-9874"
    unsure = make_entry(
        oracle().classify(
            [_as_listed(stream_papers()[1], comment="Submitted to USENIX Security 2026")]
        )[0],
        dt.date(2026, 3, 16),
    )
    assert unsure.paper.venue == "arXiv"


def test_an_entry_links_the_records_abs_page_as_its_pdf() -> None:
    """Sources give `abs` (the landing page) and `pdf` links; the catalog's required link is
    `pdf`, and the seed list puts the landing page there. A code link the source found stays."""
    record = stream_papers()[1].replace(
        links={
            "abs": "https://arxiv.org/abs/2603.12681",
            "pdf": "https://arxiv.org/pdf/2603.12681",
            "code": "https://gitlab.com/acme/wm",
            "model": "https://huggingface.co/acme/wm",
        }
    )
    entry = make_entry(oracle().classify([record])[0], dt.date(2026, 3, 16))
    assert entry.paper.links == {
        "pdf": "https://arxiv.org/abs/2603.12681",
        "code": "https://gitlab.com/acme/wm",
    }
    conference = record.replace(
        arxiv_id=None,
        links={"abs": "https://venue.example/paper/7", "pdf": "https://x.example/7.pdf"},
    )
    entry = make_entry(oracle().classify([conference])[0], dt.date(2026, 3, 16))
    assert entry.paper.links == {"pdf": "https://venue.example/paper/7"}


def test_the_cap_keeps_the_most_relevant_and_offers_the_rest_as_candidates() -> None:
    verdicts = oracle().classify(stream_papers())
    night = dt.date(2026, 3, 16)
    selection = select(verdicts, cap=2, candidate_cap=3, today=night)
    assert [p.paper.arxiv_id for p in selection.added] == ["2603.12679", "2603.12681"]
    assert [p.tier for p in selection.candidates] == ["candidate"] * 3
    assert [p.paper.arxiv_id for p in selection.candidates] == [
        "2603.12946",
        "2603.13186",
        "2603.12989",
    ]
    assert (selection.in_scope, selection.over_cap) == (6, 1)
    assert select(list(reversed(verdicts)), cap=2, candidate_cap=3, today=night) == selection

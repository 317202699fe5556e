"""`tracker run` in-process: the dry run a maintainer tries locally, and what it writes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.bot.conftest import TOKEN, oracle, stream_papers, stream_rows
from tests.conftest import run_cli
from tracker.catalog.store import Catalog
from tracker.cli import bot as bot_cli
from tracker.pipeline import Fetched
from tracker.publish.proposal import make_entry, select, venue_hint
from tracker.publish.rejected import HEADER, REASON_BY_HAND


@pytest.fixture
def wired(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The scratch checkout, with the night's papers as the sources and the label oracle as the
    classifier (the real ones are wired in `tracker.cli.bot.collaborators`)."""
    papers = stream_papers()
    monkeypatch.setattr(
        bot_cli,
        "collaborators",
        lambda config: (lambda since: Fetched(papers, {"arxiv-listing": len(papers)}), oracle()),
    )
    return seeded


def test_dry_run_is_the_default_without_a_token_and_writes_the_working_tree(wired: Path) -> None:
    result = run_cli("run", "--date", "2026-03-16")

    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(bot_cli.NO_TOKEN)
    assert result.stdout.startswith(f"{bot_cli.DRY_RUN_HEADER}\nAdd 6 papers (2026-03-16)\n")
    assert "<!-- tracker:proposals" in result.stdout
    catalog = Catalog.load(wired / "catalog")
    added = [e for e in catalog.entries if e.added == dt.date(2026, 3, 16)]
    assert {e.paper.arxiv_id for e in added} == {
        str(r["id"]) for r in stream_rows() if r["in_scope"]
    }
    assert "Colluding LoRA" in (wired / "catalog" / "README.md").read_text("utf-8")

    again = run_cli("run", "--date", "2026-03-16")  # the working tree now knows them
    assert again.exit_code == 0 and "No new papers to propose." in again.stderr
    assert again.stdout == ""


def test_no_write_prints_a_diff_and_writes_nothing(wired: Path) -> None:
    before = (wired / "catalog" / "papers.yaml").read_text("utf-8")

    result = run_cli("run", "--no-write", "--date", "2026-03-16")

    assert result.exit_code == 0, result.stderr
    assert "+++ b/catalog/papers.yaml" in result.stdout
    assert "+- title: 'Colluding LoRA: A Composite Attack on LLM Safety Alignment'" in result.stdout
    assert (wired / "catalog" / "papers.yaml").read_text("utf-8") == before
    assert not (wired / "catalog" / "README.md").exists()


def test_a_paper_listed_in_rejected_yaml_is_not_proposed(wired: Path) -> None:
    (wired / "catalog" / "rejected.yaml").write_text(
        HEADER + "- title: Colluding LoRA\n  arxiv: '2603.12681'\n  reason: by hand\n", "utf-8"
    )

    result = run_cli("run", "--dry-run", "--date", "2026-03-16")

    assert "Add 5 papers (2026-03-16)" in result.stdout
    assert "rejected 1" in result.stderr
    assert REASON_BY_HAND == "by hand"


def test_a_failed_source_gives_exit_code_3_and_says_which(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    papers = stream_papers()[:1]
    monkeypatch.setattr(
        bot_cli,
        "collaborators",
        lambda config: (
            lambda since: Fetched(papers, {"arxiv-listing": 1}, {"feeds": "timed out"}),
            oracle(),
        ),
    )
    result = run_cli("run", "--dry-run", "--date", "2026-03-16")
    assert result.exit_code == 3
    assert "Source feeds failed: timed out" in result.stderr


def test_the_token_is_not_printed_even_when_github_is_unreachable(
    wired: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", "survey-org/supply-chain-survey")
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setattr(bot_cli, "today_in", lambda config: dt.date(2026, 3, 16))
    (wired / "tracker.yaml").write_text("bot:\n  retries: 0\n", "utf-8")  # no real backoff

    result = run_cli("run")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: reading ")
    assert TOKEN not in result.stdout + result.stderr


def test_entries_take_venue_hints_and_code_links() -> None:
    paper = stream_papers()[0].replace(
        comment="Accepted at USENIX Security 2026. Code: https://github.com/acme/wm-kit.",
    )
    verdicts = oracle().classify([paper])
    entry = select(verdicts, cap=20, today=dt.date(2026, 3, 16)).proposals[0].entry
    assert (entry.paper.venue, entry.paper.year) == ("USENIX Security", 2026)
    assert entry.paper.links == {
        "pdf": "https://arxiv.org/abs/2603.12679",
        "code": "https://github.com/acme/wm-kit",
    }
    assert entry.section == "defense.usage" and entry.confidence == 0.8
    assert entry.added == dt.date(2026, 3, 16) and entry.paper.abstract == ""
    plain = make_entry(oracle().classify(stream_papers()[1:2])[0], dt.date(2026, 3, 16))
    assert (plain.paper.venue, plain.paper.year) == ("arXiv", 2026)
    assert venue_hint("20 pages, 5 figures") is None
    assert venue_hint("To appear in the 35th USENIX Security Symposium 2026") == (
        "USENIX Security Symposium",
        2026,
    )


def test_the_cap_keeps_the_most_relevant_and_lists_the_rest_as_near_misses() -> None:
    verdicts = oracle().classify(stream_papers())
    selection = select(verdicts, cap=2, today=dt.date(2026, 3, 16))
    assert [p.paper.arxiv_id for p in selection.proposals] == ["2603.12679", "2603.12681"]
    reasons = [m.reason for m in selection.near_misses]
    assert reasons == ["cap"] * 4 + ["below"] * 5
    assert select(list(reversed(verdicts)), cap=2, today=dt.date(2026, 3, 16)) == selection

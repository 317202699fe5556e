"""`tracker run --replay FILE`: a recorded arXiv night, served on loopback to the real listing
source, proposes what a live night would, and touches nothing: no other host, no GitHub, no
file."""

from __future__ import annotations

from pathlib import Path

from tests.bot.conftest import CATEGORIES, NIGHT, Bot, expected_title, stream_papers
from tests.conftest import REPO, run_cli
from tests.servers.arxiv import listing_rss
from tracker.catalog.lock import LOCK_FILE
from tracker.cli import bot as bot_cli
from tracker.sources.replay import read_recording

EXAMPLE = REPO / "examples" / "arxiv-2026-03-16.rss"


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` but the catalog's lock file (readers create it, empty; git
    ignores it)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.name != LOCK_FILE
    }


def test_a_replayed_night_prints_its_pull_request_and_touches_nothing(bot: Bot) -> None:
    recording = bot.root / "night.rss"
    recording.write_bytes(listing_rss(stream_papers(), NIGHT, CATEGORIES))
    before = _tree(bot.root)

    result = run_cli("run", "--dry-run", "--replay", str(recording))

    assert result.exit_code == 0, result.stderr
    title = expected_title(bot.classifier, stream_papers(), NIGHT)
    assert result.stdout.startswith(f"{bot_cli.DRY_RUN_HEADER}\n{title}\n")
    assert f"Replaying {recording}: arXiv's listing of 2026-03-16 (12 papers)" in result.stderr
    assert bot_cli.REPLAY_NOTE in result.stderr
    assert "Source arxiv-listing: 12 papers." in result.stderr
    assert "arxiv-api" not in result.stderr
    # GitHub is configured (token and repository) but never read; the configured arXiv is
    # never asked; no file changes.
    assert bot.gh.requests() == []
    assert bot.arxiv.server.requests == []
    assert _tree(bot.root) == before


def test_the_recorded_night_that_ships_is_a_real_listing_of_one_night() -> None:
    recording = read_recording(EXAMPLE)

    assert str(recording.date) == "2026-03-16"
    assert recording.papers == 358
    assert EXAMPLE.stat().st_size < 1_000_000


def test_a_file_that_is_not_a_listing_is_refused_with_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "night.rss"
    bad.write_text("<html><body>not a feed</body></html>", "utf-8")

    result = run_cli("run", "--replay", str(bad))

    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {bad} is not an arXiv listing: ")

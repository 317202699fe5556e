"""`tracker run --dry-run` as separate processes on one checkout (issue 11, cases 5 and 8): two
runs at once keep both nights, and a run SIGKILLed between writing papers.yaml and the
rendered lists leaves a catalog the next command completes. Real processes, the committed
model, and the listing on a loopback arXiv."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.bot.conftest import CATEGORIES, e2e_classifier, expected_proposals, stream_papers
from tests.conftest import REPO, run_cli
from tests.faults import KillPoint, tracker_killed_at, tracker_process, was_killed
from tests.servers import LoopbackServer, Reply
from tests.servers.arxiv import RSS_TYPE, listing_rss
from tracker.catalog import Catalog
from tracker.catalog.lock import WAITING
from tracker.fsutil import JOURNAL
from tracker.paper import Paper

NIGHT_A = dt.date(2026, 3, 16)
NIGHT_B = dt.date(2026, 3, 17)


@pytest.fixture
def listing() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


def _serve(server: LoopbackServer, name: str, papers: Sequence[Paper], night: dt.date) -> str:
    """Serve `papers` as `night`'s listing under /NAME; returns the rss_url to configure."""
    body = listing_rss(papers, night, CATEGORIES)
    path = f"/{name}/" + "+".join(CATEGORIES)
    server.route(path, Reply(body=body, content_type=RSS_TYPE, delay=2.5 if name == "a" else 0))
    return server.url(f"/{name}")


def _checkout(root: Path) -> None:
    """tracker.yaml for child processes: the committed model, the listing only, fast HTTP."""
    config = {
        "models_dir": str(REPO / "models"),
        "cache_dir": str(root / "cache"),
        "arxiv": {"search": False},
        "http": {"delay": 0, "retries": 1, "backoff": 0},
    }
    (root / "tracker.yaml").write_text(
        "".join(f"{k}: {json.dumps(v)}\n" for k, v in config.items()), "utf-8"
    )


def _in_scope(count: int) -> list[Paper]:
    wanted = expected_proposals(e2e_classifier(), stream_papers())[:count]
    by_id = {p.arxiv_id: p for p in stream_papers()}
    return [by_id[i] for i in wanted]


def _tracker(root: Path, rss_url: str, *args: str) -> subprocess.Popen[str]:
    return tracker_process(args, cwd=root, env={"TRACKER_ARXIV_RSS_URL": rss_url})


def _added_on(root: Path, night: dt.date) -> set[str]:
    catalog = Catalog.load(root / "catalog")
    return {e.paper.arxiv_id or "" for e in catalog.entries if e.added == night}


@pytest.mark.slow
def test_two_dry_runs_at_once_for_different_nights_keep_both_nights(
    seeded: Path, listing: LoopbackServer
) -> None:
    """The reported case: both exited 0 and the last writer won. Night A's listing answers
    slowly, so that night B's run starts while A's is between reading and writing."""
    _checkout(seeded)
    papers = _in_scope(4)
    url_a = _serve(listing, "a", papers[:2], NIGHT_A)
    url_b = _serve(listing, "b", papers[2:], NIGHT_B)

    first = _tracker(seeded, url_a, "run", "--dry-run", "--date", NIGHT_A.isoformat())
    time.sleep(1.0)
    second = _tracker(seeded, url_b, "run", "--dry-run", "--date", NIGHT_B.isoformat())
    _, err_a = first.communicate(timeout=120)
    _, err_b = second.communicate(timeout=120)

    assert first.returncode == 0, err_a
    assert second.returncode == 0, err_b
    assert _added_on(seeded, NIGHT_A) == {p.arxiv_id for p in papers[:2]}
    assert _added_on(seeded, NIGHT_B) == {p.arxiv_id for p in papers[2:]}
    assert WAITING.split(" (pid")[0] in err_b
    assert run_cli("render", "--check").exit_code == 0


@pytest.mark.slow
def test_a_dry_run_killed_between_papers_yaml_and_the_lists_is_completed_by_the_next_command(
    seeded: Path, listing: LoopbackServer
) -> None:
    """The reported case: SIGKILL between the renames of papers.yaml and the READMEs left
    stale READMEs and `.README*.tmp` files."""
    _checkout(seeded)
    assert run_cli("render").exit_code == 0
    papers = _in_scope(2)
    url = _serve(listing, "b", papers, NIGHT_A)
    env = {"TRACKER_ARXIV_RSS_URL": url}

    killed = tracker_killed_at(
        KillPoint.before_rename_onto("README.md"),
        ["run", "--dry-run", "--date", NIGHT_A.isoformat()],
        cwd=seeded,
        env=env,
    )

    assert was_killed(killed), killed.stderr
    assert (seeded / "catalog" / JOURNAL).exists()  # killed inside the write, as intended
    check = run_cli("render", "--check")
    assert check.exit_code == 0, check.stderr
    assert _added_on(seeded, NIGHT_A) == {p.arxiv_id for p in papers}
    assert sorted(p.name for p in seeded.rglob("*.tmp")) == []
    assert not (seeded / "catalog" / JOURNAL).exists()

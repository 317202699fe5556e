"""Every `Example:` of every command's --help, run as printed in a copy of what a clone has (the
files git tracks), with every outside service a loopback server that has nothing new: each
exits 0. tests/test_project.py checks that each parses and names only files in the repository;
this runs them. Whole commands, some for seconds: the runs are `slow` (CI runs them all)."""

from __future__ import annotations

import datetime as dt
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, run_cli
from tests.servers import LoopbackServer, Reply
from tests.servers.arxiv import RSS_TYPE, ArxivApi, listing_rss
from tests.servers.dblp import DblpApi
from tests.servers.openreview import OpenReviewApi
from tests.test_project import _help_examples
from tracker.config import ArxivConfig

# Examples not run here, and why (each still parses and names only files in the repository).
NOT_RUN = {
    "tracker review --pr 12": "needs an open tracker pull request on GitHub: "
    "tests/bot/test_review.py runs `tracker review --pr N` against the loopback GitHub",
    "tracker evaluate --labels models/training/stream-2026.jsonl.xz --blocks 6": "embeds the "
    "9,396 texts of the shipped labels and trains 36 models (tens of minutes on 2 cores); "
    "tests/classify/test_train_evaluate.py runs tracker evaluate on a small labelled file",
}
# The loopback services answer at once; tracker.yaml's politeness (3 s between requests to a
# host, retries with backoff) would only make the examples wait.
FAST_HTTP = 'http: {"delay": 0, "retries": 1, "backoff": 0, "timeout": 5}\n'


def _argv(example: str) -> list[str]:
    """The example's words after `tracker`: a trailing (note) and the shell's part left out."""
    words = shlex.split(re.sub(r"\s+\(.*\)$", "", example))
    for operator in (">", "|"):
        if operator in words:
            words = words[: words.index(operator)]
    assert words[0] == "tracker"
    return words[1:]


def _params() -> list[object]:
    out = []
    for _command, example in _help_examples():
        out.append(pytest.param(example, id=example))
    return out


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """arXiv (API and today's listing), dblp and OpenReview on loopback, none with a paper; no
    GitHub (the run and fetch examples are dry runs)."""
    with LoopbackServer() as server:
        categories = ArxivConfig().categories
        today = dt.datetime.now(dt.UTC).date()
        listing = listing_rss([], today, categories)
        server.route("/rss/" + "+".join(categories), Reply(body=listing, content_type=RSS_TYPE))
        server.route("/api/query", ArxivApi([]))
        server.route("/search/publ/api", DblpApi([]))
        server.route("/notes", OpenReviewApi([]))
        monkeypatch.setenv("TRACKER_ARXIV_RSS_URL", server.url("/rss"))
        monkeypatch.setenv("TRACKER_ARXIV_API_URL", server.url("/api/query"))
        monkeypatch.setenv("TRACKER_DBLP_API_URL", server.url("/search/publ/api"))
        monkeypatch.setenv("TRACKER_OPENREVIEW_API_URL", server.base_url)
        for var in ("TRACKER_CONFIG", "TRACKER_CACHE_DIR", "GITHUB_TOKEN", "TRACKER_GITHUB_TOKEN"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
        yield server


def _clone(to: Path) -> Path:
    """The files git tracks, as they are in the working tree, copied to `to`."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: cannot tell which files a clone has")
    for name in listed.decode().split("\0"):
        source = REPO / name
        if name and source.is_file():
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, to / name)
    return to


@pytest.mark.slow
@pytest.mark.parametrize("example", _params())
def test_every_help_example_runs_in_a_fresh_clone(
    example: str, services: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if example in NOT_RUN:
        pytest.skip(NOT_RUN[example])
    argv = _argv(example)
    if argv[0] == "init":
        # `tracker init` is run at the root of an awesome-list repository, not in tracker's.
        root = tmp_path / "survey"
        root.mkdir()
        shutil.copy(FIXTURES / "adopt" / "README.md", root / "README.md")
    else:
        root = _clone(tmp_path / "clone")
        with (root / "tracker.yaml").open("a", encoding="utf-8") as config:
            config.write(FAST_HTTP)
    monkeypatch.chdir(root)

    result = run_cli(*argv)

    assert result.exit_code == 0, f"{example}\n{result.stderr[-3000:]}"


def test_only_the_named_examples_are_left_unrun() -> None:
    examples = {example for _command, example in _help_examples()}
    assert set(NOT_RUN) <= examples

"""`tracker init` in a survey repository whose README is an awesome list in another format,
then `tracker train` and `tracker run --dry-run` against loopback arXiv and GitHub: the README
outside tracker's markers stays byte for byte what the maintainer wrote."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.bot.conftest import NIGHT, TOKEN, ArxivServer, stream_papers, stream_rows
from tests.conftest import FIXTURES, run_cli
from tests.servers.github import GitHubServer
from tracker.catalog.awesome import escape_markdown
from tracker.catalog.render import MARK_END, MARK_START
from tracker.catalog.store import Catalog
from tracker.cli import init as init_cli
from tracker.cli.bot import DRY_RUN_HEADER

LIST = FIXTURES / "adopt" / "README.md"
# Where the list part of the fixture starts and ends (its first section and last paper).
FIRST_SECTION = "## ⚔ Attacks\n"
LAST_PAPER_END = "- USENIX Security 2026\n"


def _outside(text: str) -> tuple[str, str]:
    before, _, rest = text.partition(MARK_START)
    _, _, after = rest.partition(MARK_END)
    return before, after


LISTED = FIXTURES / "adopt" / "arxiv.jsonl"  # what arXiv has for the list's 18 papers


@pytest.fixture
def survey(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arxiv: ArxivServer) -> Path:
    """A survey repository holding the list, with arXiv on a loopback server."""
    root = tmp_path / "awesome-model-reuse-security"
    (root / ".git").mkdir(parents=True)  # the repository's root, for repository paths
    shutil.copy(LIST, root / "README.md")
    monkeypatch.chdir(root)
    for var in ("TRACKER_CONFIG", "GITHUB_TOKEN", "TRACKER_GITHUB_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TRACKER_ARXIV_RSS_URL", arxiv.rss_url)
    monkeypatch.setenv("TRACKER_ARXIV_API_URL", arxiv.api_url)
    listed = stream_papers(stream_rows(LISTED))
    arxiv.serve(stream_papers(), NIGHT, api=[*listed, *stream_papers()])
    return root


def test_init_reads_the_list_and_touches_nothing_outside_its_markers(survey: Path) -> None:
    original = LIST.read_bytes().decode("utf-8")

    result = run_cli("init")

    assert result.exit_code == 0, result.stderr
    text = (survey / "README.md").read_bytes().decode("utf-8")
    before, after = _outside(text)
    head, _, rest = original.partition(FIRST_SECTION)
    _, _, tail = rest.partition(LAST_PAPER_END)
    assert before == head
    assert after == "\n" + tail
    assert "Read 18 papers in 6 sections from README.md (lines 17-53)." in result.stderr
    assert "Looked up 18 of 18 arXiv papers for their abstracts and authors." in result.stderr
    assert "Allow GitHub Actions to create and approve pull requests" in result.stdout
    catalog = Catalog.load(survey / "catalog")
    sections = {e.section for e in catalog.entries}
    assert sections == {
        "attacks.fine-tuning-and-transfer.general",
        "attacks.fine-tuning-and-transfer.membership-inference",
        "attacks.deployment",
        "defenses.general",
        "defenses.backdoor-detection",
        "defenses.model-protection",
    }
    nested = catalog.taxonomy["attacks.fine-tuning-and-transfer.membership-inference"]
    assert nested.heading_zh == "Membership Inference"
    kinguard = next(e.paper for e in catalog.entries if e.paper.arxiv_id == "2601.12986")
    assert (kinguard.venue, kinguard.year) == ("ICASSP", 2026)
    assert kinguard.abstract.startswith("Protecting the intellectual property")
    assert kinguard.authors
    bold = next(e.paper for e in catalog.entries if e.paper.arxiv_id == "2601.14340")
    assert bold.title == "Turn-Based Structural Triggers: Prompt-Free Backdoors in Multi-Turn LLMs"
    # The rendered list is what `tracker render` makes of the catalog: nothing left to do.
    assert run_cli("render", "--check").exit_code == 0
    workflow = (survey / init_cli.WORKFLOW).read_text("utf-8")
    assert f"- uses: {init_cli.ACTION_REF}" in workflow
    assert len([ln for ln in workflow.splitlines() if ln.strip() and not ln.startswith("#")]) <= 14

    again = run_cli("init")
    assert again.exit_code == 2 and "tracker is already set up here" in again.stderr


@pytest.mark.slow
def test_init_train_and_a_dry_run_against_loopback_arxiv_and_github(
    survey: Path, arxiv: ArxivServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = LIST.read_bytes().decode("utf-8")
    assert run_cli("init").exit_code == 0

    trained = run_cli("train")

    assert trained.exit_code == 0, trained.stderr
    assert "How far to trust it (out of fold, 5 folds over 18 catalog papers and 2,000" in (
        trained.stderr
    )
    assert "Warning: only 18 catalog papers to learn from" in trained.stderr
    assert (survey / "models" / "manifest.json").is_file()

    files = {
        p.relative_to(survey).as_posix(): p.read_text("utf-8")
        for p in survey.rglob("*")
        if p.is_file()
        and ".git" not in p.parts
        and ".cache" not in p.parts
        and "models" not in p.parts
    }
    with GitHubServer(files=files, token=TOKEN) as github:
        monkeypatch.setenv("GITHUB_API_URL", github.api_url)
        monkeypatch.setenv("GITHUB_REPOSITORY", github.full_name)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)

        result = run_cli("run", "--dry-run", "--date", NIGHT.isoformat())

        assert result.exit_code == 0, result.stderr
        assert [r for r in github.requests() if r[0] != "GET"] == []

        # The real night on the loopback GitHub, then a maintainer's untick and `tracker
        # review`: the branch's README changes between the markers only, in both commits.
        published = run_cli("run", "--date", NIGHT.isoformat())
        assert published.exit_code == 0, published.stderr
        branch = f"tracker/{NIGHT.isoformat()}"
        readme = github.file_at(branch, "README.md") or ""
        assert _outside(readme) == _outside(github.file_at("main", "README.md") or "")
        assert github.file_at(branch, "catalog/README.md") is None
        first = re.search(r"- \[x\] \[(arXiv:[\d.]+)\]", github.pulls[0].body)
        assert first is not None
        github.tick(1, first.group(1), ticked=False)
        reviewed = run_cli("review", "--pr", "1")
        assert reviewed.exit_code == 0, reviewed.stderr
        after_review = github.file_at(branch, "README.md") or ""
        assert after_review != readme
        assert _outside(after_review) == _outside(readme)
        assert github.file_at(branch, "catalog/README.md") is None
    assert "Source arxiv-listing: 12 papers." in result.stderr
    text = (survey / "README.md").read_bytes().decode("utf-8")
    before, after = _outside(text)
    head, _, rest = original.partition(FIRST_SECTION)
    _, _, tail = rest.partition(LAST_PAPER_END)
    assert (before, after) == (head, "\n" + tail)
    # Whatever the young model proposed went into the catalog and the README's list.
    catalog = Catalog.load(survey / "catalog")
    added = [e for e in catalog.entries if e.added == NIGHT]
    if added:
        assert result.stdout.startswith(DRY_RUN_HEADER)
        inside = text.partition(MARK_START)[2].partition(MARK_END)[0]
        assert all(f"[{escape_markdown(e.paper.title)}]" in inside for e in added)
    else:
        assert "No new papers to propose." in result.stderr

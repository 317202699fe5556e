"""Shared test helpers: a scratch catalog directory and an in-process CLI runner."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED = FIXTURES / "survey-README.md"


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run `tracker ARGS` in-process; returns exit code, stdout and stderr separately."""
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch repository checkout: the real taxonomy and templates, no papers yet; the
    working directory is its root, so the default configuration points at it."""
    (tmp_path / "catalog").mkdir()
    shutil.copy(REPO / "catalog" / "taxonomy.yaml", tmp_path / "catalog" / "taxonomy.yaml")
    shutil.copytree(REPO / "catalog" / "templates", tmp_path / "catalog" / "templates")
    monkeypatch.chdir(tmp_path)
    for var in ("TRACKER_CONFIG", "GITHUB_TOKEN", "TRACKER_GITHUB_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture
def seeded(workdir: Path) -> Path:
    """`workdir` with the committed catalog (the imported seed) in place."""
    shutil.copy(REPO / "catalog" / "papers.yaml", workdir / "catalog" / "papers.yaml")
    return workdir

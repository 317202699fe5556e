"""The classifier's test harness: a scratch repository with the real catalog and a few dozen
real labelled rows (tests/fixtures/classify/labels.jsonl, four nights of the 2026 stream), one
embedding cache for the whole session, and a tiny model trained once with `tracker train`."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, Result, run_cli

LABELS = FIXTURES / "classify" / "labels.jsonl"


@dataclass
class Repo:
    """A scratch checkout: catalog/, models/, tracker.yaml; `tracker(...)` runs a command."""

    root: Path
    config: Path

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def catalog(self) -> Path:
        return self.root / "catalog"

    def tracker(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return run_cli("--config", str(self.config), *args, env=env)


def make_repo(
    root: Path, cache: Path, labels: list[Path] | None = None, **classifier: object
) -> Repo:
    (root / "catalog").mkdir(parents=True)
    for name in ("taxonomy.yaml", "papers.yaml"):
        shutil.copy(REPO / "catalog" / name, root / "catalog" / name)
    settings: dict[str, object] = {
        "training_labels": [str(p) for p in (labels if labels is not None else [LABELS])],
        **classifier,
    }
    config = {
        "catalog_dir": "catalog",
        "models_dir": "models",
        "cache_dir": str(cache),
        "classifier": settings,
        "http": {"delay": 0, "retries": 1, "backoff": 0},
    }
    path = root / "tracker.yaml"
    path.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in config.items()), "utf-8")
    return Repo(root, path)


# Fixtures that train a classifier or embed with the real model: a test using one is slow
# (seconds, and the session's first one trains for tens of seconds), so `pytest -m "not slow"`
# leaves it out. CI runs everything.
SLOW_FIXTURES = frozenset({"cache_dir", "trained", "repo", "model"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedding cache for the session: each text is embedded once."""
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Repo:
    """A repository with a model trained on the catalog and the labelled fixture."""
    repo = make_repo(tmp_path_factory.mktemp("trained"), cache_dir)
    result = repo.tracker("train")
    assert result.exit_code == 0, result.stderr
    return repo


@pytest.fixture
def repo(trained: Repo, tmp_path: Path) -> Repo:
    """A private copy of the trained repository, for tests that change it."""
    root = tmp_path / "repo"
    shutil.copytree(trained.root, root)
    return Repo(root, root / "tracker.yaml")


def repin_model(models: Path) -> None:
    """Re-sign a model folder after a test changed its arrays on purpose: the arrays' hash in
    the manifest, the manifest's pin in classifier.json, and classifier.json's hash (what
    `tracker train` writes), so that only the intended damage is left."""
    from tracker.classify.model import (
        ARRAYS_FILE,
        MANIFEST_PIN,
        SETTINGS_FILE,
        canonical_json,
        manifest_pin,
        sha256_bytes,
    )

    manifest = json.loads((models / "manifest.json").read_text("utf-8"))
    manifest["artefacts"][ARRAYS_FILE] = sha256_bytes((models / ARRAYS_FILE).read_bytes())
    settings = json.loads((models / SETTINGS_FILE).read_text("utf-8"))
    settings[MANIFEST_PIN] = manifest_pin(manifest)
    data = (canonical_json(settings) + "\n").encode()
    manifest["artefacts"][SETTINGS_FILE] = sha256_bytes(data)
    (models / SETTINGS_FILE).write_bytes(data)
    (models / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")

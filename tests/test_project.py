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


def _pyproject() -> dict:  # type: ignore[type-arg]
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))


def test_the_distribution_has_a_free_name_an_spdx_license_and_a_license_file() -> None:
    project = _pyproject()["project"]
    assert project["name"] == "survey-tracker"  # `tracker` is taken on the package index
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (REPO / "LICENSE").read_text("utf-8").startswith("MIT License")


def test_lint_tools_have_upper_bounds_so_a_release_cannot_turn_ci_red() -> None:
    test_extra = _pyproject()["project"]["optional-dependencies"]["test"]
    for tool in ("ruff", "mypy"):
        (spec,) = [s for s in test_extra if re.match(rf"{tool}\b", s)]
        assert "<" in spec, spec


def test_ci_tests_every_supported_python() -> None:
    from ruamel.yaml import YAML

    ci = YAML(typ="safe").load((REPO / ".github" / "workflows" / "ci.yml").read_text("utf-8"))
    assert ci["jobs"]["test"]["strategy"]["matrix"]["python-version"] == ["3.11", "3.12", "3.13"]

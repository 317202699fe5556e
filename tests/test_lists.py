"""Rendered lists where tracker.yaml's `lists:` says: between markers in a README, every other
byte left alone."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli
from tracker.catalog.render import MARK_END, MARK_START

README = (
    "# Awesome model security\n\nIntro *kept* as is.  \r\n\n"
    f"{MARK_START}\nstale text\n{MARK_END}\n\n## Contributing\n\nPRs welcome.\n"
)


def _configure(root: Path, style: str = "link") -> None:
    (root / "tracker.yaml").write_text(
        f"lists:\n  - path: README.md\n    headings: en\n    style: {style}\n", "utf-8"
    )


def test_render_writes_the_list_between_the_markers_and_nothing_else(seeded: Path) -> None:
    _configure(seeded)
    (seeded / "README.md").write_text(README, "utf-8", newline="")

    result = run_cli("render")

    assert result.exit_code == 0, result.stderr
    text = (seeded / "README.md").read_bytes().decode("utf-8")
    before, _, rest = text.partition(MARK_START)
    inside, _, after = rest.partition(MARK_END)
    assert before + MARK_START == README.split(MARK_START)[0] + MARK_START
    assert MARK_END + after == MARK_END + README.split(MARK_END)[1]
    assert "\n## Attacks in the model design stage\n" in inside
    assert (
        "- [Badpre: Task-agnostic backdoor attacks to pre-trained nlp foundation models]"
        "(https://arxiv.org/abs/2110.02467) - arXiv 2021 "
        "[[code]](https://github.com/kangjie-chen/BadPre)\n"
    ) in inside
    assert not (seeded / "catalog" / "README.md").exists()
    assert run_cli("render", "--check").exit_code == 0


def test_a_readme_without_the_markers_is_an_error_that_says_where_they_go(seeded: Path) -> None:
    _configure(seeded)
    (seeded / "README.md").write_text("# A list\n", "utf-8")

    result = run_cli("render")

    assert result.exit_code == 2  # a catalog error: nothing written
    assert result.stderr.startswith(
        f"Error: {seeded / 'README.md'} needs the markers {MARK_START} and {MARK_END}"
    )
    assert (seeded / "README.md").read_text("utf-8") == "# A list\n"


def test_an_unknown_item_style_is_a_configuration_error_with_its_line(seeded: Path) -> None:
    _configure(seeded, style="fancy")

    result = run_cli("render")

    assert result.exit_code == 2
    assert "tracker.yaml:4: 'lists[0].style' must be one of numbered, link, not 'fancy'" in (
        result.stderr
    )

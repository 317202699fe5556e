"""The catalog under faults (issue 11, cases 3, 5, 8, 9, 10, 15, 17): alias bombs, a second
writer, SIGKILL between renames, symlinks and file modes, empty and truncated files.

Kills are real: `tracker` runs in a child process that is SIGKILLed just before a chosen
rename (tests/faults.py); what is left on disk is what the next command must cope with.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from tests.faults import KillPoint, tracker_killed_at, was_killed
from tracker.catalog import Catalog
from tracker.catalog.lock import LOCK_FILE, WAITING
from tracker.catalog.store import EMPTY_PAPERS, PAPERS_HEADER, TRUNCATED_PAPERS
from tracker.fsutil import JOURNAL
from tracker.yamlio import NO_ALIASES

# One paper that is not in the seed, in the seed's list format.
NEW_LIST = textwrap.dedent(
    """\
    ## 模型设计阶段的攻击
    ### 下游任务相关的攻击

    1. A Paper Nobody Has Catalogued Yet. arXiv 2026. [\\[pdf\\]](https://arxiv.org/abs/2603.00001)
    """
)
NEW_TITLE = "A Paper Nobody Has Catalogued Yet"


def _temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp"))


def _rendered(root: Path) -> None:
    result = run_cli("render")
    assert result.exit_code == 0, result.stderr


# --- 3 and 15: alias bombs ---------------------------------------------------------------------


def _bombed_entry(key: str, levels: int) -> str:
    """An entry whose `key` holds an alias that expands to 9**levels values; the anchors sit
    in an unknown field of the same entry."""
    lines = ["- title: 'A title'", "  section: attack.usage", "  venue: arXiv"]
    lines.append("  bomb: [&l0 [x, x, x, x, x, x, x, x, x],")
    for i in range(1, levels + 1):
        lines.append(f"     &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "],")
    lines.append("    ]")
    values = {"year": "2024", "links": "{pdf: 'https://arxiv.org/abs/2401.00001'}"}
    values[key] = f"*l{levels}"
    lines += [f"  {k}: {v}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "key", ["year", "arxiv", "doi", "added", "confidence", "title", "authors", "links"]
)
def test_an_alias_under_any_key_is_refused_at_its_line_with_a_short_message(
    seeded: Path, key: str
) -> None:
    """Case 3 (under `year:` and `arxiv:`) and 15 (other keys), with a small bomb (6,561
    values): the message used to print the expanded value."""
    text = PAPERS_HEADER + _bombed_entry(key, 3)
    (seeded / "catalog" / "papers.yaml").write_text(text, "utf-8")
    anchor_line = text[: text.index("&l0")].count("\n") + 1

    check = run_cli("check")
    render = run_cli("render")

    assert check.exit_code == 1
    assert check.stdout == f"catalog/papers.yaml:{anchor_line}: not valid YAML: {NO_ALIASES}\n"
    assert render.exit_code == 2
    assert NO_ALIASES in render.stderr and len(render.stderr) < 400


_LOAD = {
    "papers.yaml": "from tracker.catalog import Catalog; Catalog.load(Path('catalog'))",
    "rejected.yaml": "from tracker.catalog.rejected import load_rejections as f; f(Path('catalog'))",
    "taxonomy.yaml": "from tracker.catalog import load_taxonomy as f; f(Path('catalog/taxonomy.yaml'))",
    "tracker.yaml": "from tracker.config import load_config as f; f(Path('tracker.yaml'))",
}


@pytest.mark.parametrize("name", list(_LOAD))
def test_an_exponential_alias_bomb_never_expands_in_any_yaml_file(seeded: Path, name: str) -> None:
    """The reported hang (memory 65 -> 312 MB in 30 s under `year:`), 9**12 values, in every
    YAML file tracker reads; in a child process with a time limit, so that a regression fails
    instead of hanging the suite."""
    bomb = _bombed_entry("year", 11)
    if name == "tracker.yaml":
        bomb = "http:\n" + "\n".join("  " + line for line in bomb.splitlines()[3:]) + "\n"
    path = seeded / name if name == "tracker.yaml" else seeded / "catalog" / name
    path.write_text(bomb, "utf-8")
    code = f"from pathlib import Path\n{_LOAD[name]}"

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=seeded,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.rstrip().splitlines()[-1].endswith(f"not valid YAML: {NO_ALIASES}")


# --- 10: an empty or truncated papers.yaml -----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="0-bytes"),
        pytest.param("\n\n", id="blank"),
        pytest.param(PAPERS_HEADER, id="header-only"),
    ],
)
def test_an_empty_papers_yaml_is_an_error_and_render_keeps_the_lists(
    seeded: Path, text: str
) -> None:
    _rendered(seeded)
    before = (seeded / "catalog" / "README.md").read_text("utf-8")
    (seeded / "catalog" / "papers.yaml").write_text(text, "utf-8")

    render = run_cli("render")
    check = run_cli("check")

    assert render.exit_code == 2
    assert f"catalog/papers.yaml:1: {EMPTY_PAPERS}" in render.stderr
    assert (seeded / "catalog" / "README.md").read_text("utf-8") == before
    assert check.exit_code == 1
    assert check.stdout == f"catalog/papers.yaml:1: {EMPTY_PAPERS}\n"


def test_an_explicit_empty_list_is_an_empty_catalog(seeded: Path) -> None:
    (seeded / "catalog" / "papers.yaml").write_text(PAPERS_HEADER + "[]\n", "utf-8")

    assert run_cli("check").exit_code == 0
    assert run_cli("render").exit_code == 0
    assert Catalog.load(seeded / "catalog").entries == []


def test_a_papers_yaml_cut_in_the_middle_of_a_line_is_an_error(seeded: Path) -> None:
    path = seeded / "catalog" / "papers.yaml"
    text = path.read_text("utf-8")
    cut = text[: text.rindex("https://") + 12]  # inside the last entry's last URL
    path.write_text(cut, "utf-8")

    result = run_cli("check")

    assert result.exit_code == 1
    assert f"catalog/papers.yaml:{cut.count(chr(10)) + 1}: {TRUNCATED_PAPERS}" in result.stdout


# --- 9: symlinks and file modes ----------------------------------------------------------------


def test_a_symlinked_papers_yaml_stays_a_link_and_its_target_is_written(seeded: Path) -> None:
    data = seeded / "data"
    data.mkdir()
    (seeded / "catalog" / "papers.yaml").rename(data / "papers.yaml")
    (seeded / "catalog" / "papers.yaml").symlink_to("../data/papers.yaml")
    (seeded / "new.md").write_text(NEW_LIST, "utf-8")

    result = run_cli("import", "new.md")

    assert result.exit_code == 0, result.stderr
    link = seeded / "catalog" / "papers.yaml"
    assert link.is_symlink() and os.readlink(link) == "../data/papers.yaml"
    assert NEW_TITLE in (data / "papers.yaml").read_text("utf-8")
    assert _temp_files(seeded) == []


def test_writes_keep_each_files_mode_and_new_files_get_the_umask(seeded: Path) -> None:
    _rendered(seeded)
    catalog = seeded / "catalog"
    (catalog / "papers.yaml").chmod(0o664)
    (catalog / "README.md").chmod(0o640)
    (catalog / "README.en.md").unlink()
    (seeded / "new.md").write_text(NEW_LIST, "utf-8")
    umask = os.umask(0o022)
    try:
        assert run_cli("import", "new.md").exit_code == 0
        assert run_cli("render").exit_code == 0
    finally:
        os.umask(umask)

    def mode(name: str) -> int:
        return stat.S_IMODE((catalog / name).stat().st_mode)

    assert mode("papers.yaml") == 0o664
    assert mode("README.md") == 0o640
    assert mode("README.en.md") == 0o644


# --- 8 and 17: SIGKILL between renames ---------------------------------------------------------


def test_render_killed_between_its_two_renames_leaves_a_catalog_the_next_command_completes(
    seeded: Path,
) -> None:
    _rendered(seeded)
    path = seeded / "catalog" / "papers.yaml"
    path.write_text(path.read_text("utf-8").replace("Weight Poisoning", "Weight Poisoning (v2)"))

    killed = tracker_killed_at(KillPoint.before_rename_onto("README.en.md"), ["render"], cwd=seeded)

    assert was_killed(killed), killed.stderr
    assert run_cli("render", "--check").exit_code == 0  # a reader finished the write
    assert "Weight Poisoning (v2)" in (seeded / "catalog" / "README.en.md").read_text("utf-8")
    assert _temp_files(seeded) == []
    assert not (seeded / "catalog" / JOURNAL).exists()


@pytest.mark.parametrize(
    ("point", "imported"),
    [
        pytest.param(KillPoint.before_opening(".papers.yaml.*"), False, id="staging"),
        pytest.param(KillPoint.before_rename_onto(JOURNAL), False, id="before-commit"),
        pytest.param(KillPoint.before_rename_onto("papers.yaml"), True, id="after-commit"),
        pytest.param(KillPoint.before_rename_onto("intro.zh.md"), True, id="between-renames"),
    ],
)
def test_an_import_killed_anywhere_is_all_or_nothing_and_leaves_no_temporary_file(
    seeded: Path, point: KillPoint, imported: bool
) -> None:
    """Case 17: temporary files left by a killed `tracker import` (here with a new intro
    template, so that it writes two files)."""
    (seeded / "catalog" / "templates" / "intro.zh.md").unlink()
    (seeded / "new.md").write_text("Intro text.\n\n" + NEW_LIST, "utf-8")
    before = (seeded / "catalog" / "papers.yaml").read_text("utf-8")

    killed = tracker_killed_at(point, ["import", "new.md"], cwd=seeded)

    assert was_killed(killed), killed.stderr
    check = run_cli("check")  # any command that reads the catalog settles it
    assert check.exit_code == 0, check.stdout
    papers = (seeded / "catalog" / "papers.yaml").read_text("utf-8")
    template = seeded / "catalog" / "templates" / "intro.zh.md"
    if imported:
        assert NEW_TITLE in papers and template.read_text("utf-8") == "Intro text.\n"
    else:
        assert papers == before and not template.exists()
    assert _temp_files(seeded) == []
    assert not (seeded / "catalog" / JOURNAL).exists()


def test_temporary_files_of_an_older_tracker_are_removed_by_the_next_writer(seeded: Path) -> None:
    """What the reported SIGKILL left: `.README*.tmp` beside stale lists."""
    stale = seeded / "catalog" / ".README.md.k3j_x9qa.tmp"
    stale.write_text("half a list", "utf-8")

    assert run_cli("render").exit_code == 0

    assert not stale.exists()


# --- 5: two writers at once ---------------------------------------------------------------------

_HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
os.write(fd, f"{os.getpid()}\\n".encode())
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _hold_lock(seeded: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(seeded / "catalog" / LOCK_FILE), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    return holder


def test_a_writer_waits_for_another_process_and_then_reads_what_it_wrote(seeded: Path) -> None:
    holder = _hold_lock(seeded, 1.5)
    try:
        started = time.monotonic()
        result = run_cli("render")
        waited = time.monotonic() - started
    finally:
        holder.wait()

    assert result.exit_code == 0, result.stderr
    assert waited >= 1.0
    assert WAITING.format(pid=holder.pid, folder=seeded / "catalog") in result.stderr


def test_a_writer_that_cannot_get_the_catalog_fails_naming_the_holder(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.catalog import lock

    monkeypatch.setattr(lock, "LOCK_WAIT", 0.5)
    (seeded / "new.md").write_text(NEW_LIST, "utf-8")
    before = (seeded / "catalog" / "papers.yaml").read_text("utf-8")
    holder = _hold_lock(seeded, 5)
    try:
        result = run_cli("import", "new.md")
    finally:
        holder.kill()
        holder.wait()

    assert result.exit_code == 2
    assert f"is in use by another tracker process (pid {holder.pid}) for more than 0 s" in (
        result.stderr
    )
    assert (seeded / "catalog" / "papers.yaml").read_text("utf-8") == before

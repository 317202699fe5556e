"""The 17 hostile-input and fault cases of issue 11, run end to end, as a table.

    python -m benchmarks.chaos            # every case (about two minutes on 2 cores)
    python -m benchmarks.chaos 4 8 17     # some of them

Each case is played by its regression scenarios: the real `tracker` command line or pipeline
against the loopback arXiv and GitHub servers in tests/servers/, real catalog files, and real
child processes SIGKILLed at an exact rename (tests/faults.py). Nothing is patched. The table
says, per case, what tracker must do and what it did: `handled` when every scenario of the
case behaved as expected, else the scenarios that did not.
"""

from __future__ import annotations

import io
import os
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    number: int
    hostile: str
    expected: str
    scenarios: tuple[str, ...]  # pytest node ids, relative to the repository


_CF = "tests/test_catalog_faults.py::"
_DI = "tests/classify/test_damaged_inputs.py::"
CASES = (
    Case(
        1,
        "a title that fakes the PR's hidden block",
        "next night still knows the PR; no second PR",
        (
            "tests/bot/test_hidden_block.py::test_a_title_that_fakes_the_block_does_not_make_the_next_night_forget_the_pr",
            "tests/bot/test_hidden_block.py::test_a_wrecked_body_does_not_hide_what_the_branch_adds",
        ),
    ),
    Case(
        2,
        "slow-loris on the response headers",
        "the request is cut off at its deadline",
        (
            "tests/sources/test_source_http.py::test_a_slow_loris_on_the_headers_is_cut_off_at_the_deadline",
        ),
    ),
    Case(
        3,
        "alias bomb under year:/arxiv: in papers.yaml",
        "refused at its line in ms, short message",
        (
            _CF + "test_an_alias_under_any_key_is_refused_at_its_line_with_a_short_message[year]",
            _CF + "test_an_alias_under_any_key_is_refused_at_its_line_with_a_short_message[arxiv]",
            _CF + "test_an_exponential_alias_bomb_never_expands_in_any_yaml_file[papers.yaml]",
        ),
    ),
    Case(
        4,
        "ESC[2J, U+202E, BEL ... in a title",
        "none in PR, lists, papers.yaml, stdout",
        (
            "tests/bot/test_hostile_text.py::test_a_dry_run_prints_and_writes_no_control_or_bidi_character",
            "tests/bot/test_hostile_text.py::test_the_pull_request_holds_no_control_or_bidi_character",
            "tests/classify/test_hostile_title.py::test_classify_prints_no_control_or_bidi_character_from_a_title",
        ),
    ),
    Case(
        5,
        "two run --dry-run at once, two nights",
        "second waits; both nights kept",
        (
            "tests/bot/test_run_faults.py::test_two_dry_runs_at_once_for_different_nights_keep_both_nights",
            _CF + "test_a_writer_waits_for_another_process_and_then_reads_what_it_wrote",
            _CF + "test_a_writer_that_cannot_get_the_catalog_fails_naming_the_holder",
        ),
    ),
    Case(
        6,
        "cache row of wrong length / of NaNs",
        "a miss, re-embedded; NaN never decides",
        (
            _DI + "test_a_bad_cached_vector_is_a_miss_embedded_again_and_replaced[383-floats]",
            _DI + "test_a_bad_cached_vector_is_a_miss_embedded_again_and_replaced[nan]",
            _DI + "test_a_nan_row_in_the_cache_does_not_change_the_verdict",
            _DI + "test_a_model_whose_arrays_give_nan_is_an_error_not_a_silent_out_of_scope",
        ),
    ),
    Case(
        7,
        "schedule.timezone: Mars/Olympus_Mons",
        "file:line error at load, exit 2",
        ("tests/test_config.py::test_a_bad_schedule_timezone_is_a_file_line_error_at_load",),
    ),
    Case(
        8,
        "SIGKILL between papers.yaml and READMEs",
        "next command completes the write",
        (
            "tests/bot/test_run_faults.py::test_a_dry_run_killed_between_papers_yaml_and_the_lists_is_completed_by_the_next_command",
            _CF + "test_render_killed_between_its_two_renames_leaves_a_catalog_the_next_"
            "command_completes",
        ),
    ),
    Case(
        9,
        "symlinked papers.yaml; files at 0664",
        "link kept, target written; modes kept",
        (
            _CF + "test_a_symlinked_papers_yaml_stays_a_link_and_its_target_is_written",
            _CF + "test_writes_keep_each_files_mode_and_new_files_get_the_umask",
        ),
    ),
    Case(
        10,
        "0-byte / truncated papers.yaml",
        "an error; lists untouched; [] is empty",
        (
            _CF + "test_an_empty_papers_yaml_is_an_error_and_render_keeps_the_lists",
            _CF + "test_a_papers_yaml_cut_in_the_middle_of_a_line_is_an_error",
            _CF + "test_an_explicit_empty_list_is_an_empty_catalog",
        ),
    ),
    Case(
        11,
        "O&apos;Brien in a malformed listing",
        "whole names, or a warning naming it",
        (
            "tests/sources/test_source_listing.py::test_a_malformed_listing_still_gives_whole_author_names",
            "tests/sources/test_source_listing.py::test_an_undecodable_entity_in_the_authors_is_reported_not_split",
        ),
    ),
    Case(
        12,
        'manifest.json "rule" edited',
        "the model is refused",
        (_DI + "test_an_edited_manifest_field_is_refused",),
    ),
    Case(
        13,
        "unpinned installs next to a write token",
        "lock with hashes; no secret at install",
        (
            "tests/bot/test_workflow.py::test_the_nightly_installs_only_locked_packages_checked_by_hash",
            "tests/bot/test_workflow.py::test_no_token_or_secret_reaches_the_install_step",
        ),
    ),
    Case(
        14,
        "workflow-level write permissions",
        "job-level; App token 2 scopes; env",
        (
            "tests/bot/test_workflow.py::test_write_permissions_are_the_jobs_the_app_token_is_scoped_and_secrets_come_from_an_environment",
        ),
    ),
    Case(
        15,
        "alias bombs under other keys and files",
        "refused like case 3",
        (
            _CF + "test_an_alias_under_any_key_is_refused_at_its_line_with_a_short_message",
            _CF + "test_an_exponential_alias_bomb_never_expands_in_any_yaml_file",
        ),
    ),
    Case(
        16,
        "a 3-byte cached vector",
        "a miss, re-embedded",
        (_DI + "test_a_bad_cached_vector_is_a_miss_embedded_again_and_replaced[3-bytes]",),
    ),
    Case(
        17,
        "SIGKILL of import at 4 points",
        "all or nothing; no .tmp left",
        (
            _CF + "test_an_import_killed_anywhere_is_all_or_nothing_and_leaves_no_temporary_file",
            _CF + "test_temporary_files_of_an_older_tracker_are_removed_by_the_next_writer",
        ),
    ),
)


class _Outcomes:
    """A pytest plugin that records each scenario's outcome."""

    def __init__(self) -> None:
        self.by_node: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or report.outcome != "passed":
            if self.by_node.get(report.nodeid) in ("failed", "error"):
                return
            self.by_node[report.nodeid] = "error" if report.when != "call" else report.outcome


def _observed(case: Case, outcomes: dict[str, str]) -> tuple[str, bool]:
    ran = {
        node: outcome
        for node, outcome in outcomes.items()
        if any(node == s or node.startswith(s + "[") for s in case.scenarios)
    }
    missing = [s for s in case.scenarios if not any(n == s or n.startswith(s + "[") for n in ran)]
    bad = sorted(n.split("::")[-1] for n, o in ran.items() if o != "passed")
    if missing:
        return f"pending: {len(missing)} scenario(s) not on this checkout", False
    if bad:
        return "NOT handled: " + ", ".join(bad), False
    return f"handled ({len(ran)} scenario(s))", True


def main(argv: list[str]) -> int:
    import pytest

    wanted = {int(a) for a in argv} if argv else {c.number for c in CASES}
    cases = [c for c in CASES if c.number in wanted]
    nodes = sorted({s for c in cases for s in c.scenarios})
    os.chdir(REPO)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    plugin = _Outcomes()
    started = time.monotonic()
    log = io.StringIO()
    print(f"Running {len(nodes)} scenario groups of {len(cases)} cases ...", file=sys.stderr)
    with redirect_stdout(log), redirect_stderr(log):
        pytest.main(["-q", "-p", "no:cacheprovider", "-o", "addopts=", *nodes], plugins=[plugin])
    seconds = time.monotonic() - started
    rows = [(str(c.number), c.hostile, c.expected, *_observed(c, plugin.by_node)) for c in cases]
    head = ("case", "hostile input", "expected", "observed")
    widths = [max(len(r[i]) for r in [head, *(r[:4] for r in rows)]) for i in range(4)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row[:4], widths, strict=True)).rstrip())
    handled = sum(1 for r in rows if r[4])
    print(f"\n{handled} of {len(rows)} cases handled, in {seconds:.0f} s.")
    if handled != len(rows):
        print(log.getvalue()[-4000:], file=sys.stderr)
    return 0 if handled == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

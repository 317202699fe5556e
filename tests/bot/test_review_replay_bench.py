"""The review replay benchmark's harness (`python -m benchmarks.review_replay`) on two small
nights, with the label double as the classifier so that every figure is known in advance: the
real `tracker run` and `tracker review` on the loopback GitHub, the simulated maintainer's
clicks in the description."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from benchmarks import review_replay as bench
from benchmarks.replay_nights import Servers, write_config
from tests.bot.conftest import oracle, stream_rows
from tests.conftest import REPO
from tracker.cli import bot as bot_cli


@pytest.mark.slow
def test_the_replay_runs_run_then_review_with_the_maintainers_clicks_and_scores_both_tiers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = stream_rows()  # six in scope, then six out
    first, second = dt.date(2026, 3, 16), dt.date(2026, 3, 17)
    nights = {
        first: [r for i, r in enumerate(rows) if i % 2 == 0],
        second: [{**r, "announced": second.isoformat()} for i, r in enumerate(rows) if i % 2],
    }
    # The classifier misses one in-scope paper of night one (relevance 0.28: a candidate) and
    # adds one out-of-scope paper of night two (relevance 0.60).
    missed, wrong = "2603.12946", "2603.12450"
    answers = [
        {**r, "in_scope": False, "section": None}
        if r["id"] == missed
        else {**r, "in_scope": True, "section": "部署阶段的攻击"}
        if r["id"] == wrong
        else r
        for r in rows
    ]
    monkeypatch.setattr(
        bot_cli, "load_classifier", lambda config: oracle(answers, candidate_threshold=0.25)
    )
    shutil.copytree(REPO / "catalog", tmp_path / "catalog")
    config = write_config(tmp_path, tmp_path / "models")
    servers = Servers(tmp_path / "catalog")

    with servers.running():
        one, two = bench.replay(nights, config, servers)

    assert (one.added, one.candidates, one.clicks) == ({"2603.12679", "2603.12989"}, {missed}, 1)
    assert (one.recall_added, one.recall_both, one.wrong_added) == (2 / 3, 1.0, set())
    assert one.accepted == {"2603.12679", "2603.12989", missed}  # the review ticked it in
    assert (two.wrong_added, two.candidates, two.clicks) == ({wrong}, set(), 1)
    assert two.accepted == {"2603.12681", "2603.13186", "2603.12799"}  # and unticked the wrong one
    gh = servers.github
    assert [(p.merged, len(gh.commits[p.merge_commit_sha or ""].parents)) for p in gh.pulls] == [
        (True, 2),
        (True, 2),
    ]
    reviews = [c for c in gh.commits.values() if c.message.startswith("Review of #")]
    assert len(reviews) == 2  # one review commit a night

    report = bench.table([one, two])
    assert "| 2026-03-16 | 6 (3) | 2 | 0 | 1 | 1 | 67% | 100% | 1 |" in report
    assert "| 2026-03-17 | 6 (3) | 4 | 1 | 0 | 0 | 100% | 100% | 1 |" in report
    assert "| **all 2** | 12 (6) | 6 | 1 | 1 | 1 | 83% | 100% | 2 |" in report
    assert "**0.5 wrong added papers** (most 1), **0.5 candidates** (most 1), **1.0 clicks**" in (
        report
    )
    assert "added + candidates 100% (at least 95%: met)" in report
    assert "wrong added a night 0.5 (at most 1.0: met)" in report


def test_an_aim_missed_says_by_how_much() -> None:
    assert bench.aim_line("candidates a night", 14.5, 12.0, "{:.1f}") == (
        "candidates a night 14.5 (at most 12.0: missed by 2.5)"
    )
    assert bench.aim_line("added + candidates", 0.9, 0.95, "{:.0%}", at_least=True) == (
        "added + candidates 90% (at least 95%: missed by 5%)"
    )


def test_the_stream_is_an_argument_without_a_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bench.main([])
    assert "the following arguments are required: data" in capsys.readouterr().err
    assert bench.main([str(REPO / "no-such-stream.jsonl")]) == 2

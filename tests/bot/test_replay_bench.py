"""The replay benchmark's harness (`python -m benchmarks.replay_nights`) on two small nights, with the
label double as the classifier so that every figure it reports is known in advance."""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.bot.conftest import oracle, stream_rows
from tests.conftest import REPO
from tracker.cli import bot as bot_cli


def _bench() -> ModuleType:
    path = REPO / "benchmarks" / "replay_nights.py"
    spec = importlib.util.spec_from_file_location("replay_nights", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["replay_nights"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_replay_runs_tracker_run_each_night_and_scores_it_against_the_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = _bench()
    rows = stream_rows()  # six in scope, then six out
    first, second = dt.date(2026, 3, 16), dt.date(2026, 3, 17)
    nights = {
        first: [r for i, r in enumerate(rows) if i % 2 == 0],
        second: [{**r, "announced": second.isoformat()} for i, r in enumerate(rows) if i % 2],
    }
    # The classifier agrees with the labels except on one out-of-scope paper of night two.
    flipped = str(rows[7]["id"])
    answers = [
        {**r, "in_scope": True, "section": "部署阶段的攻击"} if r["id"] == flipped else r
        for r in rows
    ]
    monkeypatch.setattr(bot_cli, "load_classifier", lambda config: oracle(answers))
    shutil.copytree(REPO / "catalog", tmp_path / "catalog")
    config = bench.write_config(tmp_path, tmp_path / "models")
    servers = bench.Servers(tmp_path / "catalog")

    with servers.running():
        records = bench.replay(nights, config, servers)

    one, two = records
    assert (one.fetched, len(one.proposed), len(one.right), len(one.wrong)) == (6, 3, 3, 0)
    assert (two.fetched, len(two.proposed), len(two.right), len(two.wrong)) == (6, 4, 3, 1)
    assert two.wrong == {flipped} and one.recall == two.recall == 1.0
    assert one.right_section == 3 and two.right_section == 3
    assert [p.state for p in servers.github.pulls] == ["closed", "closed"]  # both merged
    assert all(p.merged for p in servers.github.pulls)

    assert one.reached == one.labelled_in and not one.candidates

    report = bench.table(records)
    assert "| 2026-03-16 | 6 (3) |" in report and "| 6 | 3 | 3 | 0 | 0 | 0 | 3 | 0 |" in report
    assert "| **all 2** | 12 (6) |" in report and "| 7 | 6 | 1 | 0 | 0 | 6 | |" in report
    assert "**3.5 a night, 0.5 of them wrong** (worst night 1)" in report
    assert "in-scope papers added or candidates: **100% (6 of 6)**" in report

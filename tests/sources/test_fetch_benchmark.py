"""The fetch throughput benchmark (`python -m benchmarks.fetch_throughput`) runs on a small
stream file and checks that every paper came through intact."""

from __future__ import annotations

import pytest

from benchmarks import fetch_throughput
from tests.conftest import FIXTURES


def test_the_fetch_benchmark_runs_on_a_night_and_every_paper_comes_through(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = FIXTURES / "night-2026-03-16.jsonl"
    assert fetch_throughput.main(["--data", str(data), "--repeats", "2"]) == 0
    out = capsys.readouterr().out
    assert "check: 12/12 papers came through, 0 changed in transit" in out

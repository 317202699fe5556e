"""One "today" for every command, and schedule.cron checked when the configuration is read."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tracker.cli.bot import today_in
from tracker.config import Config, ScheduleConfig, load_config
from tracker.errors import ConfigError
from tracker.sources.arxiv_listing import arxiv_today
from tracker.sources.fetch import default_window


def test_today_is_the_utc_date_whatever_the_schedules_time_zone() -> None:
    # UTC+14: a different date from UTC's for ten hours of every day.
    far_east = dataclasses.replace(Config(), schedule=ScheduleConfig(timezone="Pacific/Kiritimati"))
    before = dt.datetime.now(dt.UTC).date()

    days = {today_in(far_east), today_in(Config()), arxiv_today()}

    assert days <= {before, dt.datetime.now(dt.UTC).date()} and len(days) == 1
    # fetch's default window ends on the same day as run's.
    assert default_window(Config(), None)[1] == arxiv_today()


def test_a_bad_cron_is_a_file_and_line_error_at_load(tmp_path: Path) -> None:
    config = tmp_path / "tracker.yaml"
    config.write_text("schedule:\n  timezone: UTC\n  cron: '61 4 * * 1-5'\n", "utf-8")

    with pytest.raises(ConfigError) as caught:
        load_config(config)

    assert caught.value.message.startswith(
        f"{config}:3: schedule.cron: '61 4 * * 1-5' is not a crontab expression"
    )


def test_a_command_that_reads_the_configuration_reports_the_bad_cron(workdir: Path) -> None:
    (workdir / "tracker.yaml").write_text("schedule:\n  cron: every night\n", "utf-8")

    result = run_cli("render", "--check")

    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"Error: {workdir / 'tracker.yaml'}:2: schedule.cron: 'every night' is not a crontab "
        "expression (expected 5 fields, got 2)"
    )

"""`tracker schedule`: crontab meaning, time zones, job options, and a clean stop on SIGTERM."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
from zoneinfo import ZoneInfo

import pytest

from tests.bot.conftest import NIGHT, Bot, expected_proposals, stream_papers
from tests.conftest import run_cli
from tracker.cli import bot as bot_cli
from tracker.config import ScheduleConfig
from tracker.errors import ConfigError
from tracker.schedule import JOB_ID, STOPPED, build_scheduler, cron_trigger, crontab_days, serve


def test_crontab_weekdays_keep_their_crontab_meaning() -> None:
    assert crontab_days("1-5") == "mon,tue,wed,thu,fri"
    assert crontab_days("0") == crontab_days("7") == "sun"
    assert crontab_days("5-7") == "fri,sat,sun"
    assert crontab_days("*/2") == "tue,thu,sat,sun"
    assert crontab_days("sat,sun") == "sat,sun"
    assert crontab_days("*") == "*"


def test_the_default_schedule_fires_on_weekday_mornings_in_its_time_zone() -> None:
    trigger = cron_trigger("30 4 * * 1-5", "Asia/Shanghai")
    friday = dt.datetime(2026, 3, 20, 5, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    fire = trigger.get_next_fire_time(None, friday)
    assert fire == dt.datetime(2026, 3, 23, 4, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert fire.weekday() == 0  # Monday, not Tuesday as a raw APScheduler 3 day number would be


def test_a_bad_cron_or_zone_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="not a crontab expression"):
        cron_trigger("30 4 * *", "UTC")
    with pytest.raises(ConfigError, match="unknown time zone"):
        cron_trigger("30 4 * * 1-5", "Mars/Olympus")


def test_the_job_coalesces_never_overlaps_and_has_a_grace_time() -> None:
    scheduler = build_scheduler(lambda: None, ScheduleConfig(misfire_grace_time=900))
    job = scheduler.get_job(JOB_ID)
    assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 900


def test_serve_logs_each_report_and_stops_cleanly_on_sigterm(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs = []

    class Report:
        def summary(self) -> list[str]:
            return ["2026-03-16: proposed 0."]

    def job() -> Report:
        runs.append(1)
        os.kill(os.getpid(), signal.SIGTERM)
        return Report()

    before = signal.getsignal(signal.SIGTERM)
    with caplog.at_level(logging.INFO):
        serve(job, ScheduleConfig(), run_now=True)

    assert runs == [1]
    assert signal.getsignal(signal.SIGTERM) == before
    messages = [r.getMessage() for r in caplog.records]
    assert "Received SIGTERM: stopping after the running job, if any." in messages
    assert messages[-1] == STOPPED


def test_schedule_once_runs_the_job_once(local_bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot_cli, "today_in", lambda config: NIGHT)
    local_bot.arxiv.serve(stream_papers(), NIGHT)
    expected = expected_proposals(local_bot.classifier, stream_papers())
    result = run_cli("schedule", "--once")
    assert result.exit_code == 0, result.stderr
    assert f"proposed {len(expected)} " in result.stderr

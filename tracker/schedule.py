"""`tracker schedule`: the nightly job as a long-running APScheduler daemon.

A `BlockingScheduler` runs the job on a `CronTrigger` built from `schedule.cron` in
`schedule.timezone`, with `coalesce` (a backlog of missed runs becomes one run),
`max_instances=1` (a run never overlaps the previous one) and `misfire_grace_time` (a run
missed by a sleeping machine still happens within that many seconds). Each run's report goes to
the log. SIGTERM and SIGINT stop the scheduler; a running job is finished first.

The cron expression has crontab's meaning. APScheduler 3.x numbers weekdays from Monday = 0,
while crontab counts from Sunday = 0 (so `1-5` would silently become Tuesday to Saturday);
`cron_trigger` rewrites the day-of-week field into names to keep crontab's meaning.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from tracker.config import ScheduleConfig
from tracker.errors import ConfigError, TrackerError
from tracker.text import plain

if TYPE_CHECKING:
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger(__name__)

JOB_ID = "tracker-run"
STARTED = "tracker schedule: next run at {next} ({cron}, {timezone}); stop with Ctrl-C or SIGTERM."
STOPPING = "Received {signal}: stopping after the running job, if any."
STOPPED = "tracker schedule stopped."
JOB_FAILED = "Run failed: {error}"
MISSED = "Run of {when} was missed by more than misfire_grace_time; the next one is on time."

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def crontab_days(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday, names allowed) as APScheduler day names.

    `1-5` -> `mon,tue,wed,thu,fri`; `*` stays `*`. Raises ValueError on a malformed field.
    """
    if field.strip() in ("*", "?"):
        return "*"
    days: set[int] = set()
    for item in field.lower().split(","):
        part, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"bad step in day-of-week field {field!r}")
        if part == "*":
            first, last = 0, 6
        elif "-" in part:
            a, b = part.split("-", 1)
            first, last = _day(a), _day(b)
            if last == 0 and b.strip() == "7":
                last = 7
        else:
            first = last = _day(part)
            if step_text:
                last = 6
        if last < first:
            raise ValueError(f"bad range in day-of-week field {field!r}")
        days.update(d % 7 for d in range(first, last + 1, step))
    # APScheduler's week starts on Monday: list the days in that order.
    return ",".join(_DAYS[d] for d in sorted(days, key=lambda d: (d + 6) % 7))


def _day(text: str) -> int:
    text = text.strip()
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text) % 7 if int(text) != 7 else 0
    if text[:3] in _DAYS:
        return _DAYS.index(text[:3])
    raise ValueError(f"bad day of week {text!r}")


def cron_trigger(expr: str, timezone: str) -> CronTrigger:
    """A CronTrigger for a five-field crontab expression in `timezone` (an IANA name)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    try:
        if len(fields) != 5:
            raise ValueError(f"expected 5 fields, got {len(fields)}")
        tz = ZoneInfo(timezone)
        minute, hour, day, month, dow = fields
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=crontab_days(dow),
            timezone=tz,
        )
    except ZoneInfoNotFoundError:
        raise ConfigError(
            f"schedule.timezone: unknown time zone {timezone!r}",
            hint="use an IANA name such as UTC or Asia/Shanghai",
        ) from None
    except ValueError as exc:
        raise ConfigError(
            f"schedule.cron: {expr!r} is not a crontab expression ({exc})",
            hint="five fields: minute hour day-of-month month day-of-week, e.g. '30 4 * * 1-5'",
        ) from None


def build_scheduler(
    job: Callable[[], Any], schedule: ScheduleConfig, *, run_now: bool = False
) -> BlockingScheduler:
    """The scheduler with the one job on the configured trigger (and at once with `run_now`)."""
    import datetime as dt

    from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
    from apscheduler.schedulers.blocking import BlockingScheduler

    trigger = cron_trigger(schedule.cron, schedule.timezone)
    scheduler = BlockingScheduler(timezone=trigger.timezone)
    options: dict[str, Any] = {}
    if run_now:
        options["next_run_time"] = dt.datetime.now(trigger.timezone)
    scheduler.add_job(
        job,
        trigger,
        id=JOB_ID,
        name="tracker run",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=schedule.misfire_grace_time,
        replace_existing=True,
        **options,
    )

    def on_missed(event: JobExecutionEvent) -> None:
        log.warning(MISSED.format(when=event.scheduled_run_time))

    scheduler.add_listener(on_missed, EVENT_JOB_MISSED)
    return scheduler


def logged(job: Callable[[], Any]) -> Callable[[], None]:
    """`job` for the scheduler: its report's summary to the log, its error as a log line (the
    daemon keeps running: tomorrow's run may well succeed)."""

    def run() -> None:
        try:
            report = job()
        except TrackerError as exc:
            log.error(plain(JOB_FAILED.format(error=exc)))
            return
        except Exception:
            log.exception(JOB_FAILED.format(error="unexpected error"))
            return
        for line in getattr(report, "summary", lambda: [])():
            log.info(plain(line))  # summaries quote titles and servers: tracker.text

    return run


def serve(job: Callable[[], Any], schedule: ScheduleConfig, *, run_now: bool = False) -> None:
    """Run `job` on the schedule (and once at start with `run_now`) until SIGTERM or SIGINT."""
    import datetime as dt

    scheduler = build_scheduler(logged(job), schedule, run_now=run_now)
    trigger = cron_trigger(schedule.cron, schedule.timezone)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info(STOPPING.format(signal=signal.Signals(signum).name))
        # Not in the handler itself: the signal may interrupt the main thread while it holds
        # the executor's lock (submitting a job), and shutdown needs that lock.
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": False}, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        upcoming = trigger.get_next_fire_time(None, dt.datetime.now(trigger.timezone))
        log.info(STARTED.format(next=upcoming, cron=schedule.cron, timezone=schedule.timezone))
        scheduler.start()  # blocks until a signal shuts the scheduler down
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info(STOPPED)

"""The bot's commands: `tracker run` (the nightly job) and `tracker schedule` (its daemon)."""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tracker.cli.app import State, main, report_error, say, warn
from tracker.config import Config
from tracker.errors import EXIT_FAILURE, EXIT_OK, TrackerError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tracker.http import HttpClient
    from tracker.paper import Paper
    from tracker.pipeline import Classifier, Fetch, RunReport
    from tracker.publish.review import Reviewer
    from tracker.sources.fetch import FetchProgress
    from tracker.venues import VenueLookups

NO_TOKEN = (
    "No GitHub token or repository configured (GITHUB_TOKEN or TRACKER_GITHUB_TOKEN, and "
    "GITHUB_REPOSITORY): dry run."
)
DRY_RUN_HEADER = "--- pull request (dry run) ---"
NO_OPEN_PULLS = "No open tracker pull requests."


def today_in(config: Config) -> dt.date:
    """The night the run belongs to: `arxiv_today()`, UTC, the same for every command (the
    configuration's time zone only schedules the daemon)."""
    from tracker.sources.arxiv_listing import arxiv_today

    del config
    return arxiv_today()


def load_classifier(config: Config) -> Classifier:
    """The trained classifier in `config.models_dir`, verified; a model older than the catalog
    is used, with a warning on stderr (`tracker train` refreshes it)."""
    from tracker.classify.model import load_classifier as load

    classifier = load(config)
    warn(classifier.notes)
    return classifier


def collaborators(
    config: Config, today: dt.date, http: HttpClient, progress: FetchProgress | None = None
) -> tuple[Fetch, Classifier, VenueLookups]:
    """The configured sources (as one fetch function), the trained classifier, loaded only
    when a night has something to classify, and the venue look-ups, all under the HTTP policy
    `http`. `today` is the run's date: the last day fetched, and the day an empty listing
    without a date of its own is judged by."""
    from tracker.pipeline import LazyClassifier, source_fetch
    from tracker.sources import build_sources
    from tracker.venues import build_venue_lookups

    sources = build_sources(config, http=http, today=lambda: today)
    classifier = LazyClassifier(lambda: load_classifier(config))
    lookups = build_venue_lookups(config, http)
    return source_fetch(config, sources, progress), classifier, lookups


def run_job(
    config: Config,
    *,
    since: dt.date | None = None,
    today: dt.date | None = None,
    dry_run: bool = False,
    write: bool = True,
    progress: FetchProgress | None = None,
) -> RunReport:
    """Wire the pipeline from `config` and run it once. Dry run when asked, or when no token or
    repository is configured; with both, even a dry run reads GitHub (open pull requests and
    rejections count)."""
    from tracker.catalog.render import outputs, outside_paths
    from tracker.http import HttpClient
    from tracker.pipeline import run
    from tracker.publish.github import GitHubClient
    from tracker.publish.publisher import Publisher, catalog_repo_path

    today = today or today_in(config)
    http = HttpClient.from_config(config.http)  # one policy for the sources and GitHub
    fetch, classifier, lookups = collaborators(config, today, http, progress)
    configured = bool(config.github_token) and bool(config.bot.repository)
    publisher = None
    if configured:
        client = GitHubClient.connect(config.bot, config.github_token, http=http)
        also = outside_paths(outputs(config), config.catalog_dir)
        publisher = Publisher(
            client, config.bot, catalog_repo_path(config.catalog_dir), also_read=also
        )
    report = run(
        config,
        fetch=fetch,
        classifier=classifier,
        today=today,
        since=since,
        publisher=publisher,
        dry_run=dry_run or not configured,
        write=write,
        venues=lookups,
        notify=lambda message: click.echo(message, err=True),
    )
    if not configured:
        report.notes.insert(0, NO_TOKEN)
    return report


def make_reviewer(config: Config) -> Reviewer:
    """A Reviewer on the configured repository: papers added by id are looked up through the
    arXiv API source, and classified (for their section) by the trained model, loaded only
    when such a paper needs it."""
    from tracker.catalog.render import outputs
    from tracker.errors import ConfigError
    from tracker.http import HttpClient
    from tracker.pipeline import LazyClassifier
    from tracker.publish.github import GitHubClient
    from tracker.publish.publisher import catalog_repo_path
    from tracker.publish.review import Reviewer
    from tracker.sources import build_sources
    from tracker.sources.arxiv_api import NAME as ARXIV_API
    from tracker.sources.arxiv_api import ArxivApiSource

    if not config.github_token or not config.bot.repository:
        raise ConfigError(
            "tracker review needs a GitHub token and repository",
            hint="set GITHUB_TOKEN (or TRACKER_GITHUB_TOKEN) and GITHUB_REPOSITORY",
        )
    http = HttpClient.from_config(config.http)
    client = GitHubClient.connect(config.bot, config.github_token, http=http)
    classifier = LazyClassifier(lambda: load_classifier(config))

    def lookup(ids: Sequence[str]) -> Sequence[Paper]:
        (source,) = build_sources(config, http=http, only=[ARXIV_API])
        assert isinstance(source, ArxivApiSource)
        return source.lookup(ids).papers

    return Reviewer(
        client,
        config.bot,
        catalog_repo_path(config.catalog_dir),
        lookup=lookup,
        classify=classifier.classify,
        lists=outputs(config),
        catalog_dir=config.catalog_dir,
    )


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


@main.command("run")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Fetch papers announced since DATE (default: the sources' look-back window).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Open no pull request: write the catalog changes to the working tree and print the "
    "pull request. The default when no token or repository is configured.",
)
@click.option(
    "--no-write",
    is_flag=True,
    help="With a dry run, write nothing: print the changes as a diff (implies --dry-run).",
)
@click.option(
    "--date",
    "today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Run as if today were DATE: the last day fetched, the branch name and the date "
    "added (for replays).",
)
@click.option(
    "--replay",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Replay a recorded arXiv daily listing (RSS or Atom) offline: it is served on "
    "127.0.0.1 to the real listing source, the run goes as of the listing's date with no other "
    "source and no GitHub, and nothing is written (implies --no-write, without the diff).",
)
@click.pass_obj
def run_cmd(
    state: State,
    since: dt.datetime | None,
    dry_run: bool,
    no_write: bool,
    today: dt.datetime | None,
    replay: Path | None,
) -> None:
    """Run the nightly job: fetch new papers, drop known ones, classify, and propose the
    relevant ones in one pull request (branch tracker/YYYY-MM-DD).

    Known papers are those in the catalog, in an open tracker pull request, or rejected
    (catalog/rejected.yaml and closed tracker pull requests). A rerun on the same day changes
    nothing.

    Exit status: 0 when the run worked (warnings are printed); 3 when some sources failed and
    the others' papers were used (the pull request is still opened); 1 when every source failed
    or the run failed; 2 for an invalid configuration or arguments.

    Offline, on the recorded night that ships with tracker: the second example.

    \b
    Example: tracker run --dry-run
    Example: tracker run --dry-run --replay examples/arxiv-2026-03-16.rss
    """
    if replay is not None:
        _replay(state.config, replay, _date(since))
    config = state.config
    dry_run = dry_run or no_write
    report = _run_with_progress(
        config, since=_date(since), today=_date(today), dry_run=dry_run, write=not no_write
    )
    _print_report(config, report, diff=no_write)


REPLAYING = "Replaying {file}: arXiv's listing of {date} ({papers} papers), served on {url}."
REPLAY_NOTE = "Replay: no other source, no GitHub, nothing written."


def _replay(config: Config, path: Path, since: dt.date | None) -> None:
    """`tracker run --replay FILE`: the run on a recorded night, offline; exits."""
    from tracker.sources.replay import ReplayServer, read_recording, replay_config

    recording = read_recording(path)
    with ReplayServer(recording) as server:
        click.echo(
            REPLAYING.format(
                file=path, date=recording.date, papers=recording.papers, url=server.base_url
            ),
            err=True,
        )
        replayed = replay_config(config, server.base_url)
        report = _run_with_progress(
            replayed, since=since, today=recording.date, dry_run=True, write=False
        )
    report.notes = [n for n in report.notes if n != NO_TOKEN]
    report.notes.insert(0, REPLAY_NOTE)
    _print_report(replayed, report, diff=False)


def _run_with_progress(
    config: Config,
    *,
    since: dt.date | None,
    today: dt.date | None,
    dry_run: bool,
    write: bool,
) -> RunReport:
    from tracker.cli.progress import ProgressDisplay
    from tracker.sources.fetch import source_names

    with ProgressDisplay(source_names(config)) as display:
        return run_job(
            config,
            since=since,
            today=today,
            dry_run=dry_run,
            write=write,
            progress=display.update,
        )


def _print_report(config: Config, report: RunReport, *, diff: bool) -> None:
    """The pull request (dry run) and the diff when asked on stdout, the summary on stderr;
    exits with the run's exit code."""
    if report.dry_run and report.proposals:
        click.echo(DRY_RUN_HEADER)
        say(report.title)
        click.echo("")
        say(report.body)
        if diff:
            say(_diff(config, report), nl=False)
    for line in report.summary():
        say(line, err=True)
    sys.exit(report.exit_code)


def _diff(config: Config, report: RunReport) -> str:
    """A unified diff of the catalog changes against the working tree."""
    out: list[str] = []
    for path, text in sorted(report.files.items()):
        local = report.paths[path]
        old = local.read_text(encoding="utf-8") if local.exists() else ""
        out.extend(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"a/{path}",
                tofile=f"b/{path}",
            )
        )
    return "".join(out)


@main.command()
@click.option("--once", is_flag=True, help="Run the job once now and exit with its exit code.")
@click.pass_obj
def schedule(state: State, once: bool) -> None:
    """Run the nightly job as a daemon, on `schedule.cron` in `schedule.timezone` (crontab
    syntax: '30 4 * * 1-5' is 04:30 Monday to Friday). Runs never overlap, missed runs
    coalesce into one, and each run's report goes to the log (stderr). Stops on SIGTERM or
    Ctrl-C after the running job.

    \b
    Example: tracker schedule --once
    """
    from tracker.schedule import serve

    config = state.config
    if once:
        report = run_job(config)
        for line in report.summary():
            say(line, err=True)
        sys.exit(report.exit_code)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("tracker")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        serve(lambda: run_job(config), config.schedule)
    finally:
        logger.removeHandler(handler)
    sys.exit(EXIT_OK)


@main.command()
@click.option(
    "--pr",
    "number",
    type=click.IntRange(min=1),
    help="Review only this pull request (default: every open tracker pull request).",
)
@click.pass_obj
def review(state: State, number: int | None) -> None:
    """Apply maintainers' decisions to open tracker pull requests: ticked and unticked boxes
    in the description, and `/tracker add ID [SECTION]`, `/tracker drop ID` and
    `/tracker move ID SECTION` comments from people with write access. Each review that changes
    papers.yaml is one new commit on the pull request's branch (papers.yaml and the rendered
    lists); each comment with commands gets a reaction, refused commands one reply saying why;
    then the description shows the new state. A rerun with nothing new changes nothing.

    Needs GITHUB_TOKEN (or TRACKER_GITHUB_TOKEN) and GITHUB_REPOSITORY. Exit status: 0 when
    every review worked, 1 when one failed (the others still ran).

    \b
    Example: tracker review --pr 12
    """
    from tracker.publish.github import RateLimitError

    config = state.config
    reviewer = make_reviewer(config)
    numbers = [number] if number else reviewer.open_pulls()
    failed = False
    for n in numbers:
        try:
            report = reviewer.review(n)
        except RateLimitError:
            raise  # every other pull request would meet it too
        except TrackerError as exc:
            report_error(exc)  # this pull request only: the others are still reviewed
            failed = True
            continue
        failed = failed or report.failed
        for line in report.summary():
            say(line, err=True)
    if not numbers:
        click.echo(NO_OPEN_PULLS, err=True)
    sys.exit(EXIT_FAILURE if failed else EXIT_OK)

"""Source commands: `tracker fetch`."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import click

from tracker.cli.app import State, main, say
from tracker.cli.progress import ProgressDisplay
from tracker.errors import EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL, InputError

_DATE = click.DateTime(formats=["%Y-%m-%d"])


@main.command()
@click.option("--since", type=_DATE, help="First day (YYYY-MM-DD). Default: until - lookback.")
@click.option("--until", type=_DATE, help="Last day (YYYY-MM-DD), included. Default: today.")
@click.option(
    "--source",
    "names",
    multiple=True,
    metavar="NAME",
    help="Run only this source (repeatable): arxiv-api, arxiv-listing, dblp, openreview or a "
    "feed's name.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the new papers, one JSON per line.")
@click.pass_obj
def fetch(
    state: State,
    since: dt.datetime | None,
    until: dt.datetime | None,
    names: tuple[str, ...],
    as_json: bool,
) -> None:
    """Fetch new papers from arXiv (API search and daily listing), the configured venues (dblp,
    OpenReview) and feeds.

    Merges the same paper found by several sources (a conference entry and its arXiv preprint
    become one record with the venue) and drops papers already known: in the catalog or
    rejected in catalog/rejected.yaml (tracker run also knows the open tracker pull requests,
    from GitHub). Prints a summary per source to stderr (status, fetched, new, errors, time)
    and, with --json, one paper per line to stdout. --since backfills missed days (a weekend,
    a failed night) through the API search; the daily listing only has the latest
    announcement.

    Exit status: 0 when every source worked (warnings are printed, e.g. an empty weekday
    listing), 3 when some sources failed and the others' papers were used, 1 when all failed,
    2 for an invalid configuration or arguments.

    \b
    Example: tracker fetch --since 2026-01-16 --json > new.jsonl

    \b
    Example: tracker fetch --source dblp --json   (new volumes of the venues in tracker.yaml)
    """
    from tracker.catalog.known import Known
    from tracker.sources import build_sources, default_window, fetch_all

    config = state.config
    default_since, until_day = default_window(config, until.date() if until else None)
    since_day = since.date() if since else default_since
    if since_day > until_day:
        raise InputError(f"--since {since_day} is after --until {until_day}")
    sources = build_sources(config, only=names or None)
    if config.catalog_dir.exists():
        known = Known.in_folder(config.catalog_dir)
    else:
        click.echo(f"No catalog at {config.catalog_dir}: no paper is dropped as known.", err=True)
        known = Known()

    with ProgressDisplay([s.name for s in sources]) as display:
        report = fetch_all(sources, since_day, until_day, known, display.update)

    if as_json:
        for paper in report.papers:
            click.echo(json.dumps(paper.to_dict(), ensure_ascii=False))
    _print_summary(report)
    sys.exit({"ok": EXIT_OK, "partial": EXIT_PARTIAL}.get(report.outcome, EXIT_FAILURE))


def _print_summary(report: Any) -> None:
    width = max([len("source")] + [len(s.name) for s in report.sources])
    click.echo(
        f"{'source':<{width}}  {'status':<7}  {'fetched':>7}  {'new':>5}  {'errors':>6}  "
        f"{'time':>7}",
        err=True,
    )
    for s in report.sources:
        click.echo(
            f"{s.name:<{width}}  {s.status.value:<7}  {s.fetched:>7}  {s.new:>5}  {s.errors:>6}  "
            f"{s.elapsed:>6.1f}s",
            err=True,
        )
        for message in s.messages:
            say(f"  {message}", err=True)  # source messages quote servers and feeds
    fetched = sum(s.fetched for s in report.sources)
    click.echo(
        f"{report.since}..{report.until}: {fetched} fetched, {report.merged} distinct after "
        f"merging, {report.known} already known, {len(report.papers)} new.",
        err=True,
    )
    if report.outcome == "partial":
        failed = ", ".join(s.name for s in report.failed)
        click.echo(f"Some sources failed ({failed}); the others' papers were used.", err=True)
    elif report.outcome == "failed":
        click.echo("Every source failed: nothing was fetched.", err=True)

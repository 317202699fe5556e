"""Catalog commands: `tracker import`, `tracker render`, `tracker check`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tracker.cli.app import State, main, say, warn
from tracker.errors import EXIT_FAILURE, EXIT_OK


def _notify(message: str) -> None:
    click.echo(message, err=True)


def _display(path: Path) -> str:
    """A path relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@main.command("import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--replace", is_flag=True, help="Make the catalog exactly this list (default: add new papers)."
)
@click.pass_obj
def import_cmd(state: State, path: Path, replace: bool) -> None:
    """Import an awesome list in the survey's Markdown format into the catalog.

    Reads `##`/`###` section headings (Chinese or English, as in taxonomy.yaml) and numbered
    items `N. Title. Venue Year. [\\[pdf\\]](url) [\\[code\\]](url)`. arXiv ids and DOIs are
    derived from the links. Papers already in the catalog are skipped. On any problem nothing
    is written.

    \b
    Example: tracker import tests/fixtures/survey-README.md   (the survey's own list)
    """
    from tracker.catalog.importer import import_list

    report = import_list(state.config.catalog_dir, path, replace=replace, notify=_notify)
    warn(report.notes)
    for entry in report.skipped:
        say(f"skipped (already in the catalog): {entry.paper.title}", err=True)
    written = ", ".join(_display(p) for p in report.written) or "nothing (no changes)"
    click.echo(
        f"Imported {len(report.added)} papers, skipped {len(report.skipped)}; wrote {written}.",
        err=True,
    )
    if report.added:
        click.echo("Run `tracker render` to update the rendered lists.", err=True)


@main.command()
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Write nothing; exit 1 and name each rendered list that is out of date.",
)
@click.pass_obj
def render(state: State, check_only: bool) -> None:
    """Render the catalog into the lists tracker.yaml's `lists:` names: between the markers
    <!-- tracker:start --> and <!-- tracker:end --> of a README (every other byte left alone),
    or a whole file under an intro template. Without `lists:`, catalog/README.md (Chinese
    headings) and README.en.md (English), under catalog/templates/intro.{zh,en}.md. Output is
    deterministic.

    \b
    Example: tracker render --check   (in the catalog's CI)
    """
    from tracker.catalog import Catalog
    from tracker.catalog.lock import catalog_lock
    from tracker.catalog.render import outputs, stale_files, write_rendered

    lists = outputs(state.config)
    if check_only:
        catalog = Catalog.load(state.config.catalog_dir)
        stale = stale_files(catalog, lists)
        for path in stale:
            click.echo(f"{_display(path)} is out of date: run `tracker render`", err=True)
        if stale:
            sys.exit(EXIT_FAILURE)
        click.echo("Rendered lists are up to date.", err=True)
        return
    with catalog_lock(state.config.catalog_dir, notify=_notify) as recovered:
        warn(recovered)
        catalog = Catalog.load(state.config.catalog_dir)
        written = write_rendered(catalog, lists)
    for path in written:
        click.echo(f"wrote {_display(path)}", err=True)
    click.echo(
        f"Rendered {len(catalog.entries)} papers in {len(catalog.taxonomy.leaves)} sections"
        + ("." if written else "; lists were already up to date."),
        err=True,
    )


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per problem.")
@click.pass_obj
def check(state: State, as_json: bool) -> None:
    """Validate the catalog: schema, section ids, required fields, URLs, identifiers and
    duplicate papers (same arXiv id in any version, same DOI, or the same normalised title).

    Prints each problem as `file:line: message`; exits 1 if there is any.

    \b
    Example: tracker check
    """
    from tracker.catalog.check import check_catalog

    problems = check_catalog(state.config.catalog_dir)
    for problem in problems:
        display = problem.__class__(_display(Path(problem.path)), problem.line, problem.message)
        if as_json:
            click.echo(
                json.dumps(
                    {"path": display.path, "line": display.line, "message": display.message},
                    ensure_ascii=False,
                )
            )
        else:
            say(str(display))
    click.echo(
        f"{len(problems)} problem(s) found." if problems else "The catalog is valid.", err=True
    )
    sys.exit(EXIT_FAILURE if problems else EXIT_OK)

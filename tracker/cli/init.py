"""`tracker init`: set tracker up inside an existing awesome-list survey repository."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tracker.cli.app import main
from tracker.errors import InputError

if TYPE_CHECKING:
    from tracker.catalog.store import Entry
    from tracker.config import Config

CONFIG = "tracker.yaml"
WORKFLOW = Path(".github/workflows/tracker.yml")
ACTION_REF = "OWNER/tracker@v0.1.0"  # where tracker's Action lives, with a version pin

CONFIG_TEXT = """\
# tracker's configuration, written by `tracker init` (see tracker's README for every setting).
# Paths are relative to this file.
catalog_dir: catalog
models_dir: models
cache_dir: .cache/tracker

# The list is rendered into {readme} between <!-- tracker:start --> and <!-- tracker:end -->;
# every other byte of the file is left alone.
lists:
  - path: {readme}
    headings: zh        # the list's own headings (taxonomy.yaml's heading_zh)
    style: {style}       # items: `- [Title](url) - Venue Year` (link) or `1. Title. Venue Year.`
    level: {level}            # Markdown heading level of the top sections

http:
  # arXiv asks automated clients to identify themselves: put your address here.
  user_agent: "tracker (+https://github.com/OWNER/REPO; mailto:you@example.org)"

arxiv:
  # The categories and search terms decide what is fetched each night (the classifier then
  # decides what is proposed). Edit both for your survey's topic.
  categories: [cs.CR, cs.LG, cs.CL, cs.CV, cs.SE, cs.AI]
  query_terms: {terms}
"""

WORKFLOW_TEXT = """\
# Opens at most one pull request a night with the papers tracker proposes.
name: tracker
on:
  schedule:
    - cron: "30 4 * * 1-5"   # 04:30 UTC, Monday to Friday: after arXiv's announcement
  workflow_dispatch:
permissions: {{}}
jobs:
  tracker:
    runs-on: ubuntu-latest
    permissions:
      contents: write
      pull-requests: write
    steps:
      - uses: {action}
"""

ACTIONS_SETTING = "Allow GitHub Actions to create and approve pull requests"
CHECKLIST = """\
Next steps:
  1. Review what was written: `git diff {readme}` (the list between the markers is now rendered
     from catalog/papers.yaml; every other byte is unchanged), catalog/taxonomy.yaml (write a
     real description for each section: the classifier learns from them) and {config}
     (user_agent with your address; arxiv.categories and query_terms for your topic).
  2. Train the classifier: `tracker train` (from the catalog and tracker's generic pool of
     out-of-scope arXiv papers; it says how far to trust the result), then commit models/.
  3. Try a night: `tracker run --dry-run`.
  4. On GitHub, Settings > Actions > General > Workflow permissions, tick
       "{setting}"
     (off by default: without it the nightly fails with 403).
  5. Optional, so that your CI runs on tracker's pull requests (those opened with the workflow's
     token trigger no workflow): a GitHub App on the repository, given to the Action as
     `with: {{app-id: ..., app-private-key: ...}}`; its token is asked for contents and
     pull-requests write only.
  6. Pin the Action's version in {workflow} ({action}: a release tag or its commit SHA) and
     commit everything.
"""


@main.command("init")
@click.option(
    "--readme",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("README.md"),
    show_default=True,
    help="The README holding the survey's list.",
)
@click.option(
    "--no-abstracts",
    is_flag=True,
    help="Do not look the listed arXiv papers up for their abstracts and authors (offline).",
)
def init_cmd(readme: Path, no_abstracts: bool) -> None:
    """Set tracker up in an existing awesome-list repository (run it at the repository's root).

    Reads the list in the README (headings of any depth; items such as `- [Title](url) -
    Venue Year`, `1. Title. Venue Year. [pdf](url)` or `**Title**, [Venue Year](url)`), writes
    tracker.yaml, catalog/taxonomy.yaml (stable section ids from the headings), catalog/
    papers.yaml and the nightly workflow, and puts the markers <!-- tracker:start --> and
    <!-- tracker:end --> around the list, which is rendered from the catalog from now on. Every
    other byte of the README is left alone. Refuses to overwrite an existing setup.

    \b
    Example: tracker init --readme README.md
    """
    from tracker.catalog.adopt import NoListError, read_survey, taxonomy_yaml, with_markers
    from tracker.catalog.render import render_output
    from tracker.catalog.store import Catalog, new_catalog_text
    from tracker.config import ListConfig, load_config
    from tracker.fsutil import write_files

    root = Path.cwd()
    existing = [p for p in (root / CONFIG, root / "catalog" / "papers.yaml") if p.exists()]
    if existing:
        raise InputError(
            f"tracker is already set up here ({', '.join(p.name for p in existing)} exists)",
            hint="edit the existing files, or remove them to start again",
        )
    try:
        text = readme.read_bytes().decode("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {readme}: {exc.strerror}") from None
    try:
        survey = read_survey(text)
    except NoListError as exc:
        raise InputError(f"{readme}: {exc}", hint="is this the README with the list?") from None
    entries, dropped = _unique(survey.entries())
    if not no_abstracts:
        entries = _with_abstracts(entries, load_config(None))
    terms = "[backdoor, poisoning, membership inference, model extraction, watermark]"
    catalog_dir = root / "catalog"
    files = {
        root / CONFIG: CONFIG_TEXT.format(
            readme=readme.as_posix(), style=survey.style, level=survey.level, terms=terms
        ),
        catalog_dir / "taxonomy.yaml": taxonomy_yaml(survey, readme.as_posix()),
        catalog_dir / "papers.yaml": new_catalog_text(entries),
        root / WORKFLOW: WORKFLOW_TEXT.format(action=ACTION_REF),
    }
    if (root / WORKFLOW).exists():
        del files[root / WORKFLOW]  # a workflow of the same name is the maintainer's
    marked = with_markers(text, survey)
    write_files({**files, root / readme: marked})
    # Rendered through the same code as `tracker render`, from the files just written.
    config = load_config(root / CONFIG)
    catalog = Catalog.load(config.catalog_dir)
    output = ListConfig(root / readme, "zh", None, survey.style, survey.level)
    write_files({root / readme: render_output(catalog, output, marked)})
    click.echo(
        f"Read {len(entries)} papers in {len(catalog.taxonomy.leaves)} sections from {readme} "
        f"(lines {survey.start + 1}-{survey.end + 1}).",
        err=True,
    )
    for line, item in survey.left_out:
        click.echo(
            f"  {readme}:{line}: not read as a paper, not in the rendered list: {item}", err=True
        )
    for entry in dropped:
        click.echo(
            f"  {readme}:{entry.line}: listed twice, kept once: {entry.paper.title}", err=True
        )
    written = [*sorted(files), root / readme]
    click.echo(f"Wrote {', '.join(p.relative_to(root).as_posix() for p in written)}.", err=True)
    click.echo(
        CHECKLIST.format(
            readme=readme.as_posix(),
            config=CONFIG,
            workflow=WORKFLOW.as_posix(),
            action=ACTION_REF,
            setting=ACTIONS_SETTING,
        )
    )


ABSTRACTS = "Looked up {found} of {ids} arXiv papers for their abstracts and authors."
NO_ABSTRACTS = (
    "Warning: the arXiv look-up failed ({error}): the catalog has titles only, which the "
    "classifier learns less from (nightly papers come with abstracts). Add `abstract:` to "
    "papers.yaml entries by hand, or run `tracker init` again later (remove tracker.yaml and "
    "catalog/ first)."
)


def _with_abstracts(entries: list[Entry], config: Config) -> list[Entry]:
    """The entries with the abstract and authors arXiv has for each paper with an arXiv id
    (one request per 100 ids); unchanged, with a warning, when arXiv cannot be reached."""
    import dataclasses

    from tracker.errors import TrackerError
    from tracker.http import HttpClient
    from tracker.sources.arxiv_api import ArxivApiSource

    ids = [e.paper.arxiv_id for e in entries if e.paper.arxiv_id]
    if not ids:
        return entries
    source = ArxivApiSource.from_config(HttpClient.from_config(config.http), config.arxiv)
    try:
        found = {p.arxiv_id: p for p in source.lookup(ids).papers}
    except TrackerError as exc:
        click.echo(NO_ABSTRACTS.format(error=exc), err=True)
        return entries
    click.echo(ABSTRACTS.format(found=len(found), ids=len(ids)), err=True)
    out = []
    for entry in entries:
        got = found.get(entry.paper.arxiv_id or "")
        if got is not None:
            paper = entry.paper.replace(
                abstract=got.abstract or entry.paper.abstract,
                authors=got.authors or entry.paper.authors,
            )
            entry = dataclasses.replace(entry, paper=paper)
        out.append(entry)
    return out


def _unique(entries: list[Entry]) -> tuple[list[Entry], list[Entry]]:
    """The entries without a second listing of the same paper, and the second listings."""
    from tracker.identity import PaperIndex

    index: PaperIndex[None] = PaperIndex()
    kept, dropped = [], []
    for entry in entries:
        if index.find(entry.paper) is not None:
            dropped.append(entry)
        else:
            index.add(entry.paper, None)
            kept.append(entry)
    return kept, dropped

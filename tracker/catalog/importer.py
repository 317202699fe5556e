"""`tracker import`: an awesome list in the seed's format into the catalog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tracker.catalog.awesome import parse_list
from tracker.catalog.lock import catalog_lock
from tracker.catalog.render import TEMPLATES_DIR
from tracker.catalog.store import Catalog, Entry, duplicate_problems, new_catalog_text
from tracker.errors import Problems
from tracker.fsutil import read_text, write_files

INTRO_TEMPLATE = "intro.zh.md"


@dataclass
class ImportReport:
    """What an import did: entries added, entries skipped as already catalogued, files written,
    notes for people."""

    added: list[Entry] = field(default_factory=list)
    skipped: list[Entry] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # an interrupted earlier write finished


def import_list(
    root: Path,
    source: Path,
    *,
    replace: bool = False,
    notify: Callable[[str], None] | None = None,
) -> ImportReport:
    """Parse `source` and add its papers to the catalog in `root`.

    Papers already in the catalog are skipped; with `replace` the catalog becomes exactly the
    list. The list's intro becomes the Chinese intro template when there is none yet. Any
    problem in the list raises CatalogError and nothing is written. Holds the catalog lock
    from reading the catalog to writing it (`notify` hears about a wait).
    """
    text = read_text(source)
    with catalog_lock(root, notify=notify) as recovered:
        report = _import(root, source, text, replace)
    report.notes = recovered
    return report


def _import(root: Path, source: Path, text: str, replace: bool) -> ImportReport:
    catalog = Catalog.load(root, allow_missing=True)
    parsed = parse_list(text, str(source), catalog.taxonomy)
    problems = Problems(str(source))
    problems.extend(parsed.problems + duplicate_problems(parsed.entries, str(source)))
    problems.raise_if_any(
        hint="fix the lines listed and import again",
        summary=f"{source}: {len(problems)} problem(s); nothing was imported",
    )
    report = ImportReport()
    if replace:
        report.added = parsed.entries
        papers_text = new_catalog_text(parsed.entries)
    else:
        index = catalog.index()
        fresh: list[Entry] = []
        for entry in parsed.entries:
            (report.skipped if entry.paper in index else fresh).append(entry)
        report.added = catalog.add(fresh)
        papers_text = catalog.dumps()
    files = {}
    if not catalog.papers_path.exists() or catalog.papers_path.read_text("utf-8") != papers_text:
        files[catalog.papers_path] = papers_text
    template = root / TEMPLATES_DIR / INTRO_TEMPLATE
    if parsed.intro and not template.exists():
        files[template] = parsed.intro
    write_files(files)
    report.written = sorted(files)
    return report

"""`tracker check`: every problem in the catalog, as `file:line: message`."""

from __future__ import annotations

from pathlib import Path

from tracker.catalog.lock import settle
from tracker.catalog.store import (
    PAPERS_FILE,
    TAXONOMY_FILE,
    duplicate_problems,
    parse_entries,
    read_papers,
)
from tracker.catalog.taxonomy import load_taxonomy
from tracker.errors import CatalogError, Problem


def check_catalog(root: Path) -> list[Problem]:
    """All problems found in the catalog in `root` (empty when it is valid): the taxonomy, then
    the papers' schema, section ids, required fields, URLs and identifiers, then duplicates."""
    settle(root)
    try:
        taxonomy = load_taxonomy(root / TAXONOMY_FILE)
    except CatalogError as exc:
        return exc.problems or [Problem(str(root / TAXONOMY_FILE), None, exc.message)]
    path = root / PAPERS_FILE
    try:
        doc, problems = read_papers(path)
    except CatalogError as exc:
        return exc.problems or [Problem(str(path), None, exc.message)]
    entries, more = parse_entries(doc, str(path), taxonomy)
    problems += more + duplicate_problems(entries, str(path))
    return sorted(problems, key=lambda p: (p.path, p.line or 0, p.message))

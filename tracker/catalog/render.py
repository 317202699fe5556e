"""Rendering the catalog as the survey's Markdown lists (Chinese and English headings)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tracker.catalog.awesome import format_item
from tracker.catalog.store import Catalog
from tracker.catalog.taxonomy import Section
from tracker.fsutil import write_files

TEMPLATES_DIR = "templates"


@dataclass(frozen=True)
class ListFormat:
    """One rendered list: the file it goes to, its intro template, its heading language."""

    filename: str
    template: str
    language: str  # "zh" or "en"


FORMATS = (
    ListFormat("README.md", "intro.zh.md", "zh"),
    ListFormat("README.en.md", "intro.en.md", "en"),
)


def render_list(catalog: Catalog, fmt: ListFormat) -> str:
    """The full text of one list: the intro template, then every section in the survey's order,
    numbered items in the seed's format. Deterministic: same catalog, same bytes."""
    intro = _read_template(catalog.root / TEMPLATES_DIR / fmt.template)
    out: list[str] = [intro.rstrip("\n"), ""] if intro.strip() else []

    def visit(node: Section, level: int) -> None:
        heading = node.heading_zh if fmt.language == "zh" else node.heading_en
        if node.heading_zh is not None:
            out.append(f"{'#' * level} {heading}")
            out.append("")
            level += 1
        if node.is_leaf:
            for number, entry in enumerate(catalog.in_section(node.id), start=1):
                out.append(format_item(number, entry))
                out.append("")
        for child in node.children:
            visit(child, min(level, 6))

    for root in catalog.taxonomy.roots:
        visit(root, 2)
    return "\n".join(out).rstrip("\n") + "\n"


def render_all(catalog: Catalog) -> dict[Path, str]:
    """Every rendered list, by path."""
    return {catalog.root / fmt.filename: render_list(catalog, fmt) for fmt in FORMATS}


def changed_lists(catalog: Catalog) -> dict[Path, str]:
    """The fresh text of every rendered list whose file differs from it (or is missing)."""
    changed = {}
    for path, text in render_all(catalog).items():
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current != text:
            changed[path] = text
    return changed


def stale_files(catalog: Catalog) -> list[Path]:
    """Rendered lists that are out of date."""
    return sorted(changed_lists(catalog))


def write_rendered(catalog: Catalog) -> list[Path]:
    """Write every list that changed, all or none; returns the paths written."""
    changed = changed_lists(catalog)
    write_files(changed)
    return sorted(changed)


def _read_template(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""

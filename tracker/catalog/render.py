"""Rendering the catalog as Markdown lists: the files `lists:` names (whole files under an intro
template, or between a README's markers), headings in the list's language, items in its style."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from tracker.catalog.awesome import format_item, format_link_item
from tracker.catalog.store import Catalog
from tracker.catalog.taxonomy import Section
from tracker.config import Config, ListConfig, catalog_lists
from tracker.errors import CatalogError
from tracker.fsutil import repo_path, write_files

TEMPLATES_DIR = "templates"
MARK_START = "<!-- tracker:start -->"
MARK_END = "<!-- tracker:end -->"


def list_body(catalog: Catalog, language: str, style: str = "numbered", level: int = 2) -> str:
    """Every section in the survey's order with its items: headings from `heading_zh` or
    `heading_en` (`language`), top sections at Markdown heading `level`, items in `style`."""
    out: list[str] = []

    def visit(node: Section, level: int) -> None:
        heading = node.heading_zh if language == "zh" else node.heading_en
        if node.heading_zh is not None:
            out.append(f"{'#' * level} {heading}")
            out.append("")
            level += 1
        if node.is_leaf:
            entries = catalog.in_section(node.id)
            for number, entry in enumerate(entries, start=1):
                out.append(
                    format_link_item(entry) if style == "link" else format_item(number, entry)
                )
                if style != "link":
                    out.append("")
            if style == "link" and entries:
                out.append("")
        for child in node.children:
            visit(child, min(level, 6))

    for root in catalog.taxonomy.roots:
        visit(root, level)
    return "\n".join(out).rstrip("\n") + "\n"


def render_output(catalog: Catalog, output: ListConfig, current: str | None) -> str:
    """The new text of `output`'s file, whose text is now `current` (None: missing). With an
    intro template, the whole file; else `current` with the list between the markers and every
    other byte as it was. Raises CatalogError when the markers are missing or out of order."""
    body = list_body(catalog, output.headings, output.style, output.level)
    if output.intro is not None:
        intro = _read_template(output.intro)
        return (f"{intro.rstrip(chr(10))}\n\n" if intro.strip() else "") + body
    text = current or ""
    start, end = text.find(MARK_START), text.find(MARK_END)
    if start < 0 or end < start or text.count(MARK_START) != 1 or text.count(MARK_END) != 1:
        raise CatalogError(
            f"{output.path} needs the markers {MARK_START} and {MARK_END}, once each and in "
            "that order: tracker renders the list between them and leaves the rest alone",
            hint="add them where the list goes (or run `tracker init`), or give the list an "
            "`intro` template in tracker.yaml's `lists:` to have tracker write the whole file",
        )
    before = text[: start + len(MARK_START)]
    return f"{before}\n{body}{text[end:]}"


def outputs(config: Config) -> list[ListConfig]:
    """The lists `config` renders (`lists:`, or the catalog folder's two)."""
    return list(config.lists) or catalog_lists(config.catalog_dir)


def lists_at(
    lists: Sequence[ListConfig], catalog_dir: Path, root: Path, top: Path
) -> list[ListConfig]:
    """`lists` (local files) as files of a scratch copy of the repository at `top` whose catalog
    folder is `root`: files under the local `catalog_dir` go under `root`, others to their
    repository path under `top`."""

    def move(path: Path) -> Path:
        try:
            return root / path.relative_to(catalog_dir)
        except ValueError:
            return top / repo_path(path)

    return [
        dataclasses.replace(
            out, path=move(out.path), intro=move(out.intro) if out.intro is not None else None
        )
        for out in lists
    ]


def outside_paths(lists: Sequence[ListConfig], catalog_dir: Path) -> list[str]:
    """Repository paths of the lists' files outside the catalog folder (a README with the
    markers), which a run or a review reads from GitHub beside the catalog."""
    return [
        repo_path(path)
        for out in lists
        for path in (out.path, out.intro)
        if path is not None and not path.is_relative_to(catalog_dir)
    ]


def render_outputs(
    catalog: Catalog, lists: Sequence[ListConfig], read: Callable[[Path], str | None] | None = None
) -> dict[Path, str]:
    """The new text of every list, by path; `read` gives a file's current text (default: from
    disk, None when missing)."""
    read = read or _read_text
    return {out.path: render_output(catalog, out, read(out.path)) for out in lists}


def _read_text(path: Path) -> str | None:
    """The file's text exactly as stored (line endings too: a README's bytes outside the
    markers must survive), or None when it is missing."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None


def changed_lists(catalog: Catalog, lists: Sequence[ListConfig] | None = None) -> dict[Path, str]:
    """The fresh text of every rendered list (`lists`, default the catalog folder's two)
    whose file differs from it (or is missing)."""
    lists = catalog_lists(catalog.root) if lists is None else lists
    return {
        path: text
        for path, text in render_outputs(catalog, lists).items()
        if _read_text(path) != text
    }


def stale_files(catalog: Catalog, lists: Sequence[ListConfig] | None = None) -> list[Path]:
    """Rendered lists that are out of date."""
    return sorted(changed_lists(catalog, lists))


def write_rendered(catalog: Catalog, lists: Sequence[ListConfig] | None = None) -> list[Path]:
    """Write every list that changed, all or none; returns the paths written."""
    changed = changed_lists(catalog, lists)
    write_files(changed)
    return sorted(changed)


def _read_template(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""

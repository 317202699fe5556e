"""The survey's section tree, read from `catalog/taxonomy.yaml`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.errors import Problems
from tracker.yamlio import line_of, load_yaml

_FIELDS = {"id", "heading_zh", "heading_en", "description", "children"}


@dataclass(frozen=True)
class Section:
    """A node of the section tree.

    Fields:
        id: stable dotted id (`attack.secondary.transfer`); papers refer to leaves by it.
        heading_zh: the survey's exact Chinese heading, or None for a node without a heading.
        heading_en: the English heading.
        description: what belongs here, in plain words (the classifier reads it too).
        children: sub-sections in the survey's order; empty for a leaf.
        parent: the parent's id, or None at the top.
    """

    id: str
    heading_zh: str | None
    heading_en: str
    description: str
    children: tuple[Section, ...] = ()
    parent: str | None = field(default=None, compare=False)

    @property
    def is_leaf(self) -> bool:
        return not self.children


class Taxonomy:
    """The section tree with lookups by id and heading."""

    def __init__(self, roots: list[Section]) -> None:
        self.roots = tuple(roots)
        self._by_id: dict[str, Section] = {s.id: s for s in self.walk()}

    def walk(self) -> Iterator[Section]:
        """Every node, depth first, in the survey's order."""

        def visit(node: Section) -> Iterator[Section]:
            yield node
            for child in node.children:
                yield from visit(child)

        for root in self.roots:
            yield from visit(root)

    @property
    def leaves(self) -> list[Section]:
        """The sections papers go into, in the survey's order."""
        return [s for s in self.walk() if s.is_leaf]

    def get(self, section_id: str) -> Section | None:
        return self._by_id.get(section_id)

    def __getitem__(self, section_id: str) -> Section:
        return self._by_id[section_id]

    def __contains__(self, section_id: object) -> bool:
        return section_id in self._by_id

    def by_heading(self, heading: str) -> Section | None:
        """The node whose Chinese or English heading is `heading` (exact, whitespace-trimmed)."""
        heading = heading.strip()
        for node in self.walk():
            if heading in (node.heading_zh, node.heading_en):
                return node
        return None

    def leaf_order(self) -> dict[str, int]:
        return {s.id: i for i, s in enumerate(self.leaves)}


def load_taxonomy(path: Path) -> Taxonomy:
    """Read `taxonomy.yaml`; raises CatalogError listing each `file:line: message`."""
    data = load_yaml(path)
    problems = Problems(str(path))
    if not isinstance(data, list) or not data:
        problems.add(1, "the taxonomy must be a non-empty list of sections")
        problems.raise_if_any()
    seen: set[str] = set()
    roots = [_section(item, None, problems, seen) for item in data]
    problems.raise_if_any(hint="fix the lines listed")
    return Taxonomy([r for r in roots if r is not None])


def _section(item: Any, parent: str | None, problems: Problems, seen: set[str]) -> Section | None:
    line = line_of(item)
    if not isinstance(item, dict):
        problems.add(line, "a section must be a mapping")
        return None
    for key in item:
        if key not in _FIELDS:
            problems.add(line_of(item, key), f"unknown field '{key}'")
    sid = item.get("id")
    if not isinstance(sid, str) or not sid:
        problems.add(line, "missing 'id'")
        return None
    if sid in seen:
        problems.add(line_of(item, "id"), f"duplicate section id '{sid}'")
    seen.add(sid)
    for key in ("heading_en", "description"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            problems.add(line, f"section '{sid}': missing '{key}'")
    heading_zh = item.get("heading_zh")
    if heading_zh is not None and not isinstance(heading_zh, str):
        problems.add(line, f"section '{sid}': 'heading_zh' must be text")
    children_raw = item.get("children") or []
    if not isinstance(children_raw, list):
        problems.add(line, f"section '{sid}': 'children' must be a list")
        children_raw = []
    children = [_section(c, sid, problems, seen) for c in children_raw]
    return Section(
        id=sid,
        heading_zh=heading_zh,
        heading_en=str(item.get("heading_en") or ""),
        description=" ".join(str(item.get("description") or "").split()),
        children=tuple(c for c in children if c is not None),
        parent=parent,
    )

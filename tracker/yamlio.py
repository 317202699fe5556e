"""YAML reading and writing that keeps comments, order and line numbers (ruamel round-trip).

tracker's YAML files (the catalog's, the configuration) take no anchors and no aliases:
tracker never writes them, and an alias bomb (a few lines that expand to millions of values)
must not hang `check`, `render` or the nightly run. Nesting is bounded for the same reason.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedSeq
from ruamel.yaml.composer import Composer, ComposerError
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import AliasEvent

from tracker.errors import CatalogError, Problem, Problems, TrackerError
from tracker.fsutil import read_text

MAX_DEPTH = 50  # papers.yaml nests four levels (list, entry, links); the taxonomy a few more
NO_ALIASES = "anchors and aliases (&name, *name) are not allowed in tracker's YAML files"


class _PlainComposer(Composer):
    """ruamel's composer, refusing anchors and aliases where they appear."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ComposerError(None, None, NO_ALIASES, event.start_mark)
        return super().compose_node(parent, index)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Composer = _PlainComposer
    yaml.max_depth = MAX_DEPTH
    yaml.width = 4096  # never fold long titles or abstracts: one value, one line, clean diffs
    yaml.indent(mapping=2, sequence=2, offset=0)
    yaml.preserve_quotes = True
    return yaml


def load_yaml(path: Path, error: type[TrackerError] = CatalogError) -> Any:
    """Parse `path` keeping comments and positions; a syntax error names the file and line."""
    return loads_yaml(read_text(path, error), str(path), error)


def loads_yaml(text: str, name: str, error: type[TrackerError] = CatalogError) -> Any:
    try:
        return _yaml().load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = Problem(name, line, f"not valid YAML: {getattr(exc, 'problem', None) or exc}")
        if error is CatalogError:
            raise CatalogError(str(problem), [problem]) from None
        raise error(str(problem)) from None


def dumps_yaml(data: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(data, buffer)
    return buffer.getvalue()


def line_of(container: Any, key: Any = None) -> int | None:
    """1-based line of `key` (a mapping key or a list index) in a loaded container, or of the
    container itself when `key` is None; None when the position is unknown."""
    lc = getattr(container, "lc", None)
    if lc is None:
        return None
    try:
        if key is None:
            return int(lc.line) + 1
        if isinstance(key, int) and not isinstance(container, dict):
            return int(lc.item(key)[0]) + 1
        return int(lc.key(key)[0]) + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return int(lc.line) + 1


def list_items(text: str, name: str, what: str) -> tuple[list[tuple[int | None, Any]], Problems]:
    """The items of a YAML document that must be a list of `what` (rejected.yaml, the decisions
    file), each with its line, and the `Problems` to report the items' faults in. An empty
    document has no items; one that is not a list is a CatalogError at once."""
    doc = loads_yaml(text, name)
    problems = Problems(name)
    if doc is None:
        return [], problems
    if not isinstance(doc, list):
        problems.add(1, f"must be a list of {what}")
        problems.raise_if_any()
    return [(line_of(doc, i), item) for i, item in enumerate(doc)], problems


def appended_list_text(
    current: str | None, name: str, additions: Iterable[Any], header: str
) -> str:
    """The text of the YAML list file `name` (`current`: its text, or None) with `additions`
    appended, keeping what is there, comments included; `header` opens a file without one."""
    doc: Any = loads_yaml(current, name) if current else None
    if not isinstance(doc, list):
        doc = CommentedSeq()
    for item in additions:
        doc.append(item)
    text = dumps_yaml(doc) if len(doc) else "[]\n"
    return text if text.startswith("#") else header + text


def date_value(value: object) -> dt.date | None:
    """A date field as written (a YAML date or YYYY-MM-DD text); None when absent or invalid."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None

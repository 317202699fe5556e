"""YAML reading and writing that keeps comments, order and line numbers (ruamel round-trip).

tracker's YAML files (the catalog's, the configuration) take no anchors and no aliases:
tracker never writes them, and an alias bomb (a few lines that expand to millions of values)
must not hang `check`, `render` or the nightly run. Nesting is bounded for the same reason.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer, ComposerError
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import AliasEvent

from tracker.errors import CatalogError, Problem, TrackerError
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

"""Who may import whom in tracker/ (ARCHITECTURE.md, "Rules"): the rooms (top-level modules and
packages) import downwards only, and no two modules import each other, directly or around a
loop. Every import counts: those inside functions (heavy or late imports) and those under
TYPE_CHECKING too, since each still ties one module to the other."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "tracker"

# The rooms from the top (the command line) down; a room may import only rooms on lower
# levels, and rooms on one level do not import each other. `tracker` is the package itself
# (its __init__ holds only the version).
LEVELS: list[set[str]] = [
    {"cli"},
    {"schedule", "pipeline"},
    {"publish"},
    {"selection", "venues"},
    {"classify", "sources"},
    {"catalog", "http"},
    {"config"},
    {"yamlio"},
    {"fsutil", "paper"},
    {"identity", "text"},
    {"errors", "tracker"},
]
LEVEL = {room: n for n, rooms in enumerate(LEVELS) for room in rooms}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The tracker module that `import name` loads last (a name inside a module: the module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> Iterator[tuple[str, int]]:
    """(imported tracker module, line) for every import statement of `module`."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names = [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            target = _resolve(name) if name.split(".")[0] == "tracker" else None
            if target is not None and target != module:
                yield target, node.lineno


EDGES = {(m, t): line for m in MODULES for t, line in _imports(m)}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_every_room_has_a_level() -> None:
    assert {_room(m) for m in MODULES} == set(LEVEL)


def test_rooms_import_downwards_only() -> None:
    upward = [
        f"{MODULES[a].relative_to(REPO)}:{line}: {a} imports {b}"
        for (a, b), line in sorted(EDGES.items())
        if _room(a) != _room(b) and LEVEL[_room(a)] >= LEVEL[_room(b)]
    ]
    assert upward == []


def test_no_module_import_cycle() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for a, b in EDGES:
        graph[a].add(b)
    cycles = []
    # Tarjan's strongly connected components: a component of more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    assert cycles == []


def test_the_checks_see_imports() -> None:
    """The graph is real: an import at module level, one inside a function and one under
    TYPE_CHECKING are all found."""
    assert ("tracker.paper", "tracker.identity") in EDGES
    assert ("tracker.cli.bot", "tracker.cli.progress") in EDGES  # inside `run`
    assert ("tracker.cli.init", "tracker.catalog.store") in EDGES  # TYPE_CHECKING and inside

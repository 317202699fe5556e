"""The `tracker` command line: parses, wires and prints; the work happens in library code.

Each command module registers its commands on `main`. Heavy libraries (torch, scikit-learn,
PyGithub) are imported inside commands, never here, so `tracker --help` and cold commands stay
fast.
"""

from tracker.cli import bot, catalog, classify, init, sources  # each registers its commands
from tracker.cli.app import main

__all__ = ["bot", "catalog", "classify", "init", "main", "sources"]

"""Where the benchmarks read the labelled 2026 stream from.

The full stream (24,918 papers of 44 nights, 225 in scope) is the developers' data and lives
outside the repository. Its thinned version (every in-scope and every read row, one in four of
the negatives labelled out unread, each with `count: 4`; see benchmarks/training_labels.py)
ships with the repository as `models/training/stream-2026.jsonl.xz`, the classifier's training
labels, so every benchmark runs from a fresh clone. Give the full stream with `--data PATH` or
the environment variable `TRACKER_STREAM`; figures in README come from the full stream.
"""

from __future__ import annotations

import gzip
import lzma
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracker.classify.embedder import Embedder
from tracker.classify.train import open_embedder
from tracker.config import Config, load_config

REPO = Path(__file__).resolve().parent.parent
STREAM_ENV = "TRACKER_STREAM"
SAMPLE = REPO / "models" / "training" / "stream-2026.jsonl.xz"
STREAM_HELP = (
    f"the labelled stream, JSONL (.gz, .xz too); default: ${STREAM_ENV}, else the thinned "
    "stream committed as models/training/stream-2026.jsonl.xz (the full 24,918-row stream "
    "lives outside the repository)"
)


def default_stream() -> Path:
    """`$TRACKER_STREAM` when set, else the committed thinned stream."""
    value = os.environ.get(STREAM_ENV)
    return Path(value) if value else SAMPLE


def stream_lines(path: Path) -> Iterator[str]:
    """The non-blank lines of a JSONL stream file (gzip when it ends in .gz, xz when .xz)."""
    opener: Any = {".gz": gzip.open, ".xz": lzma.open}.get(path.suffix, open)
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield line


def stream_missing(path: Path) -> bool:
    """True, after saying so on stderr, when there is no stream file at `path`."""
    if path.is_file():
        return False
    print(f"Error: no stream at {path} (give --data PATH)", file=sys.stderr)
    return True


def repo_config_and_embedder() -> tuple[Config, Embedder]:
    """The repository's tracker.yaml and the embedder it configures (verified, cached)."""
    config = load_config(REPO / "tracker.yaml")
    return config, open_embedder(config, config.classifier.embedding_replacement)

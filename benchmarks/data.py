"""Where the benchmarks read the labelled 2026 stream from.

The full stream (24,918 papers of 44 nights, 225 in scope) is the developers' data and lives
outside the repository. Its sampled version (the 4,064 `in_sample` rows) ships with the
repository as `models/training/stream-2026.jsonl.gz`, the classifier's training labels, so
every benchmark runs from a fresh clone. Give the full stream with `--data PATH` or the
environment variable `TRACKER_STREAM`.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STREAM_ENV = "TRACKER_STREAM"
SAMPLE = REPO / "models" / "training" / "stream-2026.jsonl.gz"
STREAM_HELP = (
    f"the labelled stream, JSONL (.gz too); default: ${STREAM_ENV}, else the 4,064-row sample "
    "committed as models/training/stream-2026.jsonl.gz (the full 24,918-row stream lives "
    "outside the repository)"
)


def default_stream() -> Path:
    """`$TRACKER_STREAM` when set, else the committed sample."""
    value = os.environ.get(STREAM_ENV)
    return Path(value) if value else SAMPLE


def stream_lines(path: Path) -> Iterator[str]:
    """The non-blank lines of a JSONL stream file (gzip when it ends in .gz)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield line

"""The record of venue volumes already read: `catalog/volumes.yaml`, committed in the catalog.

Why a committed file, and not dates: dblp's search API gives a record no date (no publication
or modification date), and a volume reaches dblp weeks or months after its conference, so no
date window can say which records are new. Volumes are therefore remembered: each tracker pull
request records the volumes its run read, and a later run reads a volume again only when it has
more records than recorded (a journal volume filling up through its year). The file travels with
the catalog like `rejected.yaml`, so a dry run without a token, a moved repository and the
nightly Action all see the same state. (OpenReview needs no such file: its notes carry their
publication date, so the source reads a date window as arXiv does.)

A night that reads a volume but opens no pull request leaves the file unchanged: the volume is
read again the next night, at the cost of its requests; nothing is lost.

    dblp:
      conf/uss:
        USENIX Security Symposium 2026: 417
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from tracker.errors import Problems
from tracker.yamlio import dumps_yaml, line_of, loads_yaml

VOLUMES_FILE = "volumes.yaml"
HEADER = """\
# Venue volumes tracker has read, per source and stream, with how many records each had.
# Written by tracker's pull requests; a volume is read again when it has more records. Delete a
# line to have that volume read again.
"""


@dataclass(frozen=True)
class Volume:
    """A volume a source has read in full.

    Fields:
        source: the source's name (`dblp`).
        stream: the venue's stream (`conf/uss`, `journals/tifs`).
        label: the volume within the stream (`USENIX Security Symposium 2026`,
            `IEEE Trans. Inf. Forensics Secur. 21 (2026)`).
        records: how many records it had when read.
    """

    source: str
    stream: str
    label: str
    records: int


class VolumesRead:
    """What `volumes.yaml` says was read: record counts by (source, stream, label)."""

    def __init__(self, volumes: Iterable[Volume] = ()) -> None:
        self._counts: dict[tuple[str, str, str], int] = {}
        for v in volumes:
            self._counts[(v.source, v.stream, v.label)] = v.records

    def __len__(self) -> int:
        return len(self._counts)

    def records(self, source: str, stream: str, label: str) -> int | None:
        """How many records the volume had when it was read, or None if it never was."""
        return self._counts.get((source, stream, label))

    def is_read(self, volume: Volume) -> bool:
        """Whether `volume` was read with at least as many records as it has now."""
        seen = self.records(volume.source, volume.stream, volume.label)
        return seen is not None and seen >= volume.records

    def volumes(self) -> list[Volume]:
        return [Volume(s, st, label, n) for (s, st, label), n in self._counts.items()]


def load_volumes(catalog_root: Path) -> VolumesRead:
    """The volumes recorded in `catalog_root/volumes.yaml` (none when there is no file)."""
    path = catalog_root / VOLUMES_FILE
    if not path.exists():
        return VolumesRead()
    return parse_volumes(path.read_text(encoding="utf-8"), str(path))


def parse_volumes(text: str, name: str) -> VolumesRead:
    """The file's volumes; raises CatalogError naming each malformed line."""
    doc = loads_yaml(text, name)
    if doc is None:
        return VolumesRead()
    problems = Problems(name)
    out: list[Volume] = []
    if not isinstance(doc, Mapping):
        problems.add(1, "must map each source to its streams")
        problems.raise_if_any()
    for source, streams in doc.items():
        if not isinstance(streams, Mapping):
            problems.add(line_of(doc, source), f"{source}: must map streams")
            continue
        for stream, labels in streams.items():
            if not isinstance(labels, Mapping):
                problems.add(line_of(streams, stream), f"{stream}: must map volumes to counts")
                continue
            for label, count in labels.items():
                if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                    problems.add(line_of(labels, label), f"{label}: the count must be a number")
                    continue
                out.append(Volume(str(source), str(stream), str(label), count))
    problems.raise_if_any()
    return VolumesRead(out)


def updated_volumes_text(current: str | None, read: Iterable[Volume]) -> str:
    """The file's text with the counts of `read` set (added or raised), keeping comments."""
    doc: Any = loads_yaml(current, VOLUMES_FILE) if current else None
    if not isinstance(doc, CommentedMap):
        doc = CommentedMap()
    for v in read:
        streams = doc.setdefault(v.source, CommentedMap())
        labels = streams.setdefault(v.stream, CommentedMap())
        labels[v.label] = v.records
    text = dumps_yaml(doc) if len(doc) else "{}\n"
    return text if text.startswith("#") else HEADER + text

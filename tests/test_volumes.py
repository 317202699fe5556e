"""`catalog/volumes.yaml`: the venue volumes already read, written by tracker's pull requests."""

from __future__ import annotations

import pytest

from tracker.catalog.volumes import (
    Volume,
    VolumesRead,
    parse_volumes,
    updated_volumes_text,
)
from tracker.errors import CatalogError

USS = Volume("dblp", "conf/uss", "USENIX Security Symposium 2026", 417)
TIFS = Volume("dblp", "journals/tifs", "IEEE Trans. Inf. Forensics Secur. 21 2026", 80)


def test_written_volumes_read_back() -> None:
    text = updated_volumes_text(None, [USS, TIFS])
    assert text.startswith("# Venue volumes tracker has read")
    read = parse_volumes(text, "volumes.yaml")
    assert sorted(read.volumes(), key=lambda v: v.stream) == [USS, TIFS]
    assert read.is_read(USS)
    assert not read.is_read(Volume("dblp", "journals/tifs", TIFS.label, 81))  # it grew


def test_updating_keeps_what_maintainers_wrote_and_raises_counts() -> None:
    first = updated_volumes_text(None, [TIFS]).replace(
        "  journals/tifs:\n", "  # IEEE TIFS: a volume a year, growing\n  journals/tifs:\n"
    )
    text = updated_volumes_text(first, [USS, Volume("dblp", TIFS.stream, TIFS.label, 95)])
    assert "# IEEE TIFS: a volume a year, growing" in text
    read = parse_volumes(text, "volumes.yaml")
    assert read.records("dblp", TIFS.stream, TIFS.label) == 95
    assert read.records("dblp", USS.stream, USS.label) == 417


def test_a_malformed_file_names_the_line() -> None:
    text = "dblp:\n  conf/uss:\n    USENIX Security Symposium 2026: many\n"
    with pytest.raises(CatalogError) as err:
        parse_volumes(text, "catalog/volumes.yaml")
    assert [str(p) for p in err.value.problems] == [
        "catalog/volumes.yaml:3: USENIX Security Symposium 2026: the count must be a number"
    ]


def test_nothing_recorded_reads_everything() -> None:
    assert not VolumesRead().is_read(USS)
    assert len(parse_volumes("", "volumes.yaml")) == 0

"""The venue benchmark's committed fixture is what its docstring says."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import venues_night
from benchmarks.data import SAMPLE, stream_lines
from tests.conftest import REPO
from tracker.catalog.store import Catalog


def test_the_benchmark_trains_on_the_shipped_labels_less_the_new_papers(tmp_path: Path) -> None:
    rows = venues_night.rows()
    assert len(rows) == 200 and sum(r["in_scope"] for r in rows) == 16
    ids = {str(r["id"]) for r in rows}
    shipped = [json.loads(line) for line in stream_lines(SAMPLE)]
    assert ids <= {r["id"] for r in shipped}  # the shipped model did train on them
    out = tmp_path / "labels.jsonl"
    n = venues_night.labels_without(ids, out)
    kept = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert n == len(kept) == len(shipped) - 200
    assert not ids & {r["id"] for r in kept}


def test_published_versions_are_of_catalog_preprints() -> None:
    catalog = Catalog.load(REPO / "catalog")
    preprints = {e.paper.title for e in catalog.entries if e.paper.venue == "arXiv"}
    assert {p[0] for p in venues_night.PUBLISHED} <= preprints
    records = venues_night.volume(catalog, venues_night.rows())
    assert len(records) == 51 + 200 + len(venues_night.PUBLISHED)

"""The venue benchmark's committed fixture is what its docstring says."""

from __future__ import annotations

import gzip
import json

from benchmarks import venues_night
from tests.conftest import REPO
from tracker.catalog.store import Catalog


def test_fixture_holds_new_papers_the_shipped_model_never_trained_on() -> None:
    rows = venues_night.rows()
    assert len(rows) == 200 and sum(r["in_scope"] for r in rows) == 16
    training = REPO / "models" / "training" / "stream-2026.jsonl.gz"
    with gzip.open(training, "rt", encoding="utf-8") as f:
        trained = {json.loads(line)["id"] for line in f if line.strip()}
    assert not trained & {r["id"] for r in rows}


def test_published_versions_are_of_catalog_preprints() -> None:
    catalog = Catalog.load(REPO / "catalog")
    preprints = {e.paper.title for e in catalog.entries if e.paper.venue == "arXiv"}
    assert {p[0] for p in venues_night.PUBLISHED} <= preprints
    records = venues_night.volume(catalog, venues_night.rows())
    assert len(records) == 51 + 200 + len(venues_night.PUBLISHED)

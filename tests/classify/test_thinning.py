"""Thinning the unread negatives, read negatives' weight, and the shipped labels file: what
`tracker train` fits on and what every "a night" figure counts."""

from __future__ import annotations

import json
import lzma
from pathlib import Path

import numpy as np
import pytest

from benchmarks.training_labels import thin_rows
from tests.conftest import REPO
from tracker.catalog.store import Catalog
from tracker.classify.data import (
    EASY_NEGATIVES_KEPT,
    HARD_NEGATIVE_WEIGHT,
    Label,
    build_training_set,
    read_labels,
    thinned_out,
)
from tracker.errors import InputError


def _label(i: int, *, in_scope: bool = False, reviewed: bool = False, count: int = 1) -> Label:
    return Label(
        title=f"Paper number {i}",
        abstract="An abstract.",
        in_scope=in_scope,
        section="attack.design.task-specific" if in_scope else None,
        categories=("cs.LG",),
        night="2026-01-16",
        sure=True,
        id=f"2601.{i:05d}",
        reviewed=reviewed,
        count=count,
    )


def test_only_unread_negatives_are_thinned_about_one_in_four_the_same_every_time() -> None:
    rows = [_label(i) for i in range(4000)]
    left = [thinned_out(r) for r in rows]
    assert 0.70 < np.mean(left) < 0.80
    assert left == [thinned_out(r) for r in rows]  # a hash of the key, not a random draw
    assert not any(thinned_out(_label(i, reviewed=True)) for i in range(200))
    assert not any(thinned_out(_label(i, in_scope=True, reviewed=True)) for i in range(200))
    # a row of an already thinned file is never thinned again
    assert not any(thinned_out(_label(i, count=EASY_NEGATIVES_KEPT)) for i in range(200))


def test_the_training_set_weighs_read_negatives_and_counts_kept_unread_ones() -> None:
    catalog = Catalog.load(REPO / "catalog")
    leaf_ids = [s.id for s in catalog.taxonomy.leaves]
    rows = [_label(i) for i in range(400)] + [_label(1000 + i, reviewed=True) for i in range(5)]
    rows.append(_label(2000, in_scope=True, reviewed=True))
    ts = build_training_set(catalog, [], rows, leaf_ids, decisions=[])
    a = ts.arrays()
    lab = a["labelled"]
    easy = lab & ~a["y"] & (a["weight"] == 1.0)
    kept = easy & ~a["thin"]
    assert (a["count"][kept] == EASY_NEGATIVES_KEPT).all()
    assert (a["eval_count"][lab] == 1).all()  # measured, every row counts once
    hard = lab & ~a["y"] & (a["weight"] == HARD_NEGATIVE_WEIGHT)
    assert hard.sum() == 5 and not a["thin"][hard].any()
    assert a["y"][lab].sum() == 1 and not a["thin"][lab & a["y"]].any()
    # the kept rows stand for all of them, give or take the hash's luck
    assert abs(a["count"][kept].sum() - 400) < 60


def test_labels_read_from_xz_with_counts_and_refuse_a_bad_count(tmp_path: Path) -> None:
    taxonomy = Catalog.load(REPO / "catalog").taxonomy
    row = {"id": "2601.00001", "title": "T", "abstract": "A", "in_scope": False}
    path = tmp_path / "labels.jsonl.xz"
    path.write_bytes(lzma.compress((json.dumps({**row, "count": 4}) + "\n").encode()))
    (label,) = read_labels(path, taxonomy)
    assert label.count == 4 and label.reviewed  # reviewed unless it says false

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(row) + "\n" + json.dumps({**row, "count": 0}) + "\n", "utf-8")
    with pytest.raises(InputError, match=r"bad\.jsonl:2: 'count'"):
        read_labels(bad, taxonomy)


def test_the_shipped_file_keeps_every_in_scope_and_read_row_and_counts_the_rest() -> None:
    stream = [
        {
            "id": f"2601.{i:05d}",
            "title": f"Paper number {i}",
            "abstract": "x",
            "in_scope": False,
            "reviewed": False,
            "authors": ["A"],
            "in_sample": False,
            "section": None,
        }
        for i in range(400)
    ]
    stream.append(
        {
            "id": "2601.09999",
            "title": "In",
            "abstract": "x",
            "in_scope": True,
            "reviewed": True,
            "section": "attack.design.task-specific",
            "sure": False,
        }
    )
    rows, left = thin_rows([json.dumps(r) for r in stream])
    assert len(rows) + left == len(stream)
    assert rows[-1]["in_scope"] and "count" not in rows[-1] and rows[-1]["sure"] is False
    assert all(r["count"] == EASY_NEGATIVES_KEPT for r in rows[:-1])
    assert all("authors" not in r and "in_sample" not in r for r in rows)
    kept_ids = {r["id"] for r in rows}
    assert kept_ids == {r["id"] for r in stream if not thinned_out(_from(r))}


def _from(row: dict[str, object]) -> Label:
    return Label(
        str(row["title"]),
        "x",
        bool(row["in_scope"]),
        None,
        (),
        "",
        True,
        str(row["id"]),
        reviewed=bool(row["reviewed"]),
    )

"""The section model's parts that need no embedding model: the taxonomy's clause examples and
the word head over TF-IDF."""

from __future__ import annotations

import numpy as np

from tests.conftest import REPO
from tracker.catalog.store import Catalog
from tracker.classify.data import TrainingSet, description_clauses, guide_examples
from tracker.classify.model import Params
from tracker.classify.train import Guide, fit, predict_sections

LEAVES = ["attack.usage", "defense.usage"]


def test_a_description_gives_its_head_and_each_listed_case() -> None:
    text = "Attacks through the API: model extraction, membership inference, and data theft."
    assert description_clauses(text) == [
        "Attacks through the API",
        "model extraction",
        "membership inference",
        "data theft",
    ]
    # single words are not cases; a description without a list gives nothing more
    assert description_clauses("Head: one, two words") == ["Head", "two words"]
    assert description_clauses("Just a sentence, with a comma.") == []


def test_the_guide_holds_each_leaf_whole_and_by_clause() -> None:
    taxonomy = Catalog.load(REPO / "catalog").taxonomy
    rows = guide_examples(taxonomy)
    leaves = taxonomy.leaves
    described = {(x.heading_en, x.description, x.id) for x in leaves}
    assert len([r for r in rows if r in described]) == len(leaves)
    usage = [a for _, a, s in rows if s == "defense.usage"]
    assert "defenses against model extraction and data extraction through the API" in usage
    assert len(rows) > 4 * len(leaves)


def _set(words: list[str], n: int) -> TrainingSet:
    ts = TrainingSet()
    for i in range(n):
        k = i % 2
        ts.add(
            f"Paper {i} on the {words[k]} method",
            f"We study {words[k]} in served models, case {i}.",
            True,
            k,
            True,
            f"2026-01-{1 + i // 4:02d}",
            True,
            "labels",
            f"key{i}",
        )
    return ts


def test_the_word_head_learns_sections_the_embeddings_cannot_tell_apart() -> None:
    # Every paper has the same embedding and the words are made up (no keyword feature knows
    # them): only the word head can tell the two sections apart.
    ts = _set(["zorblax", "quuxification"], 24)
    emb = np.ones((len(ts), 16), np.float32)
    empty = Guide([], [], np.zeros(0, np.int64), np.zeros((0, 16), np.float32))
    train, test = np.arange(16), np.arange(16, 24)
    params = fit(ts, emb, train, empty, LEAVES, relevance=False)
    proba = predict_sections(params, ts, emb, test)
    assert (proba.argmax(axis=1) == np.arange(16, 24) % 2).all()
    # ... and it survives the model files
    again = Params.from_files(params.settings_json(), params.arrays)
    assert np.allclose(predict_sections(again, ts, emb, test), proba)
    # without the word head the same papers are a coin toss
    blind = dict(params.settings)
    blind["section_tfidf_weight"] = 0.0
    no_words = Params.from_files({**params.settings_json(), "settings": blind}, params.arrays)
    p0 = predict_sections(no_words, ts, emb, test)
    assert np.allclose(p0, 0.5, atol=0.05)


def test_the_section_benchmark_never_trains_on_what_it_scores() -> None:
    from benchmarks.section_protocols import splits

    nights = np.array(["", ""] + [f"2026-03-{d:02d}" for d in range(1, 21)] * 3, dtype=object)
    labelled = nights != ""
    pos = np.flatnonzero(labelled)[::2]
    split = "2026-03-16"
    for protocol in ("dev", "temporal", "grouped-cv"):
        folds = splits(nights, labelled, pos, split, protocol)
        scored = np.concatenate([test for _, test in folds])
        assert len(np.unique(scored)) == len(scored)  # each row scored once
        for train, test in folds:
            assert set(test) <= set(pos)
            assert not set(nights[test]) & set(nights[train][labelled[train]])
            assert {0, 1} <= set(train)  # the catalog (rows without a night) always trains
            if protocol == "dev":
                assert (nights[test] < split).all()
                assert not (nights[train][labelled[train]] >= split).any()
        if protocol == "temporal":
            assert (nights[scored] >= split).all()
        if protocol == "grouped-cv":
            assert sorted(scored) == sorted(pos)

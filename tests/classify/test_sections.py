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

"""Embeddings: the numpy encoder and sentence-transformers agree (so one cache serves both),
the cache is keyed by model and text and survives corruption, and TF-IDF in numpy is
scikit-learn's."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tests.classify.conftest import LABELS, Repo
from tracker.classify.embedder import Embedder, EmbeddingCache, EmbeddingModel, text_key
from tracker.classify.features import Tfidf, paper_text
from tracker.errors import ModelError

ROWS = [json.loads(line) for line in LABELS.read_text("utf-8").splitlines()]
# Titles and one whole paper: enough to compare the encoders, quick to embed.
TEXTS = [paper_text(ROWS[0]["title"], ROWS[0]["abstract"])] + [r["title"] for r in ROWS[1:4]]


@pytest.fixture(scope="module")
def model() -> EmbeddingModel:
    return EmbeddingModel.open("")


def test_numpy_encoder_and_sentence_transformers_give_the_same_vectors(
    model: EmbeddingModel,
) -> None:
    embedder = Embedder(model)
    a = embedder.embed(TEXTS, backend="numpy")
    b = embedder.embed(TEXTS, backend="st")

    assert a.shape == (len(TEXTS), 384)
    assert np.abs(a - b).max() < 1e-5
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_the_bundled_model_is_verified_against_its_pinned_hash(model: EmbeddingModel) -> None:
    assert model.sha256 == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    with pytest.raises(ModelError, match="refusing to load it"):
        EmbeddingModel.open("", weights_sha256="f" * 64)


def test_a_model_name_that_is_not_a_local_folder_is_refused_without_downloading() -> None:
    with pytest.raises(ModelError, match="tracker never downloads models"):
        EmbeddingModel.open("sentence-transformers/all-mpnet-base-v2")


def test_cached_vectors_are_reused_by_model_and_text(model: EmbeddingModel, tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "e.sqlite3")
    first = Embedder(model, cache)
    vectors = first.embed(TEXTS)
    calls: list[int] = []

    second = Embedder(model, EmbeddingCache(tmp_path / "e.sqlite3"))
    again = second.embed(TEXTS, progress=lambda done, total: calls.append(total))

    assert np.array_equal(vectors, again)
    assert calls == [0]  # nothing left to embed
    db = sqlite3.connect(tmp_path / "e.sqlite3")
    keys = {row[0] for row in db.execute("SELECT text FROM embeddings")}
    assert keys == {text_key(t, model.max_seq_length) for t in TEXTS}
    assert {row[0] for row in db.execute("SELECT model FROM embeddings")} == {model.key}


def test_a_corrupt_cache_is_reported_and_rebuilt(model: EmbeddingModel, tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite3"
    path.write_bytes(b"this is not an SQLite database" * 100)
    notes: list[str] = []

    vectors = Embedder(model, EmbeddingCache(path, notes.append)).embed(TEXTS[:1])

    assert vectors.shape == (1, 384)
    assert any("is unreadable" in n and "rebuilding it" in n for n in notes)
    assert (tmp_path / "e.sqlite3.corrupt").exists()
    assert EmbeddingCache(path).get(model.key, [text_key(TEXTS[0], 256)], 384)


def test_a_corrupt_cache_never_stops_classify(repo: Repo, cache_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken-cache"
    broken.mkdir()
    (broken / "embeddings.sqlite3").write_bytes(b"\x00garbage" * 512)
    text = repo.config.read_text("utf-8").replace(str(cache_dir), str(broken))
    repo.config.write_text(text, "utf-8")

    result = repo.tracker("classify", "--title", "Backdoors in LoRA adapters", "--json")

    assert result.exit_code == 0, result.stderr
    assert "Warning: embedding cache" in result.stderr


def test_numpy_tfidf_is_scikit_learns() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [paper_text(r["title"], r["abstract"]) for r in ROWS]
    vec = TfidfVectorizer(
        ngram_range=(1, 2), min_df=2, sublinear_tf=True, stop_words="english", dtype=np.float32
    )
    x = vec.fit_transform(texts).toarray()
    tfidf = Tfidf(
        {t: int(j) for t, j in vec.vocabulary_.items()},
        vec.idf_.astype(np.float32),
        frozenset(vec.get_stop_words() or ()),
    )
    coef = np.linspace(-1, 1, x.shape[1]).astype(np.float32)

    assert np.allclose(tfidf.dot(texts, coef), x @ coef, atol=1e-5)


def test_replacement_tensors_change_both_encoders_alike_and_are_pinned(
    model: EmbeddingModel, tmp_path: Path
) -> None:
    from safetensors.numpy import load_file, save_file

    weights = load_file(str(model.path / "model.safetensors"))
    name = "encoder.layer.5.output.LayerNorm.bias"
    path = tmp_path / "last-layer.safetensors"
    save_file({name: weights[name] + np.float32(0.1)}, str(path))
    replaced = EmbeddingModel.open("", replacement=path)

    tuned = Embedder(replaced)
    a = tuned.embed(TEXTS[:2], backend="numpy")
    b = tuned.embed(TEXTS[:2], backend="st")
    base = Embedder(model).embed(TEXTS[:2], backend="numpy")

    assert replaced.key != model.key  # the cache never mixes the two
    assert np.abs(a - b).max() < 1e-5
    assert np.abs(a - base).max() > 1e-3
    with pytest.raises(ModelError, match="refusing to load it"):
        EmbeddingModel.open("", replacement=path, replacement_sha256="0" * 64)

"""A damaged embedding cache or model never reaches a verdict (issue 11, cases 6, 16 and 12).

The Actions cache restores the embedding cache from night to night, so its rows are input
like any other: a row of the wrong length or of NaNs is a miss and is embedded again. A number
that is not one (NaN) never becomes a decision: the classifier refuses loudly.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tests.classify.conftest import Repo
from tracker.classify.embedder import Embedder, EmbeddingCache, EmbeddingModel, text_key
from tracker.classify.features import paper_text
from tracker.classify.result import Classification, SectionScore
from tracker.errors import ModelError
from tracker.paper import Paper

TITLE = "Backdoors in LoRA adapters shared on model hubs"


@pytest.fixture(scope="module")
def model() -> EmbeddingModel:
    return EmbeddingModel.open("")


def _damage(path: Path, blob: object) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE embeddings SET vector = ?", (blob,))
    db.close()


@pytest.mark.parametrize(
    "blob",
    [
        pytest.param(b"abc", id="3-bytes"),
        pytest.param(np.zeros(383, np.float32).tobytes(), id="383-floats"),
        pytest.param(np.full(384, np.nan, np.float32).tobytes(), id="nan"),
        pytest.param(np.full(384, np.inf, np.float32).tobytes(), id="inf"),
        pytest.param("a text, not a blob", id="text"),
    ],
)
def test_a_bad_cached_vector_is_a_miss_embedded_again_and_replaced(
    model: EmbeddingModel, tmp_path: Path, blob: object
) -> None:
    path = tmp_path / "e.sqlite3"
    good = Embedder(model, EmbeddingCache(path)).embed([TITLE])
    _damage(path, blob)
    notes: list[str] = []

    again = Embedder(model, EmbeddingCache(path, notes.append)).embed([TITLE])

    assert np.allclose(again, good, atol=1e-6)
    assert notes == [
        f"embedding cache {path}: 1 stored vector(s) were not 384 finite numbers; they were "
        "embedded again"
    ]
    key = text_key(TITLE, model.max_seq_length)
    assert np.allclose(EmbeddingCache(path).get(model.key, [key], 384)[key], good[0], atol=1e-6)


def test_a_nan_row_in_the_cache_does_not_change_the_verdict(
    repo: Repo, cache_dir: Path, tmp_path: Path
) -> None:
    """The reported case: a cached row of NaNs gave `relevance nan` and dropped the paper."""
    clean = repo.tracker("classify", "--title", TITLE, "--json")
    assert clean.exit_code == 0, clean.stderr
    private = tmp_path / "cache"  # the session's cache stays intact for other tests
    shutil.copytree(cache_dir, private)
    text = repo.config.read_text("utf-8").replace(str(cache_dir), str(private))
    repo.config.write_text(text, "utf-8")
    db = sqlite3.connect(private / "embeddings.sqlite3")
    with db:
        db.execute(
            "UPDATE embeddings SET vector = ? WHERE text = ?",
            (np.full(384, np.nan, np.float32).tobytes(), text_key(paper_text(TITLE, ""), 256)),
        )
        assert db.total_changes == 1
    db.close()

    damaged = repo.tracker("classify", "--title", TITLE, "--json")

    assert damaged.exit_code == 0, damaged.stderr
    assert json.loads(damaged.stdout) == json.loads(clean.stdout)
    assert "1 stored vector(s) were not 384 finite numbers" in damaged.stderr


def test_a_verdict_on_nan_is_refused() -> None:
    ranked = (SectionScore("attack.usage", "使用阶段的攻击", "Usage-stage attacks", 1.0),)
    with pytest.raises(ModelError, match="refusing to decide on it"):
        Classification(Paper(title=TITLE), False, float("nan"), ranked)
    nan_section = (SectionScore("attack.usage", "", "", float("nan")),)
    with pytest.raises(ModelError, match="refusing to decide on it"):
        Classification(Paper(title=TITLE), False, 0.5, nan_section)


def test_a_model_whose_arrays_give_nan_is_an_error_not_a_silent_out_of_scope(repo: Repo) -> None:
    from safetensors.numpy import load_file, save_file

    from tests.classify.conftest import repin_model

    arrays = load_file(str(repo.models / "classifier.safetensors"))
    arrays["rel_mlp_b2"] = np.array([np.nan], dtype=arrays["rel_mlp_b2"].dtype)
    save_file(arrays, str(repo.models / "classifier.safetensors"))
    repin_model(repo.models)

    result = repo.tracker("classify", "--title", TITLE)

    assert result.exit_code == 1
    assert "refusing to decide on it" in result.stderr
    assert "IN SCOPE" not in result.stdout and "out of scope" not in result.stdout


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param(("thresholds", "rule"), "wrong2", id="rule"),
        pytest.param(("embedding", "max_seq_length"), 128, id="max_seq_length"),
        pytest.param(("embedding", "files", "vocab.txt"), "0" * 64, id="embedding-file-hash"),
        pytest.param(("training_data", "catalog_fingerprint"), "0" * 64, id="fingerprint"),
    ],
)
def test_an_edited_manifest_field_is_refused(
    repo: Repo, path: tuple[str, ...], value: object
) -> None:
    """The reported case: editing `"rule"` silently moved the threshold from 0.13 to 0.19."""
    manifest_path = repo.models / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    node = manifest
    for key in path[:-1]:
        node = node[key]
    assert node[path[-1]] != value
    node[path[-1]] = value
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")

    result = repo.tracker("classify", "--title", TITLE)

    assert result.exit_code == 1
    assert f"Error: {manifest_path} was changed after training" in result.stderr
    assert result.stdout == ""


def test_a_model_without_a_manifest_pin_is_refused(repo: Repo) -> None:
    from tracker.classify.model import MANIFEST_PIN, canonical_json, sha256_bytes

    settings = json.loads((repo.models / "classifier.json").read_text("utf-8"))
    del settings[MANIFEST_PIN]
    data = (canonical_json(settings) + "\n").encode()
    (repo.models / "classifier.json").write_bytes(data)
    manifest = json.loads((repo.models / "manifest.json").read_text("utf-8"))
    manifest["artefacts"]["classifier.json"] = sha256_bytes(data)
    (repo.models / "manifest.json").write_text(json.dumps(manifest), "utf-8")

    result = repo.tracker("classify", "--title", TITLE)

    assert result.exit_code == 1
    assert "does not pin manifest.json (written by an older tracker)" in result.stderr


def test_the_committed_model_pins_its_manifest() -> None:
    from tests.conftest import REPO
    from tracker.classify.model import check_manifest_pin, read_manifest, read_verified

    manifest = read_manifest(REPO / "models")
    settings = json.loads(read_verified(REPO / "models", manifest, "classifier.json"))
    check_manifest_pin(REPO / "models", manifest, settings)

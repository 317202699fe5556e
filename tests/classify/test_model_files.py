"""models/: verified before use, refused on any mismatch, stale when the catalog changed, and
written byte for byte the same by two trainings on the same data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.classify.conftest import Repo, make_repo
from tracker.classify.embedder import bundled_model_dir

TITLE = "Backdoor attacks on pre-trained encoders in self-supervised learning"


def _manifest(repo: Repo) -> dict[str, object]:
    return json.loads((repo.models / "manifest.json").read_text("utf-8"))  # type: ignore[no-any-return]


def test_the_manifest_pins_artefacts_embedding_files_data_thresholds_and_versions(
    trained: Repo,
) -> None:
    m = _manifest(trained)

    assert set(m["artefacts"]) == {"classifier.safetensors", "classifier.json"}  # type: ignore[call-overload]
    emb = m["embedding"]
    assert {"model.safetensors", "tokenizer.json", "config.json"} <= set(emb["files"])  # type: ignore[index]
    assert emb["sha256"] == emb["files"]["model.safetensors"]  # type: ignore[index]
    assert len(m["training_data"]["fingerprint"]) == 64  # type: ignore[index]
    assert m["training_data"]["labels"][0]["file"] == "labels.jsonl"  # type: ignore[index]
    assert set(m["thresholds"]["rules"]) == {"wrong1", "wrong2"}  # type: ignore[index]
    assert set(m["thresholds"]["title_rules"]) == {"wrong1", "wrong2"}  # type: ignore[index]
    assert m["thresholds"]["rule"] == "wrong1"  # type: ignore[index]
    assert {"numpy", "scikit-learn", "python"} <= set(m["versions"])  # type: ignore[arg-type]
    assert m["created"]
    assert not list(trained.models.glob("*.pkl")) and not list(trained.models.glob("*.joblib"))


def test_a_tampered_classifier_file_is_refused(repo: Repo) -> None:
    path = repo.models / "classifier.json"
    path.write_bytes(path.read_bytes() + b" ")

    result = repo.tracker("classify", "--title", TITLE)

    assert result.exit_code == 1
    assert f"Error: {path} has sha256" in result.stderr
    assert "refusing to load it" in result.stderr
    assert result.stdout == ""


def test_an_embedding_model_that_does_not_match_its_hash_is_refused(
    repo: Repo, tmp_path: Path
) -> None:
    # A copy of the bundled model whose tokenizer.json differs from the pinned one.
    copy = tmp_path / "model"
    copy.mkdir()
    for f in bundled_model_dir().rglob("*"):
        if f.is_file():
            target = copy / f.relative_to(bundled_model_dir())
            target.parent.mkdir(parents=True, exist_ok=True)
            if f.name == "tokenizer.json":
                target.write_bytes(f.read_bytes() + b"\n")
            else:
                target.symlink_to(f)
    text = repo.config.read_text("utf-8").replace(
        "classifier: {", f'classifier: {{"embedding_model": {json.dumps(str(copy))}, '
    )
    repo.config.write_text(text, "utf-8")

    result = repo.tracker("classify", "--title", TITLE)

    assert result.exit_code == 1
    assert f"{copy / 'tokenizer.json'} has sha256" in result.stderr
    assert "refusing to load it" in result.stderr


def test_a_configured_embedding_hash_other_than_the_trained_one_is_refused(repo: Repo) -> None:
    text = repo.config.read_text("utf-8").replace(
        "classifier: {", 'classifier: {"embedding_sha256": "' + "0" * 64 + '", '
    )
    repo.config.write_text(text, "utf-8")

    result = repo.tracker("classify", "--title", TITLE)

    assert result.exit_code == 1
    assert "was trained on embeddings of a model with sha256" in result.stderr


def test_no_trained_model_says_to_run_train(repo: Repo) -> None:
    shutil.rmtree(repo.models)

    result = repo.tracker("classify", "--title", TITLE)

    assert result.exit_code == 1
    assert "no trained classifier in" in result.stderr and "run `tracker train`" in result.stderr


def test_a_catalog_changed_since_training_makes_the_model_stale_but_usable(repo: Repo) -> None:
    papers = repo.catalog / "papers.yaml"
    text = papers.read_text("utf-8")
    papers.write_text(
        text.replace("section: attack.design.task-specific", "section: attack.usage", 1), "utf-8"
    )

    result = repo.tracker("classify", "--title", TITLE, "--json")

    assert result.exit_code == 0, result.stderr
    assert "Warning: model is stale: run `tracker train` (the catalog changed" in result.stderr
    assert json.loads(result.stdout)["title"] == TITLE


def test_an_unchanged_catalog_is_not_stale(trained: Repo) -> None:
    result = trained.tracker("classify", "--title", TITLE)

    assert "stale" not in result.stderr


def test_new_rejections_make_the_model_stale(repo: Repo) -> None:
    (repo.catalog / "rejected.yaml").write_text(
        "- title: A paper the maintainers rejected\n  arxiv: '2603.00001'\n", "utf-8"
    )

    result = repo.tracker("classify", "--title", TITLE)

    assert "model is stale: run `tracker train` (the rejections changed" in result.stderr


def test_recorded_decisions_make_the_model_stale(repo: Repo) -> None:
    assert "model is stale" not in repo.tracker("classify", "--title", TITLE).stderr
    (repo.catalog / "decisions.yaml").write_text(
        "- pr: 3\n  date: 2026-03-20\n  merged: true\n  title: A candidate left unticked\n"
        "  arxiv: '2603.00002'\n  tier: candidate\n  outcome: left\n",
        "utf-8",
    )

    result = repo.tracker("classify", "--title", TITLE)

    assert "model is stale: run `tracker train` (maintainers' decisions were recorded" in (
        result.stderr
    )
    assert repo.tracker("train", "--if-stale").exit_code == 0
    assert "model is stale" not in repo.tracker("classify", "--title", TITLE).stderr


def test_training_twice_writes_byte_identical_classifier_files(
    trained: Repo, tmp_path: Path, cache_dir: Path
) -> None:
    again = make_repo(tmp_path / "again", cache_dir)

    result = again.tracker("train")

    assert result.exit_code == 0, result.stderr
    for name in ("classifier.safetensors", "classifier.json"):
        assert (again.models / name).read_bytes() == (trained.models / name).read_bytes(), name
    first, second = _manifest(trained), _manifest(again)
    first.pop("created")
    second.pop("created")
    assert first == second


def test_source_date_epoch_fixes_the_creation_date(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = repo.tracker("train", env={"SOURCE_DATE_EPOCH": "1767225600"})

    assert result.exit_code == 0, result.stderr
    assert _manifest(repo)["created"] == "2026-01-01T00:00:00+00:00"


def test_training_on_labels_without_negatives_is_refused(tmp_path: Path, cache_dir: Path) -> None:
    # Without labelled nights at all, `tracker train` uses tracker's generic negative pool
    # (tests/bot/test_init_e2e.py); labels given on the command line are taken as they are.
    import json

    from tests.classify.conftest import LABELS

    rows = [ln for ln in LABELS.read_text("utf-8").splitlines() if json.loads(ln)["in_scope"]]
    positives = tmp_path / "positives.jsonl"
    positives.write_text("\n".join(rows) + "\n", "utf-8")
    bare = make_repo(tmp_path / "bare", cache_dir, labels=[])

    result = bare.tracker("train", "--labels", str(positives))

    assert result.exit_code == 1
    assert "training needs both in-scope and out-of-scope papers" in result.stderr


def test_train_reads_gzipped_labels_and_filters_by_date(tmp_path: Path, cache_dir: Path) -> None:
    import gzip

    from tests.classify.conftest import LABELS

    gz = tmp_path / "labels.jsonl.gz"
    gz.write_bytes(gzip.compress(LABELS.read_bytes(), mtime=0))
    repo = make_repo(tmp_path / "gz", cache_dir, labels=[gz])

    result = repo.tracker("train", "--before", "2026-01-28")

    assert result.exit_code == 0, result.stderr
    rows = _manifest(repo)["training_data"]["rows"]  # type: ignore[index]
    assert rows["nights"] == 3  # 01-19, 01-21, 01-27 of the four fixture nights


def test_labels_without_nights_still_train(tmp_path: Path, cache_dir: Path) -> None:
    from tests.classify.conftest import LABELS

    rows = [json.loads(line) for line in LABELS.read_text("utf-8").splitlines()]
    bare = tmp_path / "no-nights.jsonl"
    bare.write_text(
        "".join(
            json.dumps({k: r[k] for k in ("title", "abstract", "in_scope", "section")}) + "\n"
            for r in rows
        ),
        "utf-8",
    )
    repo = make_repo(tmp_path / "repo", cache_dir, labels=[bare])

    result = repo.tracker("train")

    assert result.exit_code == 0, result.stderr
    assert _manifest(repo)["training_data"]["rows"]["labelled"] == len(rows)  # type: ignore[index]


def test_train_if_stale_leaves_a_current_model_alone(repo: Repo) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in repo.models.iterdir()}

    result = repo.tracker("train", "--if-stale")

    assert result.exit_code == 0, result.stderr
    assert "matches the catalog: nothing to train" in result.stderr
    assert {p.name: p.stat().st_mtime_ns for p in repo.models.iterdir()} == before


def test_train_if_stale_retrains_after_a_catalog_change(repo: Repo) -> None:
    papers = repo.catalog / "papers.yaml"
    text = papers.read_text("utf-8")
    papers.write_text(
        text.replace("section: attack.design.task-specific", "section: attack.usage", 1), "utf-8"
    )
    old = _manifest(repo)["training_data"]["catalog_fingerprint"]  # type: ignore[index]

    result = repo.tracker("train", "--if-stale")

    assert result.exit_code == 0, result.stderr
    assert "Training: the catalog changed since training." in result.stderr
    assert _manifest(repo)["training_data"]["catalog_fingerprint"] != old  # type: ignore[index]
    assert "stale" not in repo.tracker("classify", "--title", TITLE).stderr


def test_train_if_stale_trains_when_there_is_no_model(repo: Repo) -> None:
    shutil.rmtree(repo.models)

    result = repo.tracker("train", "--if-stale")

    assert result.exit_code == 0, result.stderr
    assert "Training: no trained classifier in" in result.stderr
    assert (repo.models / "manifest.json").is_file()

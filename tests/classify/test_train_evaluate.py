"""`tracker train` and `tracker evaluate` from the command line, and the classifier as the
bot's pipeline loads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.classify.conftest import LABELS, Repo
from tracker.cli.bot import load_classifier
from tracker.config import load_config
from tracker.paper import Paper


def test_evaluate_cross_validates_catalog_and_labels_and_writes_the_report(
    trained: Repo, tmp_path: Path
) -> None:
    out = tmp_path / "report"

    result = trained.tracker(
        "evaluate", "--labels", str(LABELS), "--blocks", "2", "--folds", "3", "--out", str(out)
    )

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Section"
    assert lines[1].split() == ["rows", "n", "top-1", "top-3", "macro-F1"]
    assert lines[3].startswith("catalog cross-validation  60 ")
    assert "Relevance (grouped cross-validation: 4 nights in 2 blocks" in result.stdout
    assert "ROC AUC" in result.stdout and "recall@2 wrong/night" in result.stdout
    assert "top-15/night" in result.stdout
    subsets = [line.split()[0] for line in lines if line.split()[:1] in (["cs.CR"], ["other"])]
    assert subsets == ["cs.CR", "other"]
    tiers = next(line.split() for line in lines if line.startswith("wrong1 "))
    assert tiers[1] == "4"  # nights
    for name in ("report.md", "confusion.png", "confusion-labels.png", "pr_curve.png"):
        assert (out / name).is_file(), name
    assert (out / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text("utf-8")
    assert "## Section: catalog cross-validation" in report and "| true \\ predicted |" in report


def test_evaluate_temporal_scores_only_rows_from_the_date_on_as_json(
    trained: Repo, tmp_path: Path
) -> None:
    result = trained.tracker(
        "evaluate",
        "--labels",
        str(LABELS),
        "--train-before",
        "2026-01-27",
        "--folds",
        "3",
        "--out",
        str(tmp_path / "r"),
        "--json",
    )

    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout)
    labels = figures["labels"]
    assert labels["protocol"].startswith("temporal: trained on rows announced before 2026-01-27")
    assert labels["relevance"][0]["n_pos"] + labels["relevance"][0]["n_neg"] == 18
    assert [n for n, *_ in labels["tiers"][0]["per_night"]] == ["2026-01-27", "2026-01-28"]
    assert [t["rule"] for t in labels["tiers"]] == ["wrong1", "wrong2"]
    for t in labels["tiers"]:
        assert t["added_right"] <= t["added"] and t["candidates_right"] <= t["candidates"]
        assert 0.0 <= t["recall_added"] <= t["recall_added_and_candidates"] <= 1.0
        assert sum(n[3] for n in t["per_night"]) == t["added"]
    rel = {r["subset"]: r for r in labels["relevance"]}
    assert set(rel) == {"all", "cs.CR", "other", "sure"}
    assert rel["cs.CR"]["n_pos"] + rel["other"]["n_pos"] == rel["all"]["n_pos"]
    at = rel["all"]["at_wrong"]
    assert at["0.5"] <= at["1"] <= at["2"] <= at["5"]
    top = rel["all"]["top_k"]
    assert top["5"] <= top["10"] <= top["15"] <= top["20"]
    assert figures["catalog"]["n"] == 60


def test_evaluate_refuses_a_temporal_date_after_every_row(trained: Repo, tmp_path: Path) -> None:
    result = trained.tracker(
        "evaluate",
        "--labels",
        str(LABELS),
        "--train-before",
        "2027-01-01",
        "--out",
        str(tmp_path / "r"),
    )

    assert result.exit_code == 2
    assert "no labelled row announced on or after 2027-01-01" in result.stderr


def test_the_bot_loads_the_trained_classifier_and_gets_a_verdict_per_paper(trained: Repo) -> None:
    config = load_config(trained.config)
    classifier = load_classifier(config)
    papers = [
        Paper(title="Backdoored LoRA adapters on model hubs", categories=("cs.CR",)),
        Paper(title="Graph neural networks for traffic", categories=("cs.LG",)),
    ]

    verdicts = classifier.classify(papers)

    assert 0.0 < classifier.threshold < 1.0
    assert classifier.version
    assert [v.paper for v in verdicts] == papers
    assert all(v.in_scope == (v.relevance >= classifier.threshold) for v in verdicts)


def test_tracker_run_dry_run_classifies_with_the_trained_model(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.bot.conftest import NIGHT, ArxivServer, stream_papers
    from tests.servers import LoopbackServer

    for var in ("GITHUB_TOKEN", "TRACKER_GITHUB_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(var, raising=False)
    with LoopbackServer() as server:
        arxiv = ArxivServer(server)
        arxiv.serve(stream_papers(), NIGHT)
        env = {"TRACKER_ARXIV_RSS_URL": arxiv.rss_url, "TRACKER_ARXIV_API_URL": arxiv.api_url}
        result = repo.tracker("run", "--dry-run", "--date", NIGHT.isoformat(), env=env)

    assert result.exit_code == 0, result.stderr
    manifest = json.loads((repo.models / "manifest.json").read_text("utf-8"))
    version = f"{manifest['created'][:10]}+{manifest['artefacts']['classifier.safetensors'][:8]}"
    assert "classified 12, " in result.stderr
    assert f"(model {version}, threshold " in result.stderr

"""`tracker classify`: the three input forms, the stable --json shape, and the error paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.classify.conftest import Repo
from tests.servers import LoopbackServer
from tests.servers.arxiv import ArxivApi
from tracker.catalog.taxonomy import load_taxonomy
from tracker.paper import Paper

TITLE = "BadAdapter: Backdoor Attacks on LoRA Adapters Shared on Model Hubs"
ABSTRACT = (
    "Parameter-efficient fine-tuning adapters such as LoRA are shared on model hubs and merged "
    "into pre-trained language models by downstream developers. We show that an attacker can "
    "publish a backdoored LoRA adapter that keeps its utility but activates a hidden trigger "
    "after it is merged, and that the backdoor survives further fine-tuning."
)
KEYS = [
    "id",
    "title",
    "in_scope",
    "tier",
    "title_only",
    "relevance",
    "section",
    "ranked",
    "neighbors",
]
SECTION_KEYS = ["id", "heading_zh", "heading_en", "probability"]


def test_json_has_the_documented_fields_for_a_title_and_abstract(trained: Repo) -> None:
    result = trained.tracker("classify", "--title", TITLE, "--abstract", ABSTRACT, "--json")

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert list(out) == KEYS
    assert out["id"] is None and out["title"] == TITLE
    assert isinstance(out["in_scope"], bool) and 0.0 <= out["relevance"] <= 1.0
    assert out["tier"] in ("added", "candidate", "out")
    assert out["in_scope"] == (out["tier"] == "added")
    assert out["title_only"] is False
    taxonomy = load_taxonomy(trained.catalog / "taxonomy.yaml")
    leaves = {s.id: s for s in taxonomy.leaves}
    assert list(out["section"]) == SECTION_KEYS
    assert [list(s) for s in out["ranked"]] == [SECTION_KEYS] * len(leaves)
    assert out["ranked"][0] == out["section"]
    assert {s["id"] for s in out["ranked"]} == set(leaves)
    probabilities = [s["probability"] for s in out["ranked"]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-3)
    for s in out["ranked"]:
        assert s["heading_zh"] == leaves[s["id"]].heading_zh  # the exact Chinese heading
        assert s["heading_en"] == leaves[s["id"]].heading_en
    assert len(out["neighbors"]) == 3
    assert [list(n) for n in out["neighbors"]] == [["title", "section_id", "similarity"]] * 3
    similarities = [n["similarity"] for n in out["neighbors"]]
    assert similarities == sorted(similarities, reverse=True)
    assert all(n["section_id"] in leaves for n in out["neighbors"])


def test_an_lora_backdoor_paper_is_more_relevant_than_traffic_forecasting(trained: Repo) -> None:
    # The fixture model learns from 38 rows: only the ranking is asked of it, not the verdict.
    paper = trained.tracker("classify", "--title", TITLE, "--abstract", ABSTRACT, "--json")
    other = trained.tracker(
        "classify",
        "--title",
        "A Survey of Graph Neural Networks for Traffic Forecasting",
        "--abstract",
        "We review graph neural network models for road traffic forecasting, compare their "
        "accuracy on public benchmarks and discuss open problems in spatio-temporal modelling.",
        "--json",
    )

    relevant, unrelated = json.loads(paper.stdout), json.loads(other.stdout)
    assert relevant["relevance"] > unrelated["relevance"]


def test_human_output_names_verdict_section_top3_and_neighbours(trained: Repo) -> None:
    result = trained.tracker("classify", "--title", TITLE, "--abstract", ABSTRACT)

    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert TITLE in out
    assert "relevance" in out and "threshold" in out
    assert "section:" in out and "top 3:" in out and "nearest catalog papers:" in out


def test_human_output_never_passes_terminal_control_sequences(trained: Repo) -> None:
    hostile = "Backdoors \x1b[31mred\x1b[0m \x07 in \u202eLoRA adapters"

    result = trained.tracker("classify", "--title", hostile)

    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\u202e" not in result.stdout
    assert "Backdoors red in LoRA adapters" in result.stdout  # escape sequences go whole


def test_input_file_gives_one_object_per_line_in_input_order(trained: Repo, tmp_path: Path) -> None:
    rows = [
        {"id": "first", "title": TITLE, "abstract": ABSTRACT},
        {"title": "Fuzzing deep learning compilers with differential testing"},
        {"id": "third", "title": "Membership inference against fine-tuned LLM embeddings"},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", "utf-8")

    result = trained.tracker("classify", "--input", str(path), "--json")

    assert result.exit_code == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["first", None, "third"]
    assert [o["title"] for o in out] == [r["title"] for r in rows]
    assert "Classified 3 papers" in result.stderr


def test_a_broken_input_line_is_reported_with_its_number(trained: Repo, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"title": TITLE}) + "\n{not json\n", "utf-8")

    result = trained.tracker("classify", "--input", str(path))

    assert result.exit_code == 2
    assert f"Error: {path}:2: not valid JSON" in result.stderr
    assert result.stdout == ""


def test_an_input_line_without_a_title_is_reported_with_its_number(
    trained: Repo, tmp_path: Path
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("\n" + json.dumps({"abstract": "no title"}) + "\n", "utf-8")

    result = trained.tracker("classify", "--input", str(path))

    assert result.exit_code == 2
    assert f"Error: {path}:2: 'title' must be non-empty text" in result.stderr


def test_a_malformed_arxiv_id_is_refused(trained: Repo) -> None:
    result = trained.tracker("classify", "not-an-id")

    assert result.exit_code == 2
    assert "Error: not an arXiv id: 'not-an-id'" in result.stderr


def test_no_input_or_two_forms_is_a_usage_error(trained: Repo) -> None:
    assert trained.tracker("classify").exit_code == 2
    both = trained.tracker("classify", "2603.12681", "--title", TITLE)
    assert both.exit_code == 2 and "give arXiv ids, or --title" in both.stderr
    alone = trained.tracker("classify", "--abstract", ABSTRACT)
    assert alone.exit_code == 2 and "--abstract goes with --title" in alone.stderr


def _arxiv_env(server: LoopbackServer) -> dict[str, str]:
    return {"TRACKER_ARXIV_API_URL": server.url("/api/query")}


def test_arxiv_ids_are_looked_up_and_classified_in_the_order_given(trained: Repo) -> None:
    papers = [
        Paper(title=TITLE, abstract=ABSTRACT, arxiv_id="2603.11111", arxiv_version=1),
        Paper(title="Quantization-activated backdoors", arxiv_id="2603.22222", arxiv_version=2),
    ]
    with LoopbackServer() as server:
        server.route("/api/query", ArxivApi(papers))
        result = trained.tracker(
            "classify", "2603.22222", "arXiv:2603.11111v1", "--json", env=_arxiv_env(server)
        )

    assert result.exit_code == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["id"], o["title"]) for o in out] == [
        ("2603.22222", "Quantization-activated backdoors"),
        ("2603.11111", TITLE),
    ]


def test_an_id_arxiv_does_not_know_is_refused(trained: Repo) -> None:
    with LoopbackServer() as server:
        server.route("/api/query", ArxivApi([]))
        result = trained.tracker("classify", "2603.99999", env=_arxiv_env(server))

    assert result.exit_code == 2
    assert "Error: not found on arXiv: 2603.99999" in result.stderr


def test_classify_a_title_imports_neither_torch_nor_scikit_learn(trained: Repo) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from tracker.cli import main\n"
        f"r = CliRunner().invoke(main, ['--config', {str(trained.config)!r}, 'classify', "
        "'--title', 'Backdoors in LoRA adapters'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('torch', 'sklearn', 'sentence_transformers', 'transformers') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]"


def test_categories_do_not_change_the_verdict_content_does(trained: Repo, tmp_path: Path) -> None:
    rows = [
        {"id": "unknown", "title": TITLE, "abstract": ABSTRACT},
        {"id": "cs.CR", "title": TITLE, "abstract": ABSTRACT, "categories": ["cs.CR", "cs.LG"]},
        {"id": "cs.LG", "title": TITLE, "abstract": ABSTRACT, "categories": ["cs.LG"]},
        {"id": "title", "title": TITLE, "categories": ["cs.CR"]},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", "utf-8")

    result = trained.tracker("classify", "--input", str(path), "--json")

    assert result.exit_code == 0, result.stderr
    unknown, cr, lg, title = (json.loads(line) for line in result.stdout.splitlines())
    assert unknown["relevance"] == cr["relevance"] == lg["relevance"]
    assert unknown["tier"] == cr["tier"] == lg["tier"]
    # the same paper known by its title alone is judged on the title, by the title rules
    assert title["title_only"] and not cr["title_only"]
    assert title["relevance"] != cr["relevance"]

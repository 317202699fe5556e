"""The catalog as data: import the seed, render it back, check it, and refuse bad input."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from tests.conftest import REPO, SEED, run_cli
from tracker.catalog import Catalog, load_taxonomy
from tracker.catalog.awesome import format_item, parse_item, parse_list
from tracker.catalog.store import Entry
from tracker.paper import Paper

TAXONOMY = load_taxonomy(REPO / "catalog" / "taxonomy.yaml")
LEAF = "attack.secondary.transfer"


# --- the item format -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "title", "venue", "year", "links"),
    [
        (  # one space between links
            "Weight Poisoning Attacks on Pretrained Models. ACL 2020. [\\[pdf\\]](https://aclanthology.org/2020.acl-main.249/) [\\[code\\]](https://github.com/neulab/RIPPLe)",
            "Weight Poisoning Attacks on Pretrained Models",
            "ACL",
            2020,
            {
                "pdf": "https://aclanthology.org/2020.acl-main.249/",
                "code": "https://github.com/neulab/RIPPLe",
            },
        ),
        (  # two spaces before the links, three between, trailing space
            "Badencoder: Backdoor attacks to pre-trained encoders in self-supervised learning. SP 2022.  [\\[pdf\\]](https://ieeexplore.ieee.org/abstract/document/9833644/)   [\\[code\\]](https://github.com/jinyuan-jia/BadEncoder) ",
            "Badencoder: Backdoor attacks to pre-trained encoders in self-supervised learning",
            "SP",
            2022,
            {
                "pdf": "https://ieeexplore.ieee.org/abstract/document/9833644/",
                "code": "https://github.com/jinyuan-jia/BadEncoder",
            },
        ),
        (  # a title ending in "?" takes no period; a multi-word venue
            "How should pre-trained language models be fine-tuned towards adversarial robustness? NeurIPS 2021.  [\\[pdf\\]](https://proceedings.neurips.cc/paper/2021/hash/22b1f2e0983160db6f7bb9f62f4dbb39-Abstract.html)",
            "How should pre-trained language models be fine-tuned towards adversarial robustness?",
            "NeurIPS",
            2021,
            {
                "pdf": "https://proceedings.neurips.cc/paper/2021/hash/22b1f2e0983160db6f7bb9f62f4dbb39-Abstract.html"
            },
        ),
        (  # "?" and "!" inside the title
            "Can't Steal? Cont-Steal! Contrastive Stealing Attacks Against Image Encoders. CVPR 2023. [\\[pdf\\]](https://openaccess.thecvf.com/x.html)",
            "Can't Steal? Cont-Steal! Contrastive Stealing Attacks Against Image Encoders",
            "CVPR",
            2023,
            {"pdf": "https://openaccess.thecvf.com/x.html"},
        ),
        (  # a long venue with an ampersand, only a pdf link, no trailing spaces
            "Trojaning language models for fun and profit. IEEE EuroS&P 2021. [\\[pdf\\]](https://ieeexplore.ieee.org/abstract/document/9581257/)",
            "Trojaning language models for fun and profit",
            "IEEE EuroS&P",
            2021,
            {"pdf": "https://ieeexplore.ieee.org/abstract/document/9581257/"},
        ),
        (  # unescaped [[pdf]] and plain [code] link labels
            "Some Title. arXiv 2023. [[pdf]](https://arxiv.org/abs/2305.17826) [code](https://github.com/a/b)",
            "Some Title",
            "arXiv",
            2023,
            {"pdf": "https://arxiv.org/abs/2305.17826", "code": "https://github.com/a/b"},
        ),
        (  # no period after the year
            "Another Title. ICSE 2022 [\\[pdf\\]](https://dl.acm.org/doi/abs/10.1145/3510003.3510191)",
            "Another Title",
            "ICSE",
            2022,
            {"pdf": "https://dl.acm.org/doi/abs/10.1145/3510003.3510191"},
        ),
    ],
)
def test_item_format_variants_parse(
    body: str, title: str, venue: str, year: int, links: dict[str, str]
) -> None:
    entry = parse_item(body, LEAF)
    assert isinstance(entry, Entry), entry
    assert (entry.paper.title, entry.paper.venue, entry.paper.year) == (title, venue, year)
    assert dict(entry.paper.links) == links


def test_identifiers_are_derived_from_links() -> None:
    arxiv = parse_item("T. arXiv 2023. [\\[pdf\\]](https://arxiv.org/abs/2305.14710v2)", LEAF)
    acm = parse_item(
        "T. CCS 2018. [\\[pdf\\]](https://dl.acm.org/doi/abs/10.1145/3243734.3243757)", LEAF
    )
    assert isinstance(arxiv, Entry) and isinstance(acm, Entry)
    assert arxiv.paper.arxiv_id == "2305.14710"
    assert acm.paper.doi == "10.1145/3243734.3243757"


@pytest.mark.parametrize(
    "body",
    [
        "A title without venue or year [\\[pdf\\]](https://x.org/a)",
        "A title. Venue. [\\[pdf\\]](https://x.org/a)",
        "Just some words",
    ],
)
def test_unreadable_items_say_why(body: str) -> None:
    result = parse_item(body, LEAF)
    assert isinstance(result, str) and result.startswith(("cannot read item", "item "))


def test_formatted_items_read_back_unchanged() -> None:
    paper = Paper(
        title="Backdoors [in] *LLMs* <b>bold</b> | pipes_and_underscores?",
        venue="arXiv",
        year=2026,
        links={"pdf": "https://arxiv.org/abs/2603.06862", "code": "https://github.com/x/y_(z)"},
    )
    line = format_item(3, Entry(paper=paper, section=LEAF))
    assert "<b>" not in line and "\\<b\\>" in line
    back = parse_item(line.split(". ", 1)[1], LEAF)
    assert isinstance(back, Entry)
    assert back.paper.title == paper.title
    assert back.paper.links["code"] == "https://github.com/x/y_%28z%29"


# --- import, render, round trip --------------------------------------------------------------


def test_importing_the_seed_produces_the_committed_catalog(workdir: Path) -> None:
    result = run_cli("import", str(SEED))
    assert result.exit_code == 0, result.stderr
    assert "Imported 60 papers" in result.stderr
    committed = (REPO / "catalog" / "papers.yaml").read_text(encoding="utf-8")
    assert (workdir / "catalog" / "papers.yaml").read_text(encoding="utf-8") == committed


def test_import_render_import_yields_the_same_catalog(
    workdir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert run_cli("import", str(SEED)).exit_code == 0
    assert run_cli("render").exit_code == 0
    first = (workdir / "catalog" / "papers.yaml").read_text(encoding="utf-8")
    rendered = workdir / "catalog" / "README.md"

    other = tmp_path_factory.mktemp("again")
    (other / "catalog").mkdir()
    (other / "catalog" / "taxonomy.yaml").write_text(
        (workdir / "catalog" / "taxonomy.yaml").read_text("utf-8"), "utf-8"
    )
    (other / "tracker.yaml").write_text("catalog_dir: catalog\n", "utf-8")
    result = run_cli("--config", str(other / "tracker.yaml"), "import", str(rendered))
    assert result.exit_code == 0, result.stderr
    assert (other / "catalog" / "papers.yaml").read_text(encoding="utf-8") == first


def _seed_sections(text: str) -> dict[str, list[str]]:
    """Heading -> item lines, in order, of a list in the seed's format."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("#"):
            current = line.lstrip("#").strip()
            sections.setdefault(current, [])
        elif re.match(r"^\d+\. ", line) and current is not None:
            sections[current].append(line)
    return {k: v for k, v in sections.items() if v}


def test_every_seed_entry_is_rendered_under_the_same_heading_at_the_same_position(
    seeded: Path,
) -> None:
    assert run_cli("render").exit_code == 0
    seed = _seed_sections(SEED.read_text(encoding="utf-8"))
    rendered = _seed_sections((seeded / "catalog" / "README.md").read_text(encoding="utf-8"))
    assert list(seed) == list(rendered)
    assert sum(len(v) for v in seed.values()) == 60
    for heading, items in seed.items():
        assert len(rendered[heading]) == len(items), heading
        for original, mine in zip(items, rendered[heading], strict=True):
            expected = parse_item(original.split(". ", 1)[1], LEAF)
            assert isinstance(expected, Entry)
            p = expected.paper
            assert original.split(".", 1)[0] == mine.split(".", 1)[0]  # the same number
            assert p.title in mine and f"{p.venue} {p.year}." in mine
            for url in p.links.values():
                assert f"]({url})" in mine


def test_english_list_has_the_same_items_under_english_headings(seeded: Path) -> None:
    assert run_cli("render").exit_code == 0
    en = (seeded / "catalog" / "README.en.md").read_text(encoding="utf-8")
    zh = (seeded / "catalog" / "README.md").read_text(encoding="utf-8")
    assert "## Attacks in the model design stage" in en and "### 针对迁移的攻击" in zh
    items = lambda t: [ln for ln in t.splitlines() if re.match(r"^\d+\. ", ln)]  # noqa: E731
    assert items(en) == items(zh)


def test_render_is_deterministic_and_check_passes_after_it(seeded: Path) -> None:
    assert run_cli("render").exit_code == 0
    first = (seeded / "catalog" / "README.md").read_bytes()
    again = run_cli("render")
    assert again.exit_code == 0 and "already up to date" in again.stderr
    assert (seeded / "catalog" / "README.md").read_bytes() == first
    assert run_cli("render", "--check").exit_code == 0


def test_render_check_names_the_stale_list_and_exits_1(seeded: Path) -> None:
    assert run_cli("render").exit_code == 0
    papers = seeded / "catalog" / "papers.yaml"
    papers.write_text(
        papers.read_text("utf-8").replace("section: attack.deployment", "section: attack.usage"),
        "utf-8",
    )
    result = run_cli("render", "--check")
    assert result.exit_code == 1
    assert "catalog/README.md is out of date: run `tracker render`" in result.stderr
    assert "catalog/README.en.md is out of date" in result.stderr


def test_committed_lists_are_up_to_date() -> None:
    catalog = Catalog.load(REPO / "catalog")
    from tracker.catalog.render import stale_files

    assert stale_files(catalog) == []


def test_moving_a_paper_is_a_one_line_edit(seeded: Path) -> None:
    papers = seeded / "catalog" / "papers.yaml"
    text = papers.read_text("utf-8")
    assert text.count("section: attack.deployment\n") == 1
    papers.write_text(
        text.replace("section: attack.deployment\n", "section: defense.usage\n"), "utf-8"
    )
    assert run_cli("render").exit_code == 0
    readme = (seeded / "catalog" / "README.md").read_text("utf-8")
    usage_defense = readme.split("### 使用阶段的防护", 1)[1]
    # Its place among the section's entries is its place in papers.yaml: before the others.
    assert "1. Towards practical deployment-stage backdoor attack" in usage_defense
    assert "2. TextFusion: Privacy-Preserving" in usage_defense
    assert "## 部署阶段的攻击\n\n## 使用阶段的攻击" in readme


def test_rewriting_the_catalog_keeps_hand_edits(seeded: Path) -> None:
    papers = seeded / "catalog" / "papers.yaml"
    text = papers.read_text("utf-8")
    text = text.replace(
        "- title: Latent backdoor attacks on deep neural networks\n",
        "# keep: the first latent backdoor paper\n- title: Latent backdoor attacks on deep neural networks\n",
    )
    papers.write_text(text, "utf-8")
    catalog = Catalog.load(seeded / "catalog")
    new = Entry(
        paper=Paper(
            title="A New Transfer Attack",
            venue="arXiv",
            year=2026,
            arxiv_id="2603.00001",
            links={"pdf": "https://arxiv.org/abs/2603.00001"},
        ),
        section=LEAF,
    )
    catalog.add([new])
    catalog.save()
    after = papers.read_text("utf-8")
    assert "# keep: the first latent backdoor paper\n- title: Latent backdoor attacks" in after
    # the new entry follows the last entry of its section, before the next section's first
    titles = [e.paper.title for e in Catalog.load(seeded / "catalog").entries]
    assert (
        titles.index("A New Transfer Attack")
        == titles.index(
            "Can't Steal? Cont-Steal! Contrastive Stealing Attacks Against Image Encoders"
        )
        + 1
    )
    # Nothing but the new entry changed: every line before is still there, in order.
    diff = list(difflib.ndiff(text.splitlines(), after.splitlines()))
    assert [d for d in diff if d.startswith("- ")] == []
    assert next(d[2:] for d in diff if d.startswith("+ ")) == "- title: A New Transfer Attack"


def test_import_skips_papers_already_in_the_catalog(seeded: Path) -> None:
    before = (seeded / "catalog" / "papers.yaml").read_text("utf-8")
    result = run_cli("import", str(SEED))
    assert result.exit_code == 0
    assert "Imported 0 papers, skipped 60; wrote nothing (no changes)." in result.stderr
    assert (seeded / "catalog" / "papers.yaml").read_text("utf-8") == before


# --- bad input: a clear error and nothing written --------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_list_with_no_recognisable_items_is_refused(workdir: Path) -> None:
    bad = _write(workdir / "empty.md", "# A list\n\n## 部署阶段的攻击\n\nNothing here yet.\n")
    result = run_cli("import", str(bad))
    assert result.exit_code == 2
    assert "no list items found" in result.stderr
    assert not (workdir / "catalog" / "papers.yaml").exists()


def test_an_unknown_section_heading_is_refused_with_its_line(workdir: Path) -> None:
    bad = _write(
        workdir / "bad.md",
        "# A\n\n## 部署阶段的攻击\n\n1. T. CCS 2020. [\\[pdf\\]](https://x.org/a)\n\n## 不存在的章节\n\n1. U. CCS 2021. [\\[pdf\\]](https://x.org/b)\n",
    )
    result = run_cli("import", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:7: unknown section heading '不存在的章节'" in result.stderr
    assert not (workdir / "catalog" / "papers.yaml").exists()
    assert (
        not (workdir / "catalog" / "templates" / "intro.zh.md").read_text("utf-8").startswith("# A")
    )


def test_a_list_with_a_duplicate_is_refused(workdir: Path) -> None:
    bad = _write(
        workdir / "dup.md",
        "## 部署阶段的攻击\n\n1. Same Paper. CCS 2020. [\\[pdf\\]](https://arxiv.org/abs/2301.00001)\n\n2. Same paper! CCS 2021. [\\[pdf\\]](https://arxiv.org/abs/2301.00001v2)\n",
    )
    result = run_cli("import", str(bad))
    assert result.exit_code == 2
    assert (
        f"{bad}:5: duplicate paper: same arXiv id 2301.00001 as the entry at line 3"
        in result.stderr
    )
    assert not (workdir / "catalog" / "papers.yaml").exists()


def test_items_under_a_heading_with_subsections_are_refused(workdir: Path) -> None:
    bad = _write(
        workdir / "nested.md",
        "## 模型设计阶段的攻击\n\n1. T. CCS 2020. [\\[pdf\\]](https://x.org/a)\n",
    )
    result = run_cli("import", str(bad))
    assert result.exit_code == 2
    assert "which has sub-sections" in result.stderr


def test_importing_a_missing_file_is_a_clear_error(workdir: Path) -> None:
    result = run_cli("import", "nope.md")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: file not found: nope.md")


def test_a_malformed_catalog_file_is_reported_with_its_line_and_left_alone(seeded: Path) -> None:
    papers = seeded / "catalog" / "papers.yaml"
    broken = papers.read_text("utf-8").replace("  venue: ACL\n", "  venue: [ACL\n", 1)
    papers.write_text(broken, "utf-8")
    for args in (("render",), ("check",), ("import", str(SEED))):
        result = run_cli(*args)
        assert result.exit_code in (1, 2), args
        assert re.search(
            r"catalog/papers\.yaml:\d+: not valid YAML", result.stderr + result.stdout
        ), args
    assert papers.read_text("utf-8") == broken
    assert not (seeded / "catalog" / "README.md").exists()


def test_check_reports_each_problem_as_file_line_message(seeded: Path) -> None:
    papers = seeded / "catalog" / "papers.yaml"
    text = papers.read_text("utf-8")
    text = text.replace("section: attack.deployment", "section: attack.deploy", 1)
    text = text.replace("  venue: EMNLP\n", "", 1)
    text = text.replace(
        "pdf: https://aclanthology.org/2020.acl-main.249/", "pdf: aclanthology.org/2020", 1
    )
    text += (
        "- title: BADPRE - Task-agnostic backdoor attacks to pre-trained NLP foundation models\n"
        "  section: attack.usage\n  venue: arXiv\n  year: 2021\n  links:\n"
        "    pdf: https://arxiv.org/pdf/2110.02467v3\n"
        "- title: Weight poisoning attacks on pre-trained models\n"
        "  section: attack.usage\n  venue: ACL\n  year: 2020\n  colour: red\n  links:\n"
        "    pdf: https://example.org/x\n"
    )
    papers.write_text(text, "utf-8")
    lines = text.splitlines()
    line_of = lambda needle: next(i for i, ln in enumerate(lines, 1) if needle in ln)  # noqa: E731

    result = run_cli("check")
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    assert (
        f"catalog/papers.yaml:{line_of('attack.deploy')}: unknown section 'attack.deploy' (see taxonomy.yaml for the ids)"
        in out
    )
    assert (
        f"catalog/papers.yaml:{line_of('Backdoor Attacks on Pre-trained Models by Layerwise')}: missing required field 'venue'"
        in out
    )
    assert (
        f"catalog/papers.yaml:{line_of('pdf: aclanthology.org/2020')}: malformed URL for 'pdf': 'aclanthology.org/2020'"
        in out
    )
    assert (
        f"catalog/papers.yaml:{line_of('colour: red')}: unknown field 'colour' (known: title, section, venue, year, authors, arxiv, doi, links, added, source, confidence, abstract)"
        in out
    )
    dup_arxiv = line_of("- title: BADPRE")
    assert any(
        o.startswith(
            f"catalog/papers.yaml:{dup_arxiv}: duplicate paper: same arXiv id 2110.02467 as the entry at line"
        )
        for o in out
    )
    dup_title = line_of("- title: Weight poisoning attacks on pre-trained models")
    assert (
        f"catalog/papers.yaml:{dup_title}: duplicate paper: same title as the entry at line 4 ('Weight Poisoning Attacks on Pretrained Models')"
        in out
    )
    assert "6 problem(s) found." in result.stderr


def test_check_passes_on_the_committed_catalog() -> None:
    result = run_cli("--config", str(REPO / "tracker.yaml"), "check")
    assert result.exit_code == 0, result.stdout
    assert result.stderr == "The catalog is valid.\n"


def test_an_unknown_section_is_refused_by_every_writer(seeded: Path) -> None:
    papers = seeded / "catalog" / "papers.yaml"
    text = papers.read_text("utf-8").replace("section: attack.usage", "section: attack.nowhere", 1)
    papers.write_text(text, "utf-8")
    result = run_cli("render")
    assert result.exit_code == 2
    assert "unknown section 'attack.nowhere'" in result.stderr
    assert not (seeded / "catalog" / "README.md").exists()


def test_parse_list_keeps_the_intro(workdir: Path) -> None:
    parsed = parse_list(SEED.read_text("utf-8"), "seed", TAXONOMY)
    assert parsed.intro.startswith("![img](imgs/vis.png)")
    assert "根据模型生命周期的阶段" in parsed.intro and "##" not in parsed.intro
    assert len(parsed.entries) == 60 and not parsed.problems


def test_set_published_changes_venue_year_doi_and_link_and_keeps_the_rest(seeded: Path) -> None:
    papers = seeded / "catalog" / "papers.yaml"
    text = papers.read_text("utf-8").replace(
        "- title: 'CorruptEncoder", "# kept: a maintainer's note\n- title: 'CorruptEncoder"
    )
    papers.write_text(text, "utf-8")
    catalog = Catalog.load(seeded / "catalog")
    title = "CorruptEncoder: Data Poisoning based Backdoor Attacks to Contrastive Learning"
    updated = catalog.set_published(
        title, "CVPR", 2024, "10.1109/cvpr52733.2024.02278", "https://doi.org/10.1109/X"
    )
    assert updated is not None and (updated.paper.venue, updated.paper.year) == ("CVPR", 2024)
    assert catalog.set_published("No such paper", "CCS", 2024) is None
    out = catalog.dumps()
    entry = out[out.index("- title: 'CorruptEncoder") :].split("\n- title")[0]
    assert entry.splitlines()[1:7] == [
        "  section: attack.design.task-specific",
        "  venue: CVPR",
        "  year: 2024",
        "  arxiv: '2211.08229'",
        "  doi: 10.1109/cvpr52733.2024.02278",
        "  links:",
    ]
    assert "    venue: https://doi.org/10.1109/X" in entry
    assert "# kept: a maintainer's note" in out
    assert len(out.splitlines()) == len(text.splitlines()) + 2  # doi and the venue link

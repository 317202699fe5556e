"""The pull request's text: what a reviewer sees, and that hostile paper metadata renders inert."""

from __future__ import annotations

import datetime as dt
import re

from markdown_it import MarkdownIt

from tests.bot.conftest import NIGHT, oracle, stream_papers
from tests.conftest import REPO
from tracker.catalog.taxonomy import load_taxonomy
from tracker.paper import Paper
from tracker.publish.body import (
    HOW_TO_REJECT,
    NO_NEAR_MISSES,
    block,
    inert,
    parse_block,
    pr_body,
    pr_title,
)
from tracker.selection import RunStats, select

TAXONOMY = load_taxonomy(REPO / "catalog" / "taxonomy.yaml")
HOSTILE = Paper(
    title=(
        "Backdoors <img src=x onerror=alert(1)> <script>alert(1)</script> | x | y "
        "@octocat [click me](https://evil.example/login) https://evil.example/phish "
        "www.evil.example #1 GH-2 ~~gone~~ $\\alpha$ **bold** `code` &#64;octocat"
        "\n\n# Heading --> <!-- end"
    ),
    abstract="Code: https://github.com/evil/<script>repo",
    authors=("@admin", "Eve <eve@evil.example>", "Mallory | Bob", "X"),
    arxiv_id="2603.99999",
    source="arxiv-listing",
)


def _render(body: str) -> str:
    return MarkdownIt("commonmark").enable("table").enable("strikethrough").render(body)


def _body_for(papers: list[Paper], **options: object) -> str:
    rows = [{"id": p.arxiv_id, "in_scope": True, "section": "针对迁移的攻击"} for p in papers]
    verdicts = oracle(rows, **options).classify(papers)  # type: ignore[arg-type]
    selection = select(verdicts, cap=20, today=NIGHT)
    stats = RunStats(cap=20, threshold=0.5, model_version="v1", per_source={"arxiv-listing": 1})
    return pr_body(selection.proposals, selection.near_misses, stats, TAXONOMY, NIGHT)


def test_the_title_counts_the_papers_and_names_the_night() -> None:
    assert pr_title(1, dt.date(2026, 3, 16)) == "Add 1 paper (2026-03-16)"
    assert pr_title(12, dt.date(2026, 3, 16)) == "Add 12 papers (2026-03-16)"


def test_hostile_titles_and_authors_render_inert() -> None:
    body = _body_for([HOSTILE])
    html = _render(body)

    assert "<img" not in html and "<script" not in html
    assert html.count("<!--") == 1  # only the machine-readable block
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs == ["https://arxiv.org/abs/2603.99999"]
    text = re.sub(r"<[^>]+>", "", html)
    assert not re.search(r"(?<![\w`])@[A-Za-z0-9-]+", text.replace("@\u200b", ""))
    assert "@\u200boctocat" in text  # shown, but no mention
    assert "https://evil" not in text and "www.evil" not in text and "#1" not in text
    cells = html.split("<tbody>")[1].split("</tbody>")[0]
    assert "<del>" not in cells and "<strong>" not in cells and "<h1>" not in html
    assert cells.count("<code>") == 1  # only the arXiv id we wrote, not the title's `code`
    # the table keeps its five columns: no `|` in a title or name breaks out of its cell
    row = next(line for line in body.splitlines() if "2603.99999" in line and line.startswith("|"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 6
    assert cells.count("<tr>") == 1 and cells.count("<td>") == 5


def test_inert_keeps_ordinary_titles_readable() -> None:
    assert inert("Colluding LoRA: A Composite Attack on LLM Safety Alignment") == (
        "Colluding LoRA: A Composite Attack on LLM Safety Alignment"
    )
    assert inert("针对迁移的攻击") == "针对迁移的攻击"


def test_the_machine_readable_block_round_trips_even_with_a_comment_closer_in_a_title() -> None:
    papers = [HOSTILE, *stream_papers()[:2]]
    text = block(papers, ["attack.secondary.transfer"] * 3, NIGHT)

    assert text.count("-->") == 1 and text.endswith("-->")
    parsed = parse_block(f"Some text\n\n{text}\n")
    assert parsed is not None
    assert [p.arxiv for p in parsed] == ["2603.99999", "2603.12679", "2603.12681"]
    assert parsed[0].title == " ".join(HOSTILE.title.split()) or parsed[0].title == HOSTILE.title
    assert parse_block("no block here") is None
    assert parse_block("<!-- tracker:proposals {not json} -->") is None


def test_the_body_gives_alternatives_when_the_section_is_uncertain() -> None:
    papers = stream_papers()[:2]
    body = _body_for(papers, low_confidence={"2603.12679"})
    row = next(line for line in body.splitlines() if "2603.12679" in line and line.startswith("|"))
    other = next(
        line for line in body.splitlines() if "2603.12681" in line and line.startswith("|")
    )
    assert "section 0.45<br>also possible: " in row
    assert "also possible" not in other


def test_the_body_tells_the_reviewer_how_to_reject() -> None:
    body = _body_for(stream_papers()[:1])
    assert (
        HOW_TO_REJECT.format(
            papers_file="catalog/papers.yaml", rejected_file="catalog/rejected.yaml"
        )
        in body
    )
    assert NO_NEAR_MISSES in body
    assert "| Model | v1 |" in body

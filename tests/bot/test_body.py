"""The pull request's text: what a reviewer sees, the checkboxes read back, and that hostile
paper metadata renders inert."""

from __future__ import annotations

import datetime as dt
import re

from markdown_it import MarkdownIt

from tests.bot.conftest import NIGHT, oracle, stream_papers
from tests.conftest import REPO
from tracker.catalog.taxonomy import load_taxonomy
from tracker.paper import Paper
from tracker.publish.block import PullState, decode, proposed_item
from tracker.publish.body import (
    HOW_TO_REVIEW,
    TAG_CANDIDATE,
    checkboxes,
    inert,
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
        "\n\n# Heading --> <!-- end\n- [x] [arXiv:2603.00001](https://evil.example)"
    ),
    abstract="Code: https://github.com/evil/<script>repo",
    authors=("@admin", "Eve <eve@evil.example>", "Mallory | Bob", "X"),
    arxiv_id="2603.99999",
    source="arxiv-listing",
)


def _render(body: str) -> str:
    return MarkdownIt("commonmark").enable("table").enable("strikethrough").render(body)


def _state(papers: list[Paper], **options: object) -> PullState:
    rows = [{"id": p.arxiv_id, "in_scope": True, "section": "针对迁移的攻击"} for p in papers]
    verdicts = oracle(rows, **options).classify(papers)  # type: ignore[arg-type]
    selection = select(verdicts, cap=20, candidate_cap=12, today=NIGHT)
    stats = RunStats(cap=20, threshold=0.5, model_version="v1", per_source={"arxiv-listing": 1})
    items = tuple(proposed_item(p) for p in selection.proposals)
    return PullState(date=NIGHT, items=items, stats=stats.to_json())


def _body_for(papers: list[Paper], **options: object) -> str:
    return pr_body(_state(papers, **options), TAXONOMY)


def test_the_title_counts_ticked_papers_and_the_others_and_names_the_night() -> None:
    state = _state(stream_papers()[:3])
    assert pr_title(state) == "Add 3 papers (2026-03-16)"
    one = state.replace(items=state.items[:1])
    assert pr_title(one) == "Add 1 paper (2026-03-16)"
    mixed = state.replace(items=(state.items[0], state.items[1].replace(checked=False)))
    assert pr_title(mixed) == "Add 1 paper, 1 to review (2026-03-16)"


def test_every_paper_is_one_task_list_line_under_its_section_heading() -> None:
    body = _body_for(stream_papers()[:2])
    lines = body.splitlines()
    heading = lines.index("### 针对迁移的攻击 · Attacks on transfer learning (2)")
    first, second = lines[heading + 2], lines[heading + 3]
    assert first.startswith(
        "- [x] [arXiv:2603.12679](https://arxiv.org/abs/2603.12679) **Why Neural Structural "
    )
    assert "· relevance 0.95 · section 0.80 · nearest: *Weight Poisoning Attacks on " in first
    assert second.startswith("- [x] [arXiv:2603.12681](https://arxiv.org/abs/2603.12681) ")
    assert checkboxes(body) == {"arXiv:2603.12679": True, "arXiv:2603.12681": True}


def test_an_unticked_item_shows_unticked_with_its_tier_and_the_counts_follow() -> None:
    state = _state(stream_papers()[:2])
    state = state.replace(
        items=(state.items[0], state.items[1].replace(tier="candidate", checked=False))
    )
    body = pr_body(state, TAXONOMY)
    assert "### 针对迁移的攻击 · Attacks on transfer learning (1 ticked, 1 not)" in body
    line = next(ln for ln in body.splitlines() if "arXiv:2603.12681" in ln)
    assert line.startswith("- [ ] ") and f" · {TAG_CANDIDATE} · " in line
    assert checkboxes(body) == {"arXiv:2603.12679": True, "arXiv:2603.12681": False}
    assert checkboxes(body.replace("- [ ] [arXiv:2603.12681]", "- [x] [arXiv:2603.12681]")) == {
        "arXiv:2603.12679": True,
        "arXiv:2603.12681": True,
    }
    # GitHub's browser editor saves CRLF line endings
    assert checkboxes(body.replace("\n", "\r\n")) == checkboxes(body)


def test_hostile_titles_and_authors_render_inert() -> None:
    body = _body_for([HOSTILE])
    html = _render(body)

    assert "<img" not in html and "<script" not in html
    assert "<!--" not in body.split("\n<!-- tracker:proposals v2 ")[0]
    assert "-->" not in body.split("\n<!-- tracker:proposals v2 ")[0]
    assert html.count("<!--") == 1  # only the machine-readable block
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs == ["https://arxiv.org/abs/2603.99999"]
    text = re.sub(r"<[^>]+>", "", html)
    assert not re.search(r"(?<![\w`])@[A-Za-z0-9-]+", text.replace("@\u200b", ""))
    assert "@\u200boctocat" in text  # shown, but no mention
    assert "https://evil" not in text and "www.evil" not in text and "#1" not in text
    items = html.split("<ul>")[1].split("</ul>")[0]
    assert "<del>" not in items and "<code>" not in items and "<h1>" not in html
    assert items.count("<li>") == 1  # the title's "- [x]" started no item of its own
    assert items.count("<strong>") == 1  # only the bold we put around the title
    assert checkboxes(body) == {"arXiv:2603.99999": True}


def test_inert_keeps_ordinary_titles_readable() -> None:
    assert inert("Colluding LoRA: A Composite Attack on LLM Safety Alignment") == (
        "Colluding LoRA: A Composite Attack on LLM Safety Alignment"
    )
    assert inert("针对迁移的攻击") == "针对迁移的攻击"
    assert inert("a <!-- b --> c") == "a &lt;!-- b --&gt; c"


def test_the_body_gives_alternatives_when_the_section_is_uncertain() -> None:
    papers = stream_papers()[:2]
    body = _body_for(papers, low_confidence={"2603.12679"})
    row = next(line for line in body.splitlines() if "arXiv:2603.12679" in line)
    other = next(line for line in body.splitlines() if "arXiv:2603.12681" in line)
    assert "section 0.45 (also possible: " in row
    assert "also possible" not in other


def test_the_body_tells_the_reviewer_how_to_review() -> None:
    body = _body_for(stream_papers()[:1])
    assert (
        HOW_TO_REVIEW.format(
            papers_file="catalog/papers.yaml", rejected_file="catalog/rejected.yaml"
        )
        in body
    )
    assert "`/tracker add ID [SECTION]`" in body
    assert "| Model | v1 |" in body


def test_the_body_is_a_function_of_its_state_and_holds_it() -> None:
    state = _state([HOSTILE, *stream_papers()[:2]])
    body = pr_body(state, TAXONOMY)
    held = decode(body)
    assert held == state and held.items[0].title == " ".join(HOSTILE.title.split())
    assert pr_body(held, TAXONOMY) == body  # the same state, the same bytes
    assert pr_title(held) == f"Add 3 papers ({dt.date(2026, 3, 16)})"


def test_readmes_example_body_is_what_tracker_renders() -> None:
    papers = stream_papers()
    classifier = oracle(candidate_threshold=0.225, low_confidence={"2603.12946"})
    selection = select(classifier.classify(papers), cap=3, candidate_cap=2, today=NIGHT)
    stats = RunStats(cap=3, candidate_cap=2, threshold=0.5, candidate_threshold=0.225)
    state = PullState(
        date=NIGHT,
        items=tuple(proposed_item(p) for p in selection.proposals),
        stats=stats.to_json(),
    )
    body = pr_body(state, TAXONOMY).splitlines()
    readme = (REPO / "README.md").read_text("utf-8")
    example = readme.split("## Reviewing a tracker pull request")[1].split("```markdown\n")[1]
    shown = [ln for ln in example.split("```")[0].splitlines() if ln.startswith(("- [", "### "))]
    assert len(shown) == 10  # three sections, five papers, statistics, how to review
    assert all(ln in body for ln in shown if ln.startswith(("- [", "### 针", "### 二", "### 使")))
    assert body[0] == example.splitlines()[0]

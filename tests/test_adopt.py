"""Reading awesome-list items and sections for `tracker init` (the forms real lists use)."""

from __future__ import annotations

import pytest

from tracker.catalog.adopt import NoListError, clean_heading, read_item, read_survey, slug


@pytest.mark.parametrize(
    ("body", "title", "venue", "year", "links"),
    [
        (
            "[Badnets: Evaluating backdooring attacks on deep neural networks](https://ieeexplore.ieee.org/document/8685687) - IEEE Access 2019",
            "Badnets: Evaluating backdooring attacks on deep neural networks",
            "IEEE Access",
            2019,
            {"pdf": "https://ieeexplore.ieee.org/document/8685687"},
        ),
        (
            "Badpre: Task-agnostic backdoor attacks to pre-trained nlp foundation models. arXiv 2021. [[pdf]](https://arxiv.org/abs/2110.02467) [[code]](https://github.com/kangjie-chen/BadPre)",
            "Badpre: Task-agnostic backdoor attacks to pre-trained nlp foundation models",
            "arXiv",
            2021,
            {
                "pdf": "https://arxiv.org/abs/2110.02467",
                "code": "https://github.com/kangjie-chen/BadPre",
            },
        ),
        (
            "**One-shot Neural Backdoor Erasing via Adversarial Weight Masking**, *[📝NeurIPS 2022](https://arxiv.org/abs/2207.04497)*, *[:octocat:Code](https://github.com/jinghuichen/AWM)*",
            "One-shot Neural Backdoor Erasing via Adversarial Weight Masking",
            "NeurIPS",
            2022,
            {
                "pdf": "https://arxiv.org/abs/2207.04497",
                "code": "https://github.com/jinghuichen/AWM",
            },
        ),
        (
            "[Backdoor Learning: A Survey](https://arxiv.org/abs/2007.08745)",
            "Backdoor Learning: A Survey",
            "arXiv",
            2020,  # from the arXiv id
            {"pdf": "https://arxiv.org/abs/2007.08745"},
        ),
        (
            "**[Hidden Killer: Invisible Textual Backdoor Attacks](https://aclanthology.org/2021.acl-long.37)** ACL'21",
            "Hidden Killer: Invisible Textual Backdoor Attacks",
            "ACL",
            2021,
            {"pdf": "https://aclanthology.org/2021.acl-long.37"},
        ),
    ],
)
def test_common_item_forms_read_as_papers(
    body: str, title: str, venue: str, year: int, links: dict[str, str]
) -> None:
    paper = read_item(body)

    assert paper is not None
    assert (paper.title, paper.venue, paper.year, dict(paper.links)) == (title, venue, year, links)


@pytest.mark.parametrize(
    "body",
    [
        "[Attacks](#-attacks)",  # a table of contents
        "[trojanzoo](https://github.com/ain-soph/trojanzoo)",  # a tool
        "BadNets: Identifying Vulnerabilities in the ML Model Supply Chain (2017) [[Code]](https://github.com/Billy1900/BadNet)",  # no venue, no paper link
        "It does not affect the normal performance of the system.",  # prose
    ],
)
def test_items_that_are_not_papers_are_left_out(body: str) -> None:
    assert read_item(body) is None


def test_headings_become_stable_ids_without_emoji_or_numbering() -> None:
    assert clean_heading("⚔ 3.1 **Attacks** on *LLMs*") == "Attacks on LLMs"
    assert slug(clean_heading("🛡Defense: Model-Level")) == "defense-model-level"


def test_a_list_with_no_paper_is_refused() -> None:
    with pytest.raises(NoListError):
        read_survey("# Awesome\n\n- [A tool](https://example.org)\n")


def test_code_fences_and_the_title_heading_are_not_sections() -> None:
    text = (
        "# Awesome X\n\n```md\n## Not a heading\n- [Fake paper in a fence](https://arxiv.org/abs/2101.00001) - arXiv 2021\n```\n\n"
        "## Papers\n\n- [A real paper about backdoors](https://arxiv.org/abs/2101.00002) - ICLR 2021\n"
    )

    survey = read_survey(text)

    assert [r.heading.text for r in survey.roots if r.heading] == ["Papers"]
    assert [e.paper.arxiv_id for e in survey.entries()] == ["2101.00002"]
    assert (survey.start, survey.end) == (7, 9)

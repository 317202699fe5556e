"""Venue hints from arXiv comments and code links from abstracts."""

from __future__ import annotations

import pytest

from tracker.sources.hints import VenueHint, code_links, venue_doi, venue_hint


@pytest.mark.parametrize(
    ("comment", "venue", "year"),
    [
        ("Accepted at USENIX Security 2026", "USENIX", 2026),
        ("To appear in CCS'25", "CCS", 2025),
        ("To appear at Usenix Security Symposium 2026", "USENIX", 2026),
        ("Accepted to the 35th USENIX Security Symposium (USENIX Security 2026)", "USENIX", 2026),
        ("IEEE S&P 2026", "SP", 2026),
        ("15 pages, accepted at ACM ASIA CCS 2026", "AsiaCCS", 2026),
        ("NeurIPS 2025 poster", "NeurIPS", 2025),
        ("Accepted at The Web Conference 2026 (WWW 2026)", "WWW", 2026),
        ("Accepted to NeurIPS 2025 Lock-LLM Workshop", "NeurIPS Workshop", 2025),
        ("8 pages. Accepted at ECCV 2024. Code: https://github.com/x/y", "ECCV", 2024),
        (
            "Accepted by IEEE Transactions on Dependable and Secure Computing",
            "IEEE Transactions on Dependable and Secure Computing",
            None,
        ),
        (
            "Accepted to IEEE International Symposium on Hardware Oriented Security and Trust (HOST) 2026",
            "HOST",
            2026,
        ),
        ("Accepted for publication at AST 2026", "AST", 2026),
        (
            "Accepted at the International Conference on Learning Representations 2025",
            "International Conference on Learning Representations",
            2025,
        ),
        ("Published in the Proceedings of DeepTest 2026", "DeepTest", 2026),
    ],
)
def test_a_comment_that_announces_a_venue_gives_venue_and_year(
    comment: str, venue: str, year: int | None
) -> None:
    assert venue_hint(comment) == VenueHint(venue, year)


@pytest.mark.parametrize(
    "comment",
    [
        "Submitted to ICLR 2026",
        "Under review at CCS 2025",
        "Extended version of our CCS 2024 paper",
        "12 pages, 5 figures",
        "Code and models will be released",
        "Uses the ACL anthology corpus",
        "21 pages. To be published in the Proceedings of the 2026 CHI Conference on Human Factors",
        "",
        None,
    ],
)
def test_a_comment_without_an_acceptance_gives_no_venue(comment: str | None) -> None:
    assert venue_hint(comment) is None


def test_the_first_text_with_a_hint_wins() -> None:
    assert venue_hint("14 pages", "Proceedings of ACM CCS 2025") == VenueHint("CCS", 2025)


def test_code_links_are_normalised_deduplicated_and_kinded() -> None:
    text = (
        "Code: https://github.com/Foo/Bar.git. Also www.github.com/foo/bar/tree/main and "
        "\\url{https://gitlab.com/group/project}; models at huggingface.co/org/model-7b, data at "
        "https://huggingface.co/datasets/org/poison-set) and a demo https://huggingface.co/spaces/org/demo."
    )
    assert code_links(text) == {
        "code": "https://github.com/Foo/Bar",
        "code-2": "https://gitlab.com/group/project",
        "model": "https://huggingface.co/org/model-7b",
        "dataset": "https://huggingface.co/datasets/org/poison-set",
        "demo": "https://huggingface.co/spaces/org/demo",
    }


def test_pages_that_are_not_repositories_are_not_code_links() -> None:
    text = "See https://github.com/features/copilot, https://huggingface.co/docs/hub and https://github.com/someone"
    assert code_links(text) == {}


def test_anonymous_github_links_count_as_code() -> None:
    assert code_links(None, "Code at https://anonymous.4open.science/r/backdoor-9F2A/.") == {
        "code": "https://anonymous.4open.science/r/backdoor-9F2A"
    }


def test_arxivs_own_doi_is_not_a_venue_doi() -> None:
    assert venue_doi("10.48550/arXiv.2601.10045") is None
    assert venue_doi("https://doi.org/10.1145/3719027.3744801") == "10.1145/3719027.3744801"

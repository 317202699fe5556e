"""Two tiers a night: added papers go into papers.yaml (ticked), candidates are listed unticked
and stay out of papers.yaml until a maintainer ticks them; both are known to later nights."""

from __future__ import annotations

import datetime as dt

from tests.bot.conftest import NIGHT, Harness, oracle, stream_papers
from tests.conftest import REPO
from tracker.catalog.store import parse_papers_text
from tracker.catalog.taxonomy import load_taxonomy
from tracker.publish.block import decode
from tracker.publish.body import checkboxes

TAXONOMY = load_taxonomy(REPO / "catalog" / "taxonomy.yaml")
BRANCH = "tracker/2026-03-16"
PAPERS = "catalog/papers.yaml"
IN_SCOPE = ["2603.12679", "2603.12681", "2603.12946", "2603.13186", "2603.12989", "2603.12799"]
# the oracle's out-of-scope rows, most relevant first: 0.24, 0.23, 0.22, ...
OUT = ["2603.12300", "2603.12450", "2603.12455", "2603.12485", "2603.12498", "2603.12621"]


def _ids(text: str | None) -> set[str]:
    return {e.paper.arxiv_id or "" for e in parse_papers_text(text or "", "x", TAXONOMY)}


def test_candidates_are_listed_unticked_and_stay_out_of_papers_yaml(harness: Harness) -> None:
    harness.with_bot(max_proposals=4, max_candidates=3)
    classifier = oracle(candidate_threshold=0.23)

    report = harness.run(classifier=classifier)

    gh = harness.server
    assert report.published is not None and len(gh.pulls) == 1
    added = _ids(gh.file_at(BRANCH, PAPERS)) - _ids(gh.file_at("main", PAPERS))
    assert added == set(IN_SCOPE[:4])
    body = gh.pulls[0].body
    # two added over the cap come first among the candidates, then the candidate tier
    assert checkboxes(body) == {
        **{f"arXiv:{i}": True for i in IN_SCOPE[:4]},
        **{f"arXiv:{i}": False for i in [*IN_SCOPE[4:], OUT[0]]},
    }
    state = decode(body)
    assert state is not None
    assert [(i.arxiv, i.tier) for i in state.items if not i.checked] == [
        (IN_SCOPE[4], "candidate"),
        (IN_SCOPE[5], "candidate"),
        (OUT[0], "candidate"),
    ]
    assert gh.pulls[0].title == "Add 4 papers, 3 to review (2026-03-16)"
    assert "| Not ticked | 3 (cap 3, relevance ≥ 0.23; 1 more left out by the caps) |" in body

    later = harness.run(NIGHT + dt.timedelta(days=1), classifier=classifier)

    assert later.stats.known_open == 7 and later.published is not None  # OUT[1] is new
    assert [i.arxiv for i in decode(gh.pulls[1].body).items] == [OUT[1]]  # type: ignore[union-attr]


def test_a_night_of_candidates_only_opens_a_pull_request_with_an_empty_commit(
    harness: Harness,
) -> None:
    papers = [p for p in stream_papers() if p.arxiv_id in OUT]

    report = harness.run(papers=papers, classifier=oracle(candidate_threshold=0.2))

    gh = harness.server
    assert report.published is not None
    head = gh.commits[gh.branch_sha(BRANCH) or ""]
    assert head.tree == gh.commits[gh.branch_sha("main") or ""].tree
    assert head.parents == [gh.branch_sha("main")]
    assert gh.pulls[0].title == "Add 0 papers, 5 to review (2026-03-16)"
    assert set(checkboxes(gh.pulls[0].body).values()) == {False}

"""End to end against the loopback GitHub server: the real PyGithub client, the real pipeline and
publisher, real git objects; only the classifier is a double answering from the stream's labels."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.bot.conftest import NIGHT, TOKEN, Harness, oracle, stream_papers, stream_rows
from tests.conftest import REPO
from tracker.catalog.store import parse_papers_text
from tracker.catalog.taxonomy import load_taxonomy
from tracker.publish.body import parse_block
from tracker.publish.github import GitHubError, RateLimitError
from tracker.publish.publisher import ALREADY_TODAY, HUMAN_BRANCH, TOO_MANY_OPEN
from tracker.publish.rejected import REASON_CLOSED, REASON_DELETED, parse_rejections

TAXONOMY = load_taxonomy(REPO / "catalog" / "taxonomy.yaml")
IN_SCOPE = [str(r["id"]) for r in stream_rows() if r["in_scope"]]
BRANCH = "tracker/2026-03-16"


def _entries(harness: Harness, branch: str) -> list[str]:
    text = harness.server.file_at(branch, "catalog/papers.yaml")
    assert text is not None
    return [e.paper.arxiv_id or "" for e in parse_papers_text(text, "papers.yaml", TAXONOMY)]


def _one_pull(harness: Harness):  # type: ignore[no-untyped-def]
    pulls = harness.server.pulls
    assert len(pulls) == 1, [p.title for p in pulls]
    return pulls[0]


def test_first_run_opens_exactly_one_pr_with_the_right_files_and_body(harness: Harness) -> None:
    report = harness.run()

    pull = _one_pull(harness)
    assert report.published is not None and report.published.number == pull.number
    assert pull.title == "Add 6 papers (2026-03-16)"
    assert pull.head == BRANCH and pull.base == "main" and pull.labels == ["tracker"]
    # one commit on top of main, by the bot, touching only the catalog and its rendered lists
    head = harness.server.commits[harness.server.branch_sha(BRANCH) or ""]
    assert head.parents == [harness.server.branch_sha("main")]
    assert head.author["email"] == head.committer["email"] == "tracker-bot@users.noreply.github.com"
    changed = {
        path
        for path, text in harness.server.files(BRANCH).items()
        if harness.server.files("main").get(path) != text
    }
    assert changed == {"catalog/papers.yaml", "catalog/README.md", "catalog/README.en.md"}
    added = set(_entries(harness, BRANCH)) - set(_entries(harness, "main"))
    assert added == set(IN_SCOPE)
    readme = harness.server.file_at(BRANCH, "catalog/README.md") or ""
    assert "Colluding LoRA: A Composite Attack on LLM Safety Alignment. arXiv 2026." in readme
    # the body: a table per section, near misses, statistics, how to reject, the ids block
    assert "### 针对迁移的攻击 · Attacks on transfer learning (1)" in pull.body
    assert (
        "[Colluding LoRA: A Composite Attack on LLM Safety Alignment](https://arxiv.org/abs/2603.12681) `2603.12681`"
        in pull.body
    )
    assert "### Considered, not added" in pull.body
    assert "| Fetched | 12 papers since the sources' default window |" in pull.body
    assert (
        "| Model | oracle\\-2026\\-03 |" in pull.body or "| Model | oracle-2026-03 |" in pull.body
    )
    assert "close this pull request without merging" in pull.body
    block = parse_block(pull.body)
    assert block is not None and {p.arxiv for p in block} == set(IN_SCOPE)


def test_second_run_on_the_same_day_opens_none_and_changes_nothing(harness: Harness) -> None:
    harness.run()
    refs, writes = dict(harness.server.refs), len(harness.server.requests("POST"))

    report = harness.run()

    assert report.skipped == ALREADY_TODAY.format(
        number=1, state="open", url=harness.server.pull_json(harness.server.pulls[0])["html_url"]
    )
    assert len(harness.server.pulls) == 1
    assert harness.server.refs == refs
    assert len(harness.server.requests("POST")) == writes
    assert harness.server.requests("PATCH") == [] and harness.server.requests("DELETE") == []


def test_papers_in_an_open_tracker_pr_are_not_proposed_again(harness: Harness) -> None:
    harness.run()
    fresh = stream_papers()[:2]
    classifier = oracle()

    report = harness.run(NIGHT + dt.timedelta(days=1), classifier=classifier)

    assert report.stats.known_open == 6
    assert report.proposals == () and report.published is None
    assert len(harness.server.pulls) == 1
    assert classifier.calls == [6]  # only the six out-of-scope papers were classified
    assert fresh  # (the first two are in scope, and in the open pull request)


def test_papers_of_a_closed_pr_never_return(harness: Harness) -> None:
    rows = stream_rows()
    harness.run(papers=stream_papers(rows[:3]))  # three papers proposed on night one
    harness.server.close_pull(1)

    report = harness.run(NIGHT + dt.timedelta(days=1))  # the whole night again, plus the rest

    assert report.stats.known_rejected == 3
    proposed = {p.paper.arxiv_id for p in report.proposals}
    assert proposed == set(IN_SCOPE[3:])
    pull = harness.server.pulls[1]
    rejected = parse_rejections(
        harness.server.file_at(pull.head, "catalog/rejected.yaml") or "", "rejected.yaml"
    )
    assert [(r.arxiv, r.reason, r.pr) for r in rejected] == [
        (i, REASON_CLOSED, 1)
        for i in sorted(
            IN_SCOPE[:3],
            key=lambda i: next(str(r["title"]).casefold() for r in rows if r["id"] == i),
        )
    ]
    assert "### Rejections recorded in this pull request" in pull.body

    # merged with the record: the papers stay away on later nights too
    harness.server.merge_pull(2)
    report = harness.run(NIGHT + dt.timedelta(days=2))
    assert report.proposals == () and len(harness.server.pulls) == 2


def test_a_paper_deleted_from_a_tracker_pr_before_merging_is_rejected(harness: Harness) -> None:
    harness.run()
    papers = harness.server.file_at(BRANCH, "catalog/papers.yaml") or ""
    lines = papers.splitlines(keepends=True)
    start = next(i for i, ln in enumerate(lines) if "Colluding LoRA" in ln)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("- "))
    harness.server.push_commit(
        BRANCH, {"catalog/papers.yaml": "".join(lines[:start] + lines[end:])}
    )
    harness.server.merge_pull(1)

    report = harness.run(NIGHT + dt.timedelta(days=1))

    assert report.proposals == ()  # the deleted one is rejected, the others are catalogued
    assert report.stats.known_rejected == 1 and report.stats.known_catalog == 5
    assert [(r.arxiv, r.reason) for r in report.new_rejections] == [("2603.12681", REASON_DELETED)]


def test_a_502_after_github_created_the_pr_leaves_exactly_one(harness: Harness) -> None:
    harness.server.fail_next("POST", r"/pulls$", "error-after", status=502)

    report = harness.run()

    assert len(harness.server.requests("POST", r"/pulls$")) == 1  # never re-sent
    assert report.published is not None and report.published.created is False
    assert _one_pull(harness).labels == ["tracker"]
    assert harness.run().skipped is not None and len(harness.server.pulls) == 1


def test_a_502_before_github_created_the_pr_converges_to_one(harness: Harness) -> None:
    harness.server.fail_next("POST", r"/pulls$", "error-before", status=502)

    report = harness.run()

    assert [s for _, _, s in harness.server.requests("POST", r"/pulls$")] == [502, 201]
    assert report.published is not None and len(harness.server.pulls) == 1


def test_a_timeout_on_post_pulls_leaves_exactly_one_pr(harness: Harness) -> None:
    harness.with_bot(timeout=1)
    harness.server.fail_next("POST", r"/pulls$", "hang-after", seconds=1.5)

    report = harness.run()

    assert len(harness.server.requests("POST", r"/pulls$")) == 1
    assert report.published is not None and len(harness.server.pulls) == 1


def test_a_dropped_connection_on_creating_the_branch_converges(harness: Harness) -> None:
    harness.server.fail_next("POST", r"/git/refs$", "drop-after")

    harness.run()

    assert len(harness.server.requests("POST", r"/git/refs$")) == 1
    assert len(harness.server.pulls) == 1


def test_a_rate_limit_stops_with_a_clear_message_and_a_rerun_converges(harness: Harness) -> None:
    harness.server.fail_next("POST", r"/pulls$", "rate-limit", seconds=3600)

    with pytest.raises(RateLimitError) as caught:
        harness.run()

    assert "GitHub rate limit reached while opening the pull request" in caught.value.message
    assert "resets in 60 min" in caught.value.message
    assert harness.server.pulls == [] and harness.server.branch_sha(BRANCH) is not None
    assert harness.clock.slept == []  # an hour is past bot.rate_limit_max_wait: no waiting

    harness.clock.advance(seconds=3700)
    harness.server.rate_remaining = 5000
    report = harness.run()  # the branch left without a pull request is reused

    assert report.published is not None and len(harness.server.pulls) == 1
    assert len(harness.server.requests("POST", r"/git/refs$")) == 1


def test_a_short_rate_limit_is_waited_out_on_the_injected_clock(harness: Harness) -> None:
    harness.server.fail_next("POST", r"/git/refs$", "rate-limit", seconds=20)
    harness.server.fail_next("GET", r"/pulls$", "secondary", status=429, seconds=7)

    report = harness.run()

    assert report.published is not None and len(harness.server.pulls) == 1
    assert harness.clock.slept == [7.0, 21.0]


def test_a_422_ref_exists_from_an_earlier_bot_run_is_reused(harness: Harness) -> None:
    harness.run(papers=stream_papers(stream_rows()[:1]))  # leaves branch and PR #1
    harness.server.pulls.clear()  # as if the PR was never opened: a bare bot branch remains
    before = harness.server.branch_sha(BRANCH)

    report = harness.run()

    assert report.published is not None and len(harness.server.pulls) == 1
    assert harness.server.branch_sha(BRANCH) != before
    assert len(harness.server.requests("PATCH", r"/git/refs/heads/tracker")) == 1


def test_a_branch_a_human_pushed_to_is_never_overwritten(harness: Harness) -> None:
    harness.server.create_branch(BRANCH)
    human = harness.server.push_commit(BRANCH, {"catalog/notes.md": "mine\n"})

    report = harness.run()

    assert report.skipped == HUMAN_BRANCH.format(branch=BRANCH, sha=human[:7])
    assert harness.server.branch_sha(BRANCH) == human and harness.server.pulls == []


def test_a_human_push_between_prepare_and_publish_is_not_overwritten(harness: Harness) -> None:
    publisher = harness.publisher()
    prep = publisher.prepare(NIGHT)
    harness.server.create_branch(BRANCH)  # a maintainer pushes the branch meanwhile
    human = harness.server.push_commit(BRANCH, {"catalog/notes.md": "mine\n"})

    with pytest.raises(GitHubError) as caught:
        publisher.publish(prep, {"catalog/x.md": "x\n"}, "Add 1 paper (2026-03-16)", "body")

    assert caught.value.message == HUMAN_BRANCH.format(branch=BRANCH, sha=human[:7])
    assert harness.server.branch_sha(BRANCH) == human and harness.server.pulls == []


def test_at_most_k_open_tracker_prs(harness: Harness) -> None:
    harness.with_bot(max_open_prs=2)
    rows = stream_rows()
    harness.run(NIGHT, papers=stream_papers(rows[0:1]))
    harness.run(NIGHT + dt.timedelta(days=1), papers=stream_papers(rows[1:2]))

    report = harness.run(NIGHT + dt.timedelta(days=2))

    assert report.skipped == TOO_MANY_OPEN.format(count=2, numbers="#2, #1")
    assert len(harness.server.pulls) == 2


def test_a_bare_bot_branch_from_an_earlier_night_is_cleaned_up(harness: Harness) -> None:
    harness.run(papers=stream_papers(stream_rows()[:1]))
    harness.server.pulls.clear()  # yesterday's run died after pushing the branch

    report = harness.run(NIGHT + dt.timedelta(days=1))

    assert (
        f"Deleted branch {BRANCH}, left without a pull request by an earlier run." in report.notes
    )
    assert harness.server.branch_sha(BRANCH) is None
    assert harness.server.branches() == ["main", "tracker/2026-03-17"]


def test_a_missing_label_is_added_by_the_rerun(harness: Harness) -> None:
    harness.server.fail_next("POST", r"/issues/\d+/labels$", "error-before", status=403)
    first = harness.run()
    assert first.published is not None and first.published.warnings
    assert harness.server.pulls[0].labels == []

    harness.run()

    assert harness.server.pulls[0].labels == ["tracker"]


def test_the_token_never_appears_in_output(harness: Harness) -> None:
    report = harness.run()
    text = "\n".join(report.summary()) + report.body + repr(harness.config)
    assert TOKEN not in text
    assert all(TOKEN not in (p.body + p.title) for p in harness.server.pulls)

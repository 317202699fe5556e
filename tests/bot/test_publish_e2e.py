"""End to end: the real `tracker run` command in-process, reading arXiv's listing and API from a
loopback server through the real sources, and publishing through real PyGithub to the stateful
loopback GitHub server (real git objects). What to expect is derived from the classifier's own
verdicts (`e2e_classifier`), so these tests hold for the label double and the trained model.

A few tests drive the pipeline directly (`harness`) where they need the fake clock or a step
between preparing and publishing."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from markdown_it import MarkdownIt

from tests.bot.conftest import (
    HOSTILE_ROW,
    NIGHT,
    TOKEN,
    Bot,
    Harness,
    expected_candidates,
    expected_proposals,
    expected_title,
    stream_papers,
)
from tests.conftest import REPO, run_cli
from tests.servers import Reply
from tests.servers.github import GitHubServer, Pull
from tracker.catalog.awesome import escape_markdown
from tracker.catalog.rejected import REASON_CLOSED, REASON_DELETED, parse_rejections
from tracker.catalog.store import parse_papers_text
from tracker.catalog.taxonomy import load_taxonomy
from tracker.paper import Paper
from tracker.pipeline import ALL_FAILED, SOME_FAILED
from tracker.publish.block import decode
from tracker.publish.body import inert, parse_block
from tracker.publish.github import GitHubError
from tracker.publish.publisher import ALREADY_TODAY, DELETED_BRANCH, HUMAN_BRANCH, TOO_MANY_OPEN

TAXONOMY = load_taxonomy(REPO / "catalog" / "taxonomy.yaml")
BRANCH = "tracker/2026-03-16"
BOT_NAME, BOT_EMAIL = "tracker-bot", "tracker-bot@users.noreply.github.com"
PAPERS = "catalog/papers.yaml"


def _entries(github: GitHubServer, branch: str) -> dict[str, dict[str, str]]:
    """arXiv id -> links of each entry of papers.yaml on `branch`."""
    text = github.file_at(branch, PAPERS)
    assert text is not None
    entries = parse_papers_text(text, "papers.yaml", TAXONOMY)
    return {e.paper.arxiv_id or e.paper.title: dict(e.paper.links) for e in entries}


def _one_pull(github: GitHubServer) -> Pull:
    assert len(github.pulls) == 1, [p.title for p in github.pulls]
    return github.pulls[0]


def _expected(bot: Bot, papers: list[Paper] | None = None) -> list[str]:
    return expected_proposals(bot.classifier, stream_papers() if papers is None else papers)


def _papers_with(ids: list[str]) -> list[Paper]:
    return [p for p in stream_papers() if p.arxiv_id in ids]


def test_first_run_opens_exactly_one_pr_with_the_right_files_and_body(bot: Bot) -> None:
    expected = _expected(bot)
    assert expected, "the classifier proposes nothing on the fixture night"
    gh = bot.gh

    result = bot.run()

    assert result.exit_code == 0, result.stderr
    pull = _one_pull(gh)
    assert f"Opened pull request #{pull.number}: " in result.stderr
    assert pull.title == expected_title(bot.classifier, stream_papers(), NIGHT)
    assert pull.head == BRANCH and pull.base == "main" and pull.labels == ["tracker"]
    # one commit on top of main, by the bot, touching only the catalog and its rendered lists
    head = gh.commits[gh.branch_sha(BRANCH) or ""]
    assert head.parents == [gh.branch_sha("main")]
    assert head.author["email"] == head.committer["email"] == "tracker-bot@users.noreply.github.com"
    changed = {p for p, text in gh.files(BRANCH).items() if gh.files("main").get(p) != text}
    assert changed == {PAPERS, "catalog/README.md", "catalog/README.en.md"}
    before, after = _entries(gh, "main"), _entries(gh, BRANCH)
    added = {i: links for i, links in after.items() if i not in before}
    assert set(added) == set(expected)
    # the record's `abs` link is the catalog's required pdf link
    assert all(links["pdf"] == f"https://arxiv.org/abs/{i}" for i, links in added.items())
    readme = gh.file_at(BRANCH, "catalog/README.md") or ""
    first = next(p for p in stream_papers() if p.arxiv_id == expected[0])
    assert (
        f"{escape_markdown(first.title)}" in readme
        and " arXiv 2026. [\\[pdf\\]](https://arxiv.org/abs/" in readme
    )
    # the body: a task list per section, statistics, how to review, the hidden block
    block = parse_block(pull.body)
    assert block is not None and {p.arxiv for p in block} == set(expected)
    state = decode(pull.body)
    assert state is not None and state.head == gh.branch_sha(BRANCH)
    assert state.base == gh.branch_sha("main")
    for section in {p.section for p in block}:
        node = TAXONOMY.get(section or "")
        assert node is not None and f"### {node.heading_zh} · {node.heading_en} (" in pull.body
    assert (
        f"- [x] [arXiv:{first.arxiv_id}](https://arxiv.org/abs/{first.arxiv_id}) "
        f"**{inert(first.title)}** · "
    ) in pull.body
    assert "| Sources | arxiv-api 12, arxiv-listing 12 |" in pull.body
    assert "| Fetched | 12 papers from 2026-03-13 to 2026-03-16 |" in pull.body
    assert f"| Model | {inert(bot.classifier.version)} |" in pull.body
    assert "Close** without merging to reject all of them" in pull.body


def test_second_run_on_the_same_day_opens_none_and_changes_nothing(bot: Bot) -> None:
    gh = bot.gh
    bot.run()
    refs, writes = dict(gh.refs), len(gh.requests("POST"))

    again = bot.run()

    assert again.exit_code == 0, again.stderr
    url = gh.pull_json(gh.pulls[0])["html_url"]
    assert ALREADY_TODAY.format(number=1, state="open", url=url) in again.stderr
    assert len(gh.pulls) == 1 and gh.refs == refs
    assert len(gh.requests("POST")) == writes
    assert gh.requests("PATCH") == [] and gh.requests("DELETE") == []


def test_papers_in_an_open_tracker_pr_are_not_proposed_again(bot: Bot) -> None:
    listed = _expected(bot) + expected_candidates(bot.classifier, stream_papers())
    bot.run()

    result = bot.run(night=NIGHT + dt.timedelta(days=1))

    assert result.exit_code == 0, result.stderr
    assert f"open PRs {len(listed)}," in result.stderr
    assert f"classified {12 - len(listed)}," in result.stderr
    assert "No new papers to propose." in result.stderr
    assert len(bot.gh.pulls) == 1


def test_papers_of_a_closed_pr_never_return(bot: Bot) -> None:
    gh = bot.gh
    expected = _expected(bot)
    first = expected[:3]
    bot.run(papers=_papers_with(first))  # night one: three papers proposed
    gh.close_pull(1)

    result = bot.run(night=NIGHT + dt.timedelta(days=1))  # the whole night again

    assert result.exit_code == 0, result.stderr
    assert f"rejected {len(first)})" in result.stderr
    pull = gh.pulls[1]
    block = parse_block(pull.body)
    assert block is not None and {p.arxiv for p in block} == set(expected) - set(first)
    rejected = parse_rejections(gh.file_at(pull.head, "catalog/rejected.yaml") or "", "x")
    assert {(r.arxiv, r.reason, r.pr) for r in rejected} == {(i, REASON_CLOSED, 1) for i in first}
    assert "### Rejections recorded in this pull request" in pull.body

    # merged with the record: they stay away on later nights too, as do the candidates left
    # unticked in the merged pull request (recorded as decisions)
    state = decode(pull.body)
    left = [i for i in (state.items if state else []) if not i.checked]
    gh.merge_pull(2)
    later = bot.run(night=NIGHT + dt.timedelta(days=2))
    assert "No new papers to propose." in later.stderr and len(gh.pulls) == 2
    assert f"rejected {len(first) + len(left)})" in later.stderr


def test_a_paper_deleted_from_a_tracker_pr_before_merging_is_rejected(bot: Bot) -> None:
    gh = bot.gh
    expected = _expected(bot)
    bot.run()
    gone = expected[0]
    lines = (gh.file_at(BRANCH, PAPERS) or "").splitlines(keepends=True)
    start = next(i for i, ln in enumerate(lines) if f"arxiv: '{gone}'" in ln)
    start = max(i for i in range(start + 1) if lines[i].startswith("- "))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("- "))
    gh.push_commit(BRANCH, {PAPERS: "".join(lines[:start] + lines[end:])})
    gh.merge_pull(1)

    result = bot.run(night=NIGHT + dt.timedelta(days=1))

    assert "No new papers to propose." in result.stderr
    left = len(expected_candidates(bot.classifier, stream_papers()))  # unticked: rejected too
    assert f"catalog {len(expected) - 1}, open PRs 0, rejected {1 + left}" in result.stderr
    # nothing to propose, so no pull request records the rejection yet; it is honoured anyway
    assert len(gh.pulls) == 1
    assert REASON_DELETED == "deleted before merging"


def test_a_502_after_github_created_the_pr_leaves_exactly_one(bot: Bot) -> None:
    gh = bot.gh
    gh.fail_next("POST", r"/pulls$", "error-after", status=502)

    result = bot.run()

    assert result.exit_code == 0, result.stderr
    assert len(gh.requests("POST", r"/pulls$")) == 1  # never re-sent
    assert "Pull request #1 already existed for tracker/2026-03-16" in result.stderr
    assert _one_pull(gh).labels == ["tracker"]
    assert bot.run().exit_code == 0 and len(gh.pulls) == 1


def test_a_502_before_github_created_the_pr_converges_to_one(bot: Bot) -> None:
    gh = bot.gh
    gh.fail_next("POST", r"/pulls$", "error-before", status=502)

    result = bot.run()

    assert result.exit_code == 0, result.stderr
    assert [s for _, _, s in gh.requests("POST", r"/pulls$")] == [502, 201]
    assert len(gh.pulls) == 1


@pytest.mark.parametrize(
    ("path", "kind", "seconds"),
    [(r"/pulls$", "hang-after", 1.5), (r"/git/refs$", "drop-after", 0.0)],
    ids=["timeout-on-post-pulls", "dropped-connection-on-creating-the-branch"],
)
def test_a_write_whose_answer_is_lost_is_sent_once_and_converges(
    bot: Bot, path: str, kind: str, seconds: float
) -> None:
    """GitHub did the write but the answer never came (http.timeout is 1 s): the run reads the
    state back instead of sending the write again."""
    gh = bot.gh
    bot.configure(http={"timeout": 1})
    gh.fail_next("POST", path, kind, seconds=seconds)

    result = bot.run()

    assert result.exit_code == 0, result.stderr
    assert len(gh.requests("POST", path)) == 1
    assert len(gh.pulls) == 1


def test_a_403_rate_limit_stops_with_a_clear_message_and_a_rerun_converges(bot: Bot) -> None:
    gh = bot.gh
    gh.fail_next("POST", r"/pulls$", "rate-limit", seconds=3600)

    started = time.monotonic()
    result = bot.run()

    assert result.exit_code == 1
    assert result.stderr.count("Error: ") == 1
    assert "Error: GitHub rate limit reached while opening the pull request" in result.stderr
    assert "resets in 60 min" in result.stderr
    assert time.monotonic() - started < 10  # an hour is past bot.rate_limit_max_wait: no wait
    assert gh.pulls == [] and gh.branch_sha(BRANCH) is not None

    gh.rate_remaining = 5000  # the hour has passed
    again = bot.run()  # the branch left without a pull request is reused

    assert again.exit_code == 0, again.stderr
    assert len(gh.pulls) == 1
    assert len(gh.requests("POST", r"/git/refs$")) == 1


def test_a_422_ref_exists_from_an_earlier_bot_run_is_reused(bot: Bot) -> None:
    gh = bot.gh
    bot.run(papers=_papers_with(_expected(bot)[:1]))  # leaves branch and PR #1
    gh.pulls.clear()  # as if the PR was never opened: a bare bot branch remains
    before = gh.branch_sha(BRANCH)

    result = bot.run()

    assert result.exit_code == 0, result.stderr
    assert len(gh.pulls) == 1 and gh.branch_sha(BRANCH) != before
    assert [s for _, _, s in gh.requests("POST", r"/git/refs$")] == [201]  # then reused:
    assert len(gh.requests("PATCH", r"/git/refs/heads/tracker")) == 1


def test_a_422_ref_exists_from_a_concurrent_bot_run_converges(bot: Bot) -> None:
    """Another tracker run creates today's branch between this run's reading and its creating
    the branch: GitHub answers 422 "Reference already exists"; the run reads the branch back,
    sees the bot's commit and moves it to its own. One pull request."""
    gh = bot.gh

    def other_run() -> None:
        gh.create_branch(BRANCH)
        gh.push_commit(BRANCH, {"catalog/x.md": "x\n"}, author=(BOT_NAME, BOT_EMAIL))

    gh.fail_next("POST", r"/git/refs$", "race", action=other_run)

    result = bot.run()

    assert result.exit_code == 0, result.stderr
    assert [s for _, _, s in gh.requests("POST", r"/git/refs$")] == [422]
    assert len(gh.requests("PATCH", r"/git/refs/heads/tracker")) == 1
    assert len(gh.pulls) == 1 and "catalog/x.md" not in gh.files(BRANCH)


def test_a_branch_a_human_pushed_to_is_never_overwritten(bot: Bot) -> None:
    gh = bot.gh
    gh.create_branch(BRANCH)
    human = gh.push_commit(BRANCH, {"catalog/notes.md": "mine\n"})

    result = bot.run()

    assert HUMAN_BRANCH.format(branch=BRANCH, sha=human[:7]) in result.stderr
    assert gh.branch_sha(BRANCH) == human and gh.pulls == []


def test_at_most_k_open_tracker_prs(bot: Bot) -> None:
    gh = bot.gh
    bot.configure(bot={"max_open_prs": 2})
    expected = _expected(bot)
    bot.run(papers=_papers_with(expected[0:1]))
    bot.run(night=NIGHT + dt.timedelta(days=1), papers=_papers_with(expected[1:2]))

    result = bot.run(night=NIGHT + dt.timedelta(days=2))

    assert TOO_MANY_OPEN.format(count=2, numbers="#2, #1") in result.stderr
    assert len(gh.pulls) == 2


def test_a_bare_bot_branch_from_an_earlier_night_is_cleaned_up(bot: Bot) -> None:
    gh = bot.gh
    bot.run(papers=_papers_with(_expected(bot)[:1]))
    gh.pulls.clear()  # yesterday's run died after pushing the branch

    result = bot.run(night=NIGHT + dt.timedelta(days=1))

    assert DELETED_BRANCH.format(branch=BRANCH) in result.stderr
    assert gh.branches() == ["main", "tracker/2026-03-17"]


def test_a_missing_label_is_added_by_the_rerun(bot: Bot) -> None:
    gh = bot.gh
    gh.fail_next("POST", r"/issues/\d+/labels$", "error-before", status=403)
    first = bot.run()
    assert first.exit_code == 0 and "Could not label #1 with 'tracker'" in first.stderr
    assert gh.pulls[0].labels == []

    bot.run()

    assert gh.pulls[0].labels == ["tracker"]


def test_the_token_never_appears_in_output(bot: Bot) -> None:
    gh = bot.gh
    gh.fail_next("POST", r"/pulls$", "rate-limit", seconds=3600)  # an error path too
    results = [bot.run(), bot.run("--no-write"), bot.run()]
    assert all(TOKEN not in r.stdout + r.stderr for r in results)
    assert all(TOKEN not in p.body + p.title for p in gh.pulls)


def test_hostile_titles_render_inert_in_the_pr_and_the_lists(bot: Bot) -> None:
    gh = bot.gh
    hostile = Paper.from_dict(HOSTILE_ROW)

    result = bot.run(papers=[hostile, *stream_papers()])

    assert result.exit_code == 0, result.stderr
    pull = _one_pull(gh)
    html = MarkdownIt("commonmark").enable("table").enable("strikethrough").render(pull.body)
    assert "<img" not in html and "<script" not in html
    assert html.count("<!--") == 1  # only the machine-readable block
    assert "evil.example/login" not in "".join(re.findall(r'href="([^"]+)"', html))
    text = re.sub(r"<[^>]+>", "", html)
    assert not re.search(r"(?<![\w`])@[A-Za-z0-9-]+", text.replace("@\u200b", ""))
    assert "<!--" not in pull.body.split("\n<!-- tracker:proposals v2 ")[0]
    line = next(ln for ln in pull.body.splitlines() if "arXiv:2603.19999" in ln)
    assert line.startswith("- [x] [arXiv:2603.19999](https://arxiv.org/abs/2603.19999) **")
    block = parse_block(pull.body)
    assert block is not None and any(p.arxiv == "2603.19999" for p in block)
    # the rendered list on the branch: escaped too
    readme = gh.file_at(BRANCH, "catalog/README.md") or ""
    item = next(ln for ln in readme.splitlines() if "onerror" in ln)
    rendered = MarkdownIt("commonmark").render(item)
    assert "<img" not in rendered and "<script" not in rendered
    assert "evil.example/login" not in "".join(re.findall(r'href="([^"]+)"', rendered))


def test_a_failed_source_still_publishes_the_others_papers_with_exit_code_3(bot: Bot) -> None:
    gh = bot.gh
    expected = _expected(bot)
    bot.arxiv.serve(stream_papers(), NIGHT)
    bot.arxiv.fail_listing(503)

    result = run_cli("run", "--date", NIGHT.isoformat())  # served as set up above

    assert result.exit_code == 3, result.stderr
    assert "Source arxiv-listing failed: GET " in result.stderr
    assert SOME_FAILED.format(names="arxiv-listing") in result.stderr
    pull = _one_pull(gh)
    block = parse_block(pull.body)
    assert block is not None and {p.arxiv for p in block} == set(expected)
    assert "| Sources | arxiv-api 12 (failed: arxiv-listing: GET " in pull.body


def test_source_warnings_reach_the_run_report_and_the_pr(bot: Bot) -> None:
    gh = bot.gh

    result = bot.run(api=[])  # the API search finds nothing over weekdays: a warning

    assert result.exit_code == 0, result.stderr
    assert "Source arxiv-api: 0 papers.\n  warning: the search found nothing" in result.stderr
    pull = _one_pull(gh)
    warnings = next(ln for ln in pull.body.splitlines() if ln.startswith("| Warnings |"))
    assert "arxiv-api: the search found nothing submitted 2026-03-13..2026-03-16" in warnings


def test_every_source_failing_opens_nothing_and_exits_1(bot: Bot) -> None:
    gh = bot.gh
    bot.arxiv.server.route("/api/query", Reply(503, b"unavailable", "text/plain"))
    bot.arxiv.fail_listing(503)

    result = run_cli("run", "--date", NIGHT.isoformat())

    assert result.exit_code == 1, result.stderr
    assert ALL_FAILED.format(names="arxiv-api, arxiv-listing") in result.stderr
    assert "Source arxiv-api failed: " in result.stderr
    assert gh.pulls == [] and gh.branches() == ["main"]


# --- the pipeline directly: the fake clock, and a step between preparing and publishing --------


def test_a_short_rate_limit_is_waited_out_on_the_injected_clock(harness: Harness) -> None:
    harness.server.fail_next("POST", r"/git/refs$", "rate-limit", seconds=20)
    harness.server.fail_next("GET", r"/pulls$", "secondary", status=429, seconds=7)

    report = harness.run()

    assert report.published is not None and len(harness.server.pulls) == 1
    assert harness.clock.slept == [7.0, 21.0]


def test_a_human_push_between_prepare_and_publish_is_not_overwritten(harness: Harness) -> None:
    publisher = harness.publisher()
    prep = publisher.prepare(NIGHT)
    harness.server.create_branch(BRANCH)  # a maintainer pushes the branch meanwhile
    human = harness.server.push_commit(BRANCH, {"catalog/notes.md": "mine\n"})

    with pytest.raises(GitHubError) as caught:
        publisher.publish(prep, {"catalog/x.md": "x\n"}, "Add 1 paper (2026-03-16)", "body")

    assert caught.value.message == HUMAN_BRANCH.format(branch=BRANCH, sha=human[:7])
    assert harness.server.branch_sha(BRANCH) == human and harness.server.pulls == []

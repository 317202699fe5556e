"""`tracker review` end to end: the real command in-process, a tracker pull request opened by the
real `tracker run` on the loopback GitHub, maintainers' checkboxes and `/tracker` comments,
PyGithub speaking to the server as it does to GitHub.

The night (the label double, with candidates): six in-scope papers are added (ticked), the
three most relevant out-of-scope ones are candidates (unticked).
"""

from __future__ import annotations

import re
import time

import pytest
from markdown_it import MarkdownIt

from tests.bot.conftest import Bot, oracle, stream_papers
from tests.conftest import REPO, Result, run_cli
from tests.servers.github import BOT_LOGIN, GitHubServer, Pull
from tracker.catalog.store import parse_papers_text
from tracker.catalog.taxonomy import load_taxonomy
from tracker.cli import bot as bot_cli
from tracker.paper import Paper
from tracker.publish.block import PullState, decode
from tracker.publish.body import MOVED, checkboxes
from tracker.publish.commands import MAX_COMMANDS
from tracker.publish.review import (
    NO_WRITE_ACCESS,
    NOT_LISTED,
    NOT_ON_ARXIV,
    NOTHING_NEW,
    REACTION_APPLIED,
    REACTION_REFUSED,
    UNKNOWN_SECTION,
)

TAXONOMY = load_taxonomy(REPO / "catalog" / "taxonomy.yaml")
BRANCH = "tracker/2026-03-16"
PAPERS = "catalog/papers.yaml"
ADDED = ["2603.12679", "2603.12681", "2603.12946", "2603.13186", "2603.12989", "2603.12799"]
CANDIDATES = ["2603.12300", "2603.12450", "2603.12455"]
SECTION_IDS = ", ".join(leaf.id for leaf in TAXONOMY.leaves)
# A paper on arXiv that the night did not list (the API answers id lookups with it).
OUTSIDE = Paper(
    title="Poisoned Adapters on Model Hubs",
    abstract="We plant backdoors in LoRA adapters shared on model hubs.",
    authors=("Ada Lovelace",),
    arxiv_id="2603.20001",
    categories=("cs.CR",),
)


@pytest.fixture
def pr(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> GitHubServer:
    """Pull request #1 as `tracker run` opened it; `maintainer` has write access."""
    classifier = oracle(candidate_threshold=0.215)
    monkeypatch.setattr(bot_cli, "load_classifier", lambda config: classifier)
    assert bot.run(api=[*stream_papers(), OUTSIDE]).exit_code == 0
    bot.gh.collaborators["maintainer"] = "write"
    bot.gh.collaborators["triager"] = "triage"
    return bot.gh


def review() -> Result:
    return run_cli("review", "--pr", "1")


def _state(gh: GitHubServer) -> PullState:
    state = decode(gh.pulls[0].body)
    assert state is not None
    return state


def _catalog(gh: GitHubServer, branch: str = BRANCH) -> dict[str, str]:
    """arXiv id -> section of every entry of papers.yaml on `branch`."""
    entries = parse_papers_text(gh.file_at(branch, PAPERS) or "", "papers.yaml", TAXONOMY)
    return {e.paper.arxiv_id or e.paper.title: e.section for e in entries}


def _added(gh: GitHubServer) -> set[str]:
    return set(_catalog(gh)) - set(_catalog(gh, "main"))


def test_the_pull_request_starts_with_both_tiers(pr: GitHubServer) -> None:
    assert _added(pr) == set(ADDED)
    assert checkboxes(pr.pulls[0].body) == {
        **{f"arXiv:{i}": True for i in ADDED},
        **{f"arXiv:{i}": False for i in CANDIDATES},
    }


def test_a_maintainers_commands_are_one_commit_a_reaction_and_the_new_body(
    pr: GitHubServer,
) -> None:
    before = pr.branch_sha(BRANCH)
    predicted = next(i.predicted for i in _state(pr).items if i.arxiv == "2603.12300")
    comment = pr.add_comment(
        1,
        "maintainer",
        "Thanks!\n/tracker drop 2603.12679\n/tracker add arXiv:2603.12300v2\n"
        "/tracker move 2603.12681 部署阶段的攻击\n/tracker add 2603.12450 defense.usage",
    )

    result = review()

    assert result.exit_code == 0, result.stderr
    head = pr.commits[pr.branch_sha(BRANCH) or ""]
    assert head.parents == [before]  # one commit on top: no force-push
    assert head.message.startswith("Review of #1: 2 add, 1 drop, 1 move\n")
    assert head.author["email"] == "tracker-bot@users.noreply.github.com"
    catalog = _catalog(pr)
    assert "2603.12679" not in catalog
    assert catalog["2603.12300"] == predicted == "defense.design"  # as the classifier said
    assert catalog["2603.12450"] == "defense.usage"
    assert catalog["2603.12681"] == "attack.deployment"
    readme = pr.file_at(BRANCH, "catalog/README.md") or ""
    assert "Internet-Scale Measurement of React2Shell" in readme
    assert "Why Neural Structural Obfuscation" not in readme
    assert pr.reactions(comment.id) == [(BOT_LOGIN, REACTION_APPLIED)]
    assert pr.replies(1) == []

    body = pr.pulls[0].body
    state = _state(pr)
    assert state.head == pr.branch_sha(BRANCH) and state.comment == comment.id
    ticks = checkboxes(body)
    assert ticks["arXiv:2603.12679"] is False and ticks["arXiv:2603.12300"] is True
    assert ticks["arXiv:2603.12455"] is False
    line = next(ln for ln in body.splitlines() if "arXiv:2603.12681" in ln)
    assert MOVED.format(heading="针对迁移的攻击") in line
    section = body.split("### 部署阶段的攻击 · ")[1].split("###")[0]
    assert "arXiv:2603.12681" in section
    assert pr.pulls[0].title == "Add 7 papers, 2 to review (2026-03-16)"
    assert "#1: committed " in result.stderr


def test_a_strangers_commands_are_refused_with_a_reply_and_change_nothing(
    pr: GitHubServer,
) -> None:
    before, files = pr.branch_sha(BRANCH), pr.files(BRANCH)
    stranger = pr.add_comment(1, "mallory", "/tracker drop 2603.12679\n/tracker add 2603.12300")
    triager = pr.add_comment(1, "triager", "/tracker add 2603.12300")

    result = review()

    assert result.exit_code == 0, result.stderr
    assert pr.branch_sha(BRANCH) == before and pr.files(BRANCH) == files
    assert pr.reactions(stranger.id) == [(BOT_LOGIN, REACTION_REFUSED)]
    assert pr.reactions(triager.id) == [(BOT_LOGIN, REACTION_REFUSED)]
    replies = pr.replies(1)
    assert len(replies) == 2
    assert NO_WRITE_ACCESS.format(login="mallory", permission="none") in replies[0].body
    assert "tracker did not apply 2 commands of [this comment](" in replies[0].body
    assert f"#issuecomment-{stranger.id})" in replies[0].body
    assert NO_WRITE_ACCESS.format(login="triager", permission="read") in replies[1].body
    assert checkboxes(pr.pulls[0].body)["arXiv:2603.12679"] is True


def test_ticked_and_unticked_boxes_are_applied(pr: GitHubServer) -> None:
    pr.tick(1, "arXiv:2603.12455")  # a candidate: added under its predicted section
    pr.tick(1, "arXiv:2603.12946", ticked=False)  # an added paper: dropped

    result = review()

    assert result.exit_code == 0, result.stderr
    assert _added(pr) == (set(ADDED) - {"2603.12946"}) | {"2603.12455"}
    assert pr.commits[pr.branch_sha(BRANCH) or ""].message.startswith(
        "Review of #1: 1 add, 1 drop\n"
    )
    state = _state(pr)
    ticked = {i.arxiv: i.checked for i in state.items}
    assert ticked["2603.12455"] is True and ticked["2603.12946"] is False
    assert checkboxes(pr.pulls[0].body) == {f"arXiv:{k}": v for k, v in ticked.items()}
    assert "\r\n" not in pr.pulls[0].body  # tracker's own body, not the browser's


def test_commands_and_boxes_together_boxes_first_then_comments_in_order(
    pr: GitHubServer,
) -> None:
    pr.tick(1, "arXiv:2603.12300")
    pr.tick(1, "arXiv:2603.12989", ticked=False)
    pr.add_comment(1, "maintainer", "/tracker drop 2603.12300")  # after the tick: wins
    pr.add_comment(1, "survey-org", "/tracker add 2603.12989 defense.usage")

    result = review()

    assert result.exit_code == 0, result.stderr
    catalog = _catalog(pr)
    assert "2603.12300" not in catalog and catalog["2603.12989"] == "defense.usage"
    assert len(pr.commits[pr.branch_sha(BRANCH) or ""].parents) == 1
    assert all(
        r == [(BOT_LOGIN, REACTION_APPLIED)] for r in map(pr.reactions, [c.id for c in pr.comments])
    )


def test_any_arxiv_paper_can_be_added_by_id_through_the_arxiv_api(pr: GitHubServer) -> None:
    comment = pr.add_comment(1, "maintainer", "/tracker add 2603.20001")

    result = review()

    assert result.exit_code == 0, result.stderr
    assert pr.reactions(comment.id) == [(BOT_LOGIN, REACTION_APPLIED)]
    entry = next(
        e
        for e in parse_papers_text(pr.file_at(BRANCH, PAPERS) or "", "p", TAXONOMY)
        if e.paper.arxiv_id == "2603.20001"
    )
    assert entry.paper.title == OUTSIDE.title and entry.paper.authors == OUTSIDE.authors
    assert entry.paper.links["pdf"] == "https://arxiv.org/abs/2603.20001"
    item = next(i for i in _state(pr).items if i.arxiv == "2603.20001")
    assert item.tier == "maintainer" and item.checked and item.section == entry.section
    line = next(ln for ln in pr.pulls[0].body.splitlines() if "arXiv:2603.20001" in ln)
    assert line.startswith("- [x] ") and "added by a maintainer" in line


def test_unknown_ids_and_sections_are_refused_with_the_valid_section_ids(
    pr: GitHubServer,
) -> None:
    before = pr.branch_sha(BRANCH)
    comment = pr.add_comment(
        1,
        "maintainer",
        "/tracker drop 2603.00042\n/tracker move 2603.12681 nowhere\n"
        "/tracker add 2603.55555\n/tracker frobnicate 2603.12681",
    )

    result = review()

    assert result.exit_code == 0, result.stderr
    assert pr.branch_sha(BRANCH) == before
    assert pr.reactions(comment.id) == [(BOT_LOGIN, REACTION_REFUSED)]
    (reply,) = pr.replies(1)
    assert reply.body.startswith(f"<!-- tracker:reply {comment.id} -->\n")
    assert f"- /tracker drop 2603.00042: {NOT_LISTED}" in reply.body
    assert (
        "- /tracker move 2603.12681 nowhere: "
        + UNKNOWN_SECTION.format(section="nowhere", ids=SECTION_IDS)
    ) in reply.body
    assert f"- /tracker add 2603.55555: {NOT_ON_ARXIV.format(id='2603.55555')}" in reply.body
    assert "- /tracker frobnicate 2603.12681: unknown command (use add, drop or move)" in (
        reply.body
    )
    assert "refused 4 command(s) of comment " in result.stderr


def test_hostile_comments_are_read_with_bounded_work_and_answered_inertly(
    pr: GitHubServer,
) -> None:
    before = pr.branch_sha(BRANCH)
    markdown = pr.add_comment(
        1,
        "mallory",
        "/tracker drop 2603.12679 <!-- x --> @admin [link](https://evil.example) $(rm -rf ~)"
        " `id`; | tee /etc/passwd\n/tracker move 2603.12681 **bold** <img src=x> #1 @octocat",
    )
    huge = pr.add_comment(1, "maintainer", "x" * 100_000 + "\n/tracker drop 2603.12679\n")
    many = pr.add_comment(
        1, "maintainer", "".join(f"/tracker move 2603.12681 sec-{i}\n" for i in range(1000))
    )

    started = time.monotonic()
    result = review()

    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started < 30
    assert pr.branch_sha(BRANCH) == before  # nothing was applied
    assert pr.reactions(markdown.id) == [(BOT_LOGIN, REACTION_REFUSED)]
    assert pr.reactions(huge.id) == []  # its command lies past what is read: not a command
    assert pr.reactions(many.id) == [(BOT_LOGIN, REACTION_REFUSED)]
    replies = {int(re.findall(r"reply (\d+)", r.body)[0]): r.body for r in pr.replies(1)}
    assert set(replies) == {markdown.id, many.id}
    html = MarkdownIt("commonmark").render(replies[markdown.id])
    assert re.findall(r'href="([^"]+)"', html) == [
        f"{pr.root}/{pr.full_name}/pull/1#issuecomment-{markdown.id}"
    ]
    assert "<img" not in html and "<strong>" not in html and "<!--" not in html.split("\n", 1)[1]
    text = re.sub(r"<[^>]+>", "", html)
    assert not re.search(r"(?<![\w`])@[A-Za-z0-9-]+", text.replace("@\u200b", ""))
    assert f"tracker did not apply {MAX_COMMANDS + 1} commands" in replies[many.id]
    assert f"- and {MAX_COMMANDS + 1 - 20} more" in replies[many.id]
    assert len(replies[many.id]) < 10_000


def test_a_rerun_with_nothing_new_writes_nothing(pr: GitHubServer) -> None:
    pr.add_comment(1, "maintainer", "/tracker drop 2603.12679")
    pr.add_comment(1, "mallory", "/tracker drop 2603.12681")
    assert review().exit_code == 0
    pr.add_comment(1, "maintainer", "LGTM, thanks")  # no command: nothing to do
    writes = [r for r in pr.log if r[0] != "GET"]

    again = review()

    assert again.exit_code == 0, again.stderr
    assert [r for r in pr.log if r[0] != "GET"] == writes
    assert NOTHING_NEW.format(number=1) in again.stderr


def test_a_crash_between_the_commit_and_the_body_is_finished_by_the_next_run(
    pr: GitHubServer,
) -> None:
    comment = pr.add_comment(1, "maintainer", "/tracker drop 2603.12679\n/tracker drop nope")
    pr.fail_next("PATCH", r"/pulls/1$", "error-before", status=500, times=20)  # and retries

    crashed = review()

    assert crashed.exit_code == 1 and "Error: updating the description of #1" in crashed.stderr
    committed = pr.branch_sha(BRANCH)
    assert "2603.12679" not in _catalog(pr) and _state(pr).head != committed
    assert len(pr.replies(1)) == 1
    pr.faults.clear()  # GitHub is back

    again = review()

    assert again.exit_code == 0, again.stderr
    assert pr.branch_sha(BRANCH) == committed  # no second commit
    assert len(pr.replies(1)) == 1  # no second reply
    assert sorted(pr.reactions(comment.id)) == sorted(
        [(BOT_LOGIN, REACTION_APPLIED), (BOT_LOGIN, REACTION_REFUSED)]
    )
    state = _state(pr)
    assert state.head == committed and state.comment == comment.id
    assert checkboxes(pr.pulls[0].body)["arXiv:2603.12679"] is False
    assert review().exit_code == 0 and pr.branch_sha(BRANCH) == committed


def test_a_humans_commit_on_the_branch_is_kept_and_shown(pr: GitHubServer) -> None:
    lines = (pr.file_at(BRANCH, PAPERS) or "").splitlines(keepends=True)
    at = next(i for i, ln in enumerate(lines) if "arxiv: '2603.12946'" in ln)
    start = max(i for i in range(at + 1) if lines[i].startswith("- "))
    end = next((i for i in range(at, len(lines)) if lines[i].startswith("- ")), len(lines))
    gone = lines[start].removeprefix("- title: ").strip()
    human = pr.push_commit(
        BRANCH,
        {PAPERS: "".join(lines[:start] + lines[end:]), "catalog/NOTES.md": "reviewed by hand\n"},
    )
    pr.add_comment(1, "maintainer", "/tracker add 2603.12300")

    result = review()

    assert result.exit_code == 0, result.stderr
    head = pr.commits[pr.branch_sha(BRANCH) or ""]
    assert head.parents == [human]
    assert pr.file_at(BRANCH, "catalog/NOTES.md") == "reviewed by hand\n"
    assert _added(pr) == (set(ADDED) - {"2603.12946"}) | {"2603.12300"}
    # the lists were re-rendered from the human's papers.yaml too
    assert gone[:30] not in (pr.file_at(BRANCH, "catalog/README.md") or "")
    assert checkboxes(pr.pulls[0].body)["arXiv:2603.12946"] is False


def test_a_human_push_while_tracker_writes_is_never_overwritten(pr: GitHubServer) -> None:
    pr.add_comment(1, "maintainer", "/tracker drop 2603.12679")
    pushed: list[str] = []

    def push() -> None:
        pushed.append(pr.push_commit(BRANCH, {"catalog/NOTES.md": "mine\n"}))

    pr.fail_next("PATCH", r"/git/refs/heads/tracker", "race", action=push)

    result = review()

    assert result.exit_code == 0, result.stderr
    assert "changed while tracker was writing; read it again (1 of 3)" in result.stderr
    head = pr.commits[pr.branch_sha(BRANCH) or ""]
    assert head.parents == pushed and pr.file_at(BRANCH, "catalog/NOTES.md") == "mine\n"
    assert "2603.12679" not in _catalog(pr)


def test_a_body_edited_while_tracker_writes_is_read_again_not_overwritten(
    pr: GitHubServer,
) -> None:
    comment = pr.add_comment(1, "maintainer", "/tracker drop 2603.12679")
    pr.fail_next(
        "POST",
        rf"/issues/comments/{comment.id}/reactions",
        "race",
        action=lambda: pr.tick(1, "arXiv:2603.12455"),
    )

    result = review()

    assert result.exit_code == 0, result.stderr
    assert "read it again (1 of 3)" in result.stderr
    ticks = checkboxes(pr.pulls[0].body)
    assert ticks["arXiv:2603.12455"] is True and ticks["arXiv:2603.12679"] is False
    assert _added(pr) == (set(ADDED) - {"2603.12679"}) | {"2603.12455"}
    assert len(pr.reactions(comment.id)) == 1


def test_review_without_pr_reviews_every_open_tracker_pull_request(pr: GitHubServer) -> None:
    pr.add_comment(1, "maintainer", "/tracker drop 2603.12679")

    result = run_cli("review")

    assert result.exit_code == 0, result.stderr
    assert "#1: committed " in result.stderr
    assert run_cli("review", "--pr", "7").exit_code == 1


def test_one_pull_request_failing_does_not_stop_the_review_of_the_others(
    pr: GitHubServer,
) -> None:
    pr.create_branch("tracker/2026-03-17", BRANCH)
    first = pr.pulls[0]
    pr.pulls.append(
        Pull(
            2,
            first.title,
            first.body,
            "tracker/2026-03-17",
            "main",
            BOT_LOGIN,
            created_at=first.created_at,
            updated_at=first.updated_at,
        )
    )
    pr.add_comment(1, "maintainer", "/tracker drop 2603.12679")
    pr.add_comment(2, "maintainer", "/tracker drop 2603.12681")
    pr.fail_next("PATCH", r"/pulls/1$", "error-before", status=500, times=20)

    result = run_cli("review")

    assert result.exit_code == 1
    assert "Error: updating the description of #1: GitHub answered 500" in result.stderr
    assert "#2: committed " in result.stderr and "#2: description updated." in result.stderr
    assert "2603.12681" not in _catalog(pr, "tracker/2026-03-17")

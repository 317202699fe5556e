"""Publishing one night's proposals as one pull request, so that any rerun converges.

`prepare` only reads: the repository, its default branch's head, the tracker pull requests and
branches, and the catalog files at that head (the proposals are computed against them, never
against a possibly stale working tree). It decides whether to publish at all:
- a pull request from today's branch exists (open, closed or merged): nothing to do today;
- `bot.max_open_prs` tracker pull requests are open: skip with a message;
- today's branch exists without a pull request: reuse it when only the bot has committed to it,
  else leave it alone and skip (a human pushed to it).

`publish` writes, in this order: blobs, one tree, one commit (parent: the head `prepare` read;
author and committer: the bot identity, with a fixed date), the branch, the pull request, the
label. Blobs, trees and that commit are content-addressed and safe to re-send. Creating the
branch or the pull request is not: after an ambiguous answer (5xx, timeout) the state is read
again and the request is sent once more only when GitHub shows it did not happen. GitHub also
refuses a second open pull request from the same branch, which this code treats as "found".

`tidy` converges what an interrupted run left: it labels today's pull request if the label is
missing and deletes branches the bot left without a pull request on earlier days (only when
their head commit is the bot's).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tracker.catalog.store import PAPERS_FILE
from tracker.config import BotConfig
from tracker.fsutil import repo_path
from tracker.publish.github import (
    AmbiguousWriteError,
    CommitInfo,
    GitHubClient,
    GitHubError,
    PullInfo,
    RateLimitError,
    RepoInfo,
)
from tracker.publish.state import TrackerPull, tracker_pulls

log = logging.getLogger(__name__)

# --- user-facing text (tests assert on these) ------------------------------------------------

ALREADY_TODAY = "Today's tracker pull request #{number} exists ({state}: {url}); nothing to do."
TOO_MANY_OPEN = (
    "{count} tracker pull requests are open ({numbers}), the most bot.max_open_prs allows; "
    "not opening another until one is merged or closed."
)
HUMAN_BRANCH = (
    "Branch {branch} has a commit not made by tracker ({sha}); leaving it alone. Open a pull "
    "request from it yourself, or delete it to let tracker publish today."
)
REUSING_BRANCH = "Reusing branch {branch}, left without a pull request by an earlier run."
DELETED_BRANCH = "Deleted branch {branch}, left without a pull request by an earlier run."
LABELLED = "Added the missing label '{label}' to #{number}."
LABEL_FAILED = "Could not label #{number} with '{label}': {error}"
LABEL_COLOR = "0e8a16"
LABEL_DESCRIPTION = "Papers proposed by tracker, the literature bot"
COMMIT_TRAILER = "Proposed by tracker: the pull request lists each paper with its reasons."


class HumanBranchError(GitHubError):
    """Today's branch has commits by someone else: the bot never overwrites them."""


@dataclass
class Preparation:
    """What `prepare` read, and whether to go on (`skip` is the reason not to)."""

    repo: RepoInfo
    base: str
    base_commit: CommitInfo
    branch: str
    pulls: list[TrackerPull]
    branches: dict[str, str]
    catalog_files: dict[str, str] = field(default_factory=dict)
    # PR number -> papers.yaml on the head of each open tracker pull request (None: none there)
    branch_papers: dict[int, str | None] = field(default_factory=dict)
    reuse_branch: bool = False
    skip: str | None = None
    today_pull: TrackerPull | None = None


@dataclass(frozen=True)
class Published:
    number: int
    url: str
    branch: str
    commit: str
    created: bool  # False: a pull request from this branch already existed and was adopted
    warnings: tuple[str, ...] = ()


def catalog_repo_path(catalog_dir: Path) -> str:
    """The catalog folder's path inside its git repository (`catalog`): relative to the nearest
    folder holding `.git`, else to the working directory."""
    return repo_path(catalog_dir)


class Publisher:
    """Publishes to one repository through `client`, as the bot identity of `bot`."""

    def __init__(
        self,
        client: GitHubClient,
        bot: BotConfig,
        catalog_path: str,
        *,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        also_read: Sequence[str] = (),
    ) -> None:
        self.client = client
        self.bot = bot
        self.catalog_path = catalog_path.strip("/")
        self.now = now
        # Files outside the catalog folder the run rewrites (a README with tracker's markers).
        self.also_read = tuple(also_read)

    def branch_for(self, today: dt.date) -> str:
        return f"{self.bot.branch_prefix}{today.isoformat()}"

    # --- reading ------------------------------------------------------------------------------

    def prepare(self, today: dt.date) -> Preparation:
        repo = self.client.repo()
        base = self.bot.base_branch or repo.default_branch
        head = self.client.branch_head(base)
        if head is None:
            raise GitHubError(
                f"branch {base} not found in {repo.full_name}",
                hint="check bot.base_branch in tracker.yaml",
                status=404,
            )
        prep = Preparation(
            repo=repo,
            base=base,
            base_commit=self.client.commit(head),
            branch=self.branch_for(today),
            pulls=tracker_pulls(self.client.pulls(), repo.full_name, self.bot.branch_prefix),
            branches=self.client.branches(self.bot.branch_prefix),
        )
        prep.today_pull = next((t for t in prep.pulls if t.pull.branch == prep.branch), None)
        open_pulls = [t for t in prep.pulls if t.is_open]
        if prep.today_pull is not None:
            p = prep.today_pull.pull
            state = "merged" if p.merged else p.state
            prep.skip = ALREADY_TODAY.format(number=p.number, state=state, url=p.url)
        elif len(open_pulls) >= self.bot.max_open_prs:
            numbers = ", ".join(f"#{t.number}" for t in open_pulls)
            prep.skip = TOO_MANY_OPEN.format(count=len(open_pulls), numbers=numbers)
        elif prep.branch in prep.branches:
            sha = prep.branches[prep.branch]
            if self.is_bot_commit(self.client.commit(sha)):
                prep.reuse_branch = True
            else:
                prep.skip = HUMAN_BRANCH.format(branch=prep.branch, sha=sha[:7])
        if prep.skip is None:
            folder = self.catalog_path
            prep.catalog_files = self.client.read_files(prep.base_commit, folder, self.also_read)
            for t in open_pulls:
                if t.pull.head_sha:
                    prep.branch_papers[t.number] = self.client.read_file(
                        t.pull.head_sha, self.papers_path
                    )
        return prep

    @property
    def papers_path(self) -> str:
        """papers.yaml's repository path."""
        return f"{self.catalog_path}/{PAPERS_FILE}" if self.catalog_path else PAPERS_FILE

    def is_bot_commit(self, commit: CommitInfo) -> bool:
        email = self.bot.author_email.casefold()
        return (
            commit.author_email.casefold() == email and commit.committer_email.casefold() == email
        )

    # --- converging what earlier runs left ------------------------------------------------------

    def tidy(self, prep: Preparation) -> list[str]:
        """Label today's pull request if an interrupted run left it bare; delete branches the
        bot left without a pull request on earlier days. Returns what it did, for the log."""
        done: list[str] = []
        today = prep.today_pull
        if today is not None and today.is_open and self.bot.label not in today.pull.labels:
            warning = self._label(today.number)
            done.append(warning or LABELLED.format(label=self.bot.label, number=today.number))
        with_pull = {t.pull.branch for t in prep.pulls}
        for branch, sha in sorted(prep.branches.items()):
            if branch == prep.branch or branch in with_pull:
                continue
            if not self.is_bot_commit(self.client.commit(sha)):
                continue  # someone else's work: never touched
            try:
                self.client.delete_branch(branch)
            except AmbiguousWriteError:
                continue  # the next run looks again
            done.append(DELETED_BRANCH.format(branch=branch))
        return done

    # --- writing ------------------------------------------------------------------------------

    def publish(
        self,
        prep: Preparation,
        files: Mapping[str, str],
        title: str,
        body: Callable[[str, str], str],
    ) -> Published:
        """One commit with `files` (repository path -> text; none: a commit of candidates only,
        with the base's tree) on today's branch, and the pull request, whose text is
        `body(base commit, branch commit)`. Safe to call again after any failure: see the
        module docstring."""
        if prep.skip is not None:
            raise GitHubError(f"publishing was skipped: {prep.skip}")
        blobs = {path: self.client.create_blob(text) for path, text in sorted(files.items())}
        tree = (
            self.client.create_tree(prep.base_commit.tree, blobs)
            if blobs
            else (prep.base_commit.tree)
        )
        commit = self.client.create_commit(
            f"{title}\n\n{COMMIT_TRAILER}\n",
            tree,
            prep.base_commit.sha,
            self.bot.author_name,
            self.bot.author_email,
            self.now(),
        )
        if prep.reuse_branch:
            log.info(REUSING_BRANCH.format(branch=prep.branch))
            self._move_own_branch(prep.branch, commit)
        else:
            self._create_branch(prep.branch, commit)
        pull, created = self._open_pull(prep, title, body(prep.base_commit.sha, commit))
        warning = self._label(pull.number)
        return Published(
            pull.number, pull.url, prep.branch, commit, created, (warning,) if warning else ()
        )

    def _create_branch(self, branch: str, commit: str) -> None:
        try:
            self.client.create_branch(branch, commit)
            return
        except AmbiguousWriteError as exc:
            log.warning("%s; reading the branch back", exc)
        except GitHubError as exc:
            if exc.status != 422 or "already exists" not in exc.detail:
                raise
        head = self.client.branch_head(branch)
        if head == commit:
            return
        if head is None:  # the ambiguous request did not create it: verified, send it once more
            self.client.create_branch(branch, commit)
            return
        self._move_own_branch(branch, commit)

    def _move_own_branch(self, branch: str, commit: str) -> None:
        head = self.client.branch_head(branch)
        if head == commit:
            return
        if head is None:
            self.client.create_branch(branch, commit)
            return
        if not self.is_bot_commit(self.client.commit(head)):
            raise HumanBranchError(HUMAN_BRANCH.format(branch=branch, sha=head[:7]))
        try:
            self.client.move_branch(branch, commit)
        except AmbiguousWriteError as exc:
            now = self.client.branch_head(branch)
            if now == commit:
                return
            if now != head:
                raise HumanBranchError(
                    HUMAN_BRANCH.format(branch=branch, sha=str(now)[:7])
                ) from exc
            self.client.move_branch(branch, commit)  # verified unchanged: send it once more

    def _open_pull(self, prep: Preparation, title: str, body: str) -> tuple[PullInfo, bool]:
        try:
            return self.client.create_pull(title, body, prep.branch, prep.base), True
        except AmbiguousWriteError as exc:
            log.warning("%s; looking for the pull request", exc)
        except GitHubError as exc:
            if exc.status != 422 or "already exists" not in exc.detail:
                raise
        found = self._find_pull(prep)
        if found is not None:
            return found, False
        # GitHub shows no pull request from the branch: the ambiguous request did not create
        # one. Sending it again cannot make two: GitHub refuses a second open pull request
        # from the same branch, and a refusal lands in the branch above on the next run.
        return self.client.create_pull(title, body, prep.branch, prep.base), True

    def _find_pull(self, prep: Preparation) -> PullInfo | None:
        for p in self.client.pulls(prep.branch):
            if p.branch == prep.branch and p.head_repo.casefold() == prep.repo.full_name.casefold():
                return p
        return None

    def _label(self, number: int) -> str | None:
        """Label the pull request; a failure is a warning (discovery never needs the label)."""
        try:
            self.client.ensure_label(self.bot.label, LABEL_COLOR, LABEL_DESCRIPTION)
            self.client.add_label(number, self.bot.label)
        except RateLimitError:
            raise
        except GitHubError as exc:
            return LABEL_FAILED.format(number=number, label=self.bot.label, error=exc.message)
        return None

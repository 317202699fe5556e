"""The few GitHub operations the bot needs, over PyGithub, with its safety rules built in.

Every request follows the one HTTP policy (`tracker.http.HttpClient`, settings `http.*`): its
timeout, its User-Agent and its retries (urllib3 `Retry`, with the same counts and backoff),
by kind of request:
- Reads (GET) are retried by the transport (the policy's `retry()`, `allowed_methods` GET and
  HEAD only) after connection errors, timeouts and 500/502/503/504.
- Content-addressed writes (blobs, trees, and commits whose author date we fix) give the same
  SHA however often they are sent, so this module re-sends them itself after a 5xx or a
  timeout, counted and spaced by the same `Retry`.
- Every other write (refs, pull requests, labels) is never re-sent blindly: PyGithub's default
  `GithubRetry` re-sends POSTs, so it is not used; a 5xx, a timeout or a dropped connection on
  such a write raises `AmbiguousWriteError`, and the caller re-reads GitHub's state to learn
  whether the write happened (see `tracker.publish.publisher`).
- A rate limit (403 with `X-RateLimit-Remaining: 0`, or 403/429 with `Retry-After`, or GitHub's
  rate-limit message) means GitHub refused the request without doing it, so after waiting the
  same request may be sent again, writes included. A wait longer than `max_wait` seconds raises
  `RateLimitError` with the reset time instead.

The token lives in PyGithub's `Auth.Token` and in `tracker.config.Secret`; no message of this
module contains it.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from tracker.config import BotConfig, Secret
from tracker.errors import ConfigError, TrackerError
from tracker.http import HttpClient

if TYPE_CHECKING:
    from github import Github
    from github.Repository import Repository

log = logging.getLogger(__name__)

T = TypeVar("T")

# Transient statuses worth another GET.
RETRY_STATUSES = (500, 502, 503, 504)
# Seconds between two writes: GitHub asks integrators to space mutating requests by at least
# one second (REST API best practices), and its secondary rate limit punishes bursts.
WRITE_INTERVAL = 1.0
# A secondary rate limit without Retry-After: GitHub's documented advice is to wait a minute.
SECONDARY_RATE_WAIT = 60.0
RATE_LIMIT_ATTEMPTS = 3


# GitHub's answer when a workflow's token may not open pull requests: the token's permissions
# are right, a repository setting (off by default) is not.
ACTIONS_REFUSED = "not permitted to create or approve pull requests"
ACTIONS_PR_HINT = (
    "the token's permissions are fine: this repository does not let GitHub Actions open pull "
    'requests. Turn on Settings > Actions > General > Workflow permissions > "Allow GitHub '
    'Actions to create and approve pull requests" (off by default), or give the Action a '
    "GitHub App (app-id, app-private-key)"
)


class GitHubError(TrackerError):
    """GitHub refused or failed a request; `status` is the HTTP status (0: no answer)."""

    def __init__(
        self, message: str, hint: str | None = None, *, status: int = 0, detail: str = ""
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.detail = detail  # GitHub's own message and error messages, lower-cased


class RateLimitError(GitHubError):
    """GitHub's rate limit is reached and its reset is further away than we wait."""


class AmbiguousWriteError(GitHubError):
    """A write got no clear answer (5xx, timeout, dropped connection): it may or may not have
    happened. Re-read the state before doing anything else."""


class Kind(Enum):
    READ = "read"
    SAFE_WRITE = "content-addressed write"
    WRITE = "write"


@dataclass(frozen=True)
class RepoInfo:
    full_name: str
    owner: str
    default_branch: str
    html_url: str


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author_email: str
    committer_email: str
    message: str


@dataclass(frozen=True)
class PullInfo:
    """A pull request as the bot needs it."""

    number: int
    state: str  # "open" or "closed"
    merged: bool
    branch: str  # head ref
    head_sha: str  # the commit the head ref points at
    head_repo: str  # full name of the head's repository ("" when the fork is gone)
    base: str
    title: str
    body: str
    labels: tuple[str, ...]
    url: str
    created_at: dt.datetime | None
    closed_at: dt.datetime | None
    author: str = ""  # who opened it (for tracker pull requests: the bot's own login)


@dataclass(frozen=True)
class CommentInfo:
    """A comment in a pull request's conversation."""

    id: int
    author: str
    author_is_bot: bool  # GitHub's user type "Bot" (apps, github-actions)
    body: str
    url: str


class BranchMovedError(GitHubError):
    """The branch is no longer where the caller read it: someone pushed meanwhile."""


class GitHubClient:
    """One repository on one GitHub (github.com, Enterprise or a loopback server).

    `http` is the HTTP policy (retries and their backoff); `sleep` and `clock` are injected so
    that tests never wait; `max_wait` is the longest rate-limit wait in seconds before giving
    up with `RateLimitError`.
    """

    def __init__(
        self,
        gh: Github,
        repository: str,
        *,
        api_url: str = "",
        http: HttpClient | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_wait: float = 300.0,
    ) -> None:
        self._gh = gh
        self.repository = repository
        self.api_url = api_url
        self.http = http if http is not None else HttpClient()
        self._sleep = sleep
        self._clock = clock
        self.max_wait = max_wait
        self._repo: Repository | None = None
        self._info: RepoInfo | None = None

    @classmethod
    def connect(
        cls,
        bot: BotConfig,
        token: Secret | None,
        *,
        http: HttpClient | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        write_interval: float | None = None,
    ) -> GitHubClient:
        """A client for `bot.repository` at `bot.api_url`, authenticated with `token`, under
        the HTTP policy `http` (the defaults of `http.*` when None).

        `write_interval` is PyGithub's pause between two writes (`WRITE_INTERVAL` when None);
        tests against the loopback server pass 0.
        """
        http = http if http is not None else HttpClient()
        if write_interval is None:
            write_interval = WRITE_INTERVAL
        from github import Auth, Github

        if not token:
            raise ConfigError(
                "no GitHub token",
                hint="set GITHUB_TOKEN or TRACKER_GITHUB_TOKEN, or run with --dry-run",
            )
        if bot.repository.count("/") != 1 or not all(bot.repository.split("/")):
            raise ConfigError(
                f"bot.repository must be owner/name, not {bot.repository!r}",
                hint="set GITHUB_REPOSITORY or bot.repository in tracker.yaml",
            )
        gh = Github(
            base_url=bot.api_url.rstrip("/"),
            auth=Auth.Token(token.reveal()),
            timeout=max(1, round(http.timeout)),
            # GET and HEAD only, never a write; rate limits are waited out below, with a clock.
            retry=http.retry(
                methods=frozenset({"GET", "HEAD"}), statuses=RETRY_STATUSES, retry_after=False
            ),
            per_page=100,
            user_agent=http.user_agent,
            seconds_between_requests=None,
            seconds_between_writes=write_interval or None,
        )
        return cls(
            gh,
            bot.repository,
            api_url=bot.api_url,
            http=http,
            sleep=sleep,
            clock=clock,
            max_wait=bot.rate_limit_max_wait,
        )

    # --- the one place every request goes through -----------------------------------------------

    def call(self, what: str, kind: Kind, fn: Callable[[], T]) -> T:
        """Run `fn` (one or more PyGithub calls) under the retry policy of the module docstring."""
        from github import GithubException

        rate_waits = 0
        resend = _Resend(self.http.retry(), self._sleep)  # content-addressed writes only
        while True:
            try:
                return fn()
            except GithubException as exc:
                wait = self._rate_limit_wait(exc)
                if wait is not None:
                    rate_waits += 1
                    self._wait_for_rate_limit(what, wait, rate_waits)
                    continue
                if exc.status in RETRY_STATUSES or exc.status >= 500:
                    if kind is Kind.SAFE_WRITE and resend.again(exc):
                        continue
                    if kind is Kind.WRITE:
                        raise AmbiguousWriteError(
                            f"{what}: GitHub answered {exc.status}; the write may have happened",
                            status=exc.status,
                        ) from None
                raise self._error(what, exc) from None
            except requests.exceptions.RequestException as exc:
                if kind is Kind.SAFE_WRITE and resend.again(exc):
                    continue
                reason = _network_reason(exc)
                if kind is Kind.WRITE:
                    raise AmbiguousWriteError(
                        f"{what}: {reason}; the write may have happened"
                    ) from None
                raise GitHubError(
                    f"{what}: {reason} ({self.api_url})",
                    hint="check GITHUB_API_URL and the network; a rerun converges",
                ) from None

    def _rate_limit_wait(self, exc: Any) -> float | None:
        """Seconds to wait when `exc` is a rate limit, else None."""
        if exc.status not in (403, 429):
            return None
        headers = {k.lower(): str(v) for k, v in (exc.headers or {}).items()}
        message = _message(exc.data).lower()
        retry_after = headers.get("retry-after", "")
        remaining = headers.get("x-ratelimit-remaining")
        limited = (
            exc.status == 429 or bool(retry_after) or remaining == "0" or "rate limit" in message
        )
        if not limited:
            return None  # a 403 for permissions
        if retry_after.strip().isdigit():
            return float(retry_after)
        reset = headers.get("x-ratelimit-reset", "")
        if remaining == "0" and reset.isdigit():
            return max(0.0, int(reset) - self._clock()) + 1.0
        return SECONDARY_RATE_WAIT

    def _wait_for_rate_limit(self, what: str, wait: float, attempt: int) -> None:
        if wait > self.max_wait or attempt > RATE_LIMIT_ATTEMPTS:
            resume = dt.datetime.fromtimestamp(self._clock() + wait, dt.UTC)
            raise RateLimitError(
                f"GitHub rate limit reached while {what}: it resets in {_duration(wait)} "
                f"(at {resume:%H:%M} UTC), longer than the {_duration(self.max_wait)} "
                "tracker waits",
                hint="run again after the reset; the rerun reuses or cleans up what this run "
                "left (bot.rate_limit_max_wait sets the longest wait)",
                status=429,
            )
        log.warning("GitHub rate limit while %s: waiting %s", what, _duration(wait))
        self._sleep(wait)

    def _error(self, what: str, exc: Any) -> GitHubError:
        message = _message(exc.data)
        details = [message, *(_error_messages(exc.data))]
        hint = None
        if exc.status == 401:
            hint = "the token was refused: check GITHUB_TOKEN / TRACKER_GITHUB_TOKEN"
        elif exc.status == 403 and ACTIONS_REFUSED in message.lower():
            hint = ACTIONS_PR_HINT
        elif exc.status == 403:
            hint = "the token lacks permission: it needs contents and pull-requests write"
        elif exc.status == 404:
            hint = f"check that {self.repository} exists and the token can see it"
        shown = "; ".join(d for d in details if d) or "no message"
        return GitHubError(
            f"{what}: GitHub answered {exc.status} ({shown})",
            hint,
            status=exc.status,
            detail=" ".join(details).lower(),
        )

    # --- reads ------------------------------------------------------------------------------

    @property
    def _r(self) -> Repository:
        if self._repo is None:
            self._repo = self.call(
                f"reading {self.repository}",
                Kind.READ,
                lambda: self._gh.get_repo(self.repository),
            )
        return self._repo

    def repo(self) -> RepoInfo:
        if self._info is None:
            r = self._r
            self._info = RepoInfo(r.full_name, r.owner.login, r.default_branch, r.html_url)
        return self._info

    def branch_head(self, branch: str) -> str | None:
        """The commit `branch` points at, or None when there is no such branch."""

        def get() -> str | None:
            from github import UnknownObjectException

            try:
                return str(self._r.get_git_ref(f"heads/{branch}").object.sha)
            except UnknownObjectException:
                return None

        return self.call(f"reading branch {branch}", Kind.READ, get)

    def commit(self, sha: str) -> CommitInfo:
        def get() -> CommitInfo:
            c = self._r.get_git_commit(sha)
            return CommitInfo(
                sha=c.sha,
                tree=c.tree.sha,
                parents=tuple(p.sha for p in c.parents),
                author_email=c.author.email or "",
                committer_email=c.committer.email or "",
                message=c.message,
            )

        return self.call(f"reading commit {sha[:7]}", Kind.READ, get)

    def read_files(
        self, commit: CommitInfo, folder: str, also: Sequence[str] = ()
    ) -> dict[str, str]:
        """Every file under `folder` (repository path, no trailing slash; "" for the whole
        repository) at `commit`, and the files `also` names."""
        prefix = f"{folder.rstrip('/')}/" if folder.strip("/") else ""

        def get() -> dict[str, str]:
            tree = self._r.get_git_tree(commit.tree, recursive=True)
            if tree.raw_data.get("truncated"):
                raise GitHubError(f"the tree of {commit.sha[:7]} is too large to list")
            out = {}
            for item in tree.tree:
                wanted = item.path.startswith(prefix) or item.path in also
                if item.type == "blob" and wanted:
                    blob = self._r.get_git_blob(item.sha)
                    out[item.path] = base64.b64decode(blob.content).decode("utf-8")
            return out

        return self.call(f"reading {folder}/ at {commit.sha[:7]}", Kind.READ, get)

    def read_file(self, commit: str, path: str) -> str | None:
        """The text of `path` (a repository path) at commit `commit`; None when it has none."""

        def get() -> str | None:
            c = self._r.get_git_commit(commit)
            tree = self._r.get_git_tree(c.tree.sha, recursive=True)
            if tree.raw_data.get("truncated"):
                raise GitHubError(f"the tree of {commit[:7]} is too large to list")
            for item in tree.tree:
                if item.type == "blob" and item.path == path:
                    blob = self._r.get_git_blob(item.sha)
                    return base64.b64decode(blob.content).decode("utf-8")
            return None

        return self.call(f"reading {path} at {commit[:7]}", Kind.READ, get)

    def pulls(self, branch: str | None = None) -> list[PullInfo]:
        """Every pull request of the repository (open and closed), newest first; with `branch`,
        only those whose head is that branch of this repository."""

        def get() -> list[PullInfo]:
            if branch is None:
                found = self._r.get_pulls(state="all", sort="created", direction="desc")
            else:
                head = f"{self.repo().owner}:{branch}"
                found = self._r.get_pulls(state="all", head=head)
            return [_pull_info(p) for p in found]

        return self.call("listing pull requests", Kind.READ, get)

    def pull(self, number: int) -> PullInfo:
        """Pull request `number` as GitHub has it now."""
        return self.call(
            f"reading pull request #{number}",
            Kind.READ,
            lambda: _pull_info(self._r.get_pull(number)),
        )

    def comments(self, number: int, after: int = 0, limit: int = 1000) -> list[CommentInfo]:
        """The comments of pull request `number` with an id above `after`, oldest first, at
        most `limit` of them (the rest wait for the next run)."""

        def get() -> list[CommentInfo]:
            out = []
            for c in self._r.get_issue(number).get_comments():
                if c.id <= after:
                    continue
                user = c.user
                out.append(
                    CommentInfo(
                        id=c.id,
                        author=user.login if user is not None else "",
                        author_is_bot=user is not None and user.type == "Bot",
                        body=c.body or "",
                        url=c.html_url or "",
                    )
                )
                if len(out) >= limit:
                    break
            return out

        return self.call(f"listing the comments of #{number}", Kind.READ, get)

    def permission(self, login: str) -> str:
        """`login`'s permission on the repository as GitHub's collaborator-permission API says:
        "admin", "write", "read" or "none" ("none" too for a user GitHub does not know)."""
        from github import UnknownObjectException

        def get() -> str:
            try:
                return str(self._r.get_collaborator_permission(login))
            except UnknownObjectException:
                return "none"

        return self.call(f"reading {login}'s permission", Kind.READ, get)

    def branches(self, prefix: str) -> dict[str, str]:
        """Branch name -> head commit, for every branch whose name starts with `prefix`."""

        def get() -> dict[str, str]:
            refs = self._r.get_git_matching_refs(f"heads/{prefix}")
            return {r.ref.removeprefix("refs/heads/"): r.object.sha for r in refs}

        return self.call(f"listing branches {prefix}*", Kind.READ, get)

    # --- writes -----------------------------------------------------------------------------

    def create_blob(self, text: str) -> str:
        return self.call(
            "uploading a file",
            Kind.SAFE_WRITE,
            lambda: self._r.create_git_blob(text, "utf-8").sha,
        )

    def create_tree(self, base_tree: str, files: Mapping[str, str]) -> str:
        """A tree: `base_tree` with each path set to the given blob SHA."""
        from github import InputGitTreeElement

        elements = [
            InputGitTreeElement(path, "100644", "blob", sha=sha)
            for path, sha in sorted(files.items())
        ]

        def post() -> str:
            base = self._r.get_git_tree(base_tree)
            return self._r.create_git_tree(elements, base).sha

        return self.call("creating the tree", Kind.SAFE_WRITE, post)

    def create_commit(
        self, message: str, tree: str, parent: str, name: str, email: str, date: dt.datetime
    ) -> str:
        """A commit with a fixed author date, so re-sending it yields the same SHA."""
        from github import InputGitAuthor

        stamp = date.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        who = InputGitAuthor(name, email, stamp)

        def post() -> str:
            git_tree = self._r.get_git_tree(tree)
            parent_commit = self._r.get_git_commit(parent)
            return self._r.create_git_commit(message, git_tree, [parent_commit], who, who).sha

        return self.call("creating the commit", Kind.SAFE_WRITE, post)

    def create_branch(self, branch: str, sha: str) -> None:
        """Raises GitHubError with status 422 when the branch exists."""
        self.call(
            f"creating branch {branch}",
            Kind.WRITE,
            lambda: self._r.create_git_ref(f"refs/heads/{branch}", sha),
        )

    def move_branch(self, branch: str, sha: str) -> None:
        """Point `branch` at `sha`, also when that is not a fast-forward. Callers check first
        that only the bot has pushed to the branch."""
        self.call(
            f"updating branch {branch}",
            Kind.WRITE,
            lambda: self._r.get_git_ref(f"heads/{branch}").edit(sha, force=True),
        )

    def advance_branch(self, branch: str, sha: str) -> None:
        """Move `branch` to `sha`, a descendant of its head: never a force-push. GitHub refuses
        anything else ("Update is not a fast forward"), which raises BranchMovedError."""

        def patch() -> None:
            self._r.get_git_ref(f"heads/{branch}").edit(sha, force=False)

        try:
            self.call(f"updating branch {branch}", Kind.WRITE, patch)
        except AmbiguousWriteError:
            raise
        except GitHubError as exc:
            if exc.status == 422 and "fast forward" in exc.detail:
                raise BranchMovedError(
                    f"branch {branch} moved while tracker was writing to it",
                    hint="the next run starts again from the branch as it is",
                    status=422,
                    detail=exc.detail,
                ) from None
            raise

    def edit_pull(self, number: int, title: str, body: str) -> None:
        """Set the pull request's title and body. Setting the same text twice changes nothing,
        so this write is re-sent after a 5xx like a content-addressed one."""
        self.call(
            f"updating the description of #{number}",
            Kind.SAFE_WRITE,
            lambda: self._r.get_pull(number).edit(title=title, body=body),
        )

    def comment(self, number: int, body: str) -> None:
        """A new comment on pull request `number` (never re-sent blindly: two would appear)."""
        self.call(
            f"commenting on #{number}",
            Kind.WRITE,
            lambda: self._r.get_issue(number).create_comment(body),
        )

    def react(self, number: int, comment: int, content: str) -> None:
        """React to a comment; GitHub answers an existing reaction with itself, so this is safe
        to re-send."""
        self.call(
            f"reacting to a comment on #{number}",
            Kind.SAFE_WRITE,
            lambda: self._r.get_issue(number).get_comment(comment).create_reaction(content),
        )

    def delete_branch(self, branch: str) -> None:
        self.call(
            f"deleting branch {branch}",
            Kind.WRITE,
            lambda: self._r.get_git_ref(f"heads/{branch}").delete(),
        )

    def create_pull(self, title: str, body: str, branch: str, base: str) -> PullInfo:
        return self.call(
            f"opening the pull request from {branch}",
            Kind.WRITE,
            lambda: _pull_info(
                self._r.create_pull(
                    base=base, head=branch, title=title, body=body, maintainer_can_modify=True
                )
            ),
        )

    def ensure_label(self, name: str, color: str, description: str) -> None:
        """Create the label unless it exists (a second create is refused, never doubled)."""
        from github import UnknownObjectException

        def get() -> bool:
            try:
                self._r.get_label(name).name  # noqa: B018  (completes the lazy object)
                return True
            except UnknownObjectException:
                return False

        if self.call(f"reading label {name}", Kind.READ, get):
            return
        try:
            self.call(
                f"creating label {name}",
                Kind.WRITE,
                lambda: self._r.create_label(name, color, description),
            )
        except AmbiguousWriteError:
            pass  # adding it to the pull request creates it anyway
        except GitHubError as exc:
            if exc.status != 422:  # 422 already_exists: someone made it meanwhile
                raise

    def add_label(self, number: int, name: str) -> None:
        """Adding a label a pull request already has changes nothing: safe to re-send."""

        def post() -> None:
            self._r.get_pull(number).add_to_labels(name)

        self.call(f"labelling #{number}", Kind.SAFE_WRITE, post)


class _Resend:
    """Re-sends of one content-addressed write, counted and spaced by the HTTP policy's Retry."""

    def __init__(self, retry: Retry, sleep: Callable[[float], None]) -> None:
        self.retry = retry
        self.sleep = sleep

    def again(self, error: Exception) -> bool:
        """Whether to send again after `error`; waits the backoff first."""
        try:
            self.retry = self.retry.increment(error=error)
        except MaxRetryError:
            return False
        self.sleep(self.retry.get_backoff_time())
        return True


def _pull_info(p: Any) -> PullInfo:
    head_repo = p.head.repo.full_name if p.head.repo is not None else ""
    return PullInfo(
        number=p.number,
        state=p.state,
        merged=bool(p.merged_at) or bool(p.raw_data.get("merged")),
        branch=p.head.ref,
        head_sha=p.head.sha or "",
        head_repo=head_repo,
        base=p.base.ref,
        title=p.title or "",
        body=p.body or "",
        labels=tuple(label.name for label in p.labels),
        url=p.html_url,
        created_at=p.created_at,
        closed_at=p.closed_at,
        author=p.user.login if p.user is not None else "",
    )


def _message(data: Any) -> str:
    if isinstance(data, Mapping):
        return str(data.get("message") or "")
    return ""


def _error_messages(data: Any) -> list[str]:
    if not isinstance(data, Mapping):
        return []
    out = []
    for item in data.get("errors") or []:
        if isinstance(item, Mapping):
            text = item.get("message") or " ".join(
                str(item.get(k)) for k in ("resource", "field", "code") if item.get(k)
            )
            out.append(str(text))
        else:
            out.append(str(item))
    return out


def _network_reason(exc: Exception) -> str:
    if isinstance(exc, requests.exceptions.Timeout):
        return "GitHub did not answer in time"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "the connection to GitHub failed"
    return f"the request to GitHub failed ({exc.__class__.__name__})"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"

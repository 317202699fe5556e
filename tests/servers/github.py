"""A stateful loopback GitHub REST server for the bot's end-to-end tests.

It keeps one repository's git objects (real git SHA-1s for blobs, trees and commits), refs,
pull requests and labels, and answers the endpoints PyGithub calls for the bot's flow the way
GitHub does: the same paths (under an Enterprise-style `/api/v3` prefix by default), JSON shaped
like GitHub's, `422 Reference already exists`, `422 Validation Failed` for a second open pull
request of the same branch, `404 Not Found`, rate-limit headers on every response, and
pagination through `Link` headers.

Faults are injected per request (`fail_next`): a 502 before or after the server did the work, a
connection dropped or a response delayed after the work (the client sees a timeout), a primary
rate limit (403, `X-RateLimit-Remaining: 0`), a secondary one (429 with `Retry-After`), or a
race: someone else acts just before the request is handled.

Pull requests have their conversation as GitHub's REST API speaks it: issue comments (listed,
created), reactions on them (creating one that exists answers 200 with it, as GitHub does),
a collaborator's permission (`collaborators`: login -> role; everyone else has none) and body
edits (PATCH).

Test helpers act as the humans do: `push_commit` (a maintainer pushes to a branch),
`close_pull`, `merge_pull`, `file_at`, `add_comment`, `edit_body`, `tick`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.servers.loopback import QuietHTTPServer

DOCS = "https://docs.github.com/rest"
BOT_LOGIN = "tracker-bot"
ZERO = "0" * 40


# --- git objects -----------------------------------------------------------------------------


def _git_sha(kind: str, payload: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(payload)}\0".encode() + payload).hexdigest()


@dataclass
class Commit:
    sha: str
    tree: str
    parents: list[str]
    message: str
    author: dict[str, str]
    committer: dict[str, str]


@dataclass
class Pull:
    number: int
    title: str
    body: str
    head: str
    base: str
    user: str
    state: str = "open"
    merged: bool = False
    labels: list[str] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""
    closed_at: str | None = None
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    head_sha: str = ""


@dataclass
class Comment:
    """A comment on an issue or pull request (its conversation tab)."""

    id: int
    number: int  # the issue or pull request
    user: str
    body: str
    created_at: str
    updated_at: str
    reactions: list[tuple[int, str, str]] = field(default_factory=list)  # (id, login, content)


# What GET .../collaborators/{user}/permission answers as `permission` for a role: GitHub maps
# maintain to write and triage to read in this legacy field (role_name keeps the role).
PERMISSION_OF_ROLE = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
}
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")


@dataclass
class Fault:
    """One injected failure: the next request matching `method` and `path` (a regex searched
    in the path after the API prefix) fails as `kind`."""

    method: str
    path: str
    kind: str  # error-before, error-after, drop-after, hang-after, rate-limit, secondary, race
    status: int = 502
    seconds: float = 0.0  # hang length, or Retry-After / time to reset
    times: int = 1
    # kind "race": what someone else does just before the request is handled (the request then
    # meets the state it leaves, e.g. GitHub's own 422 "Reference already exists").
    action: Callable[[], object] | None = None
    message: str = ""  # the error's message, for kind "error-before" (else GitHub's generic one)


class GitHubServer:
    """One repository (`owner/name`) served on 127.0.0.1 at a free port.

    `files` is the content of the default branch's first commit. `clock` gives the server's
    epoch seconds (rate-limit reset times); tests pass the same fake clock as the client's.
    """

    def __init__(
        self,
        owner: str = "survey-org",
        name: str = "supply-chain-survey",
        files: Mapping[str, str] | None = None,
        *,
        default_branch: str = "main",
        token: str = "ghp-loopback-secret-token",
        prefix: str = "/api/v3",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.owner, self.name = owner, name
        self.full_name = f"{owner}/{name}"
        self.default_branch = default_branch
        self.token = token
        self.prefix = prefix.rstrip("/")
        self.clock = clock
        self.blobs: dict[str, bytes] = {}
        self.trees: dict[str, dict[str, str]] = {}  # root tree sha -> {path: blob sha}
        self.commits: dict[str, Commit] = {}
        self.refs: dict[str, str] = {}  # "refs/heads/main" -> commit sha
        self.pulls: list[Pull] = []
        self.labels: dict[str, dict[str, Any]] = {}
        self.comments: list[Comment] = []
        self.collaborators: dict[str, str] = {owner: "admin"}  # login -> role
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, int]] = []  # (method, path, status)
        self.bodies: list[tuple[str, str, Any]] = []  # (method, path, parsed JSON body)
        self.rate_remaining = 5000
        self._lock = threading.RLock()
        self._next_id = 1000
        root = self._store_tree({p: self._store_blob(t.encode()) for p, t in (files or {}).items()})
        human = {"name": "Maintainer", "email": "maintainer@example.org", "date": self._now_iso()}
        first = self._store_commit("Initial catalog", root, [], human, human)
        self.refs[f"refs/heads/{default_branch}"] = first
        self._httpd: QuietHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> GitHubServer:
        server = self

        class Handler(_Handler):
            github = server

        self._httpd = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> GitHubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def api_url(self) -> str:
        """What GITHUB_API_URL is set to (Enterprise style: `http://host/api/v3`)."""
        return self.root + self.prefix

    # --- faults and inspection ---------------------------------------------------------------

    def fail_next(self, method: str, path: str, kind: str, **options: Any) -> None:
        with self._lock:
            self.faults.append(Fault(method.upper(), path, kind, **options))

    def requests(self, method: str | None = None, path: str = "") -> list[tuple[str, str, int]]:
        """Logged requests, optionally only those of `method` whose path matches `path`."""
        with self._lock:
            return [
                r
                for r in self.log
                if (method is None or r[0] == method.upper()) and re.search(path, r[1])
            ]

    def open_pulls(self) -> list[Pull]:
        return [p for p in self.pulls if p.state == "open"]

    def branch_sha(self, branch: str) -> str | None:
        return self.refs.get(f"refs/heads/{branch}")

    def branches(self) -> list[str]:
        return sorted(
            r.removeprefix("refs/heads/") for r in self.refs if r.startswith("refs/heads/")
        )

    def files(self, branch: str) -> dict[str, str]:
        sha = self.refs[f"refs/heads/{branch}"]
        tree = self.trees[self.commits[sha].tree]
        return {path: self.blobs[b].decode() for path, b in tree.items()}

    def file_at(self, branch: str, path: str) -> str | None:
        return self.files(branch).get(path)

    # --- human actions -----------------------------------------------------------------------

    def push_commit(
        self,
        branch: str,
        changes: Mapping[str, str | None],
        *,
        message: str = "Edit by a maintainer",
        author: tuple[str, str] = ("Maintainer", "maintainer@example.org"),
    ) -> str:
        """Commit `changes` (path -> text, None deletes) on top of `branch` and move it."""
        with self._lock:
            ref = f"refs/heads/{branch}"
            parent = self.refs[ref]
            tree = dict(self.trees[self.commits[parent].tree])
            for path, text in changes.items():
                if text is None:
                    tree.pop(path, None)
                else:
                    tree[path] = self._store_blob(text.encode())
            who = {"name": author[0], "email": author[1], "date": self._now_iso()}
            sha = self._store_commit(message, self._store_tree(tree), [parent], who, who)
            self.refs[ref] = sha
            for pull in self.pulls:
                if pull.head == branch and pull.state == "open":
                    pull.head_sha = sha
            return sha

    def create_branch(self, branch: str, from_branch: str | None = None) -> None:
        with self._lock:
            source = self.refs[f"refs/heads/{from_branch or self.default_branch}"]
            self.refs[f"refs/heads/{branch}"] = source

    def add_comment(self, number: int, user: str, body: str) -> Comment:
        """`user` comments on issue or pull request `number`."""
        with self._lock:
            self._next_id += 1
            now = self._now_iso()
            comment = Comment(self._next_id, number, user, body, now, now)
            self.comments.append(comment)
            return comment

    def edit_body(self, number: int, body: str) -> None:
        """A maintainer edits the pull request's description in the browser (CRLF lines)."""
        with self._lock:
            pull = self._pull(number)
            assert pull is not None
            pull.body = body.replace("\r\n", "\n").replace("\n", "\r\n")
            pull.updated_at = self._now_iso()

    def tick(self, number: int, key: str, ticked: bool = True) -> None:
        """A maintainer clicks the checkbox of the task-list line naming `key`."""
        with self._lock:
            pull = self._pull(number)
            assert pull is not None
            before, after = ("- [ ] ", "- [x] ") if ticked else ("- [x] ", "- [ ] ")
            lines = pull.body.replace("\r\n", "\n").split("\n")
            hits = [i for i, ln in enumerate(lines) if ln.startswith(f"{before}[{key}](")]
            assert hits, f"no {before!r} line for {key}"
            lines[hits[0]] = after + lines[hits[0]][len(before) :]
        self.edit_body(number, "\n".join(lines))

    def reactions(self, comment: int) -> list[tuple[str, str]]:
        """(login, content) of each reaction on `comment`."""
        found = next(c for c in self.comments if c.id == comment)
        return [(login, content) for _, login, content in found.reactions]

    def replies(self, number: int) -> list[Comment]:
        """The comments the bot wrote on `number`."""
        return [c for c in self.comments if c.number == number and c.user == BOT_LOGIN]

    def close_pull(self, number: int) -> None:
        with self._lock:
            pull = self._pull(number)
            assert pull is not None
            pull.state, pull.closed_at = "closed", self._now_iso()

    def merge_pull(self, number: int) -> str:
        """Merge like the button does: a merge commit on the base with the head's changes."""
        with self._lock:
            pull = self._pull(number)
            assert pull is not None and pull.state == "open"
            base_ref = f"refs/heads/{pull.base}"
            head_sha = self.refs[f"refs/heads/{pull.head}"]
            merge_base = self._merge_base(self.refs[base_ref], head_sha)
            base_tree = dict(self.trees[self.commits[self.refs[base_ref]].tree])
            old = self.trees[self.commits[merge_base].tree] if merge_base else {}
            new = self.trees[self.commits[head_sha].tree]
            for path in set(old) | set(new):
                if old.get(path) != new.get(path):
                    if path in new:
                        base_tree[path] = new[path]
                    else:
                        base_tree.pop(path, None)
            who = {"name": "Maintainer", "email": "maintainer@example.org", "date": self._now_iso()}
            sha = self._store_commit(
                f"Merge pull request #{number} from {self.owner}/{pull.head}",
                self._store_tree(base_tree),
                [self.refs[base_ref], head_sha],
                who,
                who,
            )
            self.refs[base_ref] = sha
            pull.state, pull.merged = "closed", True
            pull.closed_at = pull.merged_at = self._now_iso()
            pull.merge_commit_sha = sha
            return sha

    # --- storage -----------------------------------------------------------------------------

    def _now_iso(self) -> str:
        moment = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _store_blob(self, data: bytes) -> str:
        sha = _git_sha("blob", data)
        self.blobs[sha] = data
        return sha

    def _store_tree(self, files: Mapping[str, str]) -> str:
        def build(entries: Mapping[str, str]) -> str:
            here: dict[str, tuple[str, str]] = {}
            subdirs: dict[str, dict[str, str]] = {}
            for path, sha in entries.items():
                head, _, rest = path.partition("/")
                if rest:
                    subdirs.setdefault(head, {})[rest] = sha
                else:
                    here[head] = ("100644", sha)
            for name, sub in subdirs.items():
                here[name] = ("40000", build(sub))
            # git orders entries by name, a tree's name compared as if it ended in "/"
            order = sorted(here, key=lambda n: n + "/" if here[n][0] == "40000" else n)
            payload = b"".join(
                f"{here[n][0]} {n}\0".encode() + bytes.fromhex(here[n][1]) for n in order
            )
            return _git_sha("tree", payload)

        sha = build(files)
        self.trees[sha] = dict(files)
        return sha

    def _store_commit(
        self,
        message: str,
        tree: str,
        parents: list[str],
        author: dict[str, str],
        committer: dict[str, str],
    ) -> str:
        def person(p: dict[str, str]) -> str:
            when = dt.datetime.fromisoformat(p["date"].replace("Z", "+00:00"))
            return f"{p['name']} <{p['email']}> {int(when.timestamp())} +0000"

        lines = [f"tree {tree}"] + [f"parent {p}" for p in parents]
        lines += [f"author {person(author)}", f"committer {person(committer)}", "", message]
        sha = _git_sha("commit", "\n".join(lines).encode())
        self.commits[sha] = Commit(sha, tree, list(parents), message, author, committer)
        return sha

    def _ancestors(self, sha: str) -> set[str]:
        seen: set[str] = set()
        stack = [sha]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            stack.extend(self.commits[current].parents)
        return seen

    def _merge_base(self, a: str, b: str) -> str | None:
        common = self._ancestors(a) & self._ancestors(b)
        for sha in common:
            if not any(sha in self.commits[o].parents for o in common):
                return sha
        return None

    def _pull(self, number: int) -> Pull | None:
        return next((p for p in self.pulls if p.number == number), None)

    # --- JSON as GitHub writes it --------------------------------------------------------------

    def _api(self, path: str) -> str:
        return f"{self.root}{self.prefix}/repos/{self.full_name}{path}"

    def _user(self, login: str) -> dict[str, Any]:
        return {
            "login": login,
            "id": 41898282 if login == BOT_LOGIN else 583231,
            "node_id": "MDQ6VXNlcjE=",
            "type": "Bot" if login == BOT_LOGIN else "User",
            "url": f"{self.root}{self.prefix}/users/{login}",
            "html_url": f"{self.root}/{login}",
            "site_admin": False,
        }

    def repo_json(self) -> dict[str, Any]:
        return {
            "id": 1296269,
            "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
            "name": self.name,
            "full_name": self.full_name,
            "owner": self._user(self.owner),
            "private": False,
            "html_url": f"{self.root}/{self.full_name}",
            "description": "Survey of deep-learning model supply-chain security",
            "fork": False,
            "url": self._api(""),
            "pulls_url": self._api("/pulls{/number}"),
            "git_refs_url": self._api("/git/refs{/sha}"),
            "default_branch": self.default_branch,
            "visibility": "public",
            "permissions": {"admin": False, "push": True, "pull": True},
            "allow_merge_commit": True,
            "delete_branch_on_merge": False,
        }

    def _ref_json(self, ref: str) -> dict[str, Any]:
        sha = self.refs[ref]
        return {
            "ref": ref,
            "node_id": "MDM6UmVmcmVmcy9oZWFkcy9mZWF0dXJlQQ==",
            "url": self._api(f"/git/{ref}"),
            "object": {"sha": sha, "type": "commit", "url": self._api(f"/git/commits/{sha}")},
        }

    def _commit_json(self, commit: Commit) -> dict[str, Any]:
        return {
            "sha": commit.sha,
            "node_id": "MDY6Q29tbWl0" + commit.sha[:12],
            "url": self._api(f"/git/commits/{commit.sha}"),
            "html_url": f"{self.root}/{self.full_name}/commit/{commit.sha}",
            "author": commit.author,
            "committer": commit.committer,
            "message": commit.message,
            "tree": {"sha": commit.tree, "url": self._api(f"/git/trees/{commit.tree}")},
            "parents": [
                {
                    "sha": p,
                    "url": self._api(f"/git/commits/{p}"),
                    "html_url": f"{self.root}/{self.full_name}/commit/{p}",
                }
                for p in commit.parents
            ],
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
            },
        }

    def _tree_json(self, sha: str, recursive: bool) -> dict[str, Any]:
        files = self.trees[sha]
        entries: list[dict[str, Any]] = []
        dirs: set[str] = set()
        for path in files:
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add("/".join(parts[:i]))
        for path in sorted(set(files) | dirs):
            if not recursive and "/" in path:
                continue
            if path in dirs:
                sub = {p[len(path) + 1 :]: s for p, s in files.items() if p.startswith(path + "/")}
                sub_sha = self._store_tree(sub)
                entries.append(
                    {
                        "path": path,
                        "mode": "040000",
                        "type": "tree",
                        "sha": sub_sha,
                        "url": self._api(f"/git/trees/{sub_sha}"),
                    }
                )
            else:
                blob = files[path]
                entries.append(
                    {
                        "path": path,
                        "mode": "100644",
                        "type": "blob",
                        "sha": blob,
                        "size": len(self.blobs[blob]),
                        "url": self._api(f"/git/blobs/{blob}"),
                    }
                )
        return {
            "sha": sha,
            "url": self._api(f"/git/trees/{sha}"),
            "tree": entries,
            "truncated": False,
        }

    def comment_json(self, comment: Comment) -> dict[str, Any]:
        counts = {r: 0 for r in REACTIONS}
        for _, _, content in comment.reactions:
            counts[content] += 1
        url = self._api(f"/issues/comments/{comment.id}")
        return {
            "url": url,
            "html_url": f"{self.root}/{self.full_name}/pull/{comment.number}"
            f"#issuecomment-{comment.id}",
            "issue_url": self._api(f"/issues/{comment.number}"),
            "id": comment.id,
            "node_id": f"IC_kwDOA{comment.id:08d}",
            "user": self._user(comment.user),
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
            "author_association": "MEMBER" if comment.user in self.collaborators else "NONE",
            "body": comment.body,
            "reactions": {
                "url": url + "/reactions",
                "total_count": len(comment.reactions),
                **counts,
            },
            "performed_via_github_app": None,
        }

    def _reaction_json(self, reaction: tuple[int, str, str]) -> dict[str, Any]:
        ident, login, content = reaction
        return {
            "id": ident,
            "node_id": f"REA_lADOA{ident:08d}",
            "user": self._user(login),
            "content": content,
            "created_at": self._now_iso(),
        }

    def _label_json(self, name: str) -> dict[str, Any]:
        label = self.labels[name]
        return {
            "id": label["id"],
            "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=",
            "url": self._api(f"/labels/{name}"),
            "name": name,
            "description": label.get("description"),
            "color": label.get("color", "ededed"),
            "default": False,
        }

    def _part_json(self, branch: str, sha: str) -> dict[str, Any]:
        return {
            "label": f"{self.owner}:{branch}",
            "ref": branch,
            "sha": sha,
            "user": self._user(self.owner),
            "repo": self.repo_json(),
        }

    def pull_json(self, pull: Pull) -> dict[str, Any]:
        n = pull.number
        base_sha = self.refs.get(f"refs/heads/{pull.base}", ZERO)
        head_sha = self.refs.get(f"refs/heads/{pull.head}", pull.head_sha)
        return {
            "url": self._api(f"/pulls/{n}"),
            "id": 100000 + n,
            "node_id": f"PR_kwDOA{n:05d}",
            "html_url": f"{self.root}/{self.full_name}/pull/{n}",
            "diff_url": f"{self.root}/{self.full_name}/pull/{n}.diff",
            "patch_url": f"{self.root}/{self.full_name}/pull/{n}.patch",
            "issue_url": self._api(f"/issues/{n}"),
            "commits_url": self._api(f"/pulls/{n}/commits"),
            "comments_url": self._api(f"/issues/{n}/comments"),
            "statuses_url": self._api(f"/statuses/{head_sha}"),
            "number": n,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self._user(pull.user),
            "body": pull.body,
            "labels": [self._label_json(name) for name in pull.labels if name in self.labels],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": pull.created_at,
            "updated_at": pull.updated_at,
            "closed_at": pull.closed_at,
            "merged_at": pull.merged_at,
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": self._part_json(pull.head, head_sha),
            "base": self._part_json(pull.base, base_sha),
            "author_association": "NONE",
            "auto_merge": None,
            "draft": False,
            "merged": pull.merged,
            "mergeable": None,
            "maintainer_can_modify": False,
        }

    # --- request handling --------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> _Reply:
        """Route one authenticated request; returns the reply (status, JSON, extra headers)."""
        repo = f"/repos/{self.full_name}"
        if path == "/rate_limit":
            return _Reply(200, {"resources": {"core": self._rate()}, "rate": self._rate()})
        if not path.startswith(repo):
            return _not_found()
        sub = path[len(repo) :]
        routes: list[tuple[str, str, Callable[..., _Reply]]] = [
            ("GET", r"", self._get_repo),
            ("GET", r"/git/ref/(?P<ref>.+)", self._get_ref),
            ("GET", r"/git/refs/(?P<ref>.+)", self._get_ref),
            ("GET", r"/git/matching-refs/(?P<ref>.*)", self._matching_refs),
            ("POST", r"/git/refs", self._create_ref),
            ("PATCH", r"/git/refs/(?P<ref>.+)", self._update_ref),
            ("DELETE", r"/git/refs/(?P<ref>.+)", self._delete_ref),
            ("POST", r"/git/blobs", self._create_blob),
            ("GET", r"/git/blobs/(?P<sha>\w+)", self._get_blob),
            ("POST", r"/git/trees", self._create_tree),
            ("GET", r"/git/trees/(?P<sha>\w+)", self._get_tree),
            ("POST", r"/git/commits", self._create_commit),
            ("GET", r"/git/commits/(?P<sha>\w+)", self._get_commit),
            ("GET", r"/contents/(?P<path>.+)", self._get_contents),
            ("GET", r"/pulls", self._list_pulls),
            ("POST", r"/pulls", self._create_pull),
            ("GET", r"/pulls/(?P<number>\d+)", self._get_pull),
            ("PATCH", r"/pulls/(?P<number>\d+)", self._update_pull),
            ("GET", r"/labels/(?P<name>[^/]+)", self._get_label),
            ("POST", r"/labels", self._create_label),
            ("POST", r"/issues/(?P<number>\d+)/labels", self._add_labels),
            ("GET", r"/issues/(?P<number>\d+)", self._get_issue),
            ("GET", r"/issues/(?P<number>\d+)/comments", self._list_comments),
            ("POST", r"/issues/(?P<number>\d+)/comments", self._create_comment),
            ("GET", r"/issues/comments/(?P<ident>\d+)", self._get_comment),
            ("GET", r"/issues/comments/(?P<ident>\d+)/reactions", self._list_reactions),
            ("POST", r"/issues/comments/(?P<ident>\d+)/reactions", self._create_reaction),
            ("GET", r"/collaborators/(?P<login>[^/]+)/permission", self._permission),
        ]
        for verb, pattern, handler in routes:
            m = re.fullmatch(pattern, sub)
            if verb == method and m:
                with self._lock:
                    return handler(
                        query=query, body=body, **{k: unquote(v) for k, v in m.groupdict().items()}
                    )
        return _not_found()

    def _rate(self) -> dict[str, int]:
        return {
            "limit": 5000,
            "remaining": self.rate_remaining,
            "reset": int(self.clock()) + 3600,
            "used": 5000 - self.rate_remaining,
        }

    def _get_repo(self, **_: Any) -> _Reply:
        return _Reply(200, self.repo_json())

    def _get_ref(self, ref: str, **_: Any) -> _Reply:
        full = f"refs/{ref}"
        if full in self.refs:
            return _Reply(200, self._ref_json(full))
        return _not_found("git/refs#get-a-reference")

    def _matching_refs(self, ref: str, query: dict[str, list[str]], **_: Any) -> _Reply:
        full = f"refs/{ref}"
        found = [self._ref_json(r) for r in sorted(self.refs) if r.startswith(full)]
        return self._paginate(found, query, "/git/matching-refs/" + ref)

    def _create_ref(self, body: Any, **_: Any) -> _Reply:
        ref, sha = body.get("ref", ""), body.get("sha", "")
        if not ref.startswith("refs/") or ref.count("/") < 2:
            return _invalid("Reference name is not valid", "git/refs#create-a-reference")
        if ref in self.refs:
            return _invalid("Reference already exists", "git/refs#create-a-reference")
        if sha not in self.commits:
            return _invalid("Object does not exist", "git/refs#create-a-reference")
        self.refs[ref] = sha
        return _Reply(201, self._ref_json(ref), {"Location": self._api(f"/git/{ref}")})

    def _update_ref(self, ref: str, body: Any, **_: Any) -> _Reply:
        full = f"refs/{ref}"
        sha = body.get("sha", "")
        if full not in self.refs:
            return _invalid("Reference does not exist", "git/refs#update-a-reference")
        if sha not in self.commits:
            return _invalid("Object does not exist", "git/refs#update-a-reference")
        if not body.get("force") and self.refs[full] not in self._ancestors(sha):
            return _invalid("Update is not a fast forward", "git/refs#update-a-reference")
        self.refs[full] = sha
        return _Reply(200, self._ref_json(full))

    def _delete_ref(self, ref: str, **_: Any) -> _Reply:
        full = f"refs/{ref}"
        if full not in self.refs:
            return _invalid("Reference does not exist", "git/refs#delete-a-reference")
        del self.refs[full]
        return _Reply(204, None)

    def _create_blob(self, body: Any, **_: Any) -> _Reply:
        content = body.get("content")
        if not isinstance(content, str):
            return _invalid('Invalid request.\n\n"content" wasn\'t supplied.', "git/blobs")
        data = base64.b64decode(content) if body.get("encoding") == "base64" else content.encode()
        sha = self._store_blob(data)
        return _Reply(201, {"url": self._api(f"/git/blobs/{sha}"), "sha": sha})

    def _get_blob(self, sha: str, **_: Any) -> _Reply:
        if sha not in self.blobs:
            return _not_found("git/blobs#get-a-blob")
        data = self.blobs[sha]
        return _Reply(
            200,
            {
                "sha": sha,
                "node_id": "MDQ6QmxvYg==",
                "size": len(data),
                "url": self._api(f"/git/blobs/{sha}"),
                "content": base64.encodebytes(data).decode(),
                "encoding": "base64",
            },
        )

    def _create_tree(self, body: Any, **_: Any) -> _Reply:
        base = body.get("base_tree")
        if base is not None and base not in self.trees:
            return _invalid("base_tree is not a valid tree oid", "git/trees#create-a-tree")
        files = dict(self.trees[base]) if base else {}
        for item in body.get("tree") or []:
            path = item.get("path", "")
            if item.get("content") is not None:
                files[path] = self._store_blob(item["content"].encode())
            elif item.get("sha") is None:
                files.pop(path, None)
            elif item["sha"] not in self.blobs:
                return _invalid("tree.sha is not a valid blob", "git/trees#create-a-tree")
            else:
                files[path] = item["sha"]
        sha = self._store_tree(files)
        return _Reply(201, self._tree_json(sha, recursive=False))

    def _get_tree(self, sha: str, query: dict[str, list[str]], **_: Any) -> _Reply:
        if sha not in self.trees:
            return _not_found("git/trees#get-a-tree")
        return _Reply(200, self._tree_json(sha, recursive=bool(query.get("recursive"))))

    def _create_commit(self, body: Any, **_: Any) -> _Reply:
        tree, parents = body.get("tree"), body.get("parents") or []
        if tree not in self.trees:
            return _invalid("Tree SHA does not exist", "git/commits#create-a-commit")
        if any(p not in self.commits for p in parents):
            return _invalid("Parent SHA does not exist or is not a commit object", "git/commits")
        default = {"name": BOT_LOGIN, "email": f"{BOT_LOGIN}@users.noreply.github.com"}
        author = {**default, "date": self._now_iso(), **(body.get("author") or {})}
        committer = {**author, **(body.get("committer") or {})}
        sha = self._store_commit(body.get("message", ""), tree, parents, author, committer)
        return _Reply(201, self._commit_json(self.commits[sha]))

    def _get_commit(self, sha: str, **_: Any) -> _Reply:
        if sha not in self.commits:
            return _not_found("git/commits#get-a-commit-object")
        return _Reply(200, self._commit_json(self.commits[sha]))

    def _get_contents(self, path: str, query: dict[str, list[str]], **_: Any) -> _Reply:
        ref = (query.get("ref") or [self.default_branch])[0]
        sha = self.refs.get(f"refs/heads/{ref}", ref if ref in self.commits else None)
        if sha is None:
            return _not_found("repos/contents#get-repository-content")
        files = self.trees[self.commits[sha].tree]
        if path not in files:
            return _not_found("repos/contents#get-repository-content")
        data = self.blobs[files[path]]
        return _Reply(
            200,
            {
                "type": "file",
                "encoding": "base64",
                "size": len(data),
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "content": base64.encodebytes(data).decode(),
                "sha": files[path],
                "url": self._api(f"/contents/{path}?ref={ref}"),
            },
        )

    def _list_pulls(self, query: dict[str, list[str]], **_: Any) -> _Reply:
        state = (query.get("state") or ["open"])[0]
        head = (query.get("head") or [None])[0]
        base = (query.get("base") or [None])[0]
        found = [
            p
            for p in self.pulls
            if (state == "all" or p.state == state)
            and (head is None or head == f"{self.owner}:{p.head}")
            and (base is None or base == p.base)
        ]
        descending = (query.get("direction") or ["desc"])[0] == "desc"
        found.sort(key=lambda p: p.number, reverse=descending)
        return self._paginate([self.pull_json(p) for p in found], query, "/pulls")

    def _create_pull(self, body: Any, **_: Any) -> _Reply:
        head, base = body.get("head", ""), body.get("base", "")
        head_branch = head.split(":", 1)[-1]
        errors = []
        if f"refs/heads/{base}" not in self.refs:
            errors.append({"resource": "PullRequest", "field": "base", "code": "invalid"})
        if f"refs/heads/{head_branch}" not in self.refs:
            errors.append({"resource": "PullRequest", "field": "head", "code": "invalid"})
        if errors:
            return _Reply(
                422,
                {
                    "message": "Validation Failed",
                    "errors": errors,
                    "documentation_url": f"{DOCS}/pulls/pulls#create-a-pull-request",
                    "status": "422",
                },
            )
        if any(p.head == head_branch and p.base == base and p.state == "open" for p in self.pulls):
            message = f"A pull request already exists for {self.owner}:{head_branch}."
            return _Reply(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [{"resource": "PullRequest", "code": "custom", "message": message}],
                    "documentation_url": f"{DOCS}/pulls/pulls#create-a-pull-request",
                    "status": "422",
                },
            )
        head_sha = self.refs[f"refs/heads/{head_branch}"]
        if head_sha in self._ancestors(self.refs[f"refs/heads/{base}"]):
            message = f"No commits between {base} and {head_branch}"
            return _Reply(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [{"resource": "PullRequest", "code": "custom", "message": message}],
                    "documentation_url": f"{DOCS}/pulls/pulls#create-a-pull-request",
                    "status": "422",
                },
            )
        now = self._now_iso()
        pull = Pull(
            number=len(self.pulls) + 1,
            title=body.get("title", ""),
            body=body.get("body") or "",
            head=head_branch,
            base=base,
            user=BOT_LOGIN,
            created_at=now,
            updated_at=now,
            head_sha=head_sha,
        )
        self.pulls.append(pull)
        return _Reply(201, self.pull_json(pull), {"Location": self._api(f"/pulls/{pull.number}")})

    def _get_pull(self, number: str, **_: Any) -> _Reply:
        pull = self._pull(int(number))
        return (
            _Reply(200, self.pull_json(pull))
            if pull
            else _not_found("pulls/pulls#get-a-pull-request")
        )

    def _update_pull(self, number: str, body: Any, **_: Any) -> _Reply:
        pull = self._pull(int(number))
        if pull is None:
            return _not_found("pulls/pulls#update-a-pull-request")
        if len(str(body.get("body") or "")) > 65536:
            return _Reply(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [
                        {
                            "resource": "Issue",
                            "code": "custom",
                            "field": "body",
                            "message": "body is too long (maximum is 65536 characters)",
                        }
                    ],
                    "documentation_url": f"{DOCS}/pulls/pulls#update-a-pull-request",
                    "status": "422",
                },
            )
        for key in ("title", "body"):
            if key in body:
                setattr(pull, key, body[key])
        if body.get("state") == "closed" and pull.state == "open":
            pull.state, pull.closed_at = "closed", self._now_iso()
        pull.updated_at = self._now_iso()
        return _Reply(200, self.pull_json(pull))

    def _get_label(self, name: str, **_: Any) -> _Reply:
        if name not in self.labels:
            return _not_found("issues/labels#get-a-label")
        return _Reply(200, self._label_json(name))

    def _create_label(self, body: Any, **_: Any) -> _Reply:
        name = body.get("name", "")
        if name in self.labels:
            return _Reply(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}],
                    "documentation_url": f"{DOCS}/issues/labels#create-a-label",
                    "status": "422",
                },
            )
        self._next_id += 1
        self.labels[name] = {
            "id": self._next_id,
            "color": body.get("color", "ededed"),
            "description": body.get("description"),
        }
        return _Reply(201, self._label_json(name))

    def _add_labels(self, number: str, body: Any, **_: Any) -> _Reply:
        pull = self._pull(int(number))
        if pull is None:
            return _not_found("issues/labels#add-labels-to-an-issue")
        names = body.get("labels", []) if isinstance(body, dict) else body
        for name in names:
            if name not in self.labels:  # GitHub creates a label it does not know yet
                self._next_id += 1
                self.labels[name] = {"id": self._next_id, "color": "ededed", "description": None}
            if name not in pull.labels:
                pull.labels.append(name)
        return _Reply(200, [self._label_json(n) for n in pull.labels])

    def issue_json(self, pull: Pull) -> dict[str, Any]:
        """A pull request as the issues API shows it (every pull request is an issue)."""
        n = pull.number
        return {
            "url": self._api(f"/issues/{n}"),
            "repository_url": self._api(""),
            "comments_url": self._api(f"/issues/{n}/comments"),
            "html_url": f"{self.root}/{self.full_name}/pull/{n}",
            "id": 200000 + n,
            "node_id": f"PR_kwDOA{n:05d}",
            "number": n,
            "title": pull.title,
            "user": self._user(pull.user),
            "labels": [self._label_json(name) for name in pull.labels if name in self.labels],
            "state": pull.state,
            "locked": False,
            "comments": sum(1 for c in self.comments if c.number == n),
            "created_at": pull.created_at,
            "updated_at": pull.updated_at,
            "closed_at": pull.closed_at,
            "author_association": "NONE",
            "body": pull.body,
            "pull_request": {
                "url": self._api(f"/pulls/{n}"),
                "html_url": f"{self.root}/{self.full_name}/pull/{n}",
                "merged_at": pull.merged_at,
            },
        }

    def _get_issue(self, number: str, **_: Any) -> _Reply:
        pull = self._pull(int(number))
        if pull is None:
            return _not_found("issues/issues#get-an-issue")
        return _Reply(200, self.issue_json(pull))

    def _list_comments(self, number: str, query: dict[str, list[str]], **_: Any) -> _Reply:
        if self._pull(int(number)) is None:
            return _not_found("issues/comments#list-issue-comments")
        since = (query.get("since") or [""])[0]
        found = [
            self.comment_json(c)
            for c in sorted(self.comments, key=lambda c: c.id)
            if c.number == int(number) and c.updated_at >= since
        ]
        return self._paginate(found, query, f"/issues/{number}/comments")

    def _create_comment(self, number: str, body: Any, **_: Any) -> _Reply:
        if self._pull(int(number)) is None:
            return _not_found("issues/comments#create-an-issue-comment")
        text = body.get("body") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text:
            return _invalid('Invalid request.\n\n"body" wasn\'t supplied.', "issues/comments")
        if len(text) > 65536:
            return _Reply(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [
                        {
                            "resource": "IssueComment",
                            "code": "custom",
                            "field": "body",
                            "message": "body is too long (maximum is 65536 characters)",
                        }
                    ],
                    "documentation_url": f"{DOCS}/issues/comments#create-an-issue-comment",
                    "status": "422",
                },
            )
        comment = self.add_comment(int(number), BOT_LOGIN, text)
        return _Reply(
            201,
            self.comment_json(comment),
            {"Location": self._api(f"/issues/comments/{comment.id}")},
        )

    def _comment(self, ident: str) -> Comment | None:
        return next((c for c in self.comments if c.id == int(ident)), None)

    def _get_comment(self, ident: str, **_: Any) -> _Reply:
        comment = self._comment(ident)
        if comment is None:
            return _not_found("issues/comments#get-an-issue-comment")
        return _Reply(200, self.comment_json(comment))

    def _list_reactions(self, ident: str, query: dict[str, list[str]], **_: Any) -> _Reply:
        comment = self._comment(ident)
        if comment is None:
            return _not_found("reactions/reactions#list-reactions-for-an-issue-comment")
        content = (query.get("content") or [None])[0]
        found = [self._reaction_json(r) for r in comment.reactions if content in (None, r[2])]
        return self._paginate(found, query, f"/issues/comments/{ident}/reactions")

    def _create_reaction(self, ident: str, body: Any, **_: Any) -> _Reply:
        comment = self._comment(ident)
        if comment is None:
            return _not_found("reactions/reactions#create-reaction-for-an-issue-comment")
        content = body.get("content") if isinstance(body, dict) else None
        if content not in REACTIONS:
            return _invalid(
                "Validation Failed", "reactions/reactions#create-reaction-for-an-issue-comment"
            )
        for reaction in comment.reactions:  # one reaction of a kind per user: the existing one
            if reaction[1] == BOT_LOGIN and reaction[2] == content:
                return _Reply(200, self._reaction_json(reaction))
        self._next_id += 1
        reaction = (self._next_id, BOT_LOGIN, str(content))
        comment.reactions.append(reaction)
        return _Reply(201, self._reaction_json(reaction))

    def _permission(self, login: str, **_: Any) -> _Reply:
        role = self.collaborators.get(login)
        return _Reply(
            200,
            {
                "permission": PERMISSION_OF_ROLE.get(role or "", "none"),
                "role_name": role or "none",
                "user": {
                    **self._user(login),
                    "permissions": {"push": role in ("admin", "maintain", "write")},
                },
            },
        )

    def _paginate(self, items: list[Any], query: dict[str, list[str]], path: str) -> _Reply:
        per_page = int((query.get("per_page") or ["30"])[0])
        page = int((query.get("page") or ["1"])[0])
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        last = max(1, -(-len(items) // per_page))
        if page < last:
            params = "&".join(f"{k}={v[0]}" for k, v in query.items() if k not in ("page",))
            url = self._api(path) + "?" + (params + "&" if params else "")
            headers["Link"] = f'<{url}page={page + 1}>; rel="next", <{url}page={last}>; rel="last"'
        return _Reply(200, chunk, headers)


@dataclass
class _Reply:
    status: int
    data: Any
    headers: dict[str, str] = field(default_factory=dict)


def _not_found(doc: str = "") -> _Reply:
    return _Reply(
        404, {"message": "Not Found", "documentation_url": f"{DOCS}/{doc}", "status": "404"}
    )


def _invalid(message: str, doc: str) -> _Reply:
    return _Reply(422, {"message": message, "documentation_url": f"{DOCS}/{doc}", "status": "422"})


_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class _Handler(BaseHTTPRequestHandler):
    github: GitHubServer
    server_version = "GitHub.com"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        gh = self.github
        parts = urlsplit(self.path)
        path = parts.path
        if not path.startswith(gh.prefix + "/") and gh.prefix:
            self._send(method, path, _not_found())
            return
        path = path[len(gh.prefix) :]
        query = parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            self._send(method, path, _Reply(400, {"message": "Problems parsing JSON"}))
            return
        auth = self.headers.get("Authorization", "")
        if auth not in (f"token {gh.token}", f"Bearer {gh.token}"):
            self._send(
                method,
                path,
                _Reply(
                    401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}
                ),
            )
            return
        with gh._lock:
            gh.bodies.append((method, path, body))
            fault = next(
                (f for f in gh.faults if f.method == method and re.search(f.path, path)), None
            )
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    gh.faults.remove(fault)
        if fault is not None and fault.kind in ("rate-limit", "secondary", "error-before"):
            self._send(method, path, self._fault_reply(fault))
            return
        if fault is not None and fault.kind == "race" and fault.action is not None:
            with gh._lock:
                fault.action()
        reply = gh.handle(method, path, query, body)
        if fault is None or fault.kind == "race":
            self._send(method, path, reply)
        elif fault.kind == "error-after":
            self._send(method, path, _Reply(fault.status, {"message": "Server Error"}))
        elif fault.kind == "drop-after":
            gh.log.append((method, path, 0))
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif fault.kind == "hang-after":
            gh.log.append((method, path, 0))
            time.sleep(fault.seconds)
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        else:  # pragma: no cover - a typo in a test
            raise AssertionError(f"unknown fault kind {fault.kind}")

    def _fault_reply(self, fault: Fault) -> _Reply:
        gh = self.github
        if fault.kind == "rate-limit":
            gh.rate_remaining = 0
            reset = int(gh.clock() + fault.seconds)
            return _Reply(
                403,
                {
                    "message": "API rate limit exceeded for user ID 41898282.",
                    "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api",
                    "status": "403",
                },
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
            )
        if fault.kind == "secondary":
            return _Reply(
                fault.status if fault.status in (403, 429) else 429,
                {
                    "message": "You have exceeded a secondary rate limit. "
                    "Please wait a few minutes before you try again.",
                    "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api",
                    "status": "429",
                },
                {"Retry-After": str(int(fault.seconds))},
            )
        default = "Server Error" if fault.status >= 500 else "Error"
        return _Reply(fault.status, {"message": fault.message or default})

    def _send(self, method: str, path: str, reply: _Reply) -> None:
        gh = self.github
        with gh._lock:
            gh.log.append((method, path, reply.status))
            if gh.rate_remaining > 0 and "X-RateLimit-Remaining" not in reply.headers:
                gh.rate_remaining -= 1
            rate = gh._rate()
        payload = b"" if reply.data is None else json.dumps(reply.data).encode()
        self.send_response(reply.status, _REASONS.get(reply.status))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Content-Length": str(len(payload)),
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-RateLimit-Limit": str(rate["limit"]),
            "X-RateLimit-Remaining": str(rate["remaining"]),
            "X-RateLimit-Reset": str(rate["reset"]),
            "X-RateLimit-Used": str(rate["used"]),
            "X-RateLimit-Resource": "core",
            "X-GitHub-Request-Id": f"LOOP:{len(gh.log):06d}",
            **reply.headers,
        }
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if payload:
            self.wfile.write(payload)


@contextmanager
def serve(**options: Any) -> Iterator[GitHubServer]:
    """`with serve(files=...) as gh:` a started server, stopped afterwards."""
    server = GitHubServer(**options).start()
    try:
        yield server
    finally:
        server.stop()

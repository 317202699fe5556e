"""`tracker review`: apply maintainers' decisions to an open tracker pull request.

Decisions come from two places:
- the body's checkboxes: a box ticked or unticked since tracker last wrote the body (the state
  in its hidden block says how tracker left each box). Only people with write access can edit
  a pull request's body, so every tick is a maintainer's;
- `/tracker` commands (`tracker.publish.commands`) in comments newer than the last one tracker
  processed, from people whom GitHub's collaborator-permission API reports with write or admin
  access (never read from the comment). Checkboxes are applied first, then comments, oldest
  first, each line in order.

One review of one pull request, in this order:
1. Read the pull request, its block, the catalog files at the branch's head and papers.yaml
   on the base branch. The branch is the truth for what is in papers.yaml (a human's commit
   counts: papers it adds become items "added by a maintainer"); the block says what the
   pull request lists, with tiers and predictions. Neither is trusted alone.
2. Apply every decision to papers.yaml on the branch (add, drop, move; a decision already
   true, like dropping a paper that is not there, is applied and changes nothing).
3. When papers.yaml changed: one commit with it and the rendered lists, on top of the branch's
   head (a human's commits are kept), moving the branch forward only. If someone pushed
   meanwhile GitHub refuses, and the review starts again from a fresh read.
4. React to each comment that had commands (`REACTION_APPLIED`, `REACTION_REFUSED`) and reply
   once to each comment with refused commands, saying why. Reactions are idempotent on GitHub;
   a reply is not re-sent when tracker's reply to that comment exists.
5. Rewrite the title and body to the new state (only when the state or the shown boxes
   differ), after checking that nobody edited the body since step 1 (else start again).

A crash anywhere leaves a state the next run finishes: after step 3 the branch already holds
the decisions, so applying them again changes nothing and the body catches up. Nothing new (no
changed box, no new command, branch as the block says) means no write at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tracker.catalog.render import lists_at, outside_paths, render_outputs
from tracker.catalog.store import PAPERS_FILE, Catalog, Entry, parse_papers_text
from tracker.catalog.taxonomy import Taxonomy
from tracker.classify.result import Classification
from tracker.config import BotConfig, ListConfig, catalog_lists
from tracker.errors import TrackerError
from tracker.fsutil import write_files
from tracker.identity import PaperIndex, parse_arxiv_id
from tracker.paper import Paper
from tracker.publish.block import (
    MAX_ITEMS,
    TIER_MAINTAINER,
    Item,
    PullState,
    decode,
    items_from_entries,
)
from tracker.publish.body import checkboxes, inert, pr_body, pr_title
from tracker.publish.commands import MAX_COMMANDS, TOO_MANY, Command, parse
from tracker.publish.github import (
    AmbiguousWriteError,
    BranchMovedError,
    CommentInfo,
    GitHubClient,
    PullInfo,
)
from tracker.selection import entry_for

log = logging.getLogger(__name__)

# --- user-facing text (tests assert on these) ------------------------------------------------

REACTION_APPLIED = "+1"
REACTION_REFUSED = "confused"
REPLY_MARKER = "<!-- tracker:reply {comment} -->"
REPLY = "tracker did not apply {count} {commands} of [this comment]({url}):"
REPLY_LINE = "- {line}: {why}"
REPLY_MORE = "- and {count} more"
NO_WRITE_ACCESS = (
    "{login} has no write access to this repository (GitHub says: {permission}); only "
    "maintainers can change a tracker pull request"
)
NOT_AN_ID = "not an arXiv id, nor a paper of this pull request"
NOT_LISTED = "not a paper of this pull request"
NOT_ON_ARXIV = "arXiv has no paper {id}"
IN_CATALOG = "already in the catalog on the base branch"
UNKNOWN_SECTION = "unknown section '{section}'; valid section ids: {ids}"
NEEDS_SECTION = "{id} could not be classified ({why}); give its section: /tracker add {id} SECTION"
LOOKUP_FAILED = "could not ask arXiv ({error}); try again later"
TOO_MANY_ADDS = "at most {limit} papers from outside this pull request per review"
FULL = "this pull request lists {limit} papers, the most it can hold"

COMMIT_TITLE = "Review of #{number}: {summary}"
LISTS_ONLY = "the lists re-rendered from papers.yaml"
COMMIT_TRAILER = "Applied by tracker review from the pull request's checkboxes and comments."
NOT_TRACKER = "#{number} is not a tracker pull request (branch {branch}); nothing to do."
NOT_OPEN = "#{number} is {state}; nothing to do."
NO_BLOCK = "#{number} has no readable tracker block: its items were rebuilt from the branch."
BROKEN_BRANCH = "#{number}: papers.yaml on branch {branch} has problems; fix them first: {error}"
RETRIED = "#{number} changed while tracker was writing; read it again ({attempt} of {attempts})."
GAVE_UP = "#{number} kept changing while tracker wrote to it; the next run tries again."
NOTHING_NEW = "#{number}: nothing new."
REFUSED = "refused {count} command(s) of comment {comment} by {login} (see the reply)"
COMMITTED = "#{number}: committed {sha} ({summary})."
BODY_UPDATED = "#{number}: description updated."

WRITE_PERMISSIONS = ("admin", "write")
# Papers from outside the pull request fetched from arXiv in one review (each is a lookup).
MAX_LOOKUPS = 20
# Refusals listed in one reply; the rest are counted.
MAX_REPLY_LINES = 20
ATTEMPTS = 3

# Papers by arXiv id (the arXiv API source's lookup), and the classifier for papers without a
# section: both passed in by the CLI.
Lookup = Callable[[Sequence[str]], Sequence[Paper]]
Classify = Callable[[Sequence[Paper]], Sequence[Classification]]


class _Changed(Exception):
    """The pull request changed under the review: start again from a fresh read."""


@dataclass
class ReviewReport:
    """What one review of one pull request did; the CLI prints `summary()`."""

    number: int
    skipped: str | None = None
    commit: str | None = None
    body_updated: bool = False
    applied: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: bool = False

    def summary(self) -> list[str]:
        lines = list(self.notes)
        if self.skipped:
            return [*lines, self.skipped]
        if self.commit:
            lines.append(
                COMMITTED.format(number=self.number, sha=self.commit[:7], summary=_summary(self))
            )
        if self.body_updated:
            lines.append(BODY_UPDATED.format(number=self.number))
        if not self.commit and not self.body_updated and not self.refused:
            lines.append(NOTHING_NEW.format(number=self.number))
        lines.extend(f"#{self.number}: {r}" for r in self.refused)
        return lines


@dataclass
class _Result:
    """How one comment's commands went."""

    comment: CommentInfo
    applied: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)


class Reviewer:
    """Reviews tracker pull requests of one repository through `client` (see the module
    docstring). `lookup` fetches papers by arXiv id; `classify` (optional) predicts the section
    of a paper added without one; `now` dates commits."""

    def __init__(
        self,
        client: GitHubClient,
        bot: BotConfig,
        catalog_path: str,
        *,
        lookup: Lookup,
        classify: Classify | None = None,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        lists: Sequence[ListConfig] = (),
        catalog_dir: Path | None = None,
    ) -> None:
        self.client = client
        self.bot = bot
        self.catalog_path = catalog_path.strip("/")
        self.lookup = lookup
        self.classify = classify
        self.now = now
        # The rendered lists (local paths, under `catalog_dir` or elsewhere in the repository);
        # none: the catalog folder's two.
        self.lists = tuple(lists)
        self.catalog_dir = catalog_dir

    @property
    def papers_path(self) -> str:
        return f"{self.catalog_path}/{PAPERS_FILE}" if self.catalog_path else PAPERS_FILE

    def open_pulls(self) -> list[int]:
        """Numbers of the open tracker pull requests, oldest first."""
        repo = self.client.repo()
        found = [
            p.number
            for p in self.client.pulls()
            if p.state == "open" and self._is_tracker(p, repo.full_name)
        ]
        return sorted(found)

    def review(self, number: int) -> ReviewReport:
        """Review pull request `number` once, starting again (at most `ATTEMPTS` times) when it
        changes under the review."""
        notes: list[str] = []
        for attempt in range(1, ATTEMPTS + 1):
            try:
                report = self._review_once(number)
            except (_Changed, BranchMovedError):
                notes.append(RETRIED.format(number=number, attempt=attempt, attempts=ATTEMPTS))
                continue
            report.notes[:0] = notes
            return report
        return ReviewReport(number, skipped=GAVE_UP.format(number=number), notes=notes)

    # --- one pass ------------------------------------------------------------------------------

    def _review_once(self, number: int) -> ReviewReport:
        report = ReviewReport(number)
        pull = self.client.pull(number)
        repo = self.client.repo()
        if not self._is_tracker(pull, repo.full_name):
            report.skipped = NOT_TRACKER.format(number=number, branch=pull.branch)
            return report
        if pull.state != "open":
            report.skipped = NOT_OPEN.format(number=number, state=pull.state)
            return report

        head = self.client.commit(pull.head_sha)
        base_head = self.client.branch_head(pull.base) or ""
        with tempfile.TemporaryDirectory(prefix="tracker-review-") as scratch:
            also = outside_paths(self.lists, self.catalog_dir) if self.catalog_dir else []
            files = self.client.read_files(head, self.catalog_path, also)
            top = Path(scratch)
            write_files({top / path: text for path, text in files.items()})
            root = top / self.catalog_path
            lists = (
                lists_at(self.lists, self.catalog_dir, root, top)
                if self.lists and self.catalog_dir
                else catalog_lists(root)
            )
            try:
                catalog = Catalog.load(root)
            except TrackerError as exc:
                report.skipped = BROKEN_BRANCH.format(
                    number=number, branch=pull.branch, error=exc.message
                )
                report.failed = True
                return report
            base_text = self.client.read_file(base_head, self.papers_path) if base_head else None
            base = _index(base_text, catalog.taxonomy)

            state = decode(pull.body)
            if state is None:
                report.notes.append(NO_BLOCK.format(number=number))
                state = PullState(date=_night(pull.branch, self.bot.branch_prefix))
            additions = [e for e in catalog.entries if base.find(e.paper) is None]
            items = _with_additions(list(state.items), additions)

            work = _Work(catalog, base, items, state.date or self.now().date())
            self._apply_ticks(work, state, pull.body, report)
            listed = self.client.comments(number, after=state.comment)
            results, watermark = self._apply_comments(work, pull, listed, state, report)
            items = work.reconcile()

            texts = {root / PAPERS_FILE: catalog.dumps(), **render_outputs(catalog, lists)}
            repo_paths = {p.relative_to(top).as_posix(): text for p, text in texts.items()}
            changed = {path: text for path, text in repo_paths.items() if files.get(path) != text}

        new_head = pull.head_sha
        if changed:
            new_head = self._commit(pull, head.tree, changed, report)
            report.commit = new_head
        self._answer(pull, listed, results)

        new_state = state.replace(
            items=tuple(items),
            head=new_head,
            base=state.base or base_head,
            comment=watermark,
        )
        self._rewrite(pull, state, new_state, catalog.taxonomy, report)
        return report

    def _is_tracker(self, pull: PullInfo, repository: str) -> bool:
        return (
            pull.branch.startswith(self.bot.branch_prefix)
            and pull.head_repo.casefold() == repository.casefold()
        )

    # --- decisions -----------------------------------------------------------------------------

    def _apply_ticks(self, work: _Work, state: PullState, body: str, report: ReviewReport) -> None:
        ticks = checkboxes(body)
        for item in state.items:
            ticked = ticks.get(item.key)
            if ticked is None or ticked == item.checked:
                continue
            verb = "add" if ticked else "drop"
            why = work.apply(Command(verb, item.key, "", f"checkbox {item.key}"), self)
            if why is None:
                report.applied.append(f"{verb} {item.key} (checkbox)")
            else:
                report.refused.append(f"checkbox {item.key}: {why}")

    def _apply_comments(
        self,
        work: _Work,
        pull: PullInfo,
        listed: Sequence[CommentInfo],
        state: PullState,
        report: ReviewReport,
    ) -> tuple[list[_Result], int]:
        """Apply the commands of the comments `listed` (those after the block's watermark);
        returns the result for each comment with commands, and the id of the last of them (the
        new watermark). Comments of bots and of the pull request's author (tracker itself) are
        never read as commands."""
        comments = [c for c in listed if not c.author_is_bot and c.author != pull.author]
        parsed = [(c, parse(c.body)) for c in comments]
        parsed = [(c, p) for c, p in parsed if p]
        allowed: dict[str, str] = {}
        for c, _ in parsed:
            if c.author not in allowed:
                allowed[c.author] = self.client.permission(c.author)
        work.prefetch(
            [
                cmd
                for c, p in parsed
                if allowed[c.author] in WRITE_PERMISSIONS
                for cmd in p.commands
                if cmd.verb == "add"
            ],
            self,
        )
        results = []
        watermark = state.comment
        for c, p in parsed:
            result = _Result(c)
            watermark = max(watermark, c.id)
            permission = allowed[c.author]
            if permission not in WRITE_PERMISSIONS:
                why = NO_WRITE_ACCESS.format(login=c.author, permission=permission)
                result.refused = [(cmd.line, why) for cmd in p.commands]
                result.refused += [(line, why) for line, _ in p.invalid]
            else:
                for cmd in p.commands:
                    refusal = work.apply(cmd, self)
                    if refusal is None:
                        result.applied += 1
                        report.applied.append(f"{cmd.verb} {cmd.target} ({c.author})")
                    else:
                        result.refused.append((cmd.line, refusal))
                result.refused += list(p.invalid)
            if p.skipped:
                result.refused.append((f"{p.skipped} more", TOO_MANY.format(limit=MAX_COMMANDS)))
            if result.refused:
                report.refused.append(
                    REFUSED.format(count=len(result.refused), comment=c.id, login=c.author)
                )
            results.append(result)
        return results, watermark

    # --- writes ----------------------------------------------------------------------------------

    def _commit(
        self, pull: PullInfo, base_tree: str, files: dict[str, str], report: ReviewReport
    ) -> str:
        blobs = {path: self.client.create_blob(text) for path, text in sorted(files.items())}
        tree = self.client.create_tree(base_tree, blobs)
        summary = _summary(report)
        message = (
            f"{COMMIT_TITLE.format(number=pull.number, summary=summary)}\n\n"
            + "".join(f"- {line}\n" for line in report.applied[:MAX_ITEMS])
            + f"\n{COMMIT_TRAILER}\n"
        )
        commit = self.client.create_commit(
            message,
            tree,
            pull.head_sha,
            self.bot.author_name,
            self.bot.author_email,
            self.now(),
        )
        try:
            self.client.advance_branch(pull.branch, commit)
        except AmbiguousWriteError:
            now = self.client.branch_head(pull.branch)
            if now == commit:
                return commit
            if now != pull.head_sha:
                raise _Changed() from None
            self.client.advance_branch(pull.branch, commit)  # verified unchanged: once more
        return commit

    def _answer(
        self, pull: PullInfo, listed: Sequence[CommentInfo], results: Sequence[_Result]
    ) -> None:
        """Reactions on every comment with commands, one reply to each with refusals (unless
        tracker's reply is among the comments `listed`: a run that crashed sent it)."""
        answered = {
            c.body.split("\n", 1)[0] for c in listed if c.author_is_bot or c.author == pull.author
        }
        for r in results:
            if r.applied:
                self.client.react(pull.number, r.comment.id, REACTION_APPLIED)
            if r.refused:
                self.client.react(pull.number, r.comment.id, REACTION_REFUSED)
                marker = REPLY_MARKER.format(comment=r.comment.id)
                if marker not in answered:
                    self.client.comment(pull.number, _reply(marker, r))

    def _rewrite(
        self,
        pull: PullInfo,
        old: PullState,
        new: PullState,
        taxonomy: Taxonomy,
        report: ReviewReport,
    ) -> None:
        shown = checkboxes(pull.body)
        expected = {i.key: i.checked for i in new.items}
        title = pr_title(new)
        if new == old and shown == expected and pull.title == title:
            return
        prefix = f"{self.catalog_path}/" if self.catalog_path else ""
        body = pr_body(
            new,
            taxonomy,
            papers_file=f"{prefix}{PAPERS_FILE}",
            rejected_file=f"{prefix}rejected.yaml",
        )
        fresh = self.client.pull(pull.number)
        if fresh.body != pull.body or fresh.state != "open":
            raise _Changed()
        self.client.edit_pull(pull.number, title, body)
        report.body_updated = True


class _Work:
    """The decisions of one review applied to the branch's catalog and the items."""

    def __init__(
        self, catalog: Catalog, base: PaperIndex[object], items: list[Item], night: dt.date
    ) -> None:
        self.catalog = catalog
        self.base = base
        self.items = items
        self.night = night
        self.fetched: dict[str, Paper | None] = {}
        self.lookup_error = ""
        self.classified: dict[str, Classification | str] = {}

    def item(self, target: str) -> int | None:
        key = _key(target)
        return next((i for i, item in enumerate(self.items) if item.key == key), None)

    def prefetch(self, adds: Sequence[Command], reviewer: Reviewer) -> None:
        """Fetch from arXiv, in one lookup, the papers of `add` commands that are not items;
        classify those added without a section (the model is loaded only then)."""
        wanted: list[str] = []
        unplaced: set[str] = set()
        for cmd in adds:
            parsed = parse_arxiv_id(cmd.target)
            if parsed is None or self.item(cmd.target) is not None:
                continue
            if not cmd.section:
                unplaced.add(parsed.id)
            if parsed.id not in wanted and self.base.find(Paper("", arxiv_id=parsed.id)) is None:
                wanted.append(parsed.id)
        wanted = wanted[:MAX_LOOKUPS]
        if not wanted:
            return
        try:
            found = {p.arxiv_id: p for p in reviewer.lookup(wanted) if p.arxiv_id}
        except TrackerError as exc:
            self.lookup_error = exc.message
            return
        self.fetched.update({i: found.get(i) for i in wanted})
        judge = [found[i] for i in wanted if i in unplaced and found.get(i) is not None]
        if judge and reviewer.classify is not None:
            try:
                for verdict in reviewer.classify(judge):
                    self.classified[verdict.paper.arxiv_id or ""] = verdict
            except TrackerError as exc:
                self.classified.update({p.arxiv_id or "": exc.message for p in judge})

    def apply(self, cmd: Command, reviewer: Reviewer) -> str | None:
        """Apply one command; returns why it was refused, or None when it was applied."""
        section = ""
        if cmd.section:
            found = _section(cmd.section, self.catalog.taxonomy)
            if found is None:
                ids = ", ".join(leaf.id for leaf in self.catalog.taxonomy.leaves)
                return UNKNOWN_SECTION.format(section=inert(cmd.section), ids=ids)
            section = found
        index = self.item(cmd.target)
        if index is None:
            if cmd.verb != "add":
                return NOT_LISTED if _key(cmd.target) else NOT_AN_ID
            return self._add_new(cmd.target, section)
        item = self.items[index]
        if cmd.verb == "drop":
            self.catalog.remove(item.as_paper())
            self.items[index] = item.replace(checked=False)
            return None
        target = section or item.section
        if cmd.verb == "move" or self.catalog.index().find(item.as_paper()) is not None:
            self.catalog.move(item.as_paper(), target)
        else:
            self.catalog.add([item.entry(self.night, target)])
        checked = self.catalog.index().find(item.as_paper()) is not None
        self.items[index] = item.replace(section=target, checked=checked)
        return None

    def _add_new(self, target: str, section: str) -> str | None:
        parsed = parse_arxiv_id(target)
        if parsed is None:
            return NOT_AN_ID
        if self.base.find(Paper(title="", arxiv_id=parsed.id)) is not None:
            return IN_CATALOG
        if len(self.items) >= MAX_ITEMS:
            return FULL.format(limit=MAX_ITEMS)
        if self.lookup_error:
            return LOOKUP_FAILED.format(error=inert(self.lookup_error))
        if parsed.id not in self.fetched:
            return TOO_MANY_ADDS.format(limit=MAX_LOOKUPS)
        paper = self.fetched[parsed.id]
        if paper is None:
            return NOT_ON_ARXIV.format(id=parsed.id)
        verdict = self.classified.get(parsed.id)
        if not section:
            if not isinstance(verdict, Classification):
                why = verdict if isinstance(verdict, str) else "no classifier"
                return NEEDS_SECTION.format(id=parsed.id, why=inert(why))
            section = verdict.section.id
        confidence = (
            verdict.section.probability
            if isinstance(verdict, Classification) and verdict.section.id == section
            else None
        )
        entry = entry_for(paper, section, confidence, self.night)
        if self.catalog.index().find(entry.paper) is None:
            self.catalog.add([entry])
        item = items_from_entries([entry], TIER_MAINTAINER)[0]
        if isinstance(verdict, Classification):
            item = item.replace(
                predicted=verdict.section.id,
                relevance=verdict.relevance,
                probability=verdict.section.probability,
            )
        self.items.append(item)
        return None

    def reconcile(self) -> list[Item]:
        """Every item ticked exactly when the branch's catalog lists it, in the section it is
        listed under."""
        index = self.catalog.index()
        out = []
        for item in self.items:
            entry = index.find(item.as_paper())
            if entry is None:
                out.append(item.replace(checked=False))
            else:
                out.append(item.replace(checked=True, section=entry.section))
        return out


def _with_additions(items: list[Item], additions: Sequence[Entry]) -> list[Item]:
    """The block's items, then the branch's additions it does not list (a human's commit)."""
    index: PaperIndex[int] = PaperIndex((item.as_paper(), i) for i, item in enumerate(items))
    new = [e for e in additions if index.find(e.paper) is None]
    return items + items_from_entries(new, TIER_MAINTAINER)


def _index(text: str | None, taxonomy: Taxonomy) -> PaperIndex[object]:
    if not text:
        return PaperIndex()
    try:
        entries = parse_papers_text(text, "base papers.yaml", taxonomy)
    except TrackerError:
        return PaperIndex()
    return PaperIndex((e.paper, e) for e in entries)


def _key(target: str) -> str:
    """The item key a command's target names ("" when it names none)."""
    parsed = parse_arxiv_id(target)
    if parsed is not None:
        return f"arXiv:{parsed.id}"
    if target.startswith(("doi:", "ref:")):
        return target
    return ""


def _section(text: str, taxonomy: Taxonomy) -> str | None:
    node = taxonomy.get(text) or taxonomy.by_heading(text)
    return node.id if node is not None and node.is_leaf else None


def _night(branch: str, prefix: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(branch.removeprefix(prefix))
    except ValueError:
        return None


def _reply(marker: str, result: _Result) -> str:
    refused = result.refused
    count = len(refused)
    lines = [
        marker,
        REPLY.format(
            count=count, commands="command" if count == 1 else "commands", url=result.comment.url
        ),
        "",
    ]
    for line, why in refused[:MAX_REPLY_LINES]:
        lines.append(REPLY_LINE.format(line=inert(line), why=why))
    if count > MAX_REPLY_LINES:
        lines.append(REPLY_MORE.format(count=count - MAX_REPLY_LINES))
    return "\n".join(lines) + "\n"


def _summary(report: ReviewReport) -> str:
    counts = {verb: 0 for verb in ("add", "drop", "move")}
    for line in report.applied:
        verb = line.split(" ", 1)[0]
        counts[verb] = counts.get(verb, 0) + 1
    parts = [f"{n} {verb}" for verb, n in counts.items() if n]
    return ", ".join(parts) or LISTS_ONLY

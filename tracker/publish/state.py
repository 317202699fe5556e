"""What GitHub says about the bot's earlier work: its pull requests, the papers they proposed,
and the rejections that follow from how they ended.

A tracker pull request is one whose head is a branch of the catalog repository itself named
with `bot.branch_prefix` (`tracker/2026-03-16`). The label is for people; discovery does not
depend on it, since anyone can remove a label. The papers a pull request proposed come from the
machine-readable block of its body (`tracker.publish.body.block`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tracker.catalog.rejected import REASON_CLOSED, REASON_DELETED, Rejection
from tracker.identity import PaperIndex
from tracker.paper import Paper
from tracker.publish.body import ProposedPaper, parse_block
from tracker.publish.github import PullInfo


@dataclass(frozen=True)
class TrackerPull:
    """A tracker pull request and the papers it proposed."""

    pull: PullInfo
    proposed: tuple[ProposedPaper, ...]

    @property
    def number(self) -> int:
        return self.pull.number

    @property
    def is_open(self) -> bool:
        return self.pull.state == "open"

    @property
    def rejected_whole(self) -> bool:
        return self.pull.state == "closed" and not self.pull.merged

    @property
    def merged(self) -> bool:
        return self.pull.merged


def tracker_pulls(pulls: Iterable[PullInfo], repository: str, prefix: str) -> list[TrackerPull]:
    """The tracker pull requests among `pulls`, as given (newest first from the client)."""
    out = []
    for p in pulls:
        if not p.branch.startswith(prefix) or p.head_repo.casefold() != repository.casefold():
            continue
        out.append(TrackerPull(p, tuple(parse_block(p.body) or ())))
    return out


def open_papers(pulls: Sequence[TrackerPull]) -> list[tuple[Paper, int]]:
    """(paper, PR number) for every paper proposed in an open tracker pull request."""
    return [(item.as_paper(), t.number) for t in pulls if t.is_open for item in t.proposed]


def derive_rejections(pulls: Sequence[TrackerPull], catalog: PaperIndex[object]) -> list[Rejection]:
    """Rejections that follow from closed tracker pull requests.

    A paper of a pull request closed without merging is rejected; so is a paper listed in a
    merged one that is not in the catalog: a reviewer deleted it before merging. A paper that
    is in the catalog is never rejected (a maintainer may add one by hand after closing).
    """
    out = []
    for t in pulls:
        if t.is_open or not (t.rejected_whole or t.merged):
            continue
        reason = REASON_CLOSED if t.rejected_whole else REASON_DELETED
        when = t.pull.closed_at.date() if isinstance(t.pull.closed_at, dt.datetime) else None
        for item in t.proposed:
            if catalog.find(item.as_paper()) is None:
                out.append(Rejection(item.title, item.arxiv, item.doi, t.number, reason, when))
    return out

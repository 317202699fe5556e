"""What GitHub says about the bot's earlier work: its pull requests, the papers they list, and
the rejections that follow from how they ended.

A tracker pull request is one whose head is a branch of the catalog repository itself named
with `bot.branch_prefix` (`tracker/2026-03-16`). The label is for people; discovery does not
depend on it, since anyone can remove a label. What a pull request lists comes from two
witnesses, neither trusted alone:
- the hidden block of its body (`tracker.publish.block`): every item, both tiers;
- its branch: the papers in papers.yaml on the branch that are not in the base branch's
  catalog (`branch_additions`), read for open pull requests. A body someone wrecked cannot
  hide what the branch adds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from tracker.catalog.decisions import Decision, outcome_of
from tracker.catalog.rejected import REASON_CLOSED, REASON_DELETED, Rejection
from tracker.catalog.store import Entry, parse_papers_text
from tracker.catalog.taxonomy import Taxonomy
from tracker.errors import TrackerError
from tracker.identity import PaperIndex
from tracker.paper import Paper
from tracker.publish.block import TIER_CANDIDATE, Item, PullState, decode
from tracker.publish.github import PullInfo

REASON_NOT_TICKED = "not ticked when merged"


@dataclass(frozen=True)
class TrackerPull:
    """A tracker pull request and the state its body's block holds (None: no valid block)."""

    pull: PullInfo
    state: PullState | None

    @property
    def number(self) -> int:
        return self.pull.number

    @property
    def items(self) -> tuple[Item, ...]:
        return self.state.items if self.state is not None else ()

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
        out.append(TrackerPull(p, decode(p.body)))
    return out


def branch_additions(
    branch_papers: str | None, base: PaperIndex[object], taxonomy: Taxonomy, name: str
) -> list[Entry]:
    """The entries of a branch's papers.yaml (`branch_papers`) that the base catalog lacks.
    A file that cannot be read gives none: it is a human's work in progress, and the body's
    block still witnesses the pull request."""
    if not branch_papers:
        return []
    try:
        entries = parse_papers_text(branch_papers, name, taxonomy)
    except TrackerError:
        return []
    return [e for e in entries if base.find(e.paper) is None]


def open_papers(
    pulls: Sequence[TrackerPull], additions: Mapping[int, Sequence[Entry]] | None = None
) -> list[tuple[Paper, int]]:
    """(paper, PR number) for every paper an open tracker pull request lists (its block, both
    tiers) or adds (its branch: `additions`, PR number -> `branch_additions`)."""
    out: list[tuple[Paper, int]] = []
    for t in pulls:
        if not t.is_open:
            continue
        out.extend((item.as_paper(), t.number) for item in t.items)
        out.extend((e.paper, t.number) for e in (additions or {}).get(t.number, ()))
    return out


def _ended(pulls: Sequence[TrackerPull]) -> Iterator[tuple[TrackerPull, dt.date | None]]:
    """The merged or closed tracker pull requests, each with the day it ended (when known)."""
    for t in pulls:
        if t.is_open or not (t.rejected_whole or t.merged):
            continue
        yield t, t.pull.closed_at.date() if isinstance(t.pull.closed_at, dt.datetime) else None


def derive_decisions(pulls: Sequence[TrackerPull], catalog: PaperIndex[Entry]) -> list[Decision]:
    """One decision per paper listed by each merged or closed tracker pull request
    (`tracker.catalog.decisions`): its tier from the block, its outcome from whether the
    catalog lists it now (never, for a pull request closed without merging: all of it was
    rejected), its final section from the catalog."""
    out = []
    for t, when in _ended(pulls):
        for item in t.items:
            entry = catalog.find(item.as_paper()) if t.merged else None
            outcome = outcome_of(item.tier, entry is not None)
            if outcome is None:
                continue
            out.append(
                Decision(
                    pr=t.number,
                    date=when,
                    merged=t.merged,
                    title=item.title,
                    arxiv=item.arxiv,
                    doi=item.doi,
                    tier=item.tier,
                    outcome=outcome,
                    predicted=item.predicted or None,
                    section=entry.section if entry is not None else None,
                    relevance=item.relevance,
                )
            )
    return out


def derive_rejections(pulls: Sequence[TrackerPull], catalog: PaperIndex[object]) -> list[Rejection]:
    """Rejections that follow from closed tracker pull requests.

    A paper of a pull request closed without merging is rejected; so is a paper listed in a
    merged one that is not in the catalog: a reviewer dropped it (or left a candidate unticked)
    before merging. A paper that is in the catalog is never rejected (a maintainer may add one
    by hand after closing).
    """
    out = []
    for t, when in _ended(pulls):
        for item in t.items:
            if catalog.find(item.as_paper()) is not None:
                continue
            if t.rejected_whole:
                reason = REASON_CLOSED
            elif item.tier == TIER_CANDIDATE and not item.checked:
                reason = REASON_NOT_TICKED
            else:
                reason = REASON_DELETED
            out.append(Rejection(item.title, item.arxiv, item.doi, t.number, reason, when))
    return out

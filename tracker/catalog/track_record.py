"""The bot's track record, month by month, from the recorded decisions
(`tracker.catalog.decisions`): what `tracker evaluate --decisions` prints.

Per month of the pull requests' merge or close date:
- precision of the added tier: papers kept of those the bot added, in merged pull requests;
- share from candidates: of the papers accepted (kept, ticked, added by a maintainer), those
  the bot had offered as candidates: what the candidate tier adds to recall;
- section corrections: accepted papers the classifier had predicted into another section;
- pull requests closed without merging are counted apart (their papers, all rejected, say
  more about a maintainer's night than about each paper).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tracker.catalog.decisions import (
    OUTCOME_ADDED,
    OUTCOME_KEPT,
    OUTCOME_TICKED,
    TIER_ADDED,
    TIER_CANDIDATE,
    Decision,
)

TOTAL = "all"
NO_DATE = "undated"
NO_DECISIONS = (
    "No decisions recorded yet (catalog/decisions.yaml): they are recorded by the tracker pull "
    "request that follows a merged or closed one."
)


@dataclass(frozen=True)
class Month:
    """One month's (or all months') decisions in figures."""

    month: str  # YYYY-MM, NO_DATE or TOTAL
    merged: int  # pull requests merged
    closed: int  # pull requests closed without merging
    added: int  # added-tier papers of merged pull requests
    kept: int
    candidates: int  # candidates of merged pull requests
    ticked: int
    maintainer: int  # papers a maintainer added
    moved: int  # accepted papers in another section than predicted
    predicted: int  # accepted papers with a predicted section
    closed_papers: int  # papers of pull requests closed without merging

    @property
    def accepted(self) -> int:
        return self.kept + self.ticked + self.maintainer

    @property
    def precision(self) -> float | None:
        return self.kept / self.added if self.added else None

    @property
    def from_candidates(self) -> float | None:
        return self.ticked / self.accepted if self.accepted else None

    @property
    def corrections(self) -> float | None:
        return self.moved / self.predicted if self.predicted else None

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "pull_requests_merged": self.merged,
            "pull_requests_closed": self.closed,
            "added": self.added,
            "kept": self.kept,
            "precision": _round(self.precision),
            "candidates": self.candidates,
            "ticked": self.ticked,
            "added_by_maintainers": self.maintainer,
            "accepted": self.accepted,
            "share_from_candidates": _round(self.from_candidates),
            "section_corrections": self.moved,
            "section_correction_rate": _round(self.corrections),
            "papers_of_closed_pull_requests": self.closed_papers,
        }


def track_record(decisions: Iterable[Decision]) -> list[Month]:
    """One `Month` per month with decisions, oldest first, then the total (`TOTAL`)."""
    by_month: dict[str, list[Decision]] = {}
    for d in decisions:
        key = d.date.strftime("%Y-%m") if d.date else NO_DATE
        by_month.setdefault(key, []).append(d)
    ordered = sorted(by_month, key=lambda m: (m == NO_DATE, m))
    months = [_month(m, by_month[m]) for m in ordered]
    if months:
        months.append(_month(TOTAL, [d for m in ordered for d in by_month[m]]))
    return months


def _month(name: str, rows: Sequence[Decision]) -> Month:
    merged = [d for d in rows if d.merged]
    accepted = [d for d in merged if d.accepted]
    return Month(
        month=name,
        merged=len({d.pr for d in merged}),
        closed=len({d.pr for d in rows if not d.merged}),
        added=sum(1 for d in merged if d.tier == TIER_ADDED),
        kept=sum(1 for d in merged if d.outcome == OUTCOME_KEPT),
        candidates=sum(1 for d in merged if d.tier == TIER_CANDIDATE),
        ticked=sum(1 for d in merged if d.outcome == OUTCOME_TICKED),
        maintainer=sum(1 for d in merged if d.outcome == OUTCOME_ADDED),
        moved=sum(1 for d in accepted if d.moved),
        predicted=sum(1 for d in accepted if d.predicted),
        closed_papers=sum(1 for d in rows if not d.merged),
    )


def table(months: Sequence[Month]) -> list[str]:
    """The track record as aligned text lines (a header, one line a month, the total)."""
    if not months:
        return [NO_DECISIONS]
    head = (
        "month",
        "PRs merged",
        "closed",
        "added",
        "kept",
        "precision",
        "candidates",
        "ticked",
        "by hand",
        "accepted",
        "from candidates",
        "moved",
    )
    rows = [
        (
            m.month,
            str(m.merged),
            f"{m.closed} ({m.closed_papers} {'paper' if m.closed_papers == 1 else 'papers'})"
            if m.closed
            else "0",
            str(m.added),
            str(m.kept),
            _pct(m.precision),
            str(m.candidates),
            str(m.ticked),
            str(m.maintainer),
            str(m.accepted),
            _pct(m.from_candidates),
            f"{m.moved} ({_pct(m.corrections)})" if m.predicted else "0",
        )
        for m in months
    ]
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join((first, *rest)).rstrip()

    return [line(head), *(line(r) for r in rows)]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)

"""Choosing what a night proposes: the classifier's verdicts ranked into the night's two tiers
(added, capped; candidates, capped), each chosen one with the catalog entry it adds (built by
`tracker.catalog`), and the night's figures (`RunStats`) shown with them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracker.catalog.store import Entry, new_entry
from tracker.classify.result import TIER_ADDED, TIER_CANDIDATE, Classification, SectionScore
from tracker.identity import paper_ids
from tracker.paper import Paper

# Below this section probability the PR shows the runner-up sections too.
LOW_CONFIDENCE = 0.6
# Runner-up sections shown are at least this probable.
ALTERNATIVE_FLOOR = 0.1


@dataclass(frozen=True)
class Proposal:
    """A paper the bot lists, with the verdict that chose it, the entry it adds (when ticked)
    and its tier in the pull request (`TIER_ADDED`: ticked, in papers.yaml; `TIER_CANDIDATE`:
    unticked, one click away)."""

    classification: Classification
    entry: Entry
    tier: str = TIER_ADDED

    @property
    def paper(self) -> Paper:
        return self.entry.paper

    @property
    def section(self) -> SectionScore:
        return self.classification.section

    @property
    def alternatives(self) -> tuple[SectionScore, ...]:
        """Runner-up sections worth a reviewer's look when the top section is uncertain."""
        if self.section.probability >= LOW_CONFIDENCE:
            return ()
        return tuple(
            s for s in self.classification.ranked[1:3] if s.probability >= ALTERNATIVE_FLOOR
        )


@dataclass(frozen=True)
class Selection:
    """One night's choice: the added tier (at most `cap`, most relevant first), the candidates
    (at most `candidate_cap`), and how many candidates the cap left out."""

    added: tuple[Proposal, ...]
    candidates: tuple[Proposal, ...]
    in_scope: int  # verdicts in the added tier, before the cap
    over_cap: int  # added- or candidate-tier verdicts neither listed nor added

    @property
    def proposals(self) -> tuple[Proposal, ...]:
        return self.added + self.candidates


@dataclass
class RunStats:
    """The figures a reviewer sees at the bottom of the PR, and `tracker run` logs."""

    since: dt.date | None = None
    window: tuple[dt.date, dt.date] | None = None  # the days fetched, both included
    per_source: dict[str, int] = field(default_factory=dict)
    failed_sources: dict[str, str] = field(default_factory=dict)
    source_warnings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fetched: int = 0
    known_catalog: int = 0
    known_open: int = 0
    known_rejected: int = 0
    duplicates: int = 0
    classified: int = 0
    in_scope: int = 0  # in the added tier, before the cap
    proposed: int = 0  # added (ticked)
    candidates: int = 0  # listed unticked
    over_cap: int = 0
    cap: int = 0
    candidate_cap: int = 0
    threshold: float = 0.0
    candidate_threshold: float | None = None
    model_version: str = ""
    decisions: int = 0  # decisions recorded in catalog/decisions.yaml by this pull request
    decision_pulls: list[int] = field(default_factory=list)  # the pull requests they are from

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for the pull request's hidden block)."""
        out = dataclasses.asdict(self)
        out["since"] = self.since.isoformat() if self.since else None
        out["window"] = [d.isoformat() for d in self.window] if self.window else None
        out["source_warnings"] = {k: list(v) for k, v in self.source_warnings.items()}
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunStats:
        """The statistics `to_json` wrote; what is missing or malformed keeps its default."""

        def count(name: str) -> int:
            value = data.get(name)
            return value if type(value) is int else 0

        def number(name: str) -> float | None:
            value = data.get(name)
            return float(value) if _number(value) and value is not None else None

        def mapping(name: str) -> dict[str, Any]:
            value = data.get(name)
            return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}

        window = data.get("window")
        days = [_date(v) for v in window] if isinstance(window, list) else []
        version = data.get("model_version")
        return cls(
            since=_date(data.get("since")),
            window=(days[0], days[1]) if len(days) == 2 and days[0] and days[1] else None,
            per_source={k: v for k, v in mapping("per_source").items() if type(v) is int},
            failed_sources={k: str(v) for k, v in mapping("failed_sources").items()},
            source_warnings={
                k: tuple(str(w) for w in v)
                for k, v in mapping("source_warnings").items()
                if isinstance(v, list)
            },
            **{
                name: count(name)
                for name in (
                    "fetched",
                    "known_catalog",
                    "known_open",
                    "known_rejected",
                    "duplicates",
                    "classified",
                    "in_scope",
                    "proposed",
                    "candidates",
                    "over_cap",
                    "cap",
                    "candidate_cap",
                    "decisions",
                )
            },
            decision_pulls=[n for n in (data.get("decision_pulls") or []) if type(n) is int],
            threshold=number("threshold") or 0.0,
            candidate_threshold=number("candidate_threshold"),
            model_version=version if isinstance(version, str) else "",
        )


def rank_key(c: Classification) -> tuple[float, str]:
    """Most relevant first; ties broken by identifier so the order never depends on input."""
    arxiv, doi = paper_ids(c.paper)
    return (-c.relevance, arxiv or doi or c.paper.title.casefold())


def select(
    verdicts: Iterable[Classification], *, cap: int, candidate_cap: int, today: dt.date
) -> Selection:
    """The added tier, most relevant first, at most `cap`; then the candidates, most relevant
    first, at most `candidate_cap`. Added-tier papers over `cap` are offered as candidates (they
    rank above every candidate-tier paper); what the candidate cap leaves out is out."""
    ranked = sorted(verdicts, key=rank_key)
    in_scope = [c for c in ranked if c.tier == TIER_ADDED]
    listed = [c for c in ranked if c.tier in (TIER_ADDED, TIER_CANDIDATE)]
    added = in_scope[:cap]
    chosen = {id(c) for c in added}
    rest = [c for c in listed if id(c) not in chosen]
    candidates = rest[:candidate_cap]
    return Selection(
        added=tuple(Proposal(c, make_entry(c, today), TIER_ADDED) for c in added),
        candidates=tuple(Proposal(c, make_entry(c, today), TIER_CANDIDATE) for c in candidates),
        in_scope=len(in_scope),
        over_cap=len(rest) - len(candidates),
    )


def make_entry(verdict: Classification, today: dt.date) -> Entry:
    """The catalog entry for a proposed paper (`tracker.catalog.store.new_entry`): its
    predicted section and section confidence, added today. The venue an arXiv comment announces
    and the code links of the abstract are the record's already: the sources read them, once
    (`tracker.sources.arxiv_record`)."""
    return new_entry(verdict.paper, verdict.section.id, verdict.section.probability, today)


def entry_for(paper: Paper, section: str, confidence: float | None, today: dt.date) -> Entry:
    """The catalog entry for `paper` under `section` (see `make_entry`), for a paper a
    maintainer adds too; `confidence` None when no classifier chose the section."""
    entry = new_entry(paper, section, confidence or 0.0, today)
    return entry if confidence is not None else dataclasses.replace(entry, confidence=None)


def catalog_order(proposals: Sequence[Proposal]) -> list[Entry]:
    """Entries of the added tier in the order they are added: each goes after the last entry of
    its section, so within a section the most relevant comes first."""
    return [p.entry for p in proposals if p.tier == TIER_ADDED]


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None

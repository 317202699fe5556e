"""The record of maintainers' decisions on tracker pull requests: `catalog/decisions.yaml`.

Why a file of its own and not more entries in `rejected.yaml`: that file is a blocklist that
maintainers edit by hand and every entry of which means "never propose"; decisions are a log of
every outcome, the accepted papers and section moves included, which `tracker train` learns from
and `tracker evaluate --decisions` reads as the bot's track record. Mixing them would make every
reader of the blocklist filter by kind, and grow it by some thirty rows a night.

Where rows come from: when a tracker pull request has been merged or closed, the next tracker
pull request records one row per paper it listed (`tracker.publish.state.derive_decisions`),
with the pull request's number; a pull request whose number is in the file is never recorded
twice. The outcome is read from the catalog on the base branch at that time:

| tier | in the catalog | outcome |
|---|---|---|
| added | yes | `kept` |
| added | no (unticked, or the pull request was closed) | `dropped` |
| candidate | yes | `ticked` |
| candidate | no | `left` |
| maintainer (`/tracker add`, a human's commit) | yes | `added` |

`predicted` is the section the classifier chose, `section` the one the paper is in; when they
differ the row is a section correction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from tracker.identity import normalize_doi, parse_arxiv_id
from tracker.paper import Paper
from tracker.yamlio import appended_list_text, date_value, list_items

DECISIONS_FILE = "decisions.yaml"

# The classifier's tier names (`tracker.classify.result`), as data here, and the one for papers
# a maintainer added (`tracker.publish.block` uses it).
TIER_ADDED = "added"
TIER_CANDIDATE = "candidate"
TIER_MAINTAINER = "maintainer"
TIERS = (TIER_ADDED, TIER_CANDIDATE, TIER_MAINTAINER)

OUTCOME_KEPT = "kept"
OUTCOME_DROPPED = "dropped"
OUTCOME_TICKED = "ticked"
OUTCOME_LEFT = "left"
OUTCOME_ADDED = "added"
ACCEPTED = (OUTCOME_KEPT, OUTCOME_TICKED, OUTCOME_ADDED)
OUTCOMES = (OUTCOME_KEPT, OUTCOME_DROPPED, OUTCOME_TICKED, OUTCOME_LEFT, OUTCOME_ADDED)

HEADER = """\
# Maintainers' decisions on tracker pull requests, one row per paper a merged or closed tracker
# pull request listed (written by tracker; see tracker/catalog/decisions.py). outcome: kept or
# dropped (added tier), ticked or left (candidates), added (by a maintainer). predicted and
# section differ when a maintainer moved the paper. tracker train learns from these rows.
"""


@dataclass(frozen=True)
class Decision:
    """What became of one paper of one tracker pull request.

    Fields:
        pr: the pull request.
        date: when it was merged or closed.
        merged: False when it was closed without merging.
        title, arxiv, doi: the paper.
        tier: `TIER_ADDED`, `TIER_CANDIDATE` or `TIER_MAINTAINER`.
        outcome: one of `OUTCOMES`.
        predicted: the section the classifier predicted (None: it did not classify the paper).
        section: the section the paper is in (None when it is not in the catalog).
        relevance: the classifier's relevance when it listed the paper.
    """

    pr: int
    date: dt.date | None
    merged: bool
    title: str
    arxiv: str | None
    doi: str | None
    tier: str
    outcome: str
    predicted: str | None = None
    section: str | None = None
    relevance: float | None = None

    @property
    def accepted(self) -> bool:
        return self.outcome in ACCEPTED

    @property
    def moved(self) -> bool:
        """A section correction: accepted in another section than the predicted one."""
        return bool(self.accepted and self.predicted and self.section != self.predicted)

    def as_paper(self) -> Paper:
        return Paper(title=self.title, arxiv_id=self.arxiv, doi=self.doi)

    def to_yaml(self) -> CommentedMap:
        out = CommentedMap()
        out["pr"] = self.pr
        if self.date is not None:
            out["date"] = self.date.isoformat()
        out["merged"] = self.merged
        out["title"] = self.title
        for key, value in (("arxiv", self.arxiv), ("doi", self.doi)):
            if value is not None:
                out[key] = value
        out["tier"] = self.tier
        out["outcome"] = self.outcome
        for key, value in (("predicted", self.predicted), ("section", self.section)):
            if value:
                out[key] = value
        if self.relevance is not None:
            out["relevance"] = round(self.relevance, 4)
        return out


def outcome_of(tier: str, in_catalog: bool) -> str | None:
    """The outcome of a paper of `tier` that is (or is not) in the catalog after the pull
    request ended; None for a maintainer's paper that is not there (nothing was decided)."""
    if tier == TIER_CANDIDATE:
        return OUTCOME_TICKED if in_catalog else OUTCOME_LEFT
    if tier == TIER_MAINTAINER:
        return OUTCOME_ADDED if in_catalog else None
    return OUTCOME_KEPT if in_catalog else OUTCOME_DROPPED


def load_decisions(catalog_root: Path) -> list[Decision]:
    """The decisions recorded in `catalog_root/decisions.yaml` ([] when there is no file)."""
    path = catalog_root / DECISIONS_FILE
    if not path.exists():
        return []
    return parse_decisions(path.read_text(encoding="utf-8"), str(path))


def parse_decisions(text: str, name: str) -> list[Decision]:
    """Decisions from the file's text; raises CatalogError listing every malformed row."""
    items, problems = list_items(text, name, "rows")
    out = []
    for line, item in items:
        why = _problem(item)
        if why:
            problems.add(line, why)
            continue
        arxiv = parse_arxiv_id(str(item["arxiv"])) if item.get("arxiv") else None
        relevance = item.get("relevance")
        out.append(
            Decision(
                pr=item["pr"],
                date=date_value(item.get("date")),
                merged=item.get("merged") is not False,
                title=" ".join(item["title"].split()),
                arxiv=arxiv.id if arxiv else None,
                doi=normalize_doi(str(item["doi"])) if item.get("doi") else None,
                tier=item["tier"],
                outcome=item["outcome"],
                predicted=str(item["predicted"]) if item.get("predicted") else None,
                section=str(item["section"]) if item.get("section") else None,
                relevance=float(relevance) if isinstance(relevance, int | float) else None,
            )
        )
    problems.raise_if_any()
    return out


def _problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "a row must be a mapping (pr: ..., title: ..., ...)"
    if not isinstance(item.get("title"), str) or not item["title"].strip():
        return "a row needs a title"
    pr = item.get("pr")
    if not isinstance(pr, int) or isinstance(pr, bool) or pr < 1:
        return "a row needs the pull request's number as 'pr'"
    if item.get("tier") not in TIERS:
        return f"'tier' must be one of {', '.join(TIERS)}"
    if item.get("outcome") not in OUTCOMES:
        return f"'outcome' must be one of {', '.join(OUTCOMES)}"
    return None


def recorded_pulls(decisions: Iterable[Decision]) -> set[int]:
    return {d.pr for d in decisions}


def new_decisions(recorded: Sequence[Decision], derived: Iterable[Decision]) -> list[Decision]:
    """The derived decisions of pull requests not recorded yet, by pull request, in order."""
    done = recorded_pulls(recorded)
    return sorted((d for d in derived if d.pr not in done), key=lambda d: d.pr)


def updated_text(current: str | None, additions: Sequence[Decision]) -> str:
    """The file's text with `additions` appended, keeping what is there."""
    return appended_list_text(current, DECISIONS_FILE, (d.to_yaml() for d in additions), HEADER)

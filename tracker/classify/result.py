"""What the classifier says about one paper: the record `tracker classify --json` prints and
the bot turns into proposals."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tracker.errors import ModelError
from tracker.paper import Paper

# The bot's tiers: "added" papers go into the catalog in the nightly pull request (checked
# items), "candidate" papers are offered as unchecked items one click away, "out" are neither.
TIER_ADDED = "added"
TIER_CANDIDATE = "candidate"
TIER_OUT = "out"
TIERS = (TIER_ADDED, TIER_CANDIDATE, TIER_OUT)


@dataclass(frozen=True)
class SectionScore:
    """A leaf section with the probability that the paper belongs there."""

    id: str
    heading_zh: str  # the survey's exact Chinese leaf heading
    heading_en: str
    probability: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "heading_zh": self.heading_zh,
            "heading_en": self.heading_en,
            "probability": round(self.probability, 4),
        }


@dataclass(frozen=True)
class Neighbor:
    """A catalog paper close to the classified one: the reason shown to people."""

    title: str
    section_id: str
    similarity: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "section_id": self.section_id,
            "similarity": round(self.similarity, 4),
        }


@dataclass(frozen=True)
class Classification:
    """The verdict on one paper.

    Fields:
        paper: the paper classified.
        in_scope: relevance >= the model's threshold: true exactly when `tier` is "added".
        relevance: calibrated probability (0-1) that the paper belongs in the survey.
        ranked: every leaf section, most probable first (probabilities sum to 1).
        neighbors: the nearest catalog papers, most similar first.
        tier: "added" (in scope), "candidate" (below the threshold, above the model's
            candidate threshold: offered for one click) or "out"; when not given, "added"
            for an in-scope paper and "out" otherwise.
        title_only: the paper had no abstract, so it was judged on its title alone (with
            the model's title-only thresholds).
    """

    paper: Paper
    in_scope: bool
    relevance: float
    ranked: tuple[SectionScore, ...]
    neighbors: tuple[Neighbor, ...] = ()
    tier: str = ""
    title_only: bool = False

    def __post_init__(self) -> None:
        # NaN compares false with every threshold: a NaN relevance would silently drop an
        # in-scope paper. No verdict may be built on a number that is not one.
        numbers = [self.relevance, *(s.probability for s in self.ranked)]
        if not all(math.isfinite(x) for x in numbers) or not 0.0 <= self.relevance <= 1.0:
            raise ModelError(
                f"the classifier gave {self.paper.title[:80]!r} a relevance of "
                f"{self.relevance!r} or a section probability that is not a number; "
                "refusing to decide on it",
                hint="the model files or the embedding cache are damaged: restore models/ "
                "from git or run `tracker train`, and delete the cache folder",
            )
        if not self.tier:
            object.__setattr__(self, "tier", TIER_ADDED if self.in_scope else TIER_OUT)
        if self.tier not in TIERS:
            raise ValueError(f"unknown tier {self.tier!r}")
        if self.in_scope != (self.tier == TIER_ADDED):
            raise ValueError(f"in_scope={self.in_scope} contradicts tier {self.tier!r}")

    @property
    def section(self) -> SectionScore:
        return self.ranked[0]

    def to_dict(self, input_id: str | None = None) -> dict[str, Any]:
        """The stable `--json` shape documented in README."""
        return {
            "id": input_id if input_id is not None else self.paper.arxiv_id,
            "title": self.paper.title,
            "in_scope": self.in_scope,
            "tier": self.tier,
            "title_only": self.title_only,
            "relevance": round(self.relevance, 4),
            "section": self.section.to_dict(),
            "ranked": [s.to_dict() for s in self.ranked],
            "neighbors": [n.to_dict() for n in self.neighbors],
        }

"""What the classifier says about one paper: the record `tracker classify --json` prints and
the bot turns into proposals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.paper import Paper


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
        in_scope: relevance >= the model's threshold.
        relevance: calibrated probability (0-1) that the paper belongs in the survey.
        ranked: every leaf section, most probable first (probabilities sum to 1).
        neighbors: the nearest catalog papers, most similar first.
    """

    paper: Paper
    in_scope: bool
    relevance: float
    ranked: tuple[SectionScore, ...]
    neighbors: tuple[Neighbor, ...] = ()

    @property
    def section(self) -> SectionScore:
        return self.ranked[0]

    def to_dict(self, input_id: str | None = None) -> dict[str, Any]:
        """The stable `--json` shape documented in README."""
        return {
            "id": input_id if input_id is not None else self.paper.arxiv_id,
            "title": self.paper.title,
            "in_scope": self.in_scope,
            "relevance": round(self.relevance, 4),
            "section": self.section.to_dict(),
            "ranked": [s.to_dict() for s in self.ranked],
            "neighbors": [n.to_dict() for n in self.neighbors],
        }

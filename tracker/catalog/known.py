"""What tracker already knows: the one place that decides whether a fetched paper is new.

A paper is known when it is in the catalog, proposed in an open tracker pull request, or
rejected (`catalog/rejected.yaml`, plus what closed tracker pull requests say). `tracker run`
knows all three (the open pull requests come from GitHub); `tracker fetch` knows what the
working tree holds, the catalog and `rejected.yaml`. Both drop known papers through
`tracker.sources.fetch_all`, which asks `Known.why`. Same-paper decisions are
`tracker.identity`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tracker.catalog.rejected import load_rejections
from tracker.catalog.store import Catalog
from tracker.identity import Identifiable, PaperIndex, index_keys
from tracker.paper import Paper

# Why a paper is known, in the order they are asked.
CATALOG = "catalog"
OPEN = "open"
REJECTED = "rejected"
REASONS = (CATALOG, OPEN, REJECTED)


@dataclass
class Sifted:
    """Papers sifted by `Known.sift`: the new ones in order, and how many were dropped."""

    new: list[Paper] = field(default_factory=list)
    known_by: dict[str, int] = field(default_factory=dict)  # reason -> papers
    duplicates: int = 0  # the same paper as an earlier new one


class Known:
    """Papers tracker does not propose again, each with why (`CATALOG`, `OPEN`, `REJECTED`)."""

    def __init__(
        self,
        catalog: Iterable[Identifiable] = (),
        open_prs: Iterable[Identifiable] = (),
        rejected: Iterable[Identifiable] = (),
    ) -> None:
        self._index: PaperIndex[str] = PaperIndex()
        for reason, papers in ((CATALOG, catalog), (OPEN, open_prs), (REJECTED, rejected)):
            for paper in papers:
                self._index.add(paper, reason)

    @classmethod
    def in_folder(cls, root: Path) -> Known:
        """What the catalog folder `root` knows: its papers (none when papers.yaml is missing)
        and its rejections."""
        catalog = Catalog.load(root, allow_missing=True)
        return cls(
            catalog=(e.paper for e in catalog.entries),
            rejected=(r.as_paper() for r in load_rejections(root)),
        )

    def why(self, paper: Identifiable, keys: list[str] | None = None) -> str | None:
        """Why `paper` is known, or None when it is new (`keys`: its `index_keys`)."""
        return self._index.find(paper, keys)

    def sift(self, papers: Sequence[Paper]) -> Sifted:
        """`papers` less the known ones and the repeats, counting each kind."""
        out = Sifted()
        seen: PaperIndex[None] = PaperIndex()
        for paper in papers:
            keys = index_keys(paper)
            why = self.why(paper, keys)
            if why is not None:
                out.known_by[why] = out.known_by.get(why, 0) + 1
            elif seen.add_new(paper, None, keys):
                out.new.append(paper)
            else:
                out.duplicates += 1
        return out

    def __len__(self) -> int:
        return len(self._index)

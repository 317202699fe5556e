"""The record of rejected papers: `catalog/rejected.yaml`, committed in the catalog repository.

Why a committed file rather than only the pull-request history: it is reviewed like any other
change (each tracker PR shows the rejections it records), it survives a move of the repository
or a lost label, `tracker run --dry-run` without a token still honours it, and maintainers can
block a paper by hand by adding an entry.

Where entries come from: each run derives rejections from the history of tracker pull requests
(`tracker.publish.state.derive_rejections`): every paper of a tracker PR closed without merging,
and every paper listed in a merged tracker PR's machine-readable block that is not in the
catalog (deleted before merging). The run honours them at once, and the next tracker PR adds
them to this file. A paper in the catalog is never recorded as rejected. To take a rejection
back, add the paper to `papers.yaml` by hand: tracker does not propose a catalogued paper.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from tracker.identity import PaperIndex, normalize_doi, parse_arxiv_id
from tracker.paper import Paper
from tracker.text import plain
from tracker.yamlio import appended_list_text, date_value, list_items

REJECTED_FILE = "rejected.yaml"
REASON_CLOSED = "closed without merging"
REASON_DELETED = "deleted before merging"
REASON_BY_HAND = "by hand"
HEADER = """\
# Papers tracker never proposes again. Tracker pull requests add an entry for every paper of a
# tracker PR closed without merging, and for every paper deleted from a tracker PR before it was
# merged. Add an entry by hand (title, and arxiv or doi) to block a paper; to take a rejection
# back, add the paper to papers.yaml.
"""


@dataclass(frozen=True)
class Rejection:
    """A paper that must not be proposed again.

    Fields:
        title: the paper's title.
        arxiv: its versionless arXiv id, when known.
        doi: its DOI, when known.
        pr: the tracker pull request it was rejected in (None: added by hand).
        reason: `REASON_CLOSED`, `REASON_DELETED` or free text.
        date: when the rejection happened, when known.
    """

    title: str
    arxiv: str | None = None
    doi: str | None = None
    pr: int | None = None
    reason: str = REASON_BY_HAND
    date: dt.date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", plain(self.title))  # hostile text: tracker.text
        object.__setattr__(self, "reason", plain(self.reason))

    def as_paper(self) -> Paper:
        return Paper(title=self.title, arxiv_id=self.arxiv, doi=self.doi)

    def to_yaml(self) -> CommentedMap:
        out = CommentedMap()
        out["title"] = self.title
        for key, value in (("arxiv", self.arxiv), ("doi", self.doi), ("pr", self.pr)):
            if value is not None:
                out[key] = value
        out["reason"] = self.reason
        if self.date is not None:
            out["date"] = self.date.isoformat()
        return out


def load_rejections(catalog_root: Path) -> list[Rejection]:
    """The rejections recorded in `catalog_root/rejected.yaml` ([] when there is no file)."""
    path = catalog_root / REJECTED_FILE
    if not path.exists():
        return []
    return parse_rejections(path.read_text(encoding="utf-8"), str(path))


def parse_rejections(text: str, name: str) -> list[Rejection]:
    """Rejections from the file's text; raises CatalogError listing every malformed entry."""
    items, problems = list_items(text, name, "entries")
    out = []
    for line, item in items:
        if not isinstance(item, dict) or not isinstance(item.get("title"), str):
            problems.add(line, "an entry needs at least a title")
            continue
        arxiv = parse_arxiv_id(str(item["arxiv"])) if item.get("arxiv") else None
        doi = normalize_doi(str(item["doi"])) if item.get("doi") else None
        date = date_value(item.get("date"))
        pr = item.get("pr")
        out.append(
            Rejection(
                title=" ".join(item["title"].split()),
                arxiv=arxiv.id if arxiv else None,
                doi=doi,
                pr=pr if isinstance(pr, int) and not isinstance(pr, bool) else None,
                reason=str(item.get("reason") or REASON_BY_HAND),
                date=date,
            )
        )
    problems.raise_if_any()
    return out


def new_rejections(recorded: Sequence[Rejection], derived: Iterable[Rejection]) -> list[Rejection]:
    """The derived rejections not recorded yet, once each, in a stable order (by PR, title)."""
    index: PaperIndex[Rejection] = PaperIndex((r.as_paper(), r) for r in recorded)
    out = []
    for r in sorted(derived, key=lambda r: (r.pr or 0, r.title.casefold())):
        if index.find(r.as_paper()) is None:
            index.add(r.as_paper(), r)
            out.append(r)
    return out


def updated_text(current: str | None, additions: Sequence[Rejection]) -> str:
    """The file's text with `additions` appended, keeping what maintainers wrote."""
    return appended_list_text(current, REJECTED_FILE, (r.to_yaml() for r in additions), HEADER)

"""What the classifier learns from and reads: labelled JSONL files, batch inputs, and the
training set built from the catalog, the taxonomy, labels and rejections."""

from __future__ import annotations

import gzip
import json
import lzma
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracker.catalog.decisions import OUTCOME_LEFT, Decision, load_decisions
from tracker.catalog.rejected import Rejection
from tracker.catalog.store import Catalog
from tracker.catalog.taxonomy import Taxonomy
from tracker.classify.features import Keywords, normalize_space, paper_text
from tracker.errors import InputError
from tracker.identity import paper_key
from tracker.paper import Paper

ORIGIN_CATALOG = "catalog"
ORIGIN_LABELS = "labels"
ORIGIN_REJECTED = "rejected"
ORIGIN_DECISIONS = "decisions"
# Sample weights of decision rows (tracker.catalog.decisions): an added paper a maintainer
# dropped is as clear a negative as a rejection; a candidate left unticked is a weak one.
DROPPED_WEIGHT = 1.0
LEFT_WEIGHT = 0.3
# A labelled negative an annotator read (`reviewed`: it passed a keyword screen for security or
# model-reuse words) sits near the boundary; it counts this many times in the relevance fit.
HARD_NEGATIVE_WEIGHT = 3.0
# Negatives labelled out unread (the screen passed them over: 85 % of a night, plainly off
# topic) are thinned for fitting: one in EASY_NEGATIVES_KEPT is kept, chosen by a hash of its
# key (so the same rows on every machine), and stands for EASY_NEGATIVES_KEPT rows. The shipped
# labels file is thinned the same way, so training on it or on the full stream is the same fit.
EASY_NEGATIVES_KEPT = 4
# Leaves by attack/defense and by lifecycle stage: the section model's two extra heads.
AD_NAMES = ("attack", "defense")
STAGE_NAMES = ("design", "secondary", "deployment", "usage")


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL file (gzip when it ends in
    .gz, xz when .xz); a line that is not a JSON object is an InputError naming the file and
    line."""
    try:
        opener: Any = {".gz": gzip.open, ".xz": lzma.open}.get(path.suffix, open)
        with opener(path, "rt", encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(
                        f"{path}:{number}: not valid JSON ({exc.msg})",
                        hint="one JSON object per line",
                    ) from None
                if not isinstance(obj, dict):
                    raise InputError(f"{path}:{number}: expected a JSON object")
                yield number, obj
    except FileNotFoundError:
        raise InputError(f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError, EOFError, lzma.LZMAError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None


def _text(obj: dict[str, Any], key: str, where: str, required: bool) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InputError(f"{where}: '{key}' must be {'non-empty ' if required else ''}text")
    return normalize_space(value)


@dataclass(frozen=True)
class InputPaper:
    """One line of `tracker classify --input`."""

    line: int
    title: str
    abstract: str
    id: str | None
    categories: tuple[str, ...] = ()


def read_inputs(path: Path) -> list[InputPaper]:
    """Papers to classify: JSONL with `title`, optional `abstract`, `id` and `categories`
    (arXiv categories: kept with the paper; the verdict reads its content only)."""
    out = []
    for number, obj in read_jsonl(path):
        where = f"{path}:{number}"
        title = _text(obj, "title", where, True)
        abstract = _text(obj, "abstract", where, False)
        ident = obj.get("id")
        if ident is not None and not isinstance(ident, str | int):
            raise InputError(f"{where}: 'id' must be text")
        cats = obj.get("categories") or []
        if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
            raise InputError(f"{where}: 'categories' must be a list of arXiv categories")
        out.append(
            InputPaper(number, title, abstract, None if ident is None else str(ident), tuple(cats))
        )
    if not out:
        raise InputError(f"{path}: no papers in the file")
    return out


@dataclass(frozen=True)
class Label:
    """A labelled paper (a row of a file like data/stream-2026.jsonl)."""

    title: str
    abstract: str
    in_scope: bool
    section: str | None  # a leaf id
    categories: tuple[str, ...]
    night: str  # `announced`, or "" when unknown
    sure: bool
    id: str | None
    reviewed: bool = True  # an annotator read it (False: labelled out unread)
    count: int = 1  # rows of the full stream this row stands for (a thinned file: > 1)

    @property
    def key(self) -> str:
        """The row's identity (`tracker.identity.paper_key`): its arXiv id, else its title."""
        return paper_key(Paper(self.title, arxiv_id=self.id))


def section_id(value: str, taxonomy: Taxonomy) -> str | None:
    """A leaf id from a section id or an exact Chinese or English heading."""
    node = taxonomy.get(value) or taxonomy.by_heading(value)
    return node.id if node is not None and node.is_leaf else None


def read_labels(path: Path, taxonomy: Taxonomy) -> list[Label]:
    """Labelled papers: JSONL with `title`, `abstract`, `in_scope` and, for in-scope rows,
    `section` (a leaf id or its exact heading); `categories`, `announced`, `sure`, `id`,
    `reviewed` and `count` (how many rows of a thinned file's source this row stands for) are
    used when present."""
    out = []
    for number, obj in read_jsonl(path):
        where = f"{path}:{number}"
        title = _text(obj, "title", where, True)
        abstract = _text(obj, "abstract", where, False)
        in_scope = obj.get("in_scope")
        if not isinstance(in_scope, bool):
            raise InputError(f"{where}: 'in_scope' must be true or false")
        section = None
        if in_scope:
            raw = obj.get("section")
            section = section_id(raw, taxonomy) if isinstance(raw, str) else None
            if section is None:
                raise InputError(
                    f"{where}: in-scope row needs 'section', a leaf id or exact heading "
                    f"(got {raw!r})"
                )
        cats = obj.get("categories") or ()
        ident = obj.get("id")
        count = obj.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise InputError(f"{where}: 'count' must be a whole number of at least 1")
        out.append(
            Label(
                title=title,
                abstract=abstract,
                in_scope=in_scope,
                section=section,
                categories=tuple(str(c) for c in cats) if isinstance(cats, list) else (),
                night=str(obj.get("announced") or ""),
                sure=obj.get("sure") is not False,
                id=str(ident) if isinstance(ident, str | int) else None,
                reviewed=obj.get("reviewed") is not False,
                count=count,
            )
        )
    return out


def thinned_out(label: Label) -> bool:
    """Whether thinning drops this row from fitting: an unread negative of the full stream
    whose key does not fall in the kept share (see EASY_NEGATIVES_KEPT)."""
    if label.in_scope or label.reviewed or label.count > 1:
        return False
    return zlib.crc32(label.key.encode()) % EASY_NEGATIVES_KEPT != 0


def description_clauses(description: str) -> list[str]:
    """The narrow examples a leaf's description lists: "Head: a, b, and c." gives the head and
    each listed item of two words or more ("Head", "a", "b", "c")."""
    head, _, rest = description.partition(":")
    items = re.split(r"[,;]\s*(?:and\s+|or\s+)?", rest)
    out = [head.strip()] if rest else []
    out += [c.strip().rstrip(".") for c in items if len(c.split()) >= 2]
    return [c for c in out if c]


def guide_examples(taxonomy: Taxonomy) -> list[tuple[str, str, str]]:
    """(title, abstract, leaf id) pseudo-examples written from the taxonomy: each leaf's English
    heading as the title with its whole description as the abstract, and again with each
    clause of the description (`description_clauses`), so that each narrow case the maintainers
    name is an example of its own. Maintainer knowledge, not data: they never leak an evaluation
    row."""
    rows = []
    for leaf in taxonomy.leaves:
        rows.append((leaf.heading_en, leaf.description, leaf.id))
        rows += [(leaf.heading_en, c, leaf.id) for c in description_clauses(leaf.description)]
    return rows


def hierarchy(leaf_ids: Sequence[str]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(attack/defense, stage) index of each leaf, read from its dotted id
    (`attack.secondary.transfer` -> attack, secondary). A taxonomy none of whose ids has that
    shape (another survey's, from `tracker init`) has no such heads: every leaf gets 0, and
    the heads, with one class each, leave the flat section model alone."""
    if not any(sid.split(".")[0] in AD_NAMES for sid in leaf_ids):
        return tuple(0 for _ in leaf_ids), tuple(0 for _ in leaf_ids)
    ad, stage = [], []
    for sid in leaf_ids:
        parts = sid.split(".")
        if parts[0] not in AD_NAMES or len(parts) < 2 or parts[1] not in STAGE_NAMES:
            raise InputError(
                f"section id {sid!r} does not start with attack|defense and a stage "
                f"({'|'.join(STAGE_NAMES)})",
                hint="the section model's heads read the stage from the id",
            )
        ad.append(AD_NAMES.index(parts[0]))
        stage.append(STAGE_NAMES.index(parts[1]))
    return tuple(ad), tuple(stage)


@dataclass
class TrainingSet:
    """Rows the classifier learns from, as parallel arrays.

    `origin` says where a row came from: labelled rows (ORIGIN_LABELS) are the only ones ever
    held out in evaluation; catalog papers and rejections are always training rows. `night`
    groups labelled rows for grouped cross-validation. `cr` (listed in cs.CR) is kept for
    reporting figures by category only: the model judges content, never categories.

    Weights: `weight` is a row's weight in the relevance fit for what it is (a read negative
    counts HARD_NEGATIVE_WEIGHT times, a weak decision less); `count` is how many rows of a
    night it stands for when fitting (EASY_NEGATIVES_KEPT for a kept unread negative, 1 else);
    `thin` marks the unread negatives thinning leaves out of every fit; `eval_count` is how many
    rows it stands for when measured (its file's `count`).
    """

    titles: list[str] = field(default_factory=list)
    abstracts: list[str] = field(default_factory=list)
    y: list[bool] = field(default_factory=list)
    section: list[int] = field(default_factory=list)  # leaf index, -1 when out of scope
    cr: list[bool] = field(default_factory=list)
    night: list[str] = field(default_factory=list)
    sure: list[bool] = field(default_factory=list)
    origin: list[str] = field(default_factory=list)
    key: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # paper_text(title, abstract), what is embedded
    weight: list[float] = field(default_factory=list)
    count: list[int] = field(default_factory=list)
    eval_count: list[int] = field(default_factory=list)
    thin: list[bool] = field(default_factory=list)
    _kw: dict[tuple[object, bool], np.ndarray] = field(default_factory=dict, repr=False)

    def add(
        self,
        title: str,
        abstract: str,
        y: bool,
        section: int,
        cr: bool,
        night: str,
        sure: bool,
        origin: str,
        key: str,
        weight: float = 1.0,
        count: int = 1,
        eval_count: int = 1,
        thin: bool = False,
    ) -> None:
        self.titles.append(title)
        self.abstracts.append(abstract)
        self.y.append(y)
        self.section.append(section)
        self.cr.append(cr)
        self.night.append(night)
        self.sure.append(sure)
        self.origin.append(origin)
        self.key.append(key)
        self.texts.append(paper_text(title, abstract))
        self.weight.append(weight)
        self.count.append(count)
        self.eval_count.append(eval_count)
        self.thin.append(thin)
        self._kw.clear()

    def __len__(self) -> int:
        return len(self.titles)

    def keyword_matrix(self, keywords: Keywords, title_only: bool = False) -> np.ndarray:
        """The keyword indicators of every row (of its title alone with `title_only`),
        computed once per keyword set: each fit and prediction takes its rows from it."""
        cache_key = (keywords, title_only)
        if cache_key not in self._kw:
            texts = self.titles if title_only else self.texts
            self._kw[cache_key] = keywords.matrix(list(texts), list(self.titles))
        return self._kw[cache_key]

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "y": np.array(self.y, dtype=bool),
            "section": np.array(self.section, dtype=np.int64),
            "cr": np.array(self.cr, dtype=bool),
            "night": np.array(self.night, dtype=object),
            "sure": np.array(self.sure, dtype=bool),
            "labelled": np.array([o == ORIGIN_LABELS for o in self.origin], dtype=bool),
            "weight": np.array(self.weight, dtype=np.float64),
            "count": np.array(self.count, dtype=np.float64),
            "eval_count": np.array(self.eval_count, dtype=np.float64),
            "thin": np.array(self.thin, dtype=bool),
        }


def build_training_set(
    catalog: Catalog,
    rejections: Sequence[Rejection],
    labels: Sequence[Label],
    leaf_ids: Sequence[str],
    decisions: Sequence[Decision] | None = None,
) -> TrainingSet:
    """Catalog papers (in scope, their section), labelled rows (de-duplicated by arXiv id or
    title, first file first; weighted and thinned as HARD_NEGATIVE_WEIGHT and
    EASY_NEGATIVES_KEPT say), maintainers' decisions on tracker pull requests
    (`decisions`, default: the catalog's decisions.yaml), and rejections as negatives (title
    only; they were candidates the bot proposed, as near the boundary as a read negative).

    Decisions (title only): a paper accepted from a pull request is a positive
    in the section it ended in (a section correction: the maintainer's section, not the
    predicted one), when the catalog does not hold it already; a dropped paper of the added tier
    is a negative of weight `DROPPED_WEIGHT`; a candidate left unticked is a weak negative
    (`LEFT_WEIGHT`): not worth a click that night is weaker evidence than out of scope."""
    index = {sid: i for i, sid in enumerate(leaf_ids)}
    ts = TrainingSet()
    for entry in catalog.entries:
        p = entry.paper
        ts.add(
            p.title,
            p.abstract,
            True,
            index[entry.section],
            True,
            "",
            True,
            ORIGIN_CATALOG,
            paper_key(p),
        )
    seen = set(ts.key)
    for row in labels:
        if row.key in seen:
            continue
        seen.add(row.key)
        thin = thinned_out(row)
        easy = not row.in_scope and not row.reviewed
        ts.add(
            row.title,
            row.abstract,
            row.in_scope,
            index[row.section] if row.section else -1,
            "cs.CR" in row.categories,
            row.night,
            row.sure,
            ORIGIN_LABELS,
            row.key,
            weight=1.0 if row.in_scope or easy else HARD_NEGATIVE_WEIGHT,
            count=EASY_NEGATIVES_KEPT if easy and row.count == 1 and not thin else row.count,
            eval_count=row.count,
            thin=thin,
        )
    for d in load_decisions(catalog.root) if decisions is None else decisions:
        key = paper_key(d.as_paper())
        if key in seen or (d.accepted and d.section not in index):
            continue
        seen.add(key)
        if d.accepted:
            ts.add(d.title, "", True, index[str(d.section)], True, "", True, ORIGIN_DECISIONS, key)
        else:
            weight = LEFT_WEIGHT if d.outcome == OUTCOME_LEFT else DROPPED_WEIGHT
            ts.add(d.title, "", False, -1, True, "", True, ORIGIN_DECISIONS, key, weight)
    for r in rejections:
        key = paper_key(r.as_paper())
        if key in seen:
            continue
        seen.add(key)
        ts.add(r.title, "", False, -1, True, "", True, ORIGIN_REJECTED, key, HARD_NEGATIVE_WEIGHT)
    return ts

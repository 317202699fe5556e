"""`tracker evaluate`: quality measured only on papers the scored model never trained on.

Protocols (every figure says which one it comes from):

- **catalog cross-validation** (always): the catalog's papers are split into `folds` folds,
  stratified by section; each fold's papers are classified by a section model trained on
  everything else (the other catalog papers, the in-scope labelled rows, the taxonomy's
  pseudo-examples). Section top-1, top-3, macro-F1 and a confusion matrix.
- with `--labels FILE`, **grouped cross-validation by night**: the file's nights are cut into
  `blocks` runs of consecutive nights; each block is scored by a model trained on the catalog,
  the rejections, the configured training labels and the file's other blocks, never on a row of
  the block. Out-of-fold relevance (ROC AUC, average precision, recall at 0.5, 1, 2 and 5 wrong
  papers a night, and the share of in-scope papers among each night's k most relevant), for
  all rows, cs.CR rows, other rows and `sure` rows; section quality on the in-scope rows; and a
  night-by-night replay of the tiers (added, candidates) with each fold's thresholds set from
  inner out-of-fold scores of its own training rows.
- with `--labels FILE --train-before DATE`, **temporal**: one model trained on everything
  announced before DATE (plus catalog and rejections), scored on the file's rows from DATE on.

Training rows are thinned as `tracker train` thins them; scored rows never are, and a row of a
thinned file counts as the rows it stands for (`count`), so that every "a night" is a night at
full size. With `title_only`, the held-out papers are scored by their titles alone (as `tracker
classify --title` would), against the title rules. The shipped model in models/ is never
scored here: it was trained on every labelled row.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracker.classify.data import ORIGIN_CATALOG, Label, build_training_set, read_labels
from tracker.classify.embedder import Embedder
from tracker.classify.model import DEFAULT_RULE, LOOSER_RULE
from tracker.classify.train import (
    CANDIDATES_A_NIGHT,
    Guide,
    TrainingInputs,
    embed_guide,
    fit,
    make_rules,
    out_of_fold_scores,
    predict_scores,
    predict_sections,
    score_for_wrong,
)
from tracker.errors import InputError

Step = Callable[[str], None]
WRONG_A_NIGHT = (0.5, 1.0, 2.0, 5.0)  # recall is reported at these wrong papers a night
TOP_K = (5, 10, 15, 20)  # and among each night's k most relevant papers
RULES = (DEFAULT_RULE, LOOSER_RULE)


@dataclass
class SectionQuality:
    n: int
    top1: float
    top3: float
    macro_f1: float
    confusion: np.ndarray  # true x predicted, leaf order
    per_section: list[tuple[str, int, float, float]]  # id, n, top-1, top-3


def section_quality(true: np.ndarray, proba: np.ndarray, leaf_ids: Sequence[str]) -> SectionQuality:
    from sklearn.metrics import f1_score

    order = np.argsort(-proba, axis=1, kind="stable")
    top1 = order[:, 0]
    hit3 = np.array([t in o[:3] for t, o in zip(true, order, strict=True)], dtype=bool)
    present = sorted(set(true.tolist()))
    conf = np.zeros((len(leaf_ids), len(leaf_ids)), dtype=np.int64)
    for t, p in zip(true, top1, strict=True):
        conf[t, p] += 1
    per = []
    for c, sid in enumerate(leaf_ids):
        m = true == c
        if m.any():
            per.append((sid, int(m.sum()), float(np.mean(top1[m] == c)), float(hit3[m].mean())))
    return SectionQuality(
        n=len(true),
        top1=float(np.mean(top1 == true)) if len(true) else float("nan"),
        top3=float(hit3.mean()) if len(true) else float("nan"),
        macro_f1=float(f1_score(true, top1, labels=present, average="macro", zero_division=0))
        if len(true)
        else float("nan"),
        confusion=conf,
        per_section=per,
    )


@dataclass
class RelevanceQuality:
    """Relevance figures of one subset of the held-out rows (all, cs.CR, other, sure).

    AUC and AP rank the subset alone; `at_wrong` and `top_k` are the share of the subset's
    in-scope rows reached at the thresholds that give N wrong papers a night over *all* rows,
    and among each night's k most relevant papers of all rows: what a maintainer sees."""

    subset: str
    n_pos: int
    n_neg: int
    auc: float
    ap: float
    at_wrong: dict[float, float]
    top_k: dict[int, float]


def _ranked_within_night(nights: np.ndarray, s: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each row's rank in its night by score: the rows (by `counts`) scoring above it."""
    rank = np.zeros(len(s))
    for night in set(nights.tolist()):
        m = np.flatnonzero(nights == night)
        order = m[np.argsort(-s[m], kind="stable")]
        rank[order] = np.cumsum(counts[order]) - counts[order]
    return rank


def wrong_thresholds(
    y: np.ndarray, s: np.ndarray, counts: np.ndarray, nights: np.ndarray
) -> dict[float, float]:
    """The score that lets each of WRONG_A_NIGHT out-of-scope papers a night through, over
    all the scored rows."""
    n_nights = len(set(nights.tolist()))
    return {
        w: score_for_wrong(y, s, counts, w * n_nights) if (~y).any() else -np.inf
        for w in WRONG_A_NIGHT
    }


def relevance_quality(
    subset: str,
    mask: np.ndarray,
    y: np.ndarray,
    s: np.ndarray,
    counts: np.ndarray,
    rank: np.ndarray,
    at_score: dict[float, float],
) -> RelevanceQuality:
    """Figures of the rows in `mask`; `rank` (each row's rank in its night) and `at_score`
    (`wrong_thresholds`) come from all the scored rows."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    ys, ss, cs = y[mask], s[mask], counts[mask]
    both = bool(ys.any() and (~ys).any())
    pos = y & mask
    n_in = float(counts[pos].sum())
    at_wrong = {
        w: float(counts[pos & (s >= t)].sum()) / n_in if n_in else math.nan
        for w, t in at_score.items()
    }
    top_k = {k: float(counts[pos & (rank < k)].sum()) / n_in if n_in else math.nan for k in TOP_K}
    return RelevanceQuality(
        subset,
        int(cs[ys].sum()),
        int(cs[~ys].sum()),
        float(roc_auc_score(ys, ss, sample_weight=cs)) if both else math.nan,
        float(average_precision_score(ys, ss, sample_weight=cs)) if both else math.nan,
        at_wrong,
        top_k,
    )


@dataclass
class Tiers:
    """A night-by-night replay of one rule's tiers on the held-out rows (thresholds from each
    split's own training rows); candidates are capped at `cap` a night, the most relevant
    first, as the bot caps them."""

    rule: str
    nights: int
    positives: int
    added: int
    added_right: int
    wrong_max: int
    candidates: int
    candidates_right: int
    cap: int
    by_subset: dict[str, tuple[int, int, int]]  # subset -> positives, added, added + candidates
    per_night: list[tuple[str, int, int, int, int, int, int]]
    # night, rows, in scope, added, wrong added, candidates, in-scope candidates

    def _share(self, n: int) -> float:
        return n / self.positives if self.positives else math.nan

    @property
    def recall_added(self) -> float:
        return self._share(self.added_right)

    @property
    def recall_both(self) -> float:
        return self._share(self.added_right + self.candidates_right)

    @property
    def wrong_per_night(self) -> float:
        return (self.added - self.added_right) / self.nights if self.nights else math.nan

    @property
    def added_per_night(self) -> float:
        return self.added / self.nights if self.nights else math.nan

    @property
    def candidates_per_night(self) -> float:
        return self.candidates / self.nights if self.nights else math.nan

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.__dict__.items()},
            "recall_added": self.recall_added,
            "recall_added_and_candidates": self.recall_both,
            "wrong_per_night": self.wrong_per_night,
            "added_per_night": self.added_per_night,
            "candidates_per_night": self.candidates_per_night,
        }


@dataclass
class LabelsResult:
    protocol: str
    relevance: list[RelevanceQuality]
    section: SectionQuality | None
    section_sure: SectionQuality | None
    tiers: list[Tiers]
    y: np.ndarray
    score: np.ndarray
    title_only: bool = False
    keys: list[str] = field(default_factory=list)  # the scored rows' keys, as y and score
    rank: np.ndarray | None = None  # each scored row's rank in its night (0: most relevant)


@dataclass
class Evaluation:
    leaf_ids: list[str]
    catalog: SectionQuality
    catalog_protocol: str
    labels: LabelsResult | None = None
    notes: list[str] = field(default_factory=list)


# --- protocols ------------------------------------------------------------------------------


def catalog_cv(
    inputs: TrainingInputs, emb: np.ndarray, guide: Guide, folds: int = 10
) -> tuple[SectionQuality, str]:
    ts = inputs.ts
    a = ts.arrays()
    cat = np.array([i for i, o in enumerate(ts.origin) if o == ORIGIN_CATALOG], dtype=np.int64)
    if len(cat) < 2:
        raise InputError("the catalog needs at least two papers to cross-validate")
    folds = max(2, min(folds, len(cat)))
    fold_of = np.zeros(len(cat), dtype=np.int64)
    for c in sorted(set(a["section"][cat].tolist())):
        members = np.where(a["section"][cat] == c)[0]
        fold_of[members] = np.arange(len(members)) % folds
    # shift each section's start so that folds get a mix of sections, deterministically
    fold_of = (fold_of + a["section"][cat]) % folds
    proba = np.zeros((len(cat), len(inputs.leaf_ids)))
    everyone = np.arange(len(ts))
    for f in range(folds):
        test = cat[fold_of == f]
        if not len(test):
            continue
        train = np.setdiff1d(everyone, test)
        params = fit(ts, emb, train, guide, inputs.leaf_ids, relevance=False)
        proba[fold_of == f] = predict_sections(params, ts, emb, test)
    n_lab = int((a["labelled"] & a["y"]).sum())
    protocol = (
        f"catalog cross-validation: {len(cat)} catalog papers in {folds} folds stratified by "
        f"section; each fold classified by a section model trained on the other catalog papers,"
        f" {n_lab} in-scope labelled rows and {len(guide.texts)} taxonomy pseudo-examples"
    )
    return section_quality(a["section"][cat], proba, inputs.leaf_ids), protocol


def _splits(
    nights: np.ndarray, test_mask: np.ndarray, blocks: int, before: dt.date | None, n: int
) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    everyone = np.arange(n)
    if before is not None:
        b = before.isoformat()
        dated = np.array([bool(x) for x in nights])
        test = everyone[test_mask & dated & (nights >= b)]
        future = dated & (nights >= b)
        train = everyone[~future & ~(test_mask & ~dated)]
        if not len(test):
            raise InputError(f"no labelled row announced on or after {before}")
        return [(train, test)], f"temporal: trained on rows announced before {before}"
    test_nights = sorted(set(nights[test_mask].tolist()))
    if "" in test_nights:
        raise InputError(
            "grouped cross-validation needs `announced` on every row of the labels file",
            hint="add the night each paper was announced, or use --train-before",
        )
    blocks = max(2, min(blocks, len(test_nights)))
    if len(test_nights) < 2:
        raise InputError("grouped cross-validation needs rows from at least two nights")
    out = []
    for block in np.array_split(np.array(test_nights, dtype=object), blocks):
        test = everyone[test_mask & np.isin(nights, block)]
        out.append((np.setdiff1d(everyone, test), test))
    return out, (
        f"grouped cross-validation: {len(test_nights)} nights in {blocks} blocks of "
        "consecutive nights; each block scored by a model that never saw it"
    )


def labels_eval(
    inputs: TrainingInputs,
    eval_labels: Sequence[Label],
    embedder: Embedder,
    guide: Guide,
    *,
    blocks: int = 11,
    before: dt.date | None = None,
    title_only: bool = False,
    step: Step = lambda s: None,
) -> LabelsResult:
    """Relevance, section and tier figures on `eval_labels` (see the module docstring)."""
    eval_keys = {r.key for r in eval_labels}
    # The labels file comes first, so its rows are the ones kept when files overlap.
    others = [r for r in inputs.labels if r.key not in eval_keys]
    ts = build_training_set(
        inputs.catalog, inputs.rejections, [*eval_labels, *others], inputs.leaf_ids
    )
    a = ts.arrays()
    test_mask = a["labelled"] & np.isin(np.array(ts.key, dtype=object), list(eval_keys))
    step(f"embedding {len(ts)} texts")
    emb = embedder.embed(ts.texts)
    title_emb = None
    if title_only:
        labelled = np.flatnonzero(a["labelled"])
        step(f"embedding {len(labelled)} titles")
        title_emb = np.zeros_like(emb)
        title_emb[labelled] = embedder.embed([ts.titles[i] for i in labelled])
    splits, protocol = _splits(a["night"], test_mask, blocks, before, len(ts))
    score = np.full(len(ts), np.nan)
    proba = np.full((len(ts), len(inputs.leaf_ids)), np.nan)
    thresholds = {r: np.full((len(ts), 2), np.nan) for r in RULES}
    for k, (train, test) in enumerate(splits, start=1):
        fitted = train[~a["thin"][train]]
        step(f"split {k}/{len(splits)}: training on {len(fitted)} rows, scoring {len(test)}")
        params = fit(ts, emb, train, guide, inputs.leaf_ids)
        if title_emb is not None:
            score[test] = predict_scores(params, ts, title_emb, test, title_only=True)
        else:
            score[test] = predict_scores(params, ts, emb, test)
        if title_emb is not None:
            proba[test] = predict_sections(params, ts, title_emb, test, title_only=True)
        else:
            proba[test] = predict_sections(params, ts, emb, test)
        rows, oof, oof_titles = out_of_fold_scores(
            ts, emb, train, guide, inputs.leaf_ids, title_emb
        )
        use = oof_titles if oof_titles is not None else oof
        for name, rule in make_rules(ts, rows, use).items():
            cand = rule.candidate_score
            thresholds[name][test] = (rule.score, cand)
    test = np.sort(np.concatenate([t for _, t in splits]))
    y, s = a["y"][test], score[test]
    counts, nights = a["eval_count"][test], a["night"][test]
    cr, sure = a["cr"][test], a["sure"][test]
    subsets = {"all": np.ones(len(test), bool), "cs.CR": cr, "other": ~cr, "sure": sure}
    rank = _ranked_within_night(nights, s, counts)
    at_score = wrong_thresholds(y, s, counts, nights)
    rel = [relevance_quality(n, m, y, s, counts, rank, at_score) for n, m in subsets.items()]
    pos = test[a["y"][test]]
    sec = section_quality(a["section"][pos], proba[pos], inputs.leaf_ids) if len(pos) else None
    pos_sure = pos[a["sure"][pos]]
    sec_sure = (
        section_quality(a["section"][pos_sure], proba[pos_sure], inputs.leaf_ids)
        if len(pos_sure)
        else None
    )
    tiers = [_tiers(name, y, s, counts, nights, thresholds[name][test], subsets) for name in RULES]
    if title_only:
        protocol += "; held-out papers scored by their titles alone"
    keys = [ts.key[i] for i in test]
    return LabelsResult(protocol, rel, sec, sec_sure, tiers, y, s, title_only, keys, rank)


def _tiers(
    rule: str,
    y: np.ndarray,
    s: np.ndarray,
    counts: np.ndarray,
    nights: np.ndarray,
    thr: np.ndarray,
    subsets: dict[str, np.ndarray],
    cap: int = int(CANDIDATES_A_NIGHT),
) -> Tiers:
    added = s >= thr[:, 0]
    cand = ~added & (s >= thr[:, 1])
    # the bot shows at most `cap` candidates a night, the most relevant first
    rank = _ranked_within_night(nights, np.where(cand, s, -np.inf), np.where(cand, counts, 0))
    cand &= rank < cap
    per = []
    for night in sorted(set(nights.tolist())):
        m = nights == night

        per.append(
            (
                str(night),
                int(counts[m].sum()),
                int(counts[y & m].sum()),
                int(counts[added & m].sum()),
                int(counts[added & ~y & m].sum()),
                int(counts[cand & m].sum()),
                int(counts[cand & y & m].sum()),
            )
        )
    by_subset = {
        name: (
            int(counts[y & mask].sum()),
            int(counts[y & mask & added].sum()),
            int(counts[y & mask & (added | cand)].sum()),
        )
        for name, mask in subsets.items()
    }
    return Tiers(
        rule=rule,
        nights=len(per),
        positives=int(counts[y].sum()),
        added=int(counts[added].sum()),
        added_right=int(counts[added & y].sum()),
        wrong_max=max((p[4] for p in per), default=0),
        candidates=int(counts[cand].sum()),
        candidates_right=int(counts[cand & y].sum()),
        cap=cap,
        by_subset=by_subset,
        per_night=per,
    )


def evaluate(
    inputs: TrainingInputs,
    embedder: Embedder,
    *,
    labels_file: Path | None = None,
    before: dt.date | None = None,
    folds: int = 10,
    blocks: int = 11,
    title_only: bool = False,
    step: Step = lambda s: None,
) -> Evaluation:
    eval_labels: list[Label] = []
    if labels_file is not None:
        eval_labels = read_labels(labels_file, inputs.catalog.taxonomy)
        if not eval_labels:
            raise InputError(f"{labels_file}: no labelled rows")
        if before is not None and not any(r.night >= before.isoformat() for r in eval_labels):
            raise InputError(f"no labelled row announced on or after {before}")
    step(f"embedding {len(inputs.ts)} training texts")
    emb = embedder.embed(inputs.ts.texts)
    guide = embed_guide(inputs.guide_rows, inputs.leaf_ids, embedder)
    step("catalog cross-validation")
    cat, protocol = catalog_cv(inputs, emb, guide, folds)
    result = Evaluation(list(inputs.leaf_ids), cat, protocol)
    if eval_labels:
        result.labels = labels_eval(
            inputs,
            eval_labels,
            embedder,
            guide,
            blocks=blocks,
            before=before,
            title_only=title_only,
            step=step,
        )
    return result


# --- report ---------------------------------------------------------------------------------


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.1f}%"


def _f(x: float) -> str:
    return "n/a" if x != x else f"{x:.3f}"


def _wrong_label(w: float) -> str:
    return f"{w:g}"


def table_lines(ev: Evaluation) -> list[str]:
    """The figures as plain-text lines (what the report lists)."""
    c = ev.catalog
    lines = [
        f"Section, catalog cross-validation (n={c.n}): top-1 {_pct(c.top1)}, "
        f"top-3 {_pct(c.top3)}, macro-F1 {_f(c.macro_f1)}"
    ]
    if ev.labels is not None:
        lab = ev.labels
        lines.append(f"Labels file ({lab.protocol}):")
        for r in lab.relevance:
            at = ", ".join(f"{_pct(v)} at {_wrong_label(w)}" for w, v in r.at_wrong.items())
            top = ", ".join(f"top-{k} {_pct(v)}" for k, v in r.top_k.items())
            lines.append(
                f"  relevance [{r.subset}] in scope {r.n_pos}, out {r.n_neg}: ROC AUC "
                f"{_f(r.auc)}, AP {_f(r.ap)}; recall {at} wrong a night; {top} of each night"
            )
        for name, sq in (("all", lab.section), ("sure", lab.section_sure)):
            if sq is not None:
                lines.append(
                    f"  section [{name} in-scope rows, n={sq.n}]: top-1 {_pct(sq.top1)}, "
                    f"top-3 {_pct(sq.top3)}, macro-F1 {_f(sq.macro_f1)}"
                )
        for t in lab.tiers:
            lines.append(
                f"  tiers [{t.rule}] {t.nights} nights: added {t.added_per_night:.2f} a night, "
                f"{t.wrong_per_night:.2f} wrong (max {t.wrong_max}); candidates "
                f"{t.candidates_per_night:.2f} a night (at most {t.cap}); in-scope papers "
                f"added {_pct(t.recall_added)} ({t.added_right}/{t.positives}), added or "
                f"candidates {_pct(t.recall_both)} "
                f"({t.added_right + t.candidates_right}/{t.positives})"
            )
    return lines


def _aligned(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def table(ev: Evaluation) -> list[str]:
    """The figures as aligned plain-text tables (what `tracker evaluate` prints)."""
    c = ev.catalog
    sections = [["catalog cross-validation", str(c.n), _pct(c.top1), _pct(c.top3), _f(c.macro_f1)]]
    lab = ev.labels
    if lab is not None:
        for name, sq in (
            ("labels, in scope", lab.section),
            ("labels, in scope, sure", lab.section_sure),
        ):
            if sq is not None:
                sections.append([name, str(sq.n), _pct(sq.top1), _pct(sq.top3), _f(sq.macro_f1)])
    out = ["Section", *_aligned(["rows", "n", "top-1", "top-3", "macro-F1"], sections)]
    if lab is None:
        return out
    out += ["", f"Relevance ({lab.protocol})"]
    out += _aligned(
        ["rows", "in scope", "out", "ROC AUC", "AP"]
        + [f"recall@{_wrong_label(w)} wrong/night" for w in WRONG_A_NIGHT]
        + [f"top-{k}/night" for k in TOP_K],
        [
            [r.subset, str(r.n_pos), str(r.n_neg), _f(r.auc), _f(r.ap)]
            + [_pct(r.at_wrong[w]) for w in WRONG_A_NIGHT]
            + [_pct(r.top_k[k]) for k in TOP_K]
            for r in lab.relevance
        ],
    )
    out += ["", "Tiers, night by night (thresholds from each split's own training rows)"]
    out += _tier_rows(lab.tiers, md=False)
    return out


def _tier_rows(tiers: Sequence[Tiers], md: bool) -> list[str]:
    subsets = list(tiers[0].by_subset) if tiers else []
    header = [
        "rule",
        "nights",
        "added/night",
        "wrong/night (max)",
        "candidates/night",
        "recall added",
        "recall added+candidates",
        *(f"added+cand. {n}" for n in subsets if n != "all"),
    ]
    rows = []
    for t in tiers:
        rows.append(
            [
                t.rule,
                str(t.nights),
                f"{t.added_per_night:.2f}",
                f"{t.wrong_per_night:.2f} ({t.wrong_max})",
                f"{t.candidates_per_night:.2f}",
                f"{_pct(t.recall_added)} ({t.added_right}/{t.positives})",
                f"{_pct(t.recall_both)} ({t.added_right + t.candidates_right}/{t.positives})",
                *(
                    f"{_pct(b / p if p else math.nan)} ({b}/{p})"
                    for n, (p, _, b) in t.by_subset.items()
                    if n != "all"
                ),
            ]
        )
    if not md:
        return _aligned(header, rows)
    return [
        "| " + " | ".join(header) + " |",
        "|---" * len(header) + "|",
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def _confusion_md(sq: SectionQuality, leaf_ids: Sequence[str]) -> list[str]:
    head = "| true \\ predicted | " + " | ".join(str(i + 1) for i in range(len(leaf_ids))) + " |"
    lines = [head, "|---" * (len(leaf_ids) + 1) + "|"]
    for i, sid in enumerate(leaf_ids):
        cells = " | ".join(str(int(v)) for v in sq.confusion[i])
        lines.append(f"| {i + 1}. {sid} | {cells} |")
    return lines


def _per_section_md(sq: SectionQuality) -> list[str]:
    lines = ["| section | n | top-1 | top-3 |", "|---|---|---|---|"]
    lines += [f"| {sid} | {n} | {_pct(t1)} | {_pct(t3)} |" for sid, n, t1, t3 in sq.per_section]
    return lines


def write_report(ev: Evaluation, out: Path, header: Sequence[str] = ()) -> list[Path]:
    """report.md, confusion.png (and confusion-labels.png) and pr_curve.png in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "report.md"]
    md = ["# tracker evaluate", "", *header, ""]
    md += [f"- {line.strip()}" for line in table_lines(ev)]
    md += ["", "## Section: catalog cross-validation", "", ev.catalog_protocol + ".", ""]
    md += [*_per_section_md(ev.catalog), "", *_confusion_md(ev.catalog, ev.leaf_ids)]
    md += ["", "![confusion matrix](confusion.png)", ""]
    written.append(_plot_confusion(ev.catalog, ev.leaf_ids, out / "confusion.png", "catalog CV"))
    if ev.labels is not None:
        lab = ev.labels
        md += ["## Labels file", "", lab.protocol + ".", ""]
        head = ["rows", "in scope", "out", "ROC AUC", "AP"]
        head += [f"recall at {_wrong_label(w)} wrong/night" for w in WRONG_A_NIGHT]
        head += [f"top-{k} of a night" for k in TOP_K]
        md += ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        for r in lab.relevance:
            cells = [r.subset, str(r.n_pos), str(r.n_neg), _f(r.auc), _f(r.ap)]
            cells += [_pct(r.at_wrong[w]) for w in WRONG_A_NIGHT]
            cells += [_pct(r.top_k[k]) for k in TOP_K]
            md.append("| " + " | ".join(cells) + " |")
        md += ["", "![precision-recall](pr_curve.png)", ""]
        written.append(_plot_pr(lab, out / "pr_curve.png"))
        if lab.section is not None:
            md += ["### Section on the in-scope rows", ""]
            md += [*_per_section_md(lab.section), "", *_confusion_md(lab.section, ev.leaf_ids)]
            md += ["", "![confusion matrix](confusion-labels.png)", ""]
            written.append(
                _plot_confusion(
                    lab.section, ev.leaf_ids, out / "confusion-labels.png", "labels, in scope"
                )
            )
        md += ["### Tiers, night by night", ""]
        md += [
            "Thresholds of each split come from inner out-of-fold scores of its own training "
            f"rows; candidates are capped at {lab.tiers[0].cap if lab.tiers else 0} a night, "
            "the most relevant first.",
            "",
            *_tier_rows(lab.tiers, md=True),
        ]
        if lab.tiers:
            t = lab.tiers[0]
            md += ["", f"Per night ({t.rule}):", ""]
            md += ["| night | rows | in scope | added | wrong | candidates | in-scope candidates |"]
            md += ["|---|---|---|---|---|---|---|"]
            md += ["| " + " | ".join(str(v) for v in row) + " |" for row in t.per_night]
    for note in ev.notes:
        md.append(f"> {note}")
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    return written


def _plot_confusion(sq: SectionQuality, leaf_ids: Sequence[str], path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.5, 6.5))
    ax.imshow(sq.confusion, cmap="Blues")
    n = len(leaf_ids)
    ax.set_xticks(range(n), [str(i + 1) for i in range(n)])
    ax.set_yticks(range(n), [f"{sid} ({i + 1})" for i, sid in enumerate(leaf_ids)], fontsize=8)
    ax.set_xlabel("predicted section")
    ax.set_ylabel("true section")
    ax.set_title(f"Section confusion ({title}): top-1 {_pct(sq.top1)}, n={sq.n}")
    top = sq.confusion.max() or 1
    for i in range(n):
        for j in range(n):
            v = int(sq.confusion[i, j])
            if v:
                color = "white" if v > top / 2 else "black"
                ax.text(j, i, str(v), ha="center", va="center", color=color, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_pr(lab: LabelsResult, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    fig, ax = plt.subplots(figsize=(6, 5))
    if lab.y.any() and (~lab.y).any():
        p, r, _ = precision_recall_curve(lab.y, lab.score)
        ax.plot(r, p, label=f"all rows (AP {_f(lab.relevance[0].ap)})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title("Relevance on held-out rows: precision vs recall")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def as_json(ev: Evaluation) -> dict[str, Any]:
    """The figures as JSON (for the benchmark script)."""

    def sq(q: SectionQuality | None) -> dict[str, Any] | None:
        if q is None:
            return None
        return {
            "n": q.n,
            "top1": q.top1,
            "top3": q.top3,
            "macro_f1": q.macro_f1,
            "confusion": q.confusion.tolist(),
            "per_section": q.per_section,
        }

    out: dict[str, Any] = {"catalog": sq(ev.catalog), "catalog_protocol": ev.catalog_protocol}
    if ev.labels is not None:
        lab = ev.labels
        out["labels"] = {
            "protocol": lab.protocol,
            "title_only": lab.title_only,
            "relevance": [
                {
                    **r.__dict__,
                    "at_wrong": {_wrong_label(w): v for w, v in r.at_wrong.items()},
                    "top_k": {str(k): v for k, v in r.top_k.items()},
                }
                for r in lab.relevance
            ],
            "section": sq(lab.section),
            "section_sure": sq(lab.section_sure),
            "tiers": [t.to_json() for t in lab.tiers],
        }
    return out

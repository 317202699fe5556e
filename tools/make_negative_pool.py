"""Write tracker's generic negative pool: real out-of-scope arXiv papers that a new survey's
`tracker train` learns "not this" from, with their embeddings for the bundled model.

    TRACKER_CACHE_DIR=/path/to/cache python tools/make_negative_pool.py --data stream-2026.jsonl

`--data` is a labelled stream (JSONL: id, title, abstract, categories, announced, in_scope).
Out-of-scope rows are drawn at random (seeded) across all its nights, so the pool is what an
arXiv night looks like, with its share of security papers, not a topic. Writes
tracker/classify/pool/negatives-2026.jsonl.gz (the papers, labels-file format) and
negatives-2026.npz (`keys`: the embedding cache's text keys, `vectors`: float32 unit vectors of
all-MiniLM-L6-v2 at 256 tokens), and prints their sha256 for tracker/classify/pool.py. Vectors
come from the embedding cache when it has them, else from the numpy encoder.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
from pathlib import Path

import numpy as np

from tracker.classify.embedder import Embedder, EmbeddingCache, EmbeddingModel, text_key
from tracker.classify.features import paper_text

OUT = Path(__file__).resolve().parent.parent / "tracker" / "classify" / "pool"
FIELDS = ("id", "title", "abstract", "categories", "announced", "in_scope", "section")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with args.data.open(encoding="utf-8") as f:
        rows = [r for r in map(json.loads, f) if not r["in_scope"] and r["abstract"]]
    chosen = sorted(random.Random(args.seed).sample(rows, args.size), key=lambda r: r["id"])
    chosen = [{k: r.get(k) for k in FIELDS} for r in chosen]

    model = EmbeddingModel.open("", max_seq_length=256)
    cache_dir = Path(os.environ.get("TRACKER_CACHE_DIR", ".cache/tracker"))
    embedder = Embedder(model, EmbeddingCache(cache_dir / "embeddings.sqlite3"))
    texts = [paper_text(r["title"], r["abstract"]) for r in chosen]
    vectors = embedder.embed(texts)
    keys = np.array([text_key(t, model.max_seq_length) for t in texts])

    lines = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in chosen)
    papers = OUT / "negatives-2026.jsonl.gz"
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:  # mtime 0: reproducible bytes
        gz.write(lines.encode("utf-8"))
    papers.write_bytes(buf.getvalue())
    arrays = OUT / "negatives-2026.npz"
    with arrays.open("wb") as f:
        np.savez_compressed(f, keys=keys, vectors=vectors.astype(np.float32))
    for path in (papers, arrays):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"{path.name}: {path.stat().st_size} bytes, sha256 {digest}")
    crypto = sum("cs.CR" in r["categories"] for r in chosen)
    nights = len({r["announced"] for r in chosen})
    print(f"{len(chosen)} papers, {crypto} in cs.CR, {nights} nights")


if __name__ == "__main__":
    main()

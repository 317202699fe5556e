"""Classifier quality on papers the scored models never trained on, with `tracker evaluate`'s
own protocols (tracker.classify.evaluate):

- catalog cross-validation of the section model (10 folds stratified by section);
- temporal: trained on the catalog and the stream's nights before --split (default
  2026-03-16), scored on the nights from it (what the bot's replay benchmark does too);
- grouped cross-validation: the stream's 44 nights in 11 blocks of consecutive nights, each
  block scored by a model trained on the catalog and the other 40 nights.

The configuration's training labels are not used: every model is trained inside its protocol,
from the catalog and the stream file given with --data.

    python benchmarks/classify_quality.py [--data PATH] [--split DATE] [--out PATH]

Writes benchmarks/results/classify_quality.{md,json} and the evaluate reports (Markdown and
PNG plots) under benchmarks/results/classify_quality/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.machine import machine  # noqa: E402
from tracker.classify.embedder import Embedder, EmbeddingCache, EmbeddingModel  # noqa: E402
from tracker.classify.evaluate import (  # noqa: E402
    as_json,
    evaluate,
    table_lines,
    write_report,
)
from tracker.classify.train import gather  # noqa: E402
from tracker.config import load_config  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "stream-2026.jsonl"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "classify_quality"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--split", type=dt.date.fromisoformat, default=dt.date(2026, 3, 16))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"Error: no stream at {args.data} (give --data PATH)", file=sys.stderr)
        return 2
    config = load_config(REPO / "tracker.yaml")
    c = config.classifier
    model = EmbeddingModel.open(
        c.embedding_model, weights_sha256=c.embedding_sha256, max_seq_length=c.max_seq_length
    )
    embedder = Embedder(
        model, EmbeddingCache(config.cache_dir / "embeddings.sqlite3"), c.batch_size
    )
    # The stream is the labels file of every protocol; catalog cross-validation trains on the
    # catalog, the stream's in-scope rows and the taxonomy's examples.
    inputs = gather(config.catalog_dir, [args.data])
    results = {}
    lines = [
        "# Classifier quality (held-out protocols only)",
        "",
        f"Data: {args.data.name}; catalog {config.catalog_dir.name}/; machine: {machine()}.",
        "",
    ]
    for name, before in (("temporal", args.split), ("grouped-cv", None)):
        started = time.perf_counter()
        ev = evaluate(
            inputs,
            embedder,
            labels_file=args.data,
            before=before,
            step=lambda s: print(s, file=sys.stderr),
        )
        seconds = time.perf_counter() - started
        write_report(ev, args.out / name, [f"Protocol run: {name}, {seconds:.0f} s."])
        results[name] = {**as_json(ev), "seconds": seconds}
        lines += [f"## {name} ({seconds:.0f} s)", ""]
        lines += [f"- {line.strip()}" for line in table_lines(ev)]
        lines += ["", f"Report: `{(args.out / name / 'report.md').relative_to(REPO)}`", ""]
        print("\n".join(table_lines(ev)))
    md = args.out.parent / "classify_quality.md"
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (args.out.parent / "classify_quality.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False, default=float) + "\n", encoding="utf-8"
    )
    print(f"written to {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The section model alone, on three protocols, with and without each of its parts.

Only in-scope rows are scored, and the thinned stream that ships in models/training/ keeps every
one of them and every row a fit uses (thinning drops the same unread negatives from each fit), so
it gives the same fits as the full stream. Protocols:

- dev: grouped cross-validation over the nights before --split only (6 blocks of consecutive
  nights); the protocol choices were made on, never touching a later night;
- temporal: trained on the catalog and the nights before --split, scored on the nights from it;
- grouped CV: all nights in 6 blocks.

Each model is trained on the catalog, the taxonomy's examples and the training nights'
in-scope rows (with `tracker.classify.train.fit`, relevance off). Variants: the shipped model;
without the word head (`section_tfidf_weight` 0); with only one taxonomy example per leaf (its
whole description, as before the clauses); neither.

    python -m benchmarks.section_protocols [--data PATH] [--split DATE]

Writes benchmarks/results/section_protocols.{md,json} and the model card's block.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.data import STREAM_HELP, default_stream, repo_config_and_embedder, stream_missing
from benchmarks.docs import replace_block
from benchmarks.machine import machine
from tracker.classify.evaluate import section_quality
from tracker.classify.train import embed_guide, fit, gather, predict_sections

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
BLOCKS = 6
VARIANTS = (
    ("shipped", True, True),
    ("no word head", False, True),
    ("one example per leaf", True, False),
    ("neither (previous model)", False, False),
)


def blocks_of(nights: np.ndarray, k: int) -> list[list[str]]:
    names = sorted(set(nights.tolist()))
    return [list(b) for b in np.array_split(np.array(names, dtype=object), min(k, len(names)))]


def splits(
    nights: np.ndarray, labelled: np.ndarray, pos: np.ndarray, split: str, protocol: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(training rows, scored in-scope rows) of each fold of `protocol`."""
    everyone = np.arange(len(nights))
    later = labelled & (nights >= split)
    if protocol == "temporal":
        return [(everyone[~later], pos[nights[pos] >= split])]
    scored = pos[nights[pos] < split] if protocol == "dev" else pos
    held = later if protocol == "dev" else np.zeros(len(nights), bool)
    out = []
    for block in blocks_of(nights[scored], BLOCKS):
        test = scored[np.isin(nights[scored], block)]
        out.append((everyone[~held & ~(labelled & np.isin(nights, block))], test))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_stream(), help=STREAM_HELP)
    parser.add_argument("--split", type=dt.date.fromisoformat, default=dt.date(2026, 3, 16))
    parser.add_argument("--no-docs", action="store_true", help="do not update the model card")
    args = parser.parse_args()
    if stream_missing(args.data):
        return 2
    config, embedder = repo_config_and_embedder()
    inputs = gather(config.catalog_dir, [args.data])
    ts, leaf_ids = inputs.ts, inputs.leaf_ids
    a = ts.arrays()
    print(f"embedding {len(ts)} texts", file=sys.stderr)
    emb = embedder.embed(ts.texts)
    whole = {(x.heading_en, x.description, x.id) for x in inputs.catalog.taxonomy.leaves}
    guides = {
        True: embed_guide(inputs.guide_rows, leaf_ids, embedder),
        False: embed_guide([r for r in inputs.guide_rows if r in whole], leaf_ids, embedder),
    }
    nights = a["night"].astype(str)
    pos = np.flatnonzero(a["labelled"] & a["y"])
    split = args.split.isoformat()
    results: dict[str, Any] = {"machine": machine(), "data": args.data.name, "rows": {}}
    for name, words, clauses in VARIANTS:
        results[name] = {}
        for protocol in ("dev", "temporal", "grouped-cv"):
            started = time.perf_counter()
            folds = splits(nights, a["labelled"], pos, split, protocol)
            true, proba = [], []
            for train, test in folds:
                params = fit(ts, emb, train, guides[clauses], leaf_ids, relevance=False)
                if not words:
                    settings = {**params.settings, "section_tfidf_weight": 0.0}
                    params = dataclasses.replace(params, settings=settings)
                true.append(a["section"][test])
                proba.append(predict_sections(params, ts, emb, test))
            t, p = np.concatenate(true), np.concatenate(proba)
            sure = np.concatenate([a["sure"][test] for _, test in folds])
            q, qs = section_quality(t, p, leaf_ids), section_quality(t[sure], p[sure], leaf_ids)
            results[name][protocol] = {
                "n": q.n,
                "top1": q.top1,
                "top3": q.top3,
                "n_sure": qs.n,
                "sure_top1": qs.top1,
                "sure_top3": qs.top3,
                "seconds": time.perf_counter() - started,
            }
            results["rows"][protocol] = q.n
            print(f"{name}, {protocol}: {100 * q.top1:.1f} / {100 * q.top3:.1f}", file=sys.stderr)
    text = render(results)
    (RESULTS / "section_protocols.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False) + "\n", "utf-8"
    )
    (RESULTS / "section_protocols.md").write_text(
        "# Section model, by protocol and part\n\n" + text + "\n", "utf-8"
    )
    print(text)
    if not args.no_docs:
        for path in replace_block("section-protocols", text):
            print(f"updated {path}")
    return 0


def render(results: dict[str, Any]) -> str:
    rows = results["rows"]
    pct: Callable[[float], str] = lambda x: f"{100 * x:.1f}"  # noqa: E731
    lines = [
        f"| section model | dev: {rows['dev']} in-scope rows of the nights before the split | "
        f"temporal: {rows['temporal']} | grouped CV: {rows['grouped-cv']} |",
        "|---|---|---|---|",
    ]
    for name, *_ in VARIANTS:
        cells = [
            f"{pct(r['top1'])} / {pct(r['top3'])} (`sure` {pct(r['sure_top1'])} / "
            f"{pct(r['sure_top3'])})"
            for r in (results[name][p] for p in ("dev", "temporal", "grouped-cv"))
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Top-1 / top-3 %, `python -m benchmarks.section_protocols` on {results['data']}; "
        f"machine: {results['machine']}. Choices were made on the dev column only.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())

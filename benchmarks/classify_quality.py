"""Classifier quality on papers the scored models never trained on, with `tracker evaluate`'s
own protocols (tracker.classify.evaluate):

- catalog cross-validation of the section model (10 folds stratified by section);
- temporal: trained on the catalog and the stream's nights before --split (default
  2026-03-16), scored on the nights from it (what the bot's replay benchmark does too);
- grouped cross-validation: the stream's 44 nights in 11 blocks of consecutive nights, each
  block scored by a model trained on the catalog and the other 40 nights.

The configuration's training labels are not used: every model is trained inside its protocol,
from the catalog and the stream file given with --data.

    python -m benchmarks.classify_quality [--data PATH] [--split DATE] [--out PATH]

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
from typing import Any

from benchmarks.data import STREAM_HELP, default_stream
from benchmarks.docs import replace_block
from benchmarks.machine import machine
from tracker.classify.embedder import Embedder, EmbeddingCache, EmbeddingModel
from tracker.classify.evaluate import (
    as_json,
    evaluate,
    table_lines,
    write_report,
)
from tracker.classify.train import gather
from tracker.config import load_config

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = default_stream()
DEFAULT_OUT = REPO / "benchmarks" / "results" / "classify_quality"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=STREAM_HELP)
    parser.add_argument("--split", type=dt.date.fromisoformat, default=dt.date(2026, 3, 16))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--docs-only",
        action="store_true",
        help="measure nothing: rewrite README and the model card from the saved results",
    )
    args = parser.parse_args()
    if args.docs_only:
        saved = json.loads((args.out.parent / "classify_quality.json").read_text("utf-8"))
        for path in replace_block("classify-quality", render(saved, saved["machine"])):
            print(f"updated {path}")
        return 0
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
    results: dict[str, Any] = {"machine": machine()}
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
    for path in replace_block("classify-quality", render(results, machine())):
        print(f"updated {path}")
    return 0


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def render(results: dict[str, Any], where: str) -> str:
    """The quality table that README and the model card show."""
    t, g = results["temporal"], results["grouped-cv"]
    tl, gl = t["labels"], g["labels"]

    def both(fn: Any) -> str:
        return f"{fn(tl, 0)} / {fn(tl, 1)} | {fn(gl, 0)} / {fn(gl, 1)}"

    def rel(key: str, fmt: Any) -> Any:
        return lambda lab, i: fmt(lab["relevance"][i][key])

    def sec(key: str, fmt: Any) -> Any:
        return lambda lab, i: fmt(lab["section" if i == 0 else "section_sure"][key])

    def rows(lab: dict[str, Any], i: int) -> str:
        r = lab["relevance"][i]
        return f"{r['n_pos'] + r['n_neg']:,} ({r['n_pos']})"

    def replay(lab: dict[str, Any], rule: int) -> dict[str, Any]:
        return lab["replay"][rule]  # type: ignore[no-any-return]

    r3t, r3g, r2t, r2g = replay(tl, 0), replay(gl, 0), replay(tl, 1), replay(gl, 1)
    f3 = lambda x: f"{x:.3f}"  # noqa: E731
    c = g["catalog"]
    lines = [
        "| figure | temporal: all / `sure` rows | grouped CV: all / `sure` rows |",
        "|---|---|---|",
        f"| rows scored (in scope) | {both(rows)} |",
        f"| relevance ROC AUC | {both(rel('auc', f3))} |",
        f"| relevance average precision | {both(rel('ap', f3))} |",
        f"| relevance recall at 1 % FPR | {both(rel('r1', _pct))} |",
        f"| relevance recall at 5 % FPR | {both(rel('r5', _pct))} |",
        f"| section top-1 (in-scope rows) | {both(sec('top1', _pct))} |",
        f"| section top-3 | {both(sec('top3', _pct))} |",
        f"| section macro-F1 | {both(sec('macro_f1', f3))} |",
        f"| replay, `{r3t['rule']}`: in-scope papers proposed | {_pct(r3t['recall'])} "
        f"({r3t['proposed_right']} of {r3t['positives']}) | {_pct(r3g['recall'])} "
        f"({r3g['proposed_right']} of {r3g['positives']}) |",
        f"| replay: wrong proposals a night (max) | {r3t['wrong_per_night']:.2f} "
        f"({r3t['max_wrong_night']}) over {r3t['nights']} nights | "
        f"{r3g['wrong_per_night']:.2f} ({r3g['max_wrong_night']}) over {r3g['nights']} nights |",
        f"| … false positives: cs.CR / other negatives | {r3t['wrong_cr']} of {r3t['neg_cr']:,} "
        f"/ {r3t['wrong_other']} of {r3t['neg_other']:,} | {r3g['wrong_cr']} of "
        f"{r3g['neg_cr']:,} / {r3g['wrong_other']} of {r3g['neg_other']:,} |",
        f"| … wrong on a real night (+800 non-cs.CR papers; 3/n when none was wrong) | "
        f"{r3t['wrong_per_real_night']:.1f} | {r3g['wrong_per_real_night']:.1f} |",
        f"| replay, `{r2t['rule']}`: proposed; wrong a night | {_pct(r2t['recall'])}; "
        f"{r2t['wrong_per_night']:.2f} | {_pct(r2g['recall'])}; {r2g['wrong_per_night']:.2f} |",
        "",
        f"Catalog cross-validation ({c['n']} catalog papers, titles only, 10 folds): section "
        f"top-1 **{_pct(c['top1'])}**, top-3 **{_pct(c['top3'])}**, macro-F1 "
        f"{c['macro_f1']:.3f}. Measured by `python -m benchmarks.classify_quality` ({where}).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

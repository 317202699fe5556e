"""Classifier quality on papers the scored models never trained on, with `tracker evaluate`'s
own protocols (tracker.classify.evaluate):

- catalog cross-validation of the section model (10 folds stratified by section);
- temporal: trained on the catalog and the stream's nights before --split (default
  2026-03-16), scored on the nights from it (what the bot's replay benchmarks do too); once on
  title and abstract, once on titles alone (as `tracker classify --title` judges);
- grouped cross-validation: the stream's 44 nights in --blocks (default 6) blocks of
  consecutive nights, each block scored by a model trained on the catalog and the other
  blocks' nights.

Every figure is at full night size: give the full stream (`--data` or $TRACKER_STREAM). On the
thinned file that ships in models/training/, a kept row counts as the rows it stands for.

The configuration's training labels are not used: every model is trained inside its protocol,
from the catalog and the stream file given with --data.

    python -m benchmarks.classify_quality [--data PATH] [--split DATE] [--blocks N] [--out PATH]

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

from benchmarks.data import STREAM_HELP, default_stream, repo_config_and_embedder, stream_missing
from benchmarks.docs import replace_block
from benchmarks.machine import machine
from tracker.classify.data import Label
from tracker.classify.evaluate import (
    as_json,
    evaluate,
    table_lines,
    write_report,
)
from tracker.classify.train import gather

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = default_stream()
DEFAULT_OUT = REPO / "benchmarks" / "results" / "classify_quality"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=STREAM_HELP)
    parser.add_argument("--split", type=dt.date.fromisoformat, default=dt.date(2026, 3, 16))
    parser.add_argument("--blocks", type=int, default=6, help="grouped CV blocks (default 6)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-docs", action="store_true", help="do not update README")
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
    if stream_missing(args.data):
        return 2
    config, embedder = repo_config_and_embedder()
    # The stream is the labels file of every protocol; catalog cross-validation trains on the
    # catalog, the stream's in-scope rows and the taxonomy's examples.
    inputs = gather(config.catalog_dir, [args.data])
    by_key = {label.key: label for label in inputs.labels}
    results: dict[str, Any] = {"machine": machine()}
    lines = [
        "# Classifier quality (held-out protocols only)",
        "",
        f"Data: {args.data.name}; catalog {config.catalog_dir.name}/; machine: {machine()}.",
        "",
    ]
    protocols = (
        ("temporal", args.split, False),
        ("temporal-titles", args.split, True),
        ("grouped-cv", None, False),
    )
    for name, before, title_only in protocols:
        started = time.perf_counter()
        ev = evaluate(
            inputs,
            embedder,
            labels_file=args.data,
            before=before,
            blocks=args.blocks,
            title_only=title_only,
            step=lambda s: print(s, file=sys.stderr),
        )
        seconds = time.perf_counter() - started
        write_report(ev, args.out / name, [f"Protocol run: {name}, {seconds:.0f} s."])
        if ev.labels is not None:
            errors = error_lines(ev.labels, by_key, name)
            (args.out / name / "errors.md").write_text("\n".join(errors) + "\n", "utf-8")
        results[name] = {**as_json(ev), "seconds": seconds}
        lines += [f"## {name} ({seconds:.0f} s)", ""]
        lines += [f"- {line.strip()}" for line in table_lines(ev)]
        report = args.out / name / "report.md"
        shown = report.relative_to(REPO) if report.is_relative_to(REPO) else report
        lines += ["", f"Report: `{shown}`", ""]
        print("\n".join(table_lines(ev)))
    md = args.out.parent / "classify_quality.md"
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (args.out.parent / "classify_quality.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False, default=float) + "\n", encoding="utf-8"
    )
    print(f"written to {md}")
    print(render(results, machine()))
    if not args.no_docs:
        for path in replace_block("classify-quality", render(results, machine())):
            print(f"updated {path}")
    return 0


def error_lines(lab: Any, by_key: dict[str, Label], name: str, k: int = 15) -> list[str]:
    """The in-scope papers outside their night's `k` most relevant (what even the candidate
    tier misses), and the out-of-scope papers at the top of a night: for error analysis."""
    lines = [f"# Errors, {name}", "", f"In-scope papers ranked below {k} in their night:", ""]
    lines += [
        "| night | rank | id | section | sure | cs.CR | title |",
        "|---|---|---|---|---|---|---|",
    ]
    rank = lab.rank if lab.rank is not None else []
    rows = sorted(zip(lab.keys, lab.y, lab.score, rank, strict=True), key=lambda r: -r[2])
    for key, y, _, r in rows:
        lbl = by_key.get(key)
        if y and r >= k and lbl is not None:
            lines.append(
                f"| {lbl.night} | {int(r) + 1} | {lbl.id} | {lbl.section} | {lbl.sure} | "
                f"{'cs.CR' in lbl.categories} | {lbl.title[:90]} |"
            )
    lines += ["", "Out-of-scope papers ranked first or second in their night:", ""]
    lines += ["| night | rank | id | read | cs.CR | title |", "|---|---|---|---|---|---|"]
    for key, y, _, r in rows:
        lbl = by_key.get(key)
        if not y and r < 2 and lbl is not None:
            lines.append(
                f"| {lbl.night} | {int(r) + 1} | {lbl.id} | {lbl.reviewed} | "
                f"{'cs.CR' in lbl.categories} | {lbl.title[:90]} |"
            )
    return lines


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.1f} %"


SUBSETS = ("all", "cs.CR", "other", "sure")


def _f3(x: float) -> str:
    return "n/a" if x != x else f"{x:.3f}"


def render(results: dict[str, Any], where: str) -> str:
    """The quality tables that README and the model card show."""
    labs = {name: results[name]["labels"] for name in ("temporal", "grouped-cv")}
    titles = results.get("temporal-titles", {}).get("labels")

    def rel(lab: dict[str, Any], subset: str) -> dict[str, Any]:
        found: dict[str, Any] = next(r for r in lab["relevance"] if r["subset"] == subset)
        return found

    def cells(fn: Any) -> str:
        return " | ".join(" / ".join(fn(lab, sub) for sub in SUBSETS) for lab in labs.values())

    def rows(lab: dict[str, Any], sub: str) -> str:
        r = rel(lab, sub)
        return f"{r['n_pos'] + r['n_neg']:,} ({r['n_pos']})"

    nt, ng = (labs[n]["tiers"][0]["nights"] for n in ("temporal", "grouped-cv"))
    lines = [
        f"| figure (all / cs.CR / other / `sure` rows) | temporal: {nt} later nights | "
        f"grouped CV: {ng} nights |",
        "|---|---|---|",
        f"| rows scored (in scope) | {cells(rows)} |",
        f"| ROC AUC | {cells(lambda lab, sub: _f3(rel(lab, sub)['auc']))} |",
        f"| average precision | {cells(lambda lab, sub: _f3(rel(lab, sub)['ap']))} |",
    ]
    for w in ("0.5", "1", "2", "5"):
        lines.append(
            f"| in-scope papers reached at {w} wrong a night | "
            f"{cells(lambda lab, sub, w=w: _pct(rel(lab, sub)['at_wrong'][w]))} |"
        )
    for k in ("5", "10", "15", "20"):
        lines.append(
            f"| in-scope papers among the {k} most relevant of each night | "
            f"{cells(lambda lab, sub, k=k: _pct(rel(lab, sub)['top_k'][k]))} |"
        )
    t, g = labs["temporal"], labs["grouped-cv"]
    lines += [
        "",
        "| section (in-scope rows: all / `sure`) | temporal | grouped CV |",
        "|---|---|---|",
    ]
    for key, label in (("top1", "top-1"), ("top3", "top-3")):
        lines.append(
            f"| {label} | {_pct(t['section'][key])} / {_pct(t['section_sure'][key])} | "
            f"{_pct(g['section'][key])} / {_pct(g['section_sure'][key])} |"
        )
    lines += [
        "",
        "| tiers, night by night (thresholds from each split's own training rows) | temporal "
        "| grouped CV |",
        "|---|---|---|",
    ]
    for i in range(len(t["tiers"])):
        tt, gt = t["tiers"][i], g["tiers"][i]

        def both(fn: Any, tt: dict[str, Any] = tt, gt: dict[str, Any] = gt) -> str:
            return f"{fn(tt)} | {fn(gt)}"

        rule = tt["rule"]
        lines += [
            f"| `{rule}`: added a night; wrong a night (worst night) | "
            + both(
                lambda x: (
                    f"{x['added_per_night']:.2f}; {x['wrong_per_night']:.2f} ({x['wrong_max']})"
                )
            )
            + " |",
            f"| `{rule}`: candidates a night (at most {tt['cap']}) | "
            + both(lambda x: f"{x['candidates_per_night']:.2f}")
            + " |",
            f"| `{rule}`: in-scope papers added | "
            + both(lambda x: f"{_pct(x['recall_added'])} ({x['added_right']} of {x['positives']})")
            + " |",
            f"| `{rule}`: in-scope papers added or candidates (cs.CR / other) | "
            + both(
                lambda x: (
                    f"{_pct(x['recall_added_and_candidates'])} "
                    f"({_pct(_share(x, 'cs.CR'))} / {_pct(_share(x, 'other'))})"
                )
            )
            + " |",
        ]
    c = results["grouped-cv"]["catalog"]
    if titles is not None:
        tr, t1 = rel(titles, "all"), titles["tiers"][0]
        lines += [
            "",
            f"Titles alone (temporal, the {nt} later nights scored by title only, against the "
            f"title rules): AP {tr['ap']:.3f}; {_pct(tr['at_wrong']['2'])} of the in-scope "
            f"papers reached at 2 wrong a night, {_pct(tr['top_k']['15'])} among the 15 most "
            f"relevant of each night; `{t1['rule']}` adds {t1['added_per_night']:.2f} a night "
            f"({t1['wrong_per_night']:.2f} wrong) and offers {t1['candidates_per_night']:.2f} "
            f"candidates: {_pct(t1['recall_added_and_candidates'])} of the in-scope papers "
            f"added or candidates.",
        ]
    lines += [
        "",
        f"Catalog cross-validation ({c['n']} catalog papers, titles only, 10 folds): section "
        f"top-1 **{_pct(c['top1'])}**, top-3 **{_pct(c['top3'])}**, macro-F1 "
        f"{c['macro_f1']:.3f}. Measured by `python -m benchmarks.classify_quality` on the full "
        f"stream ({where}).",
    ]
    return "\n".join(lines)


def _share(tiers: dict[str, Any], subset: str) -> float:
    positives, _, both = tiers["by_subset"][subset]
    return float(both) / positives if positives else float("nan")


if __name__ == "__main__":
    sys.exit(main())

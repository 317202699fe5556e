"""Classifier commands: `tracker classify`, `tracker train`, `tracker evaluate`.

`tracker classify --title ...` must answer from a cold process in well under 3 s: this module
and the classifier it loads import no torch and no scikit-learn (the numpy encoder embeds a
handful of texts; sentence-transformers only takes over for large batches).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tracker.classify.result import TIER_ADDED, TIER_CANDIDATE, TIER_OUT
from tracker.cli.app import State, main, warn
from tracker.errors import InputError
from tracker.text import plain

if TYPE_CHECKING:
    from tracker.classify.result import Classification
    from tracker.config import Config

_DATE = click.DateTime(formats=["%Y-%m-%d"])

NOT_FOUND = "not found on arXiv: {ids}"
# Off a terminal, batches smaller than this embed in a few seconds: no progress lines.
_QUIET_BELOW = 64
NOT_AN_ID = "not an arXiv id: {value!r}"


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr for embedding batches (a line every few seconds when stderr is
    not a terminal, for batches big enough to take that long); silent when there is nothing
    to embed."""
    from tracker.cli.progress import ProgressDisplay

    live = sys.stderr.isatty()
    with ProgressDisplay([label]) as display:

        def update(done: int, total: int) -> None:
            if total and (live or total >= _QUIET_BELOW):
                display.update(label, done, total, "embedding")

        yield update


@main.command("classify")
@click.argument("ids", nargs=-1, metavar="[ARXIV_ID]...")
@click.option("--title", help="Classify this title (with --abstract, if known).")
@click.option("--abstract", help="The abstract that goes with --title.")
@click.option(
    "--input",
    "input_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Classify a batch: JSONL with title, abstract and optional id and categories.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per paper, input order.")
@click.pass_obj
def classify_cmd(
    state: State,
    ids: tuple[str, ...],
    title: str | None,
    abstract: str | None,
    input_path: Path | None,
    as_json: bool,
) -> None:
    """Say whether papers belong in the survey, and where.

    Give arXiv ids (metadata is read from the arXiv API), or --title [--abstract], or --input
    FILE. For each paper: the in-scope verdict and relevance (0-1), the section (Chinese and
    English) with its probability, the top 3 sections, and the 3 nearest catalog papers as the
    reason. --json prints the fields documented in README, one object per paper.

    Exit status: 0 when every paper was classified; 2 for bad input (a malformed id, an id
    arXiv does not know, a broken input line); 1 when the model cannot be loaded or arXiv
    cannot be reached.

    \b
    Example: tracker classify --title "BadEncoder: backdoor attacks to pre-trained encoders"
    """
    from tracker.classify.model import load_classifier
    from tracker.paper import Paper

    if abstract is not None and title is None:
        raise click.UsageError("--abstract goes with --title")
    forms = sum([bool(ids), title is not None, input_path is not None])
    if forms != 1:
        raise click.UsageError("give arXiv ids, or --title [--abstract], or --input FILE")
    config = state.config
    input_ids: list[str | None]
    if title is not None:
        if not title.strip():
            raise InputError("--title is empty")
        papers = [Paper(title=" ".join(title.split()), abstract=" ".join((abstract or "").split()))]
        input_ids = [None]
    elif input_path is not None:
        from tracker.classify.data import read_inputs

        rows = read_inputs(input_path)
        papers = [Paper(title=r.title, abstract=r.abstract, categories=r.categories) for r in rows]
        input_ids = [r.id for r in rows]
    else:
        papers = _lookup(config, ids)
        input_ids = [p.arxiv_id for p in papers]

    started = time.perf_counter()
    with _progress("classify") as progress:
        classifier = load_classifier(config, progress)
        verdicts = classifier.classify(papers, progress)
    warn(classifier.notes)
    for ident, verdict in zip(input_ids, verdicts, strict=True):
        if as_json:
            click.echo(json.dumps(verdict.to_dict(ident), ensure_ascii=False))
        else:
            _print_verdict(verdict, ident, classifier.threshold, classifier.candidate_threshold)
    if len(papers) > 1:
        rate = len(papers) / max(time.perf_counter() - started, 1e-9)
        click.echo(
            f"Classified {len(papers)} papers ({sum(v.in_scope for v in verdicts)} in scope) "
            f"in {time.perf_counter() - started:.1f} s ({rate:.0f} papers/s); model "
            f"{classifier.version}.",
            err=True,
        )


def _lookup(config: Any, ids: Sequence[str]) -> list[Any]:
    """The papers with these arXiv ids, in the order given; InputError for a malformed id or
    one arXiv does not know."""
    from tracker.http import HttpClient
    from tracker.identity import parse_arxiv_id
    from tracker.sources.arxiv_api import ArxivApiSource

    wanted = []
    for raw in ids:
        parsed = parse_arxiv_id(raw)
        if parsed is None:
            raise InputError(
                NOT_AN_ID.format(value=raw), hint="arXiv ids look like 2603.06862 or cs/0112017"
            )
        wanted.append(parsed.id)
    source = ArxivApiSource.from_config(HttpClient.from_config(config.http), config.arxiv)
    result = source.lookup(list(dict.fromkeys(wanted)))
    found = {p.arxiv_id: p for p in result.papers}
    missing = [i for i in dict.fromkeys(wanted) if i not in found]
    if missing:
        raise InputError(
            NOT_FOUND.format(ids=", ".join(missing)),
            hint="check the ids; a paper announced today may not be searchable yet",
        )
    return [found[i] for i in wanted]


VERDICTS = {
    TIER_ADDED: "IN SCOPE",
    TIER_CANDIDATE: "candidate (the bot offers it unchecked)",
    TIER_OUT: "out of scope",
}


def _print_verdict(
    v: Classification, ident: str | None, threshold: float, candidate_threshold: float
) -> None:
    head = f"{plain(ident)}  " if ident else ""
    click.echo(f"{head}{plain(v.paper.title)}")
    limits = f"threshold {threshold:.2f}"
    if candidate_threshold < threshold:
        limits += f", candidates from {candidate_threshold:.2f}"
    title_only = ", judged on the title alone" if v.title_only else ""
    click.echo(f"  {VERDICTS[v.tier]}: relevance {v.relevance:.2f} ({limits}){title_only}")
    s = v.section
    click.echo(f"  section: {s.heading_zh} / {s.heading_en} [{s.id}] ({s.probability:.2f})")
    top = ", ".join(f"{r.id} {r.probability:.2f}" for r in v.ranked[:3])
    click.echo(f"  top 3: {top}")
    if v.neighbors:
        click.echo("  nearest catalog papers:")
        for n in v.neighbors:
            click.echo(f"    {n.similarity:.2f}  {plain(n.title)} [{n.section_id}]")
    click.echo("")


@main.command("train")
@click.option(
    "--labels",
    "labels",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Labelled JSONL (.gz too) to train on, instead of classifier.training_labels "
    "(repeatable).",
)
@click.option(
    "--before",
    type=_DATE,
    help="Use only labelled rows announced before DATE (YYYY-MM-DD).",
)
@click.option(
    "--if-stale",
    is_flag=True,
    help="Train only when models/ is missing or stale (the catalog or its rejections changed "
    "since training); otherwise say so and exit 0.",
)
@click.pass_obj
def train_cmd(
    state: State, labels: tuple[Path, ...], before: dt.datetime | None, if_stale: bool
) -> None:
    """Train the classifier on the catalog (with the taxonomy's descriptions), the labelled
    files in classifier.training_labels and the rejections in catalog/rejected.yaml, and write
    it to models/ (classifier.safetensors, classifier.json, manifest.json).

    Training is seeded: the same data gives byte-identical classifier files. Embeddings are
    cached in cache_dir, so only new texts are embedded (all of them the first time: a few
    minutes for the 4,000 rows of the 2026 stream).

    \b
    Example: tracker train --if-stale (what the nightly workflow runs)
    """
    from tracker.classify.bootstrap import needs_pool, train_from_catalog
    from tracker.classify.train import train

    config = state.config
    if if_stale:
        reasons = _stale_reasons(config)
        if not reasons:
            click.echo(f"{config.models_dir} matches the catalog: nothing to train.", err=True)
            return
        click.echo(f"Training: {'; '.join(reasons)}.", err=True)
    started = time.perf_counter()
    trust = None
    with _progress("train") as progress:
        if not labels and before is None and needs_pool(config):
            click.echo(NO_LABELS, err=True)
            manifest, trust = train_from_catalog(
                config, progress=progress, step=lambda s: click.echo(s, err=True)
            )
        else:
            manifest = train(
                config,
                label_files=list(labels) if labels else None,
                before=before.date() if before else None,
                progress=progress,
                step=lambda s: click.echo(s, err=True),
            )
    rows = manifest["training_data"]["rows"]
    th = manifest["thresholds"]
    click.echo(
        f"Trained on {rows['catalog']} catalog papers, {rows['labelled']} labelled rows "
        f"({rows['labelled_in_scope']} in scope, {rows['nights']} nights), "
        f"{rows['rejections']} rejections and {rows['guide_examples']} taxonomy examples in "
        f"{time.perf_counter() - started:.0f} s.",
        err=True,
    )
    for name, rule in th["rules"].items():
        title = th.get("title_rules", {}).get(name)
        click.echo(
            f"Rule {name}: added from relevance {rule['relevance_threshold']:.3f}"
            + (
                f", candidates from {rule['candidate_relevance_threshold']:.3f}"
                if "candidate_relevance_threshold" in rule
                else ""
            )
            + (f"; titles alone: added from {title['relevance_threshold']:.3f}" if title else "")
            + (" [default]" if name == th["rule"] else ""),
            err=True,
        )
    for line in trust.lines() if trust is not None else ():
        click.echo(line, err=True)
    click.echo(f"Wrote {config.models_dir}.", err=True)


NO_LABELS = (
    "No labelled nights in classifier.training_labels: training from the catalog, with "
    "tracker's generic pool of out-of-scope arXiv papers as the negatives."
)


def _stale_reasons(config: Config) -> list[str]:
    """Why models/ needs training (empty: it does not)."""
    from tracker.catalog.store import Catalog
    from tracker.classify.model import read_manifest, stale_reasons
    from tracker.errors import ModelError

    try:
        manifest = read_manifest(config.models_dir)
    except ModelError as exc:
        return [exc.message]
    return stale_reasons(manifest, Catalog.load(config.catalog_dir))


@main.command("evaluate")
@click.option(
    "--labels",
    "labels_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Labelled JSONL (title, abstract, in_scope, section, announced) to measure on.",
)
@click.option(
    "--train-before",
    type=_DATE,
    help="Temporal protocol: train on rows announced before DATE, score the file's rows "
    "from DATE on (default: grouped cross-validation by night).",
)
@click.option(
    "--title-only",
    is_flag=True,
    help="Score the held-out papers by their titles alone (as `tracker classify --title` "
    "would), against the model's title rules.",
)
@click.option("--folds", default=10, show_default=True, help="Catalog cross-validation folds.")
@click.option(
    "--blocks", default=11, show_default=True, help="Blocks of consecutive nights (grouped CV)."
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("reports/evaluate"),
    show_default=True,
    help="Folder for report.md and the PNG plots.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option(
    "--decisions",
    "track_record",
    is_flag=True,
    help="Print the bot's track record month by month from catalog/decisions.yaml instead "
    "(precision of the added tier, share of accepted papers from candidates, section "
    "corrections); no model is trained.",
)
@click.pass_obj
def evaluate_cmd(
    state: State,
    labels_file: Path | None,
    train_before: dt.datetime | None,
    title_only: bool,
    folds: int,
    blocks: int,
    out: Path,
    as_json: bool,
    track_record: bool,
) -> None:
    """Measure the classifier on papers the scored models never trained on.

    Always: section top-1, top-3, macro-F1 and a confusion matrix by cross-validation on the
    catalog. With --labels FILE: relevance ROC AUC, average precision, recall at 0.5, 1, 2
    and 5 wrong papers a night and among each night's 5, 10, 15 and 20 most relevant papers
    (for all, cs.CR, other and `sure` rows), section quality on the in-scope rows, and a
    night-by-night replay of the tiers (added, candidates), all out of fold (grouped by
    night, or temporal with --train-before). Rows of a thinned file count as the rows they
    stand for, so "a night" is a night at full size. Every model here is
    trained inside the protocol; the shipped model is never scored on its own training data.
    Writes report.md, confusion.png and pr_curve.png to --out.

    With --decisions: the bot's track record from maintainers' decisions on merged and closed
    tracker pull requests, month by month, and nothing else.

    \b
    Example: tracker evaluate --labels models/training/stream-2026.jsonl.xz --blocks 6
    """
    if track_record:
        _print_track_record(state.config.catalog_dir, as_json)
        return
    from tracker.classify.evaluate import as_json as ev_json
    from tracker.classify.evaluate import evaluate, table, write_report
    from tracker.classify.train import gather, open_embedder

    if (train_before is not None or title_only) and labels_file is None:
        raise click.UsageError("--train-before and --title-only need --labels")
    if importlib.util.find_spec("matplotlib") is None:
        # Checked first: the plots come last, after minutes of training.
        raise InputError(
            "tracker evaluate draws its plots with matplotlib, which is not installed",
            hint="pip install 'survey-tracker[evaluate]'",
        )
    config = state.config
    c = config.classifier
    inputs = gather(config.catalog_dir, c.training_labels)
    embedder = open_embedder(config, c.embedding_replacement)
    ev = evaluate(
        inputs,
        embedder,
        labels_file=labels_file,
        before=train_before.date() if train_before else None,
        folds=folds,
        blocks=blocks,
        title_only=title_only,
        step=lambda s: click.echo(s, err=True),
    )
    warn(embedder.notes)
    header = [
        f"Catalog {config.catalog_dir}; training labels "
        f"{', '.join(p.name for p in c.training_labels) or 'none'}"
        + (f"; labels file {labels_file}" if labels_file else "")
        + "."
    ]
    written = write_report(ev, out, header)
    if as_json:
        click.echo(json.dumps(ev_json(ev), ensure_ascii=False))
    else:
        for line in table(ev):
            click.echo(line)
    click.echo(f"Wrote {', '.join(str(p) for p in written)}.", err=True)
    sys.stdout.flush()


def _print_track_record(catalog_dir: Path, as_json: bool) -> None:
    """`tracker evaluate --decisions`: the table (or JSON) on stdout."""
    from tracker.catalog.decisions import load_decisions
    from tracker.catalog.track_record import table, track_record

    months = track_record(load_decisions(catalog_dir))
    if as_json:
        click.echo(json.dumps([m.to_json() for m in months], ensure_ascii=False))
        return
    for line in table(months):
        click.echo(line)

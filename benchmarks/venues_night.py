"""One venue night through `tracker run --dry-run`, with arXiv switched off and only dblp
configured, scored four ways: catalog papers duplicated, catalog preprints whose venue is
updated, new in-scope papers proposed, wrong papers proposed.

A loopback dblp serves a new volume, "USENIX Security Symposium 2026" (stream `conf/uss`, year
2026), holding three kinds of record, all in dblp's JSON with its quirks (a final period on every
title, HTML entities, one author as an object, numbers as strings):

- the catalog's own venue papers (every entry of catalog/papers.yaml not listed as arXiv, with
  its DOI when it has one): tracker must know them all;
- new papers: the 200 of `benchmarks/data/venue-volume.jsonl.gz`, 16 in scope and 184 out of
  scope by the shared labels, drawn at random (seed 12) from the 2026 stream's rows outside its
  earlier sample (`in_sample: false`): 16 of its 81 in-scope rows and 184 of its 2,407 rows the
  annotators read and labelled out (they passed a keyword screen for security and model-reuse
  words: hard negatives). Every cs.CR row of the stream is in that sample, so none of these is
  in cs.CR;

and, on their own streams, the published versions of six of the catalog's nine preprints
(`PUBLISHED`, venues as recorded for this benchmark; one, CorruptEncoder, under the shorter
title it was published with). The other three preprints have no published record: updating any
of them would be wrong.

Two variants:
- **dblp only**: the arXiv API answers nothing, so every new paper is judged on its title alone
  and venue updates come from dblp alone;
- **dblp + arXiv look-ups**: a loopback arXiv API holds the new papers' preprints (title,
  abstract) and the catalog preprints with their comments (CorruptEncoder's says "To appear in
  CVPR 2024"), so new papers borrow their abstracts and renamed ones are still found.

The shipped model trained on these 200 rows (it trains on every labelled night), so the
benchmark first trains its own model, with `tracker train`, on the shipped labels
(models/training/) less these rows: every figure is on papers that model never saw.

    python -m benchmarks.venues_night [--out PATH] [--no-docs]

Prints a Markdown table and the machine, writes it to benchmarks/results/venues_night.md, and
puts it in README between the `benchmark:venues-night` markers.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from benchmarks.data import SAMPLE, stream_lines
from benchmarks.docs import replace_block
from benchmarks.machine import machine
from tests.servers import LoopbackServer, Reply
from tests.servers.arxiv import ATOM_TYPE, ArxivApi, api_feed
from tests.servers.dblp import DblpApi, DblpRecord, dblp_record
from tracker.catalog.store import Catalog
from tracker.cli import main as tracker_main
from tracker.identity import same_paper
from tracker.paper import Paper
from tracker.publish.block import decode

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "benchmarks" / "data" / "venue-volume.jsonl.gz"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "venues_night.md"
NIGHT = dt.date(2026, 9, 1)
SHARED_CACHE = Path("/work/cache/tracker")

# (catalog title, published title, stream, dblp venue, catalog venue, year, dblp key)
PUBLISHED = [
    (
        "CorruptEncoder: Data Poisoning based Backdoor Attacks to Contrastive Learning",
        "Data Poisoning based Backdoor Attacks to Contrastive Learning",
        "conf/cvpr",
        "CVPR",
        "CVPR",
        2024,
        "conf/cvpr/ZhangLJG24",
    ),
    (
        "Badpre: Task-agnostic backdoor attacks to pre-trained nlp foundation models",
        "BadPre: Task-agnostic Backdoor Attacks to Pre-trained NLP Foundation Models",
        "conf/iclr",
        "ICLR",
        "ICLR",
        2022,
        "conf/iclr/ChenMFXWZ22",
    ),
    (
        "NOTABLE: Transferable Backdoor Attacks Against Prompt-based NLP Models",
        "NOTABLE: Transferable Backdoor Attacks Against Prompt-based NLP Models",
        "conf/acl",
        "ACL (1)",
        "ACL",
        2023,
        "conf/acl/MeiZLCHWG23",
    ),
    (
        "Multi-target Backdoor Attacks for Code Pre-trained Models",
        "Multi-target Backdoor Attacks for Code Pre-trained Models",
        "conf/acl",
        "ACL (1)",
        "ACL",
        2023,
        "conf/acl/LiLWWLL23",
    ),
    (
        "Instructions as Backdoors: Backdoor Vulnerabilities of Instruction Tuning for Large "
        "Language Models",
        "Instructions as Backdoors: Backdoor Vulnerabilities of Instruction Tuning for Large "
        "Language Models",
        "conf/naacl",
        "NAACL-HLT",
        "NAACL",
        2024,
        "conf/naacl/XuMWX0C24",
    ),
    (
        "Analysis of Failures and Risks in Deep Learning Model Converters: A Case Study in the "
        "ONNX Ecosystem",
        "Analysis of Failures and Risks in Deep Learning Model Converters: A Case Study in the "
        "ONNX Ecosystem",
        "conf/icse",
        "ICSE",
        "ICSE",
        2024,
        "conf/icse/JajalJCTWBQT24",
    ),
]
COMMENTS = {"2211.08229": "To appear in CVPR 2024"}  # the renamed one's arXiv comment

CONFIG = """\
http: {{timeout: 10, delay: 0, retries: 1, backoff: 0}}
arxiv: {{search: false, listing: false}}
dblp:
  from_year: 2026
  arxiv_lookups: {lookups}
  streams:
    - {{stream: conf/uss, venue: USENIX}}
    - {{stream: conf/cvpr, venue: CVPR}}
    - {{stream: conf/iclr, venue: ICLR}}
    - {{stream: conf/acl, venue: ACL}}
    - {{stream: conf/naacl, venue: NAACL}}
    - {{stream: conf/icse, venue: ICSE}}
models_dir: {models}
cache_dir: {cache}
"""


@dataclass
class Outcome:
    variant: str
    seconds: float
    exit_code: int
    duplicates: int
    updated_right: int
    updated_wrong: int
    in_scope: int
    proposed_right_added: int
    proposed_right_candidate: int
    wrong_added: int
    wrong_candidate: int
    negatives: int
    looked_up: str
    title_only: int


def rows() -> list[dict[str, Any]]:
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def volume(catalog: Catalog, new: list[dict[str, Any]]) -> list[DblpRecord]:
    records = []
    for i, e in enumerate(e for e in catalog.entries if e.paper.venue != "arXiv"):
        records.append(_uss(Paper(e.paper.title, doi=e.paper.doi), f"conf/uss/Cat{i}"))
    for r in new:
        records.append(_uss(Paper(r["title"], authors=tuple(r["authors"])), f"conf/uss/N{r['id']}"))
    records.sort(key=lambda r: str(r.info["title"]).casefold())
    for _catalog, title, stream, venue, _name, year, key in PUBLISHED:
        paper = Paper(title, authors=("Published Author",), doi=f"10.5555/{key.split('/')[-1]}")
        records.append(dblp_record(paper, key=key, stream=stream, venue=venue, year=year))
    return records


def _uss(paper: Paper, key: str) -> DblpRecord:
    name = key.rsplit("/", 1)[-1].lower()
    page = f"https://www.usenix.org/conference/usenixsecurity26/presentation/{name}"
    return dblp_record(
        paper,
        key=key,
        stream="conf/uss",
        venue="USENIX Security Symposium",
        year=2026,
        ee=[f"https://doi.org/{paper.doi}", page] if paper.doi else [page],
    )


def arxiv_papers(catalog: Catalog, new: list[dict[str, Any]]) -> list[Paper]:
    papers = [Paper.from_dict({**r, "source": "arxiv-api"}) for r in new]
    for e in catalog.entries:
        if e.paper.venue == "arXiv" and e.paper.arxiv_id:
            papers.append(
                e.paper.replace(
                    abstract=f"(the abstract of {e.paper.title})",
                    comment=COMMENTS.get(e.paper.arxiv_id),
                    categories=("cs.CR",),
                )
            )
    return papers


@contextlib.contextmanager
def checkout() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tracker-venues-") as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "catalog", root / "catalog")
        yield root


def labels_without(ids: set[str], out: Path) -> int:
    """The shipped training labels less the rows with these ids, written to `out`; returns
    the rows written."""
    n = 0
    with out.open("w", encoding="utf-8") as f:
        for line in stream_lines(SAMPLE):
            if json.loads(line).get("id") not in ids:
                f.write(line if line.endswith("\n") else line + "\n")
                n += 1
    return n


def train_model(models: Path, new: list[dict[str, Any]]) -> dict[str, Any]:
    """`tracker train` into `models` on the shipped labels less the new papers; returns the
    manifest."""
    cache = SHARED_CACHE if SHARED_CACHE.is_dir() else models / "cache"
    with checkout() as root:
        labels = root / "labels.jsonl"
        labels_without({str(r["id"]) for r in new}, labels)
        config = root / "tracker.yaml"
        config.write_text(CONFIG.format(lookups="false", models=models, cache=cache), "utf-8")
        result = CliRunner().invoke(
            tracker_main,
            ["--config", str(config), "train", "--labels", str(labels)],
            env={"TRACKER_CONFIG": None},
            catch_exceptions=False,
        )
        if result.exit_code != 0:
            raise SystemExit(f"tracker train failed: {result.output}")
    manifest: dict[str, Any] = json.loads((models / "manifest.json").read_text("utf-8"))
    return manifest


def run_variant(
    name: str, lookups: bool, new: list[dict[str, Any]], models: Path = REPO / "models"
) -> Outcome:
    catalog = Catalog.load(REPO / "catalog")
    cache = SHARED_CACHE if SHARED_CACHE.is_dir() else None
    with checkout() as root, LoopbackServer() as server:
        server.route("/search/publ/api", DblpApi(volume(catalog, new)))
        if lookups:
            server.route("/api/query", ArxivApi(arxiv_papers(catalog, new)))
        else:
            empty = api_feed([], total=0, start=0, per_page=100)
            server.route("/api/query", Reply(200, empty, ATOM_TYPE))
        (root / "tracker.yaml").write_text(
            CONFIG.format(
                lookups=str(lookups).lower(),
                models=models,
                cache=cache or root / "cache",
            ),
            "utf-8",
        )
        env: dict[str, str | None] = {
            "TRACKER_DBLP_API_URL": server.url("/search/publ/api"),
            "TRACKER_ARXIV_API_URL": server.url("/api/query"),
            "GITHUB_TOKEN": None,
            "TRACKER_GITHUB_TOKEN": None,
            "GITHUB_REPOSITORY": None,
            "TRACKER_CONFIG": None,
        }
        cwd = Path.cwd()
        os.chdir(root)
        started = time.monotonic()
        try:
            result = CliRunner().invoke(
                tracker_main,
                ["run", "--dry-run", "--date", NIGHT.isoformat()],
                env=env,
                catch_exceptions=False,
            )
        finally:
            os.chdir(cwd)
        seconds = time.monotonic() - started
        after = Catalog.load(root / "catalog")
    return score(name, seconds, result.exit_code, result.stdout, result.stderr, catalog, after, new)


def score(
    name: str,
    seconds: float,
    exit_code: int,
    stdout: str,
    stderr: str,
    before: Catalog,
    after: Catalog,
    new: list[dict[str, Any]],
) -> Outcome:
    state = decode(stdout)
    items = state.items if state is not None else ()
    papers = [(i.as_paper(), i.checked) for i in items]
    duplicates = sum(1 for p, _ in papers if any(same_paper(p, e.paper) for e in before.entries))
    labels = {r["title"]: r["in_scope"] for r in new}

    def label(p: Paper) -> bool | None:
        return labels.get(p.title)

    right_added = sum(1 for p, ticked in papers if ticked and label(p) is True)
    right_cand = sum(1 for p, ticked in papers if not ticked and label(p) is True)
    wrong_added = sum(1 for p, ticked in papers if ticked and label(p) is False)
    wrong_cand = sum(1 for p, ticked in papers if not ticked and label(p) is False)
    published = {c: (v, y) for c, _t, _s, _dv, v, y, _k in PUBLISHED}
    old = {e.paper.title: e.paper for e in before.entries}
    right = wrong = 0
    for e in after.entries:
        was = old.get(e.paper.title)
        if was is None or was.venue != "arXiv" or e.paper.venue == "arXiv":
            continue
        if published.get(e.paper.title) == (e.paper.venue, e.paper.year):
            right += 1
        else:
            wrong += 1
    looked = next((ln for ln in stderr.splitlines() if ln.startswith("Title-only papers")), "")
    title_only = sum(1 for i in items if i.title_only)
    return Outcome(
        name,
        seconds,
        exit_code,
        duplicates,
        right,
        wrong,
        sum(1 for r in new if r["in_scope"]),
        right_added,
        right_cand,
        wrong_added,
        wrong_cand,
        sum(1 for r in new if not r["in_scope"]),
        looked,
        title_only,
    )


def table(outcomes: list[Outcome]) -> str:
    head = "| figure | " + " | ".join(o.variant for o in outcomes) + " |"
    lines = [head, "|---|" + "---|" * len(outcomes)]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    row("catalog papers proposed again (duplicates)", [str(o.duplicates) for o in outcomes])
    row(
        f"catalog preprints updated to their venue (of {len(PUBLISHED)} published)",
        [str(o.updated_right) for o in outcomes],
    )
    row(
        "… wrong venue updates (of 3 unpublished, 51 at a venue)",
        [str(o.updated_wrong) for o in outcomes],
    )
    row(
        "new in-scope papers proposed: added + candidates (of 16)",
        [
            f"{o.proposed_right_added + o.proposed_right_candidate} "
            f"({o.proposed_right_added} + {o.proposed_right_candidate})"
            for o in outcomes
        ],
    )
    row(
        "wrong papers proposed: added + candidates (of 184 out of scope)",
        [f"{o.wrong_added} + {o.wrong_candidate}" for o in outcomes],
    )
    row("papers judged on their titles alone (listed)", [str(o.title_only) for o in outcomes])
    row("wall time of `tracker run --dry-run`", [f"{o.seconds:.1f} s" for o in outcomes])
    row("exit code", [str(o.exit_code) for o in outcomes])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-docs", action="store_true", help="do not update README")
    args = parser.parse_args(argv)
    new = rows()
    with tempfile.TemporaryDirectory(prefix="tracker-venues-model-") as tmp:
        models = Path(tmp) / "models"
        print(f"training a model without the {len(new)} new papers ...", flush=True)
        manifest = train_model(models, new)
        outcomes = [
            run_variant("dblp only", False, new, models),
            run_variant("dblp + arXiv look-ups", True, new, models),
        ]
    data = manifest.get("training_data") or {}
    rows_trained = data.get("rows") if isinstance(data, dict) else None
    model = f"created {manifest.get('created', '?')}"
    if isinstance(rows_trained, dict):
        model += (
            f", trained on the {rows_trained.get('catalog')}-paper catalog and "
            f"{rows_trained.get('labelled')} labelled rows"
        )
    text = (
        f"{table(outcomes)}\n\nMeasured by `python -m benchmarks.venues_night` on {machine()}, "
        f"with a model trained by `tracker train` on the shipped labels less the {len(new)} new "
        f"papers ({model}); a new volume of {len(new) + 51} records "
        f"(51 catalog papers, {len(new)} new), served by loopback dblp"
        + " (and arXiv in the second variant), per-host delays 0 (a real night adds dblp's and"
        + " arXiv's 3 s between requests: 15 to dblp and 21 to arXiv here, under 2 minutes); "
        + "embeddings from "
        + ("the shared stream cache." if SHARED_CACHE.is_dir() else "an empty cache.")
    )
    for o in outcomes:
        if o.looked_up:
            text += f"\n\n{o.variant}: {o.looked_up}"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    if not args.no_docs:
        replace_block("venues-night", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

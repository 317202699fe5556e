"""`tracker run` with venue sources: dblp records merged with what is known, abstracts borrowed
from arXiv by title, title-only papers, catalog preprints found published ("Published since
listed"), and the volumes read recorded in catalog/volumes.yaml."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.bot.conftest import HOSTILE_ROW, oracle, stream_papers, stream_rows
from tests.servers import LoopbackServer
from tests.servers.arxiv import ArxivApi
from tests.servers.dblp import DblpApi, DblpRecord, dblp_record
from tracker.catalog.store import Catalog
from tracker.catalog.volumes import load_volumes
from tracker.config import ArxivConfig, Config, DblpConfig, DblpStreamConfig, HttpConfig
from tracker.http import HttpClient
from tracker.paper import Paper
from tracker.pipeline import RunReport, run, source_fetch
from tracker.publish.body import TAG_TITLE_ONLY as TITLE_ONLY_NOTE
from tracker.publish.venues import PUBLISHED_HEADING
from tracker.sources import build_sources
from tracker.venues import build_venue_lookups

NIGHT = dt.date(2026, 3, 16)
ROWS = {str(r["id"]): r for r in stream_rows()}
ON_ARXIV = stream_papers([ROWS["2603.12681"]])[0]  # in scope, has an arXiv preprint
OUT_ON_ARXIV = stream_papers([ROWS["2603.12485"]])[0]  # out of scope
TITLE_ONLY = Paper(
    title="Trojaned Checkpoints on Model Hubs: A Measurement Study",
    authors=("Mei Chen", "Rahul Gupta"),
    doi="10.1145/3719027.1111111",
)
CATALOG_AT_VENUE = Paper(
    title="Model-reuse attacks on deep learning systems",
    authors=("Yujie Ji", "Xinyang Zhang", "Shouling Ji", "Xiapu Luo", "Ting Wang"),
    doi="10.1145/3243734.3243757",
)
CATALOG_PREPRINT = Paper(  # catalog: arXiv 2022, 2211.08229
    title="CorruptEncoder: Data Poisoning based Backdoor Attacks to Contrastive Learning",
    authors=("Jinghuai Zhang", "Hongbin Liu", "Jinyuan Jia", "Neil Zhenqiang Gong"),
    doi="10.1109/CVPR52733.2024.02278",
)


def uss(paper: Paper, key: str) -> DblpRecord:
    # dblp writes the title with a final period and the record without an abstract.
    venue_record = Paper(title=paper.title, authors=paper.authors, doi=paper.doi)
    return dblp_record(
        venue_record,
        key=f"conf/uss/{key}",
        stream="conf/uss",
        venue="USENIX Security Symposium",
        year=2026,
    )


@pytest.fixture
def servers() -> Iterator[tuple[LoopbackServer, ArxivApi, DblpApi]]:
    records = [
        uss(ON_ARXIV.replace(doi="10.5555/1"), "A26"),
        uss(OUT_ON_ARXIV.replace(doi="10.5555/2"), "B26"),
        uss(TITLE_ONLY, "C26"),
        uss(CATALOG_AT_VENUE, "JiZJLW26"),  # a catalog paper listed again at a venue
        dblp_record(
            CATALOG_PREPRINT,
            key="conf/cvpr/ZhangLJG24",
            stream="conf/cvpr",
            venue="CVPR",
            year=2024,
        ),
    ]
    badpre = Paper(
        title="Badpre: Task-agnostic backdoor attacks to pre-trained nlp foundation models",
        abstract="BadPre backdoors pre-trained NLP foundation models.",
        authors=("Kangjie Chen",),
        arxiv_id="2110.02467",
        comment="Accepted at ICLR 2022. Code: https://github.com/kangjie-chen/BadPre",
    )
    with LoopbackServer() as server:
        dblp = DblpApi(records)
        arxiv = ArxivApi([ON_ARXIV, OUT_ON_ARXIV, badpre])
        server.route("/search/publ/api", dblp)
        server.route("/api/query", arxiv)
        yield server, arxiv, dblp


def night(seeded: Path, server: LoopbackServer, **dblp: object) -> tuple[RunReport, Config]:
    config = Config(
        catalog_dir=seeded / "catalog",
        http=HttpConfig(delay=0, retries=1, backoff=0, timeout=2),
        arxiv=replace(ArxivConfig(), api_url=server.url("/api/query"), search=False, listing=False),
        dblp=DblpConfig(
            api_url=server.url("/search/publ/api"),
            streams=[
                DblpStreamConfig("conf/uss", "USENIX"),
                DblpStreamConfig("conf/cvpr", "CVPR"),
            ],
            from_year=2026,
            **dblp,  # type: ignore[arg-type]
        ),
    )
    http = HttpClient.from_config(config.http)
    rows = [ROWS["2603.12681"], ROWS["2603.12485"]]
    classifier = oracle(rows)
    classifier.labels[TITLE_ONLY.title] = "下游任务相关的攻击"
    report = run(
        config,
        fetch=source_fetch(config, build_sources(config, http=http)),
        classifier=classifier,
        today=NIGHT,
        dry_run=True,
        venues=build_venue_lookups(config, http),
    )
    return report, config


def test_a_venue_night_proposes_new_papers_and_duplicates_no_catalog_paper(
    seeded: Path, servers: tuple[LoopbackServer, ArxivApi, DblpApi]
) -> None:
    server, arxiv, _ = servers
    report, config = night(seeded, server)
    assert report.exit_code == 0
    # The catalog paper listed again at a venue is known; the others are new.
    assert report.stats.known_catalog == 1
    proposed = {p.paper.title: p.paper for p in report.proposals}
    assert set(proposed) == {ON_ARXIV.title, TITLE_ONLY.title}
    # The one on arXiv borrowed its abstract and id, and kept its venue and DOI.
    borrowed = proposed[ON_ARXIV.title]
    assert (borrowed.arxiv_id, borrowed.venue, borrowed.year) == ("2603.12681", "USENIX", 2026)
    assert borrowed.doi == "10.5555/1"
    # The other has no preprint: it was judged on its title alone.
    assert report.looked_up == (3, 2) and report.title_only == 1
    assert "1 classified on their titles alone" in "\n".join(report.summary())
    row = next(line for line in report.body.splitlines() if "Trojaned Checkpoints" in line)
    assert TITLE_ONLY_NOTE in row
    assert TITLE_ONLY_NOTE not in next(ln for ln in report.body.splitlines() if "Colluding" in ln)
    titles = [q["search_query"] for q in arxiv.queries if q["search_query"].startswith("ti:")]
    assert len(titles) == 1 and titles[0].count('ti:"') == 3  # one request, ten titles at most
    catalog = Catalog.load(config.catalog_dir)
    assert [e.paper.title for e in catalog.entries].count(CATALOG_AT_VENUE.title) == 1


def test_catalog_preprints_found_published_get_their_venue_with_the_evidence(
    seeded: Path, servers: tuple[LoopbackServer, ArxivApi, DblpApi]
) -> None:
    server, _, dblp = servers
    report, config = night(seeded, server)
    updates = {u.title: u for u in report.venue_updates}
    corrupt = updates[CATALOG_PREPRINT.title]
    assert (corrupt.venue, corrupt.year) == ("CVPR", 2024)
    assert corrupt.doi == "10.1109/cvpr52733.2024.02278"
    assert corrupt.evidence == "dblp conf/cvpr/ZhangLJG24"
    badpre = updates["Badpre: Task-agnostic backdoor attacks to pre-trained nlp foundation models"]
    assert (badpre.venue, badpre.year) == ("ICLR", 2022)
    assert badpre.evidence.startswith("arXiv comment: Accepted at ICLR 2022")
    # Every catalog preprint was asked on dblp by its title.
    preprints = [e for e in Catalog.load(REPO_CATALOG).entries if e.paper.venue == "arXiv"]
    asked = [q for q in dblp.queries if not q.startswith("stream:")]
    assert len(asked) == len(preprints)

    text = (config.catalog_dir / "papers.yaml").read_text("utf-8")
    entry = text[text.index("- title: 'CorruptEncoder") :].split("\n- title")[0]
    assert "venue: CVPR\n" in entry and "year: 2024\n" in entry
    assert "doi: 10.1109/cvpr52733.2024.02278\n" in entry
    assert "arxiv: '2211.08229'" in entry  # the preprint's id stays
    assert "venue: https://doi.org/10.1109/CVPR52733.2024.02278" in entry
    assert PUBLISHED_HEADING.format(count=2) in report.body
    assert "[dblp conf/cvpr/ZhangLJG24](https://dblp.org/rec/conf/cvpr/ZhangLJG24)" in report.body
    assert "| arXiv 2022 | CVPR 2024 · [doi:10.1109/cvpr52733.2024.02278]" in report.body


def test_entries_with_a_venue_are_never_changed(
    seeded: Path, servers: tuple[LoopbackServer, ArxivApi, DblpApi]
) -> None:
    server, _, _ = servers
    before = Catalog.load(seeded / "catalog").entries
    report, config = night(seeded, server)
    after = {e.paper.title: e.paper for e in Catalog.load(config.catalog_dir).entries}
    changed = {u.title for u in report.venue_updates}
    for entry in before:
        if entry.paper.venue != "arXiv":
            assert (after[entry.paper.title].venue, after[entry.paper.title].year) == (
                entry.paper.venue,
                entry.paper.year,
            )
        elif entry.paper.title not in changed:
            assert after[entry.paper.title].venue == "arXiv"


def test_volumes_read_are_recorded_and_not_read_again(
    seeded: Path, servers: tuple[LoopbackServer, ArxivApi, DblpApi]
) -> None:
    server, arxiv, _ = servers
    report, config = night(seeded, server)
    read = load_volumes(config.catalog_dir)
    assert read.records("dblp", "conf/uss", "USENIX Security Symposium 2026") == 4
    assert "recorded in `catalog/volumes.yaml`: USENIX Security Symposium 2026 (4 records)" in (
        report.body
    )
    summary = "\n".join(report.summary())
    assert "Venue volumes read: USENIX Security Symposium 2026 (4); recorded in volumes.yaml" in (
        summary
    )
    arxiv.queries.clear()
    again, _ = night(seeded, server)
    assert again.proposals == () and again.looked_up == (0, 0)
    assert not any(q["search_query"].startswith("ti:") for q in arxiv.queries)


def test_without_arxiv_lookups_dblp_papers_are_judged_on_titles(
    seeded: Path, servers: tuple[LoopbackServer, ArxivApi, DblpApi]
) -> None:
    server, arxiv, _ = servers
    report, _ = night(seeded, server, arxiv_lookups=False)
    assert report.looked_up == (0, 0) and report.title_only == 3
    assert not any(q["search_query"].startswith("ti:") for q in arxiv.queries)


def test_hostile_comment_text_is_inert_in_the_published_section() -> None:
    from tracker.publish.block import PullState
    from tracker.publish.body import pr_body
    from tracker.venues import VenueUpdate, venues_json

    title = str(HOSTILE_ROW["title"])
    update = VenueUpdate(
        title=title,
        arxiv="2603.19999",
        old_year=2026,
        venue="CCS <script>",
        year=2026,
        evidence="arXiv comment: @octocat [x](https://evil.example) | cell",
        evidence_url="https://evil.example/",
    )
    state = PullState(date=NIGHT, venues=venues_json([update], [], "catalog/volumes.yaml"))
    body = pr_body(state, Catalog.load(REPO_CATALOG).taxonomy)
    start = body.index(PUBLISHED_HEADING.format(count=1))
    text = body[start : body.index("### Run statistics")]
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<img" not in html and "<script" not in html
    hrefs = re.findall(r'href="([^"]+)"', html)
    # The only links: the arXiv page built from the parsed id (the evidence URL is not a dblp or
    # arXiv record, so it is not linked).
    assert hrefs == ["https://arxiv.org/abs/2603.19999"]
    assert "@octocat" not in html  # no mention
    assert html.count("<tr>") == 2 and html.count("<td>") == 4  # one row, four cells


REPO_CATALOG = Path(__file__).resolve().parents[2] / "catalog"


def test_venue_sections_survive_the_hidden_block(
    seeded: Path, servers: tuple[LoopbackServer, ArxivApi, DblpApi]
) -> None:
    # `tracker review` re-renders the body from the block: the venue sections must come back.
    from tracker.publish.block import decode
    from tracker.publish.body import pr_body

    server, _, _ = servers
    report, config = night(seeded, server)
    state = decode(report.body)
    assert state is not None and state == report.state
    taxonomy = Catalog.load(config.catalog_dir).taxonomy
    assert pr_body(state, taxonomy, papers_file="catalog/papers.yaml") == report.body
    titled = [i for i in state.items if i.title_only]
    assert [i.title for i in titled] == [TITLE_ONLY.title]


def test_a_venue_record_of_a_rejected_paper_is_known(
    seeded: Path, servers: tuple[LoopbackServer, ArxivApi, DblpApi]
) -> None:
    # Rejected by hand under its title only; dblp lists it with a DOI, a final period and authors.
    (seeded / "catalog" / "rejected.yaml").write_text(
        f"- title: '{TITLE_ONLY.title.lower()}'\n  reason: by hand\n", "utf-8"
    )
    server, _, _ = servers
    report, _ = night(seeded, server)
    assert report.stats.known_rejected == 1
    assert TITLE_ONLY.title not in {p.paper.title for p in report.proposals}


def test_a_venue_record_of_a_paper_in_an_open_pull_request_is_known() -> None:
    from tracker.identity import PaperIndex
    from tracker.publish.block import Item
    from tracker.sources.dblp import hit_from_info

    # The open pull request lists the arXiv preprint; dblp later lists it at the venue.
    item = Item(title=ON_ARXIV.title, arxiv="2603.12681", authors=ON_ARXIV.authors)
    index: PaperIndex[str] = PaperIndex([(item.as_paper(), "open")])
    hit = hit_from_info(uss(ON_ARXIV.replace(doi="10.5555/1"), "A26").info, "USENIX")
    assert hit is not None and index.find(hit.paper) == "open"
    stranger = hit.paper.replace(authors=("Someone Else",))
    assert index.find(stranger) is None  # same title, other people: a different paper

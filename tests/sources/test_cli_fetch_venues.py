"""`tracker fetch --source dblp` and `--source openreview` work alone, against loopback servers,
and a venue record of a catalog paper is known whether the catalog lists it at its venue or as
a preprint."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.conftest import run_cli
from tests.servers import LoopbackServer
from tests.servers.dblp import DblpApi, dblp_record
from tests.servers.openreview import OpenReviewApi, openreview_note
from tracker.catalog.volumes import VOLUMES_FILE, Volume, updated_volumes_text
from tracker.paper import Paper

CONFIG = """\
http: {timeout: 2, delay: 0, retries: 1, backoff: 0}
arxiv: {search: false, listing: false}
dblp:
  from_year: 2026
  streams:
    - {stream: conf/uss, venue: USENIX}
    - {stream: conf/ccs, venue: CCS}
openreview:
  venues:
    - {venueid: "ICLR.cc/{year}/Conference", venue: ICLR}
"""
WINDOW = ["--since", "2026-01-26", "--until", "2026-01-27"]
NEW = Paper(
    title="Poisoned Adapters: Supply-Chain Backdoors in Parameter-Efficient Fine-Tuning",
    authors=("Mei Chen", "Rahul Gupta"),
    doi="10.1145/3719027.3744801",
)
# In the catalog at its venue (CCS 2018, with this DOI) ...
AT_VENUE = Paper(
    title="Model-reuse attacks on deep learning systems",
    authors=("Yujie Ji", "Xinyang Zhang", "Shouling Ji", "Xiapu Luo", "Ting Wang"),
    doi="10.1145/3243734.3243757",
)
# ... and as a preprint (arXiv 2022, arxiv 2211.08229), published later under the same title.
AS_PREPRINT = Paper(
    title="CorruptEncoder: Data Poisoning based Backdoor Attacks to Contrastive Learning",
    authors=("Jinghuai Zhang", "Hongbin Liu", "Jinyuan Jia", "Neil Zhenqiang Gong"),
    doi="10.1109/CVPR52733.2024.02278",
)


def serve(server: LoopbackServer) -> None:
    records = [
        dblp_record(NEW, key="conf/ccs/ChenG26", stream="conf/ccs", venue="CCS", year=2026),
        dblp_record(AT_VENUE, key="conf/ccs/JiZJLW26", stream="conf/ccs", venue="CCS", year=2026),
        dblp_record(
            AS_PREPRINT,
            key="conf/uss/ZhangLJG26",
            stream="conf/uss",
            venue="USENIX Security Symposium",
            year=2026,
        ),
    ]
    server.route("/search/publ/api", DblpApi(records))
    note = openreview_note(
        NEW.replace(abstract="We backdoor LoRA adapters shared on model hubs."),
        venueid="ICLR.cc/2026/Conference",
        venue="ICLR 2026 Poster",
        published=dt.date(2026, 1, 26),
    )
    server.route("/notes", OpenReviewApi([note]))


def env(server: LoopbackServer) -> dict[str, str]:
    return {
        "TRACKER_DBLP_API_URL": server.url("/search/publ/api"),
        "TRACKER_OPENREVIEW_API_URL": server.url(""),
    }


def test_fetch_source_dblp_alone_drops_catalog_papers_held_at_venue_or_as_preprint(
    seeded: Path,
) -> None:
    (seeded / "tracker.yaml").write_text(CONFIG, "utf-8")
    with LoopbackServer() as server:
        serve(server)
        result = run_cli("fetch", *WINDOW, "--source", "dblp", "--json", env=env(server))
    assert result.exit_code == 0, result.stderr
    papers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(p["title"], p["venue"], p["year"]) for p in papers] == [(NEW.title, "CCS", 2026)]
    assert "3 fetched, 3 distinct after merging, 2 already known, 1 new." in result.stderr
    assert "new volumes read: USENIX Security Symposium 2026 (1), CCS 2026 (2)" in result.stderr
    assert not any(r.path == "/notes" for r in server.requests)


def test_fetch_source_openreview_alone(seeded: Path) -> None:
    (seeded / "tracker.yaml").write_text(CONFIG, "utf-8")
    with LoopbackServer() as server:
        serve(server)
        result = run_cli("fetch", *WINDOW, "--source", "openreview", "--json", env=env(server))
    assert result.exit_code == 0, result.stderr
    (paper,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert (paper["venue"], paper["year"], paper["source"]) == ("ICLR", 2026, "openreview")
    assert paper["abstract"] == "We backdoor LoRA adapters shared on model hubs."
    assert not any(r.path == "/search/publ/api" for r in server.requests)


def test_volumes_recorded_in_the_catalog_are_not_read_again(seeded: Path) -> None:
    (seeded / "tracker.yaml").write_text(CONFIG, "utf-8")
    read = [
        Volume("dblp", "conf/ccs", "CCS 2026", 2),
        Volume("dblp", "conf/uss", "USENIX Security Symposium 2026", 1),
    ]
    (seeded / "catalog" / VOLUMES_FILE).write_text(updated_volumes_text(None, read), "utf-8")
    with LoopbackServer() as server:
        serve(server)
        result = run_cli("fetch", *WINDOW, "--source", "dblp", "--json", env=env(server))
    assert (result.exit_code, result.stdout) == (0, "")
    assert "2 volume(s) already read (catalog/volumes.yaml)" in result.stderr


def test_both_sources_merge_one_paper_into_the_record_with_the_abstract(seeded: Path) -> None:
    (seeded / "tracker.yaml").write_text(CONFIG, "utf-8")
    with LoopbackServer() as server:
        serve(server)
        result = run_cli("fetch", *WINDOW, "--json", env=env(server))
    assert result.exit_code == 0, result.stderr
    (paper,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert paper["abstract"].startswith("We backdoor LoRA")
    assert paper["doi"] == NEW.doi
    assert sorted(paper["source"].split("+")) == ["dblp", "openreview"]

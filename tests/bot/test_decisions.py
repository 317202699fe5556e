"""Decisions are data: a merged or closed tracker pull request becomes rows of
catalog/decisions.yaml (recorded by the next tracker pull request), `tracker train` learns from
them, and `tracker evaluate --decisions` prints the bot's track record."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.bot.conftest import NIGHT, Bot, oracle, stream_papers, stream_rows
from tests.bot.test_review import OUTSIDE, review
from tests.conftest import REPO, run_cli
from tests.servers.github import GitHubServer
from tracker.catalog import decisions as decisions_module
from tracker.catalog.decisions import (
    DECISIONS_FILE,
    HEADER,
    Decision,
    parse_decisions,
)
from tracker.catalog.rejected import Rejection
from tracker.catalog.store import Catalog
from tracker.catalog.taxonomy import load_taxonomy
from tracker.catalog.track_record import NO_DECISIONS, table, track_record
from tracker.classify import result
from tracker.classify.data import (
    DROPPED_WEIGHT,
    LEFT_WEIGHT,
    ORIGIN_CATALOG,
    ORIGIN_DECISIONS,
    build_training_set,
)
from tracker.cli import bot as bot_cli
from tracker.paper import Paper
from tracker.publish.block import decode

TAXONOMY = load_taxonomy(REPO / "catalog" / "taxonomy.yaml")
DECISIONS = f"catalog/{DECISIONS_FILE}"


def _night_two() -> tuple[list[dict[str, object]], list[Paper]]:
    """Three new in-scope papers for the next nights (the first night's are all known)."""
    rows = [
        {**r, "id": f"2603.3{i:04d}", "title": f"Backdoored adapters, part {i}"}
        for i, r in enumerate(stream_rows()[:3])
    ]
    return rows, [Paper.from_dict({**r, "source": "arxiv-listing"}) for r in rows]


@pytest.fixture
def merged(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> GitHubServer:
    """Night one's pull request #1, reviewed and merged: one added paper dropped, one moved, a
    candidate ticked, two candidates left, an outside paper added by a maintainer. The
    classifier knows night two's papers too."""
    rows, _ = _night_two()
    classifier = oracle([*rows, *stream_rows()], candidate_threshold=0.185)  # three candidates
    monkeypatch.setattr(bot_cli, "load_classifier", lambda config: classifier)
    assert bot.run(api=[*stream_papers(), OUTSIDE]).exit_code == 0
    gh = bot.gh
    gh.collaborators["maintainer"] = "write"
    gh.add_comment(
        1,
        "maintainer",
        "/tracker drop 2603.12679\n/tracker move 2603.12681 attack.deployment\n"
        "/tracker add 2603.12300\n/tracker add 2603.20001 defense.usage",
    )
    assert review().exit_code == 0
    gh.merge_pull(1)
    return gh


def _rows(gh: GitHubServer, branch: str) -> list[Decision]:
    return parse_decisions(gh.file_at(branch, DECISIONS) or "", "decisions.yaml")


def test_a_merged_pull_request_becomes_one_decision_per_paper(
    bot: Bot, merged: GitHubServer
) -> None:
    _, papers = _night_two()
    predicted = {i.arxiv: i.predicted for i in (decode(merged.pulls[0].body) or _x()).items}

    result_ = bot.run(night=NIGHT + dt.timedelta(days=1), papers=papers[:1])

    assert result_.exit_code == 0, result_.stderr
    assert len(merged.pulls) == 2
    rows = _rows(merged, "tracker/2026-03-17")
    outcomes = {d.arxiv: (d.tier, d.outcome, d.section) for d in rows}
    assert outcomes == {
        "2603.12679": ("added", "dropped", None),
        "2603.12681": ("added", "kept", "attack.deployment"),
        "2603.12946": ("added", "kept", predicted["2603.12946"]),
        "2603.13186": ("added", "kept", predicted["2603.13186"]),
        "2603.12989": ("added", "kept", predicted["2603.12989"]),
        "2603.12799": ("added", "kept", predicted["2603.12799"]),
        "2603.12300": ("candidate", "ticked", predicted["2603.12300"]),
        "2603.12450": ("candidate", "left", None),
        "2603.12455": ("candidate", "left", None),
        "2603.20001": ("maintainer", "added", "defense.usage"),
    }
    assert all(d.pr == 1 and d.merged and d.date == dt.date.today() for d in rows)
    moved = [d.arxiv for d in rows if d.moved]
    assert moved == ["2603.12681"] and predicted["2603.12681"] == "attack.secondary.transfer"
    text = merged.file_at("tracker/2026-03-17", DECISIONS) or ""
    assert text.startswith(HEADER)
    body = merged.pulls[1].body
    assert "| Decisions recorded | 10 from #1, in `decisions.yaml` " in body


def test_a_closed_pull_request_becomes_decisions_and_nothing_is_recorded_twice(
    bot: Bot, merged: GitHubServer
) -> None:
    _, papers = _night_two()
    bot.run(night=NIGHT + dt.timedelta(days=1), papers=papers[:1])
    merged.close_pull(2)  # not merged: #1's rows on its branch never reached main

    third = bot.run(night=NIGHT + dt.timedelta(days=2), papers=papers[1:2])

    assert third.exit_code == 0, third.stderr
    rows = _rows(merged, "tracker/2026-03-18")
    assert sorted({d.pr for d in rows}) == [1, 2]
    closed = [d for d in rows if d.pr == 2]
    assert [(d.arxiv, d.outcome, d.merged, d.section) for d in closed] == [
        ("2603.30000", "dropped", False, None)
    ]
    merged.merge_pull(3)
    bot.run(night=NIGHT + dt.timedelta(days=3), papers=papers[2:])
    assert {d.pr for d in _rows(merged, "tracker/2026-03-19")} == {1, 2, 3}
    assert len(_rows(merged, "tracker/2026-03-19")) == len(rows) + 1  # only #3's one row


def test_tracker_train_learns_from_decisions_with_weights(tmp_path: Path) -> None:
    catalog = Catalog.load(REPO / "catalog")
    kept = catalog.entries[0].paper
    leaf_ids = [leaf.id for leaf in TAXONOMY.leaves]

    def row(title: str, arxiv: str, tier: str, outcome: str, section: str | None) -> Decision:
        return Decision(1, NIGHT, True, title, arxiv, None, tier, outcome, "defense.usage", section)

    decisions = [
        row(kept.title, kept.arxiv_id or "", "added", "kept", catalog.entries[0].section),
        row("A dropped paper", "2603.40001", "added", "dropped", None),
        row("A candidate left", "2603.40002", "candidate", "left", None),
        row("A moved paper", "2603.40003", "added", "kept", "attack.deployment"),
    ]
    rejections = [Rejection("A candidate left", "2603.40002", reason="not ticked when merged")]

    ts = build_training_set(catalog, rejections, [], leaf_ids, decisions)

    rows = {t: i for i, t in enumerate(ts.titles)}
    assert ts.origin[rows[kept.title]] == ORIGIN_CATALOG  # the catalog's row, once
    assert ts.titles.count(kept.title) == 1
    dropped, left, moved = (
        rows[t] for t in ("A dropped paper", "A candidate left", "A moved paper")
    )
    assert (ts.y[dropped], ts.weight[dropped], ts.origin[dropped]) == (
        False,
        DROPPED_WEIGHT,
        ORIGIN_DECISIONS,
    )
    assert (ts.y[left], ts.weight[left]) == (False, LEFT_WEIGHT) and LEFT_WEIGHT < DROPPED_WEIGHT
    assert ts.titles.count("A candidate left") == 1  # the rejection adds no second row
    assert ts.y[moved] and leaf_ids[ts.section[moved]] == "attack.deployment"  # the correction
    # by default the catalog's own decisions.yaml is read
    assert len(build_training_set(catalog, [], [], leaf_ids)) == len(catalog.entries)


def test_the_tiers_are_the_classifiers() -> None:
    assert (decisions_module.TIER_ADDED, decisions_module.TIER_CANDIDATE) == (
        result.TIER_ADDED,
        result.TIER_CANDIDATE,
    )


def _decision(pr: int, day: str, tier: str, outcome: str, **more: object) -> Decision:
    return Decision(
        pr=pr,
        date=dt.date.fromisoformat(day),
        merged=more.pop("merged", True),  # type: ignore[arg-type]
        title=f"paper {pr} {tier} {outcome} {more.get('n', 0)}",
        arxiv=None,
        doi=None,
        tier=tier,
        outcome=outcome,
        predicted=more.get("predicted", "defense.usage"),  # type: ignore[arg-type]
        section=more.get(
            "section", "defense.usage" if outcome in ("kept", "ticked", "added") else None
        ),  # type: ignore[arg-type]
    )


TRACK = [
    _decision(1, "2026-03-17", "added", "kept"),
    _decision(1, "2026-03-17", "added", "kept", section="attack.deployment", n=1),
    _decision(1, "2026-03-17", "added", "dropped"),
    _decision(1, "2026-03-17", "candidate", "ticked"),
    _decision(1, "2026-03-17", "candidate", "left"),
    _decision(2, "2026-03-30", "added", "dropped", merged=False),
    _decision(3, "2026-04-02", "added", "kept"),
    _decision(3, "2026-04-02", "maintainer", "added", predicted=None),
]


def test_the_track_record_counts_each_month_and_the_total() -> None:
    march, april, total = track_record(TRACK)
    assert (march.month, march.merged, march.closed, march.closed_papers) == ("2026-03", 1, 1, 1)
    assert (march.added, march.kept, march.precision) == (3, 2, 2 / 3)
    assert (march.candidates, march.ticked, march.accepted) == (2, 1, 3)
    assert march.from_candidates == 1 / 3 and (march.moved, march.corrections) == (1, 1 / 3)
    assert (april.precision, april.accepted, april.from_candidates) == (1.0, 2, 0.0)
    assert (april.moved, april.predicted) == (0, 1)  # the maintainer's paper had no prediction
    assert (total.month, total.added, total.kept, total.accepted, total.moved) == (
        "all",
        4,
        3,
        5,
        1,
    )


def test_tracker_evaluate_decisions_prints_the_track_record(workdir: Path) -> None:
    empty = run_cli("evaluate", "--decisions")
    assert (empty.exit_code, empty.stdout) == (0, NO_DECISIONS + "\n")
    text = decisions_module.updated_text(None, TRACK)
    (workdir / "catalog" / DECISIONS_FILE).write_text(text, "utf-8")

    out = run_cli("evaluate", "--decisions")

    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines() == table(track_record(TRACK))
    lines = out.stdout.splitlines()
    assert lines[0].split() == [
        "month", "PRs", "merged", "closed", "added", "kept", "precision", "candidates",
        "ticked", "by", "hand", "accepted", "from", "candidates", "moved",
    ]  # fmt: skip
    assert lines[1].split() == [
        "2026-03", "1", "1", "(1", "paper)", "3", "2", "67%", "2", "1", "0", "3", "33%", "1", "(33%)",
    ]  # fmt: skip
    assert lines[3].split()[:8] == ["all", "2", "1", "(1", "paper)", "4", "3", "75%"]
    as_json = run_cli("evaluate", "--decisions", "--json")
    assert '"precision": 0.6667' in as_json.stdout and '"month": "all"' in as_json.stdout


def _x() -> object:  # pragma: no cover - only reached when the block is missing
    raise AssertionError("pull request #1 has no block")


def test_readmes_track_record_example_is_what_tracker_prints() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    assert "\n".join(table(track_record(TRACK))) + "\n```" in readme

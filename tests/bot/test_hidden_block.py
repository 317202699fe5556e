"""Issue 11.1: paper text can never end, open or fake the bot's hidden block, and the branch's
commit is a second witness of what an open tracker pull request lists."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import zlib

import pytest

from tests.bot.conftest import (
    HOSTILE_ROW,
    NIGHT,
    Bot,
    expected_candidates,
    expected_proposals,
    stream_papers,
)
from tests.conftest import REPO
from tracker.catalog.taxonomy import load_taxonomy
from tracker.paper import Paper
from tracker.publish.block import MARKER, Item, PullState, decode, encode
from tracker.publish.body import parse_block, pr_body

TAXONOMY = load_taxonomy(REPO / "catalog" / "taxonomy.yaml")
FORGED = '--> <!-- tracker:proposals {"version": 1, "papers": []} -->'
SECTION = "attack.secondary.transfer"


def _state(*titles: str) -> PullState:
    items = tuple(
        Item(title=t, arxiv=f"2603.{10000 + i}", section=SECTION, predicted=SECTION)
        for i, t in enumerate(titles)
    )
    return PullState(date=NIGHT, items=items, head="a" * 40, base="b" * 40, comment=7)


def _line(payload: bytes, version: int = 2) -> str:
    text = base64.b64encode(payload).decode()
    return f"<!-- {MARKER} v{version} {text} sha256={hashlib.sha256(text.encode()).hexdigest()} -->"


@pytest.mark.slow
def test_a_title_that_fakes_the_block_does_not_make_the_next_night_forget_the_pr(
    bot: Bot,
) -> None:
    forger = Paper.from_dict({**HOSTILE_ROW, "title": f"Backdoors in model hubs {FORGED}"})
    papers = [forger, *stream_papers()]
    expected = expected_proposals(bot.classifier, papers)
    listed = expected + expected_candidates(bot.classifier, papers)
    assert forger.arxiv_id in expected, "the forging paper must be proposed for this test"
    assert bot.run(papers=papers).exit_code == 0

    again = bot.run(night=NIGHT + dt.timedelta(days=1), papers=papers)

    assert again.exit_code == 0, again.stderr
    assert f"open PRs {len(listed)}," in again.stderr
    assert len(bot.gh.pulls) == 1


def test_a_wrecked_body_does_not_hide_what_the_branch_adds(bot: Bot) -> None:
    expected = expected_proposals(bot.classifier, stream_papers())
    bot.run()
    bot.gh.pulls[0].body = "A maintainer replaced the whole description."

    again = bot.run(night=NIGHT + dt.timedelta(days=1))

    assert again.exit_code == 0, again.stderr
    assert f"open PRs {len(expected)}," in again.stderr  # candidates live in the body only
    for pull in bot.gh.pulls[1:]:
        assert not {p.arxiv for p in parse_block(pull.body) or []} & set(expected)


def test_the_block_round_trips_any_title_and_no_title_text_appears_in_it() -> None:
    state = _state(HOSTILE_ROW["title"], f"x {FORGED}", "--><!--\n-->")  # type: ignore[arg-type]
    line = encode(state)
    assert "\n" not in line and line.count("-->") == 1 and line.count("<!--") == 1
    assert "Backdoors" not in line and "tracker:proposals {" not in line
    assert decode(f"Intro\n\n{line}\n") == state


def test_a_forged_block_inside_a_title_is_never_read() -> None:
    real = _state("A real paper")
    fake = encode(_state())  # a well-formed empty block, as a title would carry it
    body = pr_body(
        real.replace(items=(*real.items, Item(f"Evil {fake} {FORGED}", "2603.1"))), TAXONOMY
    )
    assert decode(body) is not None and len(decode(body).items) == 2  # type: ignore[union-attr]
    # appended by hand after the bot's block, but not a line of its own: ignored too
    assert len(decode(body + f"text {fake}\n").items) == 2  # type: ignore[union-attr]


def test_the_last_valid_block_counts_and_a_tampered_one_is_ignored() -> None:
    old, new = encode(_state("old")), encode(_state("new", "newer"))
    assert decode(f"{old}\n{new}\n").items[0].title == "new"  # type: ignore[union-attr]
    payload, digest = new.split(" ")[3], new.split(" ")[4]
    tampered = new.replace(payload, payload[:-8] + "AAAAAAA=")
    assert tampered != new and digest in tampered
    assert decode(f"{old}\n{tampered}\n").items[0].title == "old"  # type: ignore[union-attr]
    assert decode(tampered) is None


def test_a_forged_compression_bomb_or_junk_is_refused_within_bounds() -> None:
    bomb = zlib.compress(b'{"version": 2, "items": [], "x": "' + b"A" * 50_000_000 + b'"}', 9)
    assert len(bomb) < 100_000
    assert decode(_line(bomb)) is None
    assert decode(_line(zlib.compress(b"[" * 100_000))) is None
    assert decode(_line(b"not zlib")) is None
    assert decode(_line(zlib.compress(json.dumps({"version": 2}).encode()))) is None


def test_a_version_1_block_of_an_older_pull_request_is_read_only_from_its_own_lines() -> None:
    legacy = (
        '<!-- tracker:proposals\n{"date": "2026-03-02", "papers": [{"arxiv": "2603.01234", '
        '"doi": null, "section": "attack.secondary.transfer", "title": "Old"}], "version": 1}\n-->'
    )
    state = decode(f"Body\n\n{legacy}\n")
    assert state is not None and state.version == 1
    assert [(i.arxiv, i.tier, i.checked) for i in state.items] == [("2603.01234", "added", True)]
    # the attack of issue 11.1 on a version 1 body: the forged text sits inside a line
    forged = f"| \\<!-- tracker:proposals {{}} --\\> |\n{legacy}\n".replace(
        "{}", '{"version": 1, "papers": []}'
    )
    assert decode(forged) == state

"""Invisible hostile text (issue 11, case 4): control characters, ANSI escape sequences and
bidi overrides in a title never reach the pull request, the rendered lists, papers.yaml, or a
terminal. One sanitiser (`tracker.text.plain`) decides for all of them."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape as xml_escape

import pytest

from tests.bot.conftest import CATEGORIES, HOSTILE_ROW, NIGHT, Bot, stream_papers
from tests.conftest import run_cli
from tests.servers import Reply
from tests.servers.arxiv import RSS_TYPE, listing_rss
from tracker.catalog.rejected import Rejection
from tracker.paper import Paper
from tracker.text import plain

CLEAR_SCREEN = "\x1b[2J\x1b[H"
TITLE_BAR = "\x1b]0;pwned\x07"
HYPERLINK = "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"
RLO = "\u202e"  # right-to-left override: reverses what follows in a list or a terminal
HOSTILE_TITLE = (
    f"Backdoors{CLEAR_SCREEN} in {TITLE_BAR}LoRA{RLO} adapters\u2066 via\u200b model\x07 hubs"
    f"\x9b31m{HYPERLINK}\x00\u2028now\x08"
)
# What no stored or shown text may contain: C0 but tab/newline, DEL, C1, bidi, separators.
FORBIDDEN = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060"
    r"\u2066-\u2069\ufeff]"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\x1b[2Jb", "ab"),
        ("a\x1b[38;5;196mred\x1b[0m", "ared"),
        ("x\x1b]0;title\x07y", "xy"),
        ("x\x1b]8;;https://e.example\x1b\\link\x1b]8;;\x1b\\y", "xlinky"),
        ("a\x9b2Jb", "ab"),
        ("a\x1bcb", "ab"),  # RIS, a full reset
        ("abc\u202edcba", "abc dcba"),
        ("name\u2066\u2069 x", "name x"),
        ("zero\u200bwidth", "zerowidth"),
        ("line\nbreak\ttab\r", "line break tab"),
        ("nul\x00bel\x07", "nul bel"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("Ünïcödé 中文 — fine", "Ünïcödé 中文 — fine"),
    ],
)
def test_plain_removes_what_a_terminal_or_renderer_would_act_on(text: str, expected: str) -> None:
    assert plain(text) == expected


def test_plain_with_lines_keeps_the_lines() -> None:
    assert plain("one\x1b[2J\r\ntwo\u202e\n\nthree", lines=True) == "one\ntwo \n\nthree"


def test_every_paper_and_rejection_carries_sanitised_text() -> None:
    paper = Paper(title=HOSTILE_TITLE, abstract=f"x{CLEAR_SCREEN}y", authors=(f"Eve{RLO}",))
    rejection = Rejection(title=HOSTILE_TITLE, reason=f"closed{TITLE_BAR}")

    for text in (paper.title, paper.abstract, *paper.authors, rejection.title, rejection.reason):
        assert not FORBIDDEN.search(text), repr(text)
    assert "[2J" not in paper.title and "pwned" not in paper.title


PLACEHOLDER = "Placeholder title of the hostile paper"


def _serve_hostile(bot: Bot) -> None:
    """The night's listing with one paper whose title and author carry `HOSTILE_TITLE`'s
    characters raw in the feed (a `Paper` would sanitise them on construction, so the bytes
    are put in after rendering); the API search serves the night without it."""
    hostile = Paper.from_dict({**HOSTILE_ROW, "title": PLACEHOLDER, "authors": ["Eve Placeholder"]})
    night = stream_papers()
    bot.arxiv.serve([hostile, *night], NIGHT, api=night)
    body = listing_rss([hostile, *night], NIGHT, CATEGORIES).decode("utf-8")
    assert PLACEHOLDER in body and "Eve Placeholder" in body
    raw = xml_escape(HOSTILE_TITLE)
    body = body.replace(PLACEHOLDER, raw).replace("Eve Placeholder", f"Eve{RLO} Mallory")
    reply = Reply(body=body.encode("utf-8"), content_type=RSS_TYPE)
    bot.arxiv.server.route(bot.arxiv.listing_path, reply)


def test_a_dry_run_prints_and_writes_no_control_or_bidi_character(local_bot: Bot) -> None:
    """The reported case: a clear-screen reached the terminal from `run --dry-run`; U+202E
    reversed text in the committed list."""
    _serve_hostile(local_bot)

    result = run_cli("run", "--dry-run", "--date", NIGHT.isoformat())

    assert result.exit_code == 0, result.stderr
    assert "arXiv:2603.19999" in result.stdout  # proposed, so its title was printed
    assert not FORBIDDEN.search(result.stdout), "stdout"
    assert not FORBIDDEN.search(result.stderr), "stderr"
    catalog = local_bot.root / "catalog"
    for name in ("papers.yaml", "README.md", "README.en.md"):
        text = (catalog / name).read_text("utf-8")
        assert "LoRA" in text and "hubs" in text, name
        assert not FORBIDDEN.search(text), name
        assert "\\e" not in text and "\\x1b" not in text and "\\u202E" not in text, name


def test_the_pull_request_holds_no_control_or_bidi_character(bot: Bot) -> None:
    _serve_hostile(bot)

    result = run_cli("run", "--date", NIGHT.isoformat())

    assert result.exit_code == 0, result.stderr
    (pull,) = bot.gh.open_pulls()
    assert "LoRA" in pull.body
    assert not FORBIDDEN.search(pull.body) and not FORBIDDEN.search(pull.title)

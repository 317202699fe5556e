"""`tracker classify` prints no control character, escape sequence or bidi override of a title
(issue 11, case 4)."""

from __future__ import annotations

from tests.bot.test_hostile_text import FORBIDDEN, HOSTILE_TITLE
from tests.classify.conftest import Repo


def test_classify_prints_no_control_or_bidi_character_from_a_title(repo: Repo) -> None:
    for args in ((), ("--json",)):
        result = repo.tracker("classify", "--title", HOSTILE_TITLE, *args)

        assert result.exit_code == 0, result.stderr
        assert "LoRA" in result.stdout
        assert not FORBIDDEN.search(result.stdout + result.stderr), args

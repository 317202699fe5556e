"""A 403 when opening the pull request: the repository setting that GitHub Actions may open
pull requests is named when the token's permissions are not the problem."""

from __future__ import annotations

from tests.bot.conftest import Bot
from tracker.publish.github import ACTIONS_PR_HINT


def test_github_refusing_pull_requests_from_actions_names_the_repository_setting(
    bot: Bot,
) -> None:
    bot.gh.fail_next(
        "POST",
        r"/pulls$",
        "error-before",
        status=403,
        message="GitHub Actions is not permitted to create or approve pull requests.",
    )

    result = bot.run()

    assert result.exit_code == 1
    assert f"({ACTIONS_PR_HINT})" in result.stderr
    assert '"Allow GitHub Actions to create and approve pull requests"' in ACTIONS_PR_HINT
    assert "the token lacks permission" not in result.stderr


def test_a_403_for_a_missing_permission_still_names_the_token(bot: Bot) -> None:
    bot.gh.fail_next(
        "POST",
        r"/pulls$",
        "error-before",
        status=403,
        message="Resource not accessible by integration",
    )

    result = bot.run()

    assert result.exit_code == 1
    assert "the token lacks permission: it needs contents and pull-requests write" in result.stderr

"""The GitHub client's retry policy through real PyGithub against the loopback server."""

from __future__ import annotations

import pytest

from tests.bot.conftest import TOKEN, FakeClock, Harness
from tests.servers.github import GitHubServer
from tracker.config import BotConfig, Secret
from tracker.errors import ConfigError
from tracker.http import HttpClient
from tracker.publish.github import AmbiguousWriteError, GitHubClient, GitHubError


def test_a_get_is_retried_after_a_502(harness: Harness) -> None:
    harness.server.fail_next("GET", r"/git/ref/heads/main$", "error-before", status=502)
    assert harness.client().branch_head("main") == harness.server.branch_sha("main")
    assert [s for _, _, s in harness.server.requests("GET", r"/git/ref/heads/main$")] == [502, 200]


def test_a_post_is_never_re_sent_after_a_502(harness: Harness) -> None:
    client = harness.client()
    main = harness.server.branch_sha("main") or ""
    harness.server.fail_next("POST", r"/git/refs$", "error-before", status=502)
    with pytest.raises(AmbiguousWriteError, match="GitHub answered 502; the write may have"):
        client.create_branch("x", main)
    assert len(harness.server.requests("POST", r"/git/refs$")) == 1


def test_content_addressed_writes_are_re_sent_and_give_the_same_sha(harness: Harness) -> None:
    client = harness.client()
    harness.server.fail_next("POST", r"/git/blobs$", "error-after", status=502)
    sha = client.create_blob("hello\n")
    assert sha == "ce013625030ba8dba906f756967f9e9ca394464a"  # git hash-object
    assert len(harness.server.requests("POST", r"/git/blobs$")) == 2


def test_a_missing_branch_is_none_and_an_existing_ref_is_a_422(harness: Harness) -> None:
    client = harness.client()
    assert client.branch_head("no-such-branch") is None
    with pytest.raises(GitHubError) as caught:
        client.create_branch("main", harness.server.branch_sha("main") or "")
    assert caught.value.status == 422 and "reference already exists" in caught.value.detail


def test_a_refused_token_is_reported_without_the_token(clock: FakeClock) -> None:
    with GitHubServer(token="the-right-one", clock=clock.time) as server:
        bot = BotConfig(repository=server.full_name, api_url=server.api_url)
        http = HttpClient(backoff=0)
        client = GitHubClient.connect(
            bot, Secret(TOKEN), http=http, sleep=clock.sleep, write_interval=0
        )
        with pytest.raises(GitHubError) as caught:
            client.repo()
    assert caught.value.status == 401
    assert "Bad credentials" in str(caught.value) and TOKEN not in str(caught.value)
    assert "GITHUB_TOKEN" in (caught.value.hint or "")


def test_a_server_at_the_root_url_works_like_enterprise(clock: FakeClock) -> None:
    with GitHubServer(token=TOKEN, prefix="", clock=clock.time) as server:
        bot = BotConfig(repository=server.full_name, api_url=server.root)
        client = GitHubClient.connect(
            bot, Secret(TOKEN), http=HttpClient(backoff=0), write_interval=0
        )
        assert client.repo().default_branch == "main"


def test_connecting_needs_a_token_and_an_owner_slash_name() -> None:
    with pytest.raises(ConfigError, match="no GitHub token"):
        GitHubClient.connect(BotConfig(repository="a/b"), None)
    with pytest.raises(ConfigError, match="must be owner/name"):
        GitHubClient.connect(BotConfig(repository="just-a-name"), Secret(TOKEN))

"""The polite HTTP client: timeouts, delays, backoff, Retry-After, size limits, User-Agent."""

from __future__ import annotations

import email.utils
import gzip
import json
import socket
import time

import pytest
import requests

from tests.servers import LoopbackServer, Reply
from tests.sources.conftest import USER_AGENT, FakeClock, MakeHttp
from tracker.config import HttpConfig
from tracker.errors import SourceError
from tracker.http import (
    ARXIV_MIN_DELAY,
    HttpClient,
    HttpError,
    HttpResponse,
    RetryableResponse,
    host_key,
)


def test_a_plain_get_returns_the_body_and_sends_our_user_agent(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route("/feed", Reply(body=b"<rss/>", content_type="application/rss+xml"))
    response = make_http().get(server.url("/feed"), accept="application/rss+xml")
    assert response.content == b"<rss/>"
    assert response.content_type == "application/rss+xml"
    (request,) = server.requests_to("/feed")
    assert request.headers["User-Agent"] == USER_AGENT
    assert request.headers["Accept"] == "application/rss+xml"


def test_a_429_is_retried_after_the_wait_that_retry_after_asks_for(
    server: LoopbackServer, make_http: MakeHttp, clock: FakeClock
) -> None:
    server.route("/api", Reply(429, headers={"Retry-After": "7"}), Reply(body=b"ok"))
    assert make_http(backoff=1.0).get(server.url("/api")).content == b"ok"
    assert len(server.requests_to("/api")) == 2
    assert clock.sleeps == [7.0]  # Retry-After beats the 1 s backoff


def test_a_retry_after_given_as_an_http_date_is_honoured(
    server: LoopbackServer, make_http: MakeHttp, clock: FakeClock
) -> None:
    now = 1_800_000_000.0
    when = email.utils.formatdate(now + 20, usegmt=True)
    server.route("/api", Reply(503, headers={"Retry-After": when}), Reply(body=b"ok"))
    make_http(wallclock=lambda: now).get(server.url("/api"))
    assert clock.sleeps == [20.0]


def test_a_retry_after_longer_than_the_cap_is_not_retried_now(
    server: LoopbackServer, make_http: MakeHttp, clock: FakeClock
) -> None:
    server.route("/api", Reply(429, headers={"Retry-After": "3600"}))
    with pytest.raises(HttpError, match="asks to wait longer than 60 s"):
        make_http(max_backoff=60.0).get(server.url("/api"))
    assert len(server.requests_to("/api")) == 1
    assert clock.sleeps == []


def test_a_503_storm_ends_in_a_clear_error_after_the_retry_budget(
    server: LoopbackServer, make_http: MakeHttp, clock: FakeClock
) -> None:
    server.route("/api/query", Reply(503, b"Service Unavailable", "text/plain"))
    url = server.url("/api/query")
    with pytest.raises(HttpError) as caught:
        make_http(retries=3, backoff=2.0).get(url)
    assert len(server.requests_to("/api/query")) == 4
    assert clock.sleeps == [2.0, 4.0, 8.0]  # exponential backoff, no wait after the last try
    message = str(caught.value)
    assert f"GET {url} failed after 4 attempt(s): HTTP 503 Service Unavailable" in message
    assert caught.value.url == url
    assert isinstance(caught.value, SourceError)


def test_backoff_never_exceeds_its_cap(
    server: LoopbackServer, make_http: MakeHttp, clock: FakeClock
) -> None:
    server.route("/x", Reply(500))
    with pytest.raises(HttpError):
        make_http(retries=4, backoff=10.0, max_backoff=25.0).get(server.url("/x"))
    assert clock.sleeps == [10.0, 20.0, 25.0, 25.0]


def test_a_server_that_never_answers_times_out_and_is_reported(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route("/slow", Reply(body=b"too late", delay=30))
    started = time.monotonic()
    with pytest.raises(
        HttpError, match=r"failed after 2 attempt\(s\): no answer within the timeout of 0.3 s"
    ):
        make_http(timeout=0.3, retries=1).get(server.url("/slow"))
    assert time.monotonic() - started < 3
    assert len(server.requests_to("/slow")) == 2


def test_a_trickling_server_is_cut_off_at_the_deadline(server: LoopbackServer) -> None:
    # One byte every 0.05 s never trips the 0.4 s read timeout (a loaded machine may delay a
    # byte several times 0.05 s, never 0.4 s); the 2 s deadline stops it.
    server.route("/drip", Reply(body=b"x" * 400, trickle=0.05))
    http = HttpClient(requests.Session(), timeout=0.4, retries=0, delay=0.0)
    started = time.monotonic()
    with pytest.raises(HttpError, match="longer than 2 s to arrive"):
        http.get(server.url("/drip"))
    assert time.monotonic() - started < 5


def test_a_slow_loris_on_the_headers_is_cut_off_at_the_deadline(server: LoopbackServer) -> None:
    """Issue 11, case 2: a server that sends its status line, then one header byte every few
    seconds, held `tracker fetch` in its first request for 1,100 s. Each byte comes well
    within the read timeout; the whole-response deadline (5 x timeout) covers the headers too."""
    server.route(
        "/loris",
        Reply(body=b"<rss/>", headers={"X-Padding": "p" * 400}, trickle_headers=0.05),
    )
    http = HttpClient(requests.Session(), timeout=0.4, retries=0, delay=0.0)
    started = time.monotonic()
    with pytest.raises(HttpError, match="longer than 2 s to arrive"):
        http.get(server.url("/loris"))
    assert time.monotonic() - started < 5


def test_a_refused_connection_is_retried_then_reported(
    make_http: MakeHttp, clock: FakeClock
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(HttpError, match="connection failed"):
        make_http(retries=2).get(f"http://127.0.0.1:{port}/feed")
    assert clock.sleeps == [1.0, 2.0]


def test_a_host_that_does_not_resolve_is_retried_once_and_says_so(
    make_http: MakeHttp, clock: FakeClock
) -> None:
    # .invalid never resolves (RFC 2606): what a machine without a network sees for any host.
    with pytest.raises(HttpError) as caught:
        make_http(retries=4).get("http://rss.arxiv.invalid/rss/cs.CR")
    assert clock.sleeps == [1.0]  # one retry, not the whole budget
    assert "failed after 2 attempt(s): cannot resolve rss.arxiv.invalid: no network" in str(
        caught.value
    )
    assert caught.value.hint == "check the network connection and the URL in the configuration"


def test_a_404_is_not_retried(server: LoopbackServer, make_http: MakeHttp) -> None:
    with pytest.raises(HttpError, match="HTTP 404") as caught:
        make_http().get(server.url("/missing"))
    assert caught.value.status == 404
    assert len(server.requests) == 1


def test_an_oversized_response_is_refused_from_its_content_length(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route("/big", Reply(body=b"x" * 5000))
    with pytest.raises(HttpError, match="response of 5000 bytes is larger than the limit of 4096"):
        make_http(max_bytes=4096).get(server.url("/big"))
    assert len(server.requests) == 1  # not retried


def test_an_oversized_response_without_length_is_cut_off_while_streaming(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route("/big", Reply(body=b"x" * 200_000, send_length=False))
    with pytest.raises(HttpError, match="larger than the limit of 100000 bytes"):
        make_http(max_bytes=100_000).get(server.url("/big"))


def test_a_compressed_bomb_is_cut_off_by_its_decoded_size(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)
    assert len(bomb) < 10_000
    server.route("/bomb", Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(HttpError, match="larger than the limit of 100000 bytes"):
        make_http(max_bytes=100_000).get(server.url("/bomb"))


def test_requests_to_one_host_are_spaced_by_the_delay(
    server: LoopbackServer, make_http: MakeHttp, clock: FakeClock
) -> None:
    server.route("/a", Reply(body=b"1"))
    http = make_http(delay=3.0)
    http.get(server.url("/a"))
    http.get(server.url("/a"))
    clock.now += 10  # time passes between requests: no need to wait then
    http.get(server.url("/a"))
    assert clock.sleeps == [3.0]


def test_every_arxiv_host_gets_three_seconds_whatever_the_setting() -> None:
    http = HttpClient(requests.Session(), delay=0.0)
    assert http.min_interval("https://export.arxiv.org/api/query") == ARXIV_MIN_DELAY == 3.0
    assert http.min_interval("https://rss.arxiv.org/rss/cs.CR") == 3.0
    assert http.min_interval("http://127.0.0.1:8000/rss/cs.CR") == 0.0
    # The API and the listing share one budget: arXiv counts requests, not hosts.
    assert host_key("https://export.arxiv.org/api/query") == host_key("https://rss.arxiv.org/rss")


def test_the_defaults_come_from_the_configuration() -> None:
    http = HttpClient.from_config(HttpConfig())
    assert (http.timeout, http.delay, http.retries) == (30.0, 3.0, 4)
    assert "mailto:" in http.user_agent


def test_a_check_can_have_a_200_retried_and_gives_up_with_its_reason(
    server: LoopbackServer, make_http: MakeHttp
) -> None:
    server.route("/page", Reply(body=b"empty"), Reply(body=b"full"))

    def check(response: HttpResponse) -> None:
        if response.content == b"empty":
            raise RetryableResponse("empty page")

    assert make_http().get(server.url("/page"), check=check).content == b"full"
    server.route("/page", Reply(body=b"empty"))
    with pytest.raises(HttpError, match=r"failed after 4 attempt\(s\): empty page"):
        make_http().get(server.url("/page"), check=check)


def test_the_loopback_server_answers_other_methods_with_their_bodies(
    server: LoopbackServer,
) -> None:
    # For reuse by other services' tests (the GitHub API posts JSON).
    server.route(
        "/repos/o/r/pulls", lambda r: Reply(201, json.dumps(r.json()).encode(), "application/json")
    )
    with requests.Session() as session:
        answer = session.post(server.url("/repos/o/r/pulls"), json={"title": "x"}, timeout=5)
    assert (answer.status_code, answer.json()) == (201, {"title": "x"})
    (request,) = server.requests
    assert (request.method, request.json()) == ("POST", {"title": "x"})
